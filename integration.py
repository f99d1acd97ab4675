"""The integration class: the framework's extension points wired to this integration's
parts. How a run goes is decided in one place, jira_server/sync/run.py (``SyncRun``)."""

import atexit
import shutil
import sys
from typing import Any

from loguru import logger
from port_ocean.clients.port.types import UserAgentType
from port_ocean.context.event import TriggerType
from port_ocean.context.ocean import PortOceanContext
from port_ocean.core.handlers.port_app_config.api import APIPortAppConfig
from port_ocean.core.integrations.base import BaseIntegration

from jira_server import framework
from jira_server.blueprints import DEFAULT_PREFIX, render_resources
from jira_server.errors import SettingsError
from jira_server.mapping.entity_processor import JointProgramEntityProcessor
from jira_server.redaction import Redactor
from jira_server.resources import JiraServerPortAppConfig
from jira_server.settings import JiraSettings, load_settings
from jira_server.sync.outcome import ExitCode, RunOutcome
from jira_server.sync.run import SyncRun


class RunFailed(Exception):
    """One failure of a run, for callers that ask for exceptions (``silent=False``)."""


class JiraServerIntegration(BaseIntegration):
    class AppConfigHandlerClass(APIPortAppConfig):
        CONFIG_CLASS = JiraServerPortAppConfig

    # Maps each item with one jq program per mapping (see jira_server.mapping.entity_processor).
    EntityProcessorClass = JointProgramEntityProcessor

    def __init__(self, context: PortOceanContext) -> None:
        super().__init__(context)
        self.settings: JiraSettings = load_settings_or_exit(context.integration_config)
        framework.redact_every_log_record(Redactor(self.settings.secrets))
        require_processing_mode(context.config)
        self.last_outcome: RunOutcome | None = None
        if context.config.event_listener.type == "ONCE":
            framework.exit_code_at_shutdown(self._exit_code)
        if self.settings.proxy is not None:
            proxy = self.settings.proxy
            logger.info(f"Jira requests go through the proxy {proxy.display} (from {proxy.source})")
        if self.settings.chart_certificate:
            logger.info(
                f"Trusting the certificate the Helm chart mounts at "
                f"{self.settings.chart_certificate} (selfSignedCertificate) for Jira"
            )
        install_resources_for(self.settings, context.config)
        if not self.settings.verify_ssl:
            logger.warning(
                "verifySsl is false: Jira's TLS certificate is NOT verified and the credentials "
                "can be intercepted. Prefer caBundle for an internal CA"
            )

    def _exit_code(self) -> int | None:
        outcome = self.last_outcome
        return int(outcome.exit_code) if outcome is not None and outcome.failed else None

    async def sync_raw_all(
        self,
        _: dict[Any, Any] | None = None,
        trigger_type: TriggerType = "machine",
        user_agent_type: UserAgentType = UserAgentType.exporter,
        silent: bool = True,
    ) -> bool:
        """Every resync (scheduled, requested, ONCE) is one ``SyncRun``."""
        run = SyncRun(
            self,
            trigger_type=trigger_type,
            requested_full=self._full_sync_requested(_ is not None, trigger_type),
            user_agent_type=user_agent_type,
        )
        outcome = self.last_outcome = await run.execute()
        if outcome.failed and not silent:
            raise ExceptionGroup(
                f"Resync failed: {outcome.summary()}",
                [RunFailed(f.describe()) for f in outcome.failures],
            )
        return not outcome.failed

    async def sync_incremental(
        self,
        interval_seconds: int,
        trigger_type: TriggerType = "machine",
        user_agent_type: UserAgentType = UserAgentType.exporter,
    ) -> None:
        """The framework's incremental entry (ONCE with OCEAN__INTEGRATION__INCREMENTAL_SYNC_
        ENABLED) is a run like any other: each resource decides full or delta by itself."""
        await self.sync_raw_all(None, trigger_type, user_agent_type)

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


def _stop(message: str) -> None:
    logger.error(message)
    print(message, file=sys.stderr, flush=True)
    raise SystemExit(ExitCode.BAD_SETTINGS) from None


def load_settings_or_exit(raw: dict[str, Any]) -> JiraSettings:
    """Stop before the framework touches the catalog, with a message naming the setting."""
    try:
        return load_settings(raw)
    except SettingsError as exc:
        _stop(f"Invalid jira-server-sync configuration: {exc}")
        raise AssertionError("unreachable") from None


def install_resources_for(settings: JiraSettings, config: Any) -> None:
    """With a blueprint prefix or an instance namespace, the framework installs a rendered
    copy of the default resources (see jira_server/blueprints.py)."""
    if settings.blueprint_prefix == DEFAULT_PREFIX and not settings.instance_namespace:
        return
    rendered = render_resources(
        framework.resources_dir(config),
        prefix=settings.blueprint_prefix,
        namespace=settings.instance_namespace,
        installation=str(config.integration.identifier),
    )
    if rendered is None:
        return
    framework.use_resources_dir(config, rendered)
    atexit.register(shutil.rmtree, rendered, ignore_errors=True)
    logger.info(
        f"Default resources rendered for blueprintPrefix {settings.blueprint_prefix!r}"
        + (
            f" and instanceNamespace {settings.instance_namespace!r}"
            if settings.instance_namespace
            else ""
        )
        + f" into {rendered}"
    )


def require_processing_mode(config: Any) -> None:
    """The integration maps, compares, reconciles and guards deletions itself; in port-ocean's
    "dsp" mode (its 0.54.1 default, and what Port's Helm chart sets) the framework hands raw
    data to Port's processor instead, bypassing all of that on organisations with the
    feature flags. So only ocean-core runs."""
    mode = framework.processing_mode(config)
    if mode != framework.SUPPORTED_PROCESSING_MODE:
        _stop(
            f"Unsupported processing mode {mode!r}: jira-server-sync runs only in "
            f"{framework.SUPPORTED_PROCESSING_MODE.value!r} mode, which keeps its mapping, "
            "reconciliation and deletion guard. Set OCEAN__PROCESSING_MODE=ocean-core (Helm: "
            "processingMode: ocean-core in the values)"
        )
