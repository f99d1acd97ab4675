"""Full or delta, decided per resource from that resource's own selector and state.

A delta run (issue resources with ``incremental: true``, the default) lists the JQL's scope
cheaply, re-reads in full only what Jira changed since the last successful run and what the
catalog lacks, and deletes what left the scope (through the deletion guard). A resource
runs in full:

- when its selector says ``incremental: false``, or its kind has no delta read;
- when no successful run is recorded for it, or its state is unreadable;
- when its selector or mapping changed since that run;
- every ``fullSyncEvery`` runs (a safety net for what Jira does not mark as updated);
- when a full sync is requested: ``fullSync: true``, "Resync" in Port, a mapping change or
  the start of a long-running integration;
- when the mapping cannot be evaluated on the scope listing (see ``IssueScope.unsupported``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from loguru import logger

from jira_server.kinds.activity import comment_delta_unsupported, worklog_delta_unsupported
from jira_server.kinds.issue import IssueScope
from jira_server.sync.state import ResourceState, SyncState, config_fingerprint

DELTA_KINDS = frozenset({"issue", "comment", "worklog"})
# Why a resource of a delta kind cannot run as a delta, per kind.
DELTA_CHECKS: dict[str, Callable[[Any], str | None]] = {
    "issue": IssueScope.unsupported,
    "comment": comment_delta_unsupported,
    "worklog": worklog_delta_unsupported,
}


class Mode(StrEnum):
    FULL = "full"
    DELTA = "delta"


@dataclass(frozen=True)
class ResourcePlan:
    index: int
    resource: Any
    mode: Mode
    reason: str
    fingerprint: int
    # Delta: re-read issues Jira updated at or after this instant (overlap applied).
    since: datetime | None = None
    # What the run records on success.
    runs_since_full: int = 0

    @property
    def kind(self) -> str:
        return str(self.resource.kind)

    @property
    def label(self) -> str:
        return f"{self.kind} (resource #{self.index})"


async def plan_resource(
    index: int,
    resource: Any,
    state: SyncState,
    *,
    requested_full: str | None,
) -> ResourcePlan:
    fingerprint = config_fingerprint(resource)

    def full(reason: str) -> ResourcePlan:
        return ResourcePlan(index, resource, Mode.FULL, reason, fingerprint)

    kind = str(resource.kind)
    if kind not in DELTA_KINDS:
        return full("this kind is read in full (unchanged entities are not re-sent)")
    selector = resource.selector
    if not getattr(selector, "incremental", False):
        return full("the selector has incremental: false")
    if requested_full:
        return full(requested_full)
    if reason := DELTA_CHECKS[kind](resource):
        return full(f"a delta read is not possible: {reason}")
    try:
        recorded: ResourceState = await state.read(kind, index)
    except Exception as exc:  # unreadable state never blocks a sync: go full
        logger.warning(f"The sync state of {kind} #{index} is unreadable ({exc})")
        return full("the recorded sync state is unreadable")
    if recorded.last_start is None or recorded.runs_since_full is None:
        return full("no previous successful sync is recorded")
    if recorded.runs_since_full < 0:
        return full("the recorded sync state is corrupt")
    if recorded.config_fingerprint != fingerprint:
        return full("the selector or mapping changed since the last successful sync")
    runs = recorded.runs_since_full + 1
    if runs >= selector.full_sync_every:
        return full(f"a full sync is due every {selector.full_sync_every} runs")
    overlap = timedelta(minutes=selector.incremental_overlap_minutes)
    return ResourcePlan(
        index,
        resource,
        Mode.DELTA,
        f"delta run {runs} of {selector.full_sync_every}",
        fingerprint,
        since=recorded.last_start - overlap,
        runs_since_full=runs,
    )
