"""Full or incremental? The decision for each run, and the state it rests on.

Incremental runs (opt-in per issue selector, ``incremental: true``) fetch only issues
updated since the last successful sync and go through the framework's ``sync_incremental``:
upserts only, no reconciliation. So deletions, and issues that stop matching the JQL, are
caught by the full (reconciling) sync that still runs:

- when no incremental selector exists, or state is missing or unreadable (first run, lost
  or corrupt cursor),
- every ``fullSyncEvery`` runs,
- on demand: a resync requested by a person or by the event listener (start-up of a
  POLLING integration, "Resync" in Port, a mapping change), or ``fullSync: true`` in the
  integration settings for a ONCE run.

State lives in the catalog through the framework's cursor API, one cursor per
(kind, resource index): ``issue`` holds the start of the last successful sync (the cursor the
framework's own ``sync_incremental`` reads and advances), and ``issue.runs-since-full``
holds how many incremental runs followed the last full sync. That API stores a timestamp
only, so the count is stored as that many seconds after the Unix epoch.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from loguru import logger

from jira_server.client.jql import narrowed

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
RUNS_SUFFIX = ".runs-since-full"


class Mode(StrEnum):
    FULL = "full"
    INCREMENTAL = "incremental"


class CursorApi(Protocol):
    async def get_integration_cursor(self, kind: str, index: int) -> datetime | None: ...

    async def upsert_integration_cursor(self, kind: str, index: int, value: datetime) -> None: ...


@dataclass(frozen=True)
class IncrementalResource:
    kind: str
    index: int
    full_sync_every: int


@dataclass(frozen=True)
class Decision:
    mode: Mode
    reason: str


class SyncState:
    def __init__(self, api: CursorApi) -> None:
        self._api = api

    async def last_sync_start(self, resource: IncrementalResource) -> datetime | None:
        return await self._api.get_integration_cursor(resource.kind, resource.index)

    async def runs_since_full(self, resource: IncrementalResource) -> int | None:
        stored = await self._api.get_integration_cursor(resource.kind + RUNS_SUFFIX, resource.index)
        if stored is None:
            return None
        return int((_utc(stored) - EPOCH).total_seconds())

    async def record_full(self, resource: IncrementalResource, started_at: datetime) -> None:
        await self._api.upsert_integration_cursor(resource.kind, resource.index, started_at)
        await self._api.upsert_integration_cursor(
            resource.kind + RUNS_SUFFIX, resource.index, EPOCH
        )

    async def record_incremental(self, resource: IncrementalResource, runs: int) -> None:
        """The framework has advanced the time cursor itself; count the run."""
        value = EPOCH + timedelta(seconds=runs)
        await self._api.upsert_integration_cursor(
            resource.kind + RUNS_SUFFIX, resource.index, value
        )


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


async def decide(
    state: SyncState,
    resources: list[IncrementalResource],
    *,
    requested_full: str | None,
) -> Decision:
    """``requested_full`` names why a full sync was asked for, or is None."""
    if not resources:
        return Decision(Mode.FULL, "no issue selector has incremental: true")
    if requested_full:
        return Decision(Mode.FULL, requested_full)
    for resource in resources:
        try:
            started = await state.last_sync_start(resource)
            runs = await state.runs_since_full(resource)
        except Exception as exc:  # unreadable state must never block a sync: go full
            logger.warning(f"Incremental state for {resource.kind} is unreadable ({exc})")
            return Decision(Mode.FULL, "incremental state is unreadable")
        if started is None or runs is None or runs < 0:
            return Decision(Mode.FULL, "no previous successful sync is recorded")
        if runs + 1 >= resource.full_sync_every:
            return Decision(Mode.FULL, f"a full sync is due every {resource.full_sync_every} runs")
    return Decision(Mode.INCREMENTAL, "state is present and no full sync is due")


def incremental_jql(jql: str, since: datetime, overlap: timedelta, tz: Any) -> str:
    """``(jql) AND updated >= "yyyy-MM-dd HH:mm"``; JQL reads absolute dates in the Jira
    user's time zone, at minute precision, so the overlap covers both the truncation and
    clock skew between this host and Jira."""
    local = (_utc(since) - overlap).astimezone(tz)
    return narrowed(jql, f'updated >= "{local:%Y-%m-%d %H:%M}"')
