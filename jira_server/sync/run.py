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
from array import array
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
from jira_server.blueprints import namespace_missing
from jira_server.client.provider import get_client
from jira_server.client.rest_client import JiraServerClient
from jira_server.errors import JiraResponseError
from jira_server.kinds import support_for
from jira_server.kinds.activity import (
    ISSUE_RELATION,
    CommentDelta,
    ListedIssue,
    WorklogPages,
    issue_relation_values,
    list_issues,
    worklog_shape,
)
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
    OwnedIndex,
    Projection,
    RelationTargets,
    add_targets,
    contains_key,
    delete_entities,
    key_hash,
    load_owned_index,
    load_snapshot,
    sorted_keys,
    target_key,
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

    def expect(self, total: int) -> None:
        self.expected = total

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


class _CatalogUnreadable(Exception):
    """The owned index could not be read (already a failure of the run)."""


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
        # Identifier hashes of what this run produced or kept, per blueprint (flat arrays:
        # one entry per issue of a large Jira).
        self._kept: dict[str, array[int]] = defaultdict(lambda: array("q"))
        self._returned: Counter[int] = Counter()
        # Blueprints whose entities use search identifiers: never reconciled.
        self._unreconcilable: set[str] = set()
        self._snapshots: dict[tuple[str, Projection], asyncio.Task[CatalogSnapshot]] = {}
        self._owned: asyncio.Task[OwnedIndex | None] | None = None
        self._targets: RelationTargets | None = None
        self._state: SyncState | None = None
        # Relation targets of the entities this run wrote (the owned index has the rest).
        self._written_targets: set[int] = set()
        self.client: JiraServerClient | None = None
        self.catalog: CatalogApi | None = None
        self.writer: CatalogWriter | None = None

    # ---- the run ------------------------------------------------------------------------

    async def execute(self) -> RunOutcome:
        started = time.monotonic()
        logger.info(f"Resync started ({self.trigger_type})")
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
        for position, resource in enumerate(config.resources):
            identifier = resource.port.entity.mappings.identifier
            namespace = self.settings.instance_namespace
            if problem := namespace_missing(str(resource.kind), position, identifier, namespace):
                outcome.fail(Phase.CONFIG, f"{resource.kind} (resource #{position})", problem)
        # Checked before Jira and the catalog are touched: nothing is written or deleted.
        if outcome.failed:
            return
        self.client = client = get_client()
        limits = Limits(self.settings.catalog_max_concurrent_requests)
        self.catalog = CatalogApi(
            self.integration.context.port_client, limits, self.user_agent_type
        )
        # What the catalog holds is read while Jira is checked: reading changes nothing, and
        # over the internet its round trips would otherwise come first on every run.
        self._start_owned_index(config.resources)
        self._state = state = SyncState(self.integration.context.port_client)
        for index, resource in enumerate(config.resources):
            if str(resource.kind) in DELTA_KINDS and getattr(
                resource.selector, "incremental", False
            ):
                state.prefetch(str(resource.kind), index)
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
        self.writer = CatalogWriter(
            self.catalog,
            outcome,
            config.get_port_request_options(),
            self.settings.catalog_max_concurrent_requests,
        )
        plans = list(
            await asyncio.gather(
                *(
                    plan_resource(index, resource, state, requested_full=self.requested_full)
                    for index, resource in enumerate(config.resources)
                )
            )
        )
        for plan in plans:
            logger.info(f"{plan.label}: {plan.mode} sync ({plan.reason})")
        self._start_catalog_reads(plans)
        if config.create_missing_related_entities:
            # Relation targets are created on demand: the resources run side by side (their
            # Jira and catalog requests share the run's limits), and the run takes as long as
            # its longest resource rather than the sum.
            await asyncio.gather(*(self._sync_resource(plan) for plan in plans))
        else:
            for plan in plans:  # targets must exist before what points at them
                await self._sync_resource(plan)
                await self.writer.flush()
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

    def _start_owned_index(self, resources: Sequence[Any]) -> None:
        """The owned index, read in the background from the run's start: one pass over the
        integration's entities (identifiers for delta runs and reconciliation), with the
        relation targets of the mapping's blueprints fetched side by side."""
        assert self.catalog is not None
        self._targets = RelationTargets(self.catalog)
        self._targets.prefetch(
            b for b in (literal_blueprint(r) for r in resources) if b is not None
        )
        self._owned = asyncio.create_task(self._load_owned())

    def _start_catalog_reads(self, plans: list[ResourcePlan]) -> None:
        """Content fingerprints for resources read in full (to skip unchanged entities),
        read in the background while Jira is read."""
        assert self.catalog is not None
        for plan in plans:
            blueprint = literal_blueprint(plan.resource)
            if blueprint is None or plan.mode is Mode.DELTA:
                continue
            key = (blueprint, Projection.of(plan.resource))
            if key not in self._snapshots:
                self._snapshots[key] = asyncio.create_task(
                    load_snapshot(self.catalog, blueprint, key[1])
                )

    async def _load_owned(self) -> OwnedIndex | None:
        assert self.catalog is not None and self._targets is not None
        try:
            return await load_owned_index(self.catalog, self._targets)
        except Exception as exc:
            self.outcome.fail(
                Phase.CATALOG_READ,
                "all kinds",
                f"listing the integration's entities in the catalog failed: {describe(exc)}",
            )
            return None

    async def _snapshot(self, plan: ResourcePlan) -> CatalogSnapshot | None:
        blueprint = literal_blueprint(plan.resource)
        if blueprint is None:
            return None
        if plan.mode is Mode.DELTA:
            assert self._owned is not None
            owned = await self._owned
            if owned is None:  # recorded as a failure of the run already
                raise _CatalogUnreadable
            return owned.snapshot(blueprint)
        task = self._snapshots.get((blueprint, Projection.of(plan.resource)))
        return await task if task is not None else None

    async def _sync_resource(self, plan: ResourcePlan) -> None:
        counted = _Progress(plan.label)
        token = progress.expected_items.set(counted.expect)
        ticker = asyncio.create_task(self._tick(counted))
        try:
            async with resource_context(plan.resource, plan.index):
                if plan.mode is Mode.DELTA:
                    # Jira's scope listing starts at once; the catalog's identifiers are
                    # awaited when the first page of it has arrived.
                    delta = {
                        "comment": self._sync_comment_delta,
                        "worklog": self._sync_worklog_delta,
                    }.get(plan.kind, self._sync_delta)
                    await delta(plan, counted)
                    return
                try:
                    snapshot = await self._snapshot(plan)
                except Exception as exc:
                    self.outcome.fail(Phase.CATALOG_READ, plan.label, describe(exc))
                    return
                await self._sync_full(plan, snapshot, counted)
        except Exception as exc:
            self.outcome.fail(Phase.FETCH, plan.label, describe(exc))
        finally:
            ticker.cancel()
            progress.expected_items.reset(token)
            logger.info(
                f"Finished {plan.label}: {counted.fetched} items read in "
                f"{time.monotonic() - counted.started:.1f}s"
            )

    async def _sync_full(
        self, plan: ResourcePlan, snapshot: CatalogSnapshot | None, counted: _Progress
    ) -> None:
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
            await self._ingest(plan, items, snapshot, counted)
        for generator in (r for r in results if not isinstance(r, dict)):
            try:
                async for page in generator:
                    await self._ingest(plan, page, snapshot, counted)
            except Exception as exc:
                self.outcome.fail(Phase.FETCH, plan.label, describe(exc))

    async def _sync_delta(self, plan: ResourcePlan, counted: _Progress) -> None:
        """Keep what Jira did not change; re-read what it changed or the catalog lacks.

        The scope listing does not wait for the catalog's identifiers: issues Jira changed
        are re-read whatever the catalog holds, and the unchanged ones wait (as identifier
        and id) until the owned index has arrived."""
        assert self.client is not None and plan.since is not None and self._owned is not None
        scope = IssueScope(plan.resource, self.client)
        pages = IssuePages(plan.resource, self.client)
        changed: list[int] = []
        # Unchanged issues listed before the owned index arrived, as flat arrays (a tuple of
        # strings per issue would grow the run's memory with the size of the Jira).
        waiting_ids, waiting_keys, waiting_blueprints = array("q"), array("q"), array("H")
        blueprints: list[str] = []
        skipped = 0
        snapshot: CatalogSnapshot | None = None

        def decide(blueprint: str, key: int, issue_id: int) -> None:
            assert snapshot is not None
            if snapshot.holds_key(key):
                self.outcome.blueprint(blueprint).unchanged += 1
                counted.unchanged += 1
            else:
                changed.append(issue_id)

        def wait(blueprint: str, key: int, issue_id: int) -> None:
            if blueprint not in blueprints:
                blueprints.append(blueprint)
            waiting_ids.append(issue_id)
            waiting_keys.append(key)
            waiting_blueprints.append(blueprints.index(blueprint))

        def decide_waiting() -> None:
            for issue_id, key, at in zip(
                waiting_ids, waiting_keys, waiting_blueprints, strict=True
            ):
                decide(blueprints[at], key, issue_id)
            del waiting_ids[:], waiting_keys[:], waiting_blueprints[:]

        async for items in scope.pages():
            if snapshot is None and self._owned.done():
                try:
                    snapshot = await self._snapshot(plan)
                except _CatalogUnreadable:
                    return
                decide_waiting()
            for item in items:
                counted.fetched += 1
                if not item.selected:
                    continue
                if item.identifier is None or item.blueprint is None:
                    skipped += 1
                    continue
                self._keep(plan, item.blueprint, item.identifier)
                if item.updated is None or item.updated >= plan.since:
                    changed.append(item.id)
                elif snapshot is None:
                    wait(item.blueprint, key_hash(item.identifier), item.id)
                else:
                    decide(item.blueprint, key_hash(item.identifier), item.id)
            if len(changed) >= DELTA_FETCH_CHUNK:
                await self._ingest_by_id(plan, pages, changed, snapshot, counted)
                changed = []
        if snapshot is None:
            try:
                snapshot = await self._snapshot(plan)
            except _CatalogUnreadable:
                return
            decide_waiting()
        if changed:
            await self._ingest_by_id(plan, pages, changed, snapshot, counted)
        if skipped:
            self.outcome.fail(
                Phase.MAP, plan.label, f"{skipped} issues mapped to no identifier or blueprint"
            )

    async def _sync_comment_delta(self, plan: ResourcePlan, counted: _Progress) -> None:
        """Re-read the comments of issues Jira changed; keep the catalog's comments of the
        unchanged ones (found by their ``issue`` relation), so none of them is deleted."""
        assert self.client is not None and plan.since is not None
        assert self._owned is not None and self._targets is not None
        delta = CommentDelta(plan.resource, self.client, plan.since)
        changed: list[int] = []
        unchanged: list[ListedIssue] = []
        async for items in delta.listing():
            for item in items:
                (changed.append(item.id) if item.changed else unchanged.append(item))
        try:
            snapshot = await self._snapshot(plan)
        except _CatalogUnreadable:
            return
        if changed:
            async for page in delta.comments_of(changed):
                await self._ingest(plan, page, snapshot, counted)
        await self._keep_by_issue(plan, unchanged, set(), counted)

    async def _keep_by_issue(
        self,
        plan: ResourcePlan,
        issues: list[ListedIssue],
        excluded: set[str],
        counted: _Progress,
    ) -> None:
        """Keep the catalog's entities of this resource whose ``issue`` relation points at
        one of ``issues`` (by key or id), except the identifiers of ``excluded``."""
        assert self._owned is not None and self._targets is not None
        blueprint = literal_blueprint(plan.resource)
        owned = await self._owned
        if blueprint is None or owned is None:
            return
        issue_blueprint = (await self._targets.of(blueprint)).get(ISSUE_RELATION)
        if issue_blueprint is None:
            self.outcome.fail(
                Phase.MAP, plan.label, f"{blueprint} has no '{ISSUE_RELATION}' relation"
            )
            return
        values = issue_relation_values(plan.resource, self.settings.instance_namespace)
        wanted = {target_key(issue_blueprint, value) for issue in issues for value in values(issue)}
        for position, identifier in enumerate(owned.identifiers.get(blueprint, [])):
            if identifier in excluded:
                continue
            if any(t in wanted for t in owned.targets_of(blueprint, position)):
                self._keep(plan, blueprint, identifier)
                self.outcome.blueprint(blueprint).unchanged += 1
                counted.unchanged += 1

    async def _sync_worklog_delta(self, plan: ResourcePlan, counted: _Progress) -> None:
        """Re-read the worklogs Jira's feed says changed; keep the catalog's other worklogs
        of issues the JQL still selects, except those the deleted feed lists (the guard
        confirms those)."""
        assert self.client is not None and plan.since is not None and self._owned is not None
        worklogs = WorklogPages(plan.resource, self.client)
        try:
            snapshot = await self._snapshot(plan)
        except _CatalogUnreadable:
            return
        try:
            pages, deleted = await worklogs.changed_since(plan.since)
        except JiraResponseError as exc:
            if exc.status_code != 404:
                raise
            logger.info(f"{plan.label}: Jira has no worklog feeds; reading in full instead")
            await self._sync_full(plan, snapshot, counted)
            return
        async for page in pages:
            await self._ingest(plan, page, snapshot, counted)
        shape = worklog_shape(plan.resource)
        blueprint = literal_blueprint(plan.resource)
        owned = await self._owned
        if shape is None or blueprint is None or owned is None:
            return
        excluded = {i for i in owned.identifiers.get(blueprint, []) if shape.natural(i) in deleted}
        listed: list[ListedIssue] = []
        async for items in list_issues(self.client, plan.resource.selector.jql, plan.since):
            listed += items
        await self._keep_by_issue(plan, listed, excluded, counted)

    async def _ingest_by_id(
        self,
        plan: ResourcePlan,
        pages: IssuePages,
        ids: list[int],
        snapshot: CatalogSnapshot | None,
        counted: _Progress,
    ) -> None:
        async for page in pages.by_id(ids):
            await self._ingest(plan, page, snapshot, counted, keep=False)

    async def _ingest(
        self,
        plan: ResourcePlan,
        page: list[dict[str, Any]],
        snapshot: CatalogSnapshot | None,
        counted: _Progress,
        *,
        keep: bool = True,
    ) -> None:
        """Map one page and hand what changed to the writer."""
        assert self.writer is not None
        if keep:
            counted.fetched += len(page)
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
        if self._targets is not None:
            for blueprint in {str(e.blueprint) for e in passed}:
                await self._targets.of(blueprint)
        for entity in passed:
            blueprint = str(entity.blueprint)
            if self._targets is not None:
                add_targets(self._written_targets, entity.relations, self._targets.known(blueprint))
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
                counted.unchanged += 1
            else:
                await self.writer.submit(entity, new=state == EntityState.NEW)

    def _keep(self, plan: ResourcePlan, blueprint: str, identifier: str) -> None:
        self._kept[blueprint].append(key_hash(identifier))
        self._returned[plan.index] += 1

    async def _send_issue_examples(self, plan: ResourcePlan) -> None:
        """Raw data examples with every field of a few issues (the mapping editor shows them
        to help write mappings); the synced pages carry only the mapped fields."""
        assert self.client is not None
        try:
            pages = IssuePages(plan.resource, self.client)
            examples = await self.client.sample_issues(
                plan.resource.selector.jql, RAW_EXAMPLES, expand=await pages.expand()
            )
            await pages.enrich(examples)  # the computed keys, as the mapping sees them
            if examples:
                await self.integration.context.port_client.ingest_integration_kind_examples(
                    plan.kind, examples, should_log=False
                )
        except Exception as exc:  # examples are a convenience: never a failure
            logger.warning(f"Could not send raw data examples of {plan.label}: {describe(exc)}")

    async def _tick(self, counted: _Progress) -> None:
        while True:
            await asyncio.sleep(PROGRESS_SECONDS)
            if self.writer is not None:
                logger.info(counted.line(self.writer.written))

    # ---- reconciliation -----------------------------------------------------------------

    async def _reconcile(self, plans: list[ResourcePlan], config: Any) -> None:
        assert self.catalog is not None and self.client is not None
        assert self._owned is not None and self._targets is not None
        outcome = self.outcome
        owned = await self._owned
        if owned is None:  # recorded as a failure of the run already
            outcome.deletion_skipped = "the catalog could not be listed"
            return
        spare_targets = bool(config.create_missing_related_entities)
        # The targets of what this run keeps: those it wrote, and those of kept entities it
        # did not rewrite (unchanged, or not re-read by a delta run), as the catalog holds them.
        protected = set(self._written_targets)
        candidates: dict[str, list[str]] = {}
        titled: set[int] = set()  # candidates a resource once wrote (placeholders have none)
        for blueprint, identifiers in owned.identifiers.items():
            kept = sorted_keys(self._kept.get(blueprint, ()))
            flags = owned.titled[blueprint]
            left = []
            for position, identifier in enumerate(identifiers):
                if contains_key(kept, key_hash(identifier)):
                    protected.update(owned.targets_of(blueprint, position))
                    continue
                left.append(identifier)
                if flags[position]:
                    titled.add(target_key(blueprint, identifier))
            if left:
                candidates[blueprint] = left
        if not spare_targets:
            protected.clear()
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
            keys = {i: target_key(blueprint, i) for i in identifiers}
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
                        blueprint, owned.count(blueprint), remaining, producers[blueprint]
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
                    f"Deleting {len(decision.delete)} of {owned.count(blueprint)} {blueprint} "
                    f"entities ({decision.note})"
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
        order = await self._deletion_order(list(approved))
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

    async def _deletion_order(self, blueprints: list[str]) -> list[str]:
        """Entities that point at others go first (an issue before its sprint)."""
        assert self._targets is not None
        targets: dict[str, dict[str, str]] = {}
        for blueprint in blueprints:
            try:
                targets[blueprint] = await self._targets.of(blueprint)
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
        if self._owned is not None:
            tasks.append(self._owned)
        for task in tasks:
            task.cancel()
        if self._targets is not None:
            self._targets.cancel()
        if self._state is not None:
            self._state.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
