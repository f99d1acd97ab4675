"""One sync run, from the mapping to the recorded state: the one place that decides how a
run goes and whether it succeeded.

Phases, in order; a failure in any of them is recorded in the run's ``RunOutcome``:

1. mapping: the port app config is read and parsed;
2. checks: Jira's clock, credentials, permissions, JQL and fields (``preflight``), then the
   framework's other resync-start hooks; a failure here stops the run before anything is
   written;
3. plan: full or delta per resource, from its own selector and recorded state;
4. per resource: read Jira (the kind's registered handler, or the delta scope), map, compare
   with the catalog snapshot, write what changed (``CatalogWriter``, overlapped);
5. reconciliation: only when nothing failed; the integration's entities are listed and the
   deletion guard decides (``guard``); a refusal fails the run and deletes nothing;
6. state: only when nothing failed, each delta-capable resource records this run.

A failed run deletes nothing, records no state and exits 1 in ONCE (see integration.py).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from loguru import logger
from port_ocean.clients.port.types import RequestOptions, UserAgentType
from port_ocean.context.event import EventType, TriggerType, event, event_context
from port_ocean.context.resource import resource_context
from port_ocean.core.models import Entity

from jira_server import framework, progress
from jira_server.client.provider import get_client
from jira_server.client.rest_client import JiraServerClient
from jira_server.kinds import support_for
from jira_server.kinds.base import KindSupport
from jira_server.kinds.issue import IssuePages, IssueScope
from jira_server.preflight import preflight
from jira_server.sync import guard
from jira_server.sync.catalog import (
    CatalogApi,
    CatalogSnapshot,
    CatalogWriter,
    EntityState,
    Limits,
    Projection,
    delete_entities,
    load_snapshot,
    owned_entities,
    stable_hash,
)
from jira_server.sync.guard import Confirmation, Verdict
from jira_server.sync.outcome import Phase, RunOutcome
from jira_server.sync.plan import DELTA_KINDS, Mode, ResourcePlan, plan_resource
from jira_server.sync.state import ResourceState, SyncState

PROGRESS_SECONDS = 5.0
# Issues re-read by id per request in a delta run (Jira's page cap is usually 1000).
DELTA_FETCH_CHUNK = 500
RAW_EXAMPLES = 5


def literal_blueprint(resource: Any) -> str | None:
    """The blueprint a mapping writes when it is a JQ string literal (the usual case)."""
    raw = resource.port.entity.mappings.blueprint
    text = raw.strip() if isinstance(raw, str) else ""
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'" and text[0] not in text[1:-1]:
        return text[1:-1]
    return None


def root_cause(exc: BaseException) -> BaseException:
    """The handler's own error inside the framework's wrappers (ExceptionGroup, abort)."""
    while True:
        if isinstance(exc, BaseExceptionGroup) and exc.exceptions:
            exc = exc.exceptions[0]
        elif exc.__cause__ is not None:
            exc = exc.__cause__
        else:
            return exc


def describe(exc: BaseException) -> str:
    cause = root_cause(exc)
    return str(cause) or type(cause).__name__


@dataclass
class _Progress:
    label: str
    started: float = field(default_factory=time.monotonic)
    expected: int | None = None
    fetched: int = 0
    unchanged: int = 0

    def line(self, written: int) -> str:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        rate = self.fetched / elapsed
        text = f"Progress of {self.label}: {self.fetched} fetched"
        if self.expected:
            text += f" of ~{self.expected}"
        text += f" ({rate:.0f}/s), {written} written to the catalog, {self.unchanged} unchanged"
        if self.expected and rate > 0 and self.expected > self.fetched:
            text += f"; about {(self.expected - self.fetched) / rate:.0f}s left"
        return text


class _Producer:
    """A resource writing a blueprint, for the deletion guard."""

    def __init__(self, plan: ResourcePlan, support: KindSupport | None, returned: int) -> None:
        self.label = plan.label
        self.returned = returned
        self._support = support

    @property
    def empty_is_suspicious(self) -> bool:
        return bool(self._support and self._support.empty_is_suspicious)

    async def confirm(self, identifiers: Sequence[str]) -> dict[str, Confirmation]:
        if self._support is None:
            reason = "this kind cannot be looked up in Jira"
            return {i: Confirmation(Verdict.UNCHECKABLE, reason) for i in identifiers}
        return await self._support.confirm(identifiers)


class SyncRun:
    def __init__(
        self,
        integration: Any,
        *,
        trigger_type: TriggerType,
        requested_full: str | None,
        user_agent_type: UserAgentType,
    ) -> None:
        self.integration = integration
        self.trigger_type = trigger_type
        self.requested_full = requested_full
        self.user_agent_type = user_agent_type
        self.outcome = RunOutcome()
        self.settings = integration.settings
        self._kept: dict[str, set[int]] = defaultdict(set)
        self._returned: Counter[int] = Counter()
        # Blueprints whose entities use search identifiers: never reconciled.
        self._unreconcilable: set[str] = set()
        self._snapshots: dict[tuple[str, Projection | None], asyncio.Task[CatalogSnapshot]] = {}
        self._progress: _Progress | None = None
        self.client: JiraServerClient | None = None
        self.catalog: CatalogApi | None = None
        self.writer: CatalogWriter | None = None

    # ---- the run ------------------------------------------------------------------------

    async def execute(self) -> RunOutcome:
        started = time.monotonic()
        async with event_context(
            EventType.RESYNC,
            trigger_type=self.trigger_type,
            attributes={"resync_start_time": datetime.now(UTC)},
        ):
            work = asyncio.create_task(self._run())
            event.on_abort(work.cancel)
            try:
                await work
            except asyncio.CancelledError:
                current = asyncio.current_task()
                if not work.cancelled() or (current is not None and current.cancelling()):
                    raise  # this run itself was cancelled (shutdown, a superseding resync)
                self.outcome.fail(Phase.PLAN, "all kinds", "aborted by a newer resync request")
            except Exception as exc:  # a bug must still fail the run loudly
                logger.exception("The sync run failed unexpectedly")
                self.outcome.fail(Phase.PLAN, "all kinds", f"unexpected error: {describe(exc)}")
            finally:
                await self._cancel_background()
        self._report(time.monotonic() - started)
        return self.outcome

    async def _run(self) -> None:
        outcome = self.outcome
        try:
            config = await self.integration.port_app_config_handler.get_port_app_config(
                use_cache=False
            )
        except Exception as exc:
            outcome.fail(Phase.CONFIG, "all kinds", f"the mapping is invalid: {describe(exc)}")
            return
        if not config.resources:
            logger.info("The mapping has no resources: nothing to sync")
            return
        self.client = client = get_client()
        if not await preflight(client, config.resources, outcome):
            return
        try:
            jira_now = await client.server_time()
        except Exception as exc:
            outcome.fail(Phase.PREFLIGHT, "all kinds (Jira)", describe(exc))
            return
        for hook in self.integration.event_strategy.resync_start:
            try:
                await hook()
            except Exception as exc:
                outcome.fail(Phase.PREFLIGHT, "all kinds", describe(exc))
        if outcome.failed:
            return
        limits = Limits(self.settings.catalog_max_concurrent_requests)
        self.catalog = CatalogApi(
            self.integration.context.port_client, limits, self.user_agent_type
        )
        self.writer = CatalogWriter(
            self.catalog,
            outcome,
            config.get_port_request_options(),
            self.settings.catalog_max_concurrent_requests,
        )
        state = SyncState(self.integration.context.port_client)
        plans = [
            await plan_resource(index, resource, state, requested_full=self.requested_full)
            for index, resource in enumerate(config.resources)
        ]
        for plan in plans:
            logger.info(f"{plan.label}: {plan.mode} sync ({plan.reason})")
            self._start_snapshot(plan)
        for plan in plans:
            async with resource_context(plan.resource, plan.index):
                await self._sync_resource(plan)
            if not config.create_missing_related_entities:
                await self.writer.flush()  # targets must exist before what points at them
        await self.writer.finish()
        if outcome.failed:
            outcome.deletion_skipped = "the run failed"
            return
        await self._reconcile(plans, config)
        if outcome.failed:
            return
        await self._record_state(state, plans, jira_now)
        if outcome.failed:
            return
        for hook in self.integration.event_strategy.resync_complete:
            try:
                await hook()
            except Exception as exc:
                outcome.fail(Phase.STATE, "all kinds", describe(exc))

    # ---- per resource -------------------------------------------------------------------

    def _start_snapshot(self, plan: ResourcePlan) -> None:
        blueprint = literal_blueprint(plan.resource)
        if blueprint is None:
            return
        projection = Projection.of(plan.resource) if plan.mode is Mode.FULL else None
        key = (blueprint, projection)
        if key not in self._snapshots:
            assert self.catalog is not None
            self._snapshots[key] = asyncio.create_task(
                load_snapshot(self.catalog, blueprint, projection)
            )

    async def _snapshot(self, plan: ResourcePlan) -> CatalogSnapshot | None:
        blueprint = literal_blueprint(plan.resource)
        projection = Projection.of(plan.resource) if plan.mode is Mode.FULL else None
        task = self._snapshots.get((blueprint or "", projection))
        if task is None:
            return None
        return await task

    async def _sync_resource(self, plan: ResourcePlan) -> None:
        self._progress = progress_state = _Progress(plan.label)
        token = progress.expected_items.set(self._expect)
        ticker = asyncio.create_task(self._tick())
        try:
            try:
                snapshot = await self._snapshot(plan)
            except Exception as exc:
                self.outcome.fail(Phase.CATALOG_READ, plan.label, describe(exc))
                return
            if plan.mode is Mode.DELTA:
                await self._sync_delta(plan, snapshot)
            else:
                await self._sync_full(plan, snapshot)
        except Exception as exc:
            self.outcome.fail(Phase.FETCH, plan.label, describe(exc))
        finally:
            ticker.cancel()
            progress.expected_items.reset(token)
            logger.info(
                f"Finished {plan.label}: {progress_state.fetched} items read in "
                f"{time.monotonic() - progress_state.started:.1f}s"
            )

    async def _sync_full(self, plan: ResourcePlan, snapshot: CatalogSnapshot | None) -> None:
        examples = RAW_EXAMPLES if self.integration.context.config.send_raw_data_examples else 0
        if plan.kind == "issue" and examples:
            await self._send_issue_examples(plan)
            examples = 0
        results, errors = await framework.resource_raw_results(
            self.integration, plan.resource, examples
        )
        for error in errors:
            self.outcome.fail(Phase.FETCH, plan.label, describe(error))
        items = [r for r in results if isinstance(r, dict)]
        if items:
            await self._ingest(plan, items, snapshot)
        for generator in (r for r in results if not isinstance(r, dict)):
            try:
                async for page in generator:
                    await self._ingest(plan, page, snapshot)
            except Exception as exc:
                self.outcome.fail(Phase.FETCH, plan.label, describe(exc))

    async def _sync_delta(self, plan: ResourcePlan, snapshot: CatalogSnapshot | None) -> None:
        """Keep what Jira did not change; re-read what it changed or the catalog lacks."""
        assert self.client is not None and plan.since is not None
        scope = IssueScope(plan.resource, self.client)
        pages = IssuePages(plan.resource, self.client)
        counted = self._progress
        changed: list[int] = []
        skipped = 0
        async for items in scope.pages():
            for item in items:
                if counted:
                    counted.fetched += 1
                if not item.selected:
                    continue
                if item.identifier is None or item.blueprint is None:
                    skipped += 1
                    continue
                self._keep(plan, item.blueprint, item.identifier)
                fresh = item.updated is not None and item.updated < plan.since
                if fresh and snapshot is not None and snapshot.holds(item.identifier):
                    self.outcome.blueprint(item.blueprint).unchanged += 1
                    if counted:
                        counted.unchanged += 1
                else:
                    changed.append(item.id)
            if len(changed) >= DELTA_FETCH_CHUNK:
                await self._ingest_by_id(plan, pages, changed, snapshot)
                changed = []
        if changed:
            await self._ingest_by_id(plan, pages, changed, snapshot)
        if skipped:
            self.outcome.fail(
                Phase.MAP, plan.label, f"{skipped} issues mapped to no identifier or blueprint"
            )

    async def _ingest_by_id(
        self,
        plan: ResourcePlan,
        pages: IssuePages,
        ids: list[int],
        snapshot: CatalogSnapshot | None,
    ) -> None:
        async for page in pages.by_id(ids):
            await self._ingest(plan, page, snapshot, keep=False)

    async def _ingest(
        self,
        plan: ResourcePlan,
        page: list[dict[str, Any]],
        snapshot: CatalogSnapshot | None,
        *,
        keep: bool = True,
    ) -> None:
        """Map one page and hand what changed to the writer."""
        assert self.writer is not None
        if keep and self._progress:
            self._progress.fetched += len(page)
        processor = self.integration.entity_processor
        calculated = await processor.parse_items(plan.resource, page)
        passed: list[Entity] = calculated.entity_selector_diff.passed
        if calculated.errors:
            self.outcome.fail(
                Phase.MAP,
                plan.label,
                f"{len(calculated.errors)} items could not be mapped: "
                f"{describe(calculated.errors[0])}",
            )
        else:
            skipped = len(page) - len(passed) - len(calculated.entity_selector_diff.failed)
            if skipped > 0:
                self.outcome.fail(
                    Phase.MAP,
                    plan.label,
                    f"{skipped} items mapped to no identifier or blueprint (their entities "
                    "would look deleted)",
                )
        for entity in passed:
            blueprint = str(entity.blueprint)
            if entity.is_using_search_identifier or entity.is_using_search_relation:
                self._unreconcilable.add(blueprint)
                await self.writer.submit(entity, new=True)
                continue
            if keep:
                self._keep(plan, blueprint, str(entity.identifier))
            state = (
                snapshot.state_of(entity)
                if snapshot is not None and snapshot.blueprint == blueprint
                else EntityState.NEW
            )
            if state == EntityState.UNCHANGED:
                self.outcome.blueprint(blueprint).unchanged += 1
                if self._progress:
                    self._progress.unchanged += 1
            else:
                await self.writer.submit(entity, new=state == EntityState.NEW)

    def _keep(self, plan: ResourcePlan, blueprint: str, identifier: str) -> None:
        self._kept[blueprint].add(stable_hash(identifier))
        self._returned[plan.index] += 1

    async def _send_issue_examples(self, plan: ResourcePlan) -> None:
        """Raw data examples with every field of a few issues (the mapping editor shows them
        to help write mappings); the synced pages carry only the mapped fields."""
        assert self.client is not None
        try:
            examples = await self.client.sample_issues(
                plan.resource.selector.jql,
                RAW_EXAMPLES,
                expand=IssuePages(plan.resource, self.client).expand(),
            )
            if examples:
                await self.integration.context.port_client.ingest_integration_kind_examples(
                    plan.kind, examples, should_log=False
                )
        except Exception as exc:  # examples are a convenience: never a failure
            logger.warning(f"Could not send raw data examples of {plan.label}: {describe(exc)}")

    def _expect(self, total: int) -> None:
        if self._progress is not None:
            self._progress.expected = total

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(PROGRESS_SECONDS)
            if self._progress is not None and self.writer is not None:
                logger.info(self._progress.line(self.writer.written))

    # ---- reconciliation -----------------------------------------------------------------

    async def _reconcile(self, plans: list[ResourcePlan], config: Any) -> None:
        assert self.catalog is not None and self.client is not None
        outcome = self.outcome
        targets: dict[str, dict[str, str]] = {}
        owned: Counter[str] = Counter()
        candidates: dict[str, list[str]] = defaultdict(list)
        protected: set[int] = set()
        titled: set[int] = set()  # candidates a resource once wrote (placeholders have none)
        spare_targets = bool(config.create_missing_related_entities)
        try:
            async for page in owned_entities(self.catalog):
                for entity in page:
                    blueprint = str(entity.get("blueprint"))
                    identifier = str(entity.get("identifier"))
                    owned[blueprint] += 1
                    if stable_hash(identifier) not in self._kept.get(blueprint, ()):
                        candidates[blueprint].append(identifier)
                        if entity.get("title") is not None:
                            titled.add(stable_hash(f"{blueprint}\0{identifier}"))
                    elif spare_targets:
                        if blueprint not in targets:
                            targets[blueprint] = await self.catalog.relation_targets(blueprint)
                        for name, value in (entity.get("relations") or {}).items():
                            target = targets[blueprint].get(name)
                            for item in value if isinstance(value, list) else [value]:
                                if target and isinstance(item, str):
                                    protected.add(stable_hash(f"{target}\0{item}"))
        except Exception as exc:
            outcome.fail(
                Phase.RECONCILE, "all kinds", f"listing the catalog failed: {describe(exc)}"
            )
            outcome.deletion_skipped = "the catalog could not be listed"
            return
        producers: dict[str, list[_Producer]] = defaultdict(list)
        for plan in plans:
            literal = literal_blueprint(plan.resource)
            written = [literal] if literal is not None else list(self._kept)
            support = support_for(plan.resource, self.client)
            for name in written:
                producers[name].append(_Producer(plan, support, self._returned[plan.index]))
        limit = float(config.max_deletion_fraction)
        decisions: list[guard.Decision] = []
        # Kept only because kept entities point at them: made placeholders again, as a sync
        # from scratch would leave them, instead of keeping data the selector no longer reads
        # (a closed sprint still saying "active").
        demote: list[Entity] = []
        for blueprint, identifiers in candidates.items():
            keys = {i: stable_hash(f"{blueprint}\0{i}") for i in identifiers}
            remaining = [i for i in identifiers if keys[i] not in protected]
            demote += [
                Entity(identifier=i, blueprint=blueprint, title=None, icon=None)
                for i in identifiers
                if keys[i] in protected and keys[i] in titled
            ]
            if blueprint in self._unreconcilable:
                logger.info(f"Not reconciling {blueprint}: its mapping uses search identifiers")
                continue
            try:
                decision = await guard.review(
                    guard.BlueprintReview(
                        blueprint, owned[blueprint], remaining, producers[blueprint]
                    ),
                    limit,
                    random.Random(),
                )
            except Exception as exc:
                outcome.fail(
                    Phase.RECONCILE,
                    blueprint,
                    f"the deletions could not be confirmed: {describe(exc)}",
                )
                continue
            decisions.append(decision)
            if decision.refusal:
                outcome.fail(Phase.RECONCILE, blueprint, decision.refusal)
            elif decision.delete:
                logger.info(
                    f"Deleting {len(decision.delete)} of {owned[blueprint]} {blueprint} entities "
                    f"({decision.note})"
                )
        if outcome.failed:
            outcome.deletion_skipped = "the deletion guard refused (see the failures)"
            logger.warning("Skipping the delete phase: this run deletes nothing")
            return
        if demote:
            await self._demote(demote, config)
        approved = {d.blueprint: d.delete for d in decisions if d.delete}
        if not approved:
            return
        order = await self._deletion_order(list(approved), targets)
        await delete_entities(
            self.catalog,
            outcome,
            approved,
            order,
            bool(config.delete_dependent_entities),
            self.settings.catalog_max_concurrent_requests,
        )

    async def _demote(self, entities: list[Entity], config: Any) -> None:
        assert self.catalog is not None
        logger.info(
            f"{len(entities)} entities no resource selects any more stay as relation targets, "
            "as placeholders (their last synced data is cleared)"
        )
        replace: RequestOptions = config.get_port_request_options()
        replace = {**replace, "merge": False}
        writer = CatalogWriter(
            self.catalog, self.outcome, replace, self.settings.catalog_max_concurrent_requests
        )
        for entity in entities:
            await writer.submit(entity, new=False)
        await writer.finish()

    async def _deletion_order(
        self, blueprints: list[str], targets: dict[str, dict[str, str]]
    ) -> list[str]:
        """Entities that point at others go first (an issue before its sprint)."""
        assert self.catalog is not None
        for blueprint in blueprints:
            if blueprint not in targets:
                try:
                    targets[blueprint] = await self.catalog.relation_targets(blueprint)
                except Exception:
                    targets[blueprint] = {}
        order: list[str] = []
        remaining = set(blueprints)
        while remaining:
            pointed_at = {
                t
                for b in remaining
                for t in targets.get(b, {}).values()
                if t in remaining and t != b
            }
            ready = sorted(remaining - pointed_at) or sorted(remaining)
            order.extend(ready)
            remaining -= set(ready)
        return order

    # ---- state and report ---------------------------------------------------------------

    async def _record_state(
        self, state: SyncState, plans: list[ResourcePlan], jira_now: datetime
    ) -> None:
        for plan in plans:
            if plan.kind not in DELTA_KINDS or not getattr(
                plan.resource.selector, "incremental", False
            ):
                continue
            try:
                await state.write(
                    plan.kind,
                    plan.index,
                    ResourceState(jira_now, plan.runs_since_full, plan.fingerprint),
                )
            except Exception as exc:  # the next run is then full again: safe
                self.outcome.fail(Phase.STATE, plan.label, describe(exc))

    def _report(self, seconds: float) -> None:
        outcome = self.outcome
        for blueprint, counts in sorted(outcome.counts.items()):
            logger.info(f"Summary {blueprint}: {counts.line()}")
        requests = dict(self.catalog.requests) if self.catalog else {}
        jira = self.client.stats.requests if self.client else 0
        timing = f"in {seconds:.1f}s ({jira} Jira requests, catalog requests {requests})"
        if outcome.failed:
            skipped = outcome.deletion_skipped or "the run failed"
            logger.error(
                f"Resync failed {timing}; nothing was deleted from the catalog ({skipped}). "
                f"{outcome.summary()}"
            )
        else:
            logger.info(f"Resync finished successfully {timing}")

    async def _cancel_background(self) -> None:
        tasks: list[asyncio.Task[Any]] = list(self._snapshots.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
