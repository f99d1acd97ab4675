"""The integration class and its typed port app config (a selector per kind)."""

import sys
from datetime import UTC, datetime
from typing import Any, cast

from loguru import logger
from port_ocean.clients.port.types import UserAgentType
from port_ocean.context.event import EventType, TriggerType, event, event_context
from port_ocean.context.ocean import PortOceanContext
from port_ocean.core.handlers.port_app_config.api import APIPortAppConfig
from port_ocean.core.handlers.port_app_config.models import (
    ResourceConfig,
)
from port_ocean.core.integrations.base import BaseIntegration
from port_ocean.core.models import Entity
from port_ocean.core.ocean_types import CalculationResult

from jira_server import outcome, sync_mode
from jira_server.deletion_guard import GuardedEntitiesStateApplier
from jira_server.errors import SettingsError
from jira_server.kept_entities import KeptEntities
from jira_server.mapping.entity_processor import JointProgramEntityProcessor
from jira_server.resources import IssueSelector, JiraServerPortAppConfig
from jira_server.settings import JiraSettings, load_settings
from jira_server.sync_mode import IncrementalResource, Mode, SyncState

# Only used by the framework when no cursor exists, which our policy turns into a full sync.
INCREMENTAL_SEED_SECONDS = 3600


class JiraServerIntegration(BaseIntegration):
    class AppConfigHandlerClass(APIPortAppConfig):
        CONFIG_CLASS = JiraServerPortAppConfig

    # Judges reconciliation's deletions per blueprint (see jira_server.deletion_guard).
    EntitiesStateApplierClass = GuardedEntitiesStateApplier
    # Maps each item with one jq program per mapping (see jira_server.mapping.entity_processor).
    EntityProcessorClass = JointProgramEntityProcessor

    def __init__(self, context: PortOceanContext) -> None:
        super().__init__(context)
        self.settings: JiraSettings = load_settings_or_exit(context.integration_config)
        # Read by the deletion guard at reconciliation (jira_server.deletion_guard).
        self.kept_entities = KeptEntities()
        if not self.settings.verify_ssl:
            logger.warning(
                "verifySsl is false: Jira's TLS certificate is NOT verified and the credentials "
                "can be intercepted. Prefer caBundle for an internal CA"
            )

    async def sync_raw_all(
        self,
        _: dict[Any, Any] | None = None,
        trigger_type: TriggerType = "machine",
        user_agent_type: UserAgentType = UserAgentType.exporter,
        silent: bool = True,
    ) -> bool:
        """Every resync goes through here: choose full or incremental, run it, record the
        state, and make a failed ONCE run exit non-zero (the framework exits 0)."""
        outcome.reset()
        self.kept_entities.reset()
        succeeded = False
        try:
            try:
                resources = await self._incremental_resources()
            except Exception as exc:  # e.g. a mapping that does not validate
                outcome.record_failure("all kinds (mapping)", exc)
                raise
            decision = await sync_mode.decide(
                SyncState(self.context.port_client),
                resources,
                requested_full=self._full_sync_requested(_ is not None, trigger_type),
            )
            if resources:
                logger.info(f"Running a {decision.mode} sync: {decision.reason}")
            if decision.mode is Mode.INCREMENTAL:
                succeeded = await self._incremental_run(resources, trigger_type, user_agent_type)
            else:
                succeeded = await self._full_run(
                    resources, _, trigger_type, user_agent_type, silent
                )
        finally:
            if not succeeded:
                logger.error(
                    f"Resync failed, nothing was deleted from the catalog: {outcome.summary()}"
                )
                if self.context.config.event_listener.type == "ONCE":
                    outcome.exit_with_code_at_shutdown(outcome.EXIT_RESYNC_FAILED)
        return succeeded

    async def sync_incremental(
        self,
        interval_seconds: int,
        trigger_type: TriggerType = "machine",
        user_agent_type: UserAgentType = UserAgentType.exporter,
    ) -> None:
        """The framework's own incremental entry (ONCE with
        OCEAN__INTEGRATION__INCREMENTAL_SYNC_ENABLED) follows the same policy, so a missing
        cursor or a due full sync still reconciles."""
        await self.sync_raw_all(None, trigger_type, user_agent_type)

    async def _register_resource_raw(
        self,
        resource: ResourceConfig,
        results: list[dict[Any, Any]],
        user_agent_type: UserAgentType,
        parse_all: bool = False,
        batch_index: int = 1,
    ) -> CalculationResult:
        """During a resync, keep only what reconciliation reads of the pushed entities, so
        memory does not grow with the number of issues (see jira_server.kept_entities)."""
        result = await super()._register_resource_raw(
            resource, results, user_agent_type, parse_all, batch_index
        )
        if event.event_type != EventType.RESYNC:
            return result
        kept = cast(list[Entity], self.kept_entities.compact(result.entity_selector_diff.passed))
        return result._replace(
            entity_selector_diff=result.entity_selector_diff._replace(passed=kept)
        )

    def _full_sync_requested(self, by_listener: bool, trigger_type: TriggerType) -> str | None:
        if self.settings.full_sync:
            return "fullSync is set in the integration settings"
        if trigger_type != "machine":
            return f"a full sync was requested ({trigger_type})"
        if by_listener and self.context.config.event_listener.type != "ONCE":
            return (
                "the event listener asked for it (start-up, a resync request or a mapping change)"
            )
        return None

    async def _incremental_resources(self) -> list[IncrementalResource]:
        # get_port_app_config needs an event; a type of our own aborts no running resync.
        async with event_context("sync_planning", trigger_type="machine"):
            config = await self.port_app_config_handler.get_port_app_config(use_cache=False)
        # By kind and attribute, not isinstance: see jira_server.preflight.
        return [
            IncrementalResource(
                "issue", index, cast(IssueSelector, resource.selector).full_sync_every
            )
            for index, resource in enumerate(config.resources)
            if resource.kind == "issue" and getattr(resource.selector, "incremental", False)
        ]

    async def _full_run(
        self,
        resources: list[IncrementalResource],
        listener_args: dict[Any, Any] | None,
        trigger_type: TriggerType,
        user_agent_type: UserAgentType,
        silent: bool,
    ) -> bool:
        started_at = datetime.now(UTC)
        finished = await super().sync_raw_all(listener_args, trigger_type, user_agent_type, silent)
        # The deletion guard can refuse deletions of a resync the framework calls a success.
        succeeded = bool(finished) and not outcome.failures()
        if succeeded:
            state = SyncState(self.context.port_client)
            for resource in resources:
                try:
                    await state.record_full(resource, started_at)
                except Exception as exc:  # the next run is then full again: safe
                    logger.warning(f"Could not record the full sync for incremental runs: {exc}")
        return succeeded

    async def _incremental_run(
        self,
        resources: list[IncrementalResource],
        trigger_type: TriggerType,
        user_agent_type: UserAgentType,
    ) -> bool:
        # The framework swallows failures here and keeps the old cursor; our handlers record
        # them in `outcome`, which is how the run's result is known.
        await super().sync_incremental(
            INCREMENTAL_SEED_SECONDS, trigger_type=trigger_type, user_agent_type=user_agent_type
        )
        if outcome.failures():
            return False
        state = SyncState(self.context.port_client)
        for resource in resources:
            runs = await state.runs_since_full(resource) or 0
            await state.record_incremental(resource, runs + 1)
        return True


def load_settings_or_exit(raw: dict[str, Any]) -> JiraSettings:
    """Stop before the framework touches the catalog, with a message naming the setting."""
    try:
        return load_settings(raw)
    except SettingsError as exc:
        message = f"Invalid jira-server-sync configuration: {exc}"
        logger.error(message)
        print(message, file=sys.stderr, flush=True)
        raise SystemExit(outcome.EXIT_BAD_SETTINGS) from None
