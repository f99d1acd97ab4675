"""What a run leaves for the next one, per resource: kept in the catalog through the
framework's integration-cursor API (so ONCE runs from CI keep it too).

That API stores one timestamp per (kind, resource index). Three cursors per resource:

- ``<kind>``: when the last successful run started, by Jira's clock (a delta run re-reads
  what Jira changed since then, minus the overlap);
- ``<kind>.runs-since-full``: how many delta runs followed the last full one;
- ``<kind>.config``: a fingerprint of the resource's selector and mapping as that run saw
  them (a changed mapping or selector makes the next run full).

The two numbers are stored as that many seconds after the Unix epoch. Nothing is written
unless the whole run succeeded, so a failed run leaves the previous state in place.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
RUNS_SUFFIX = ".runs-since-full"
CONFIG_SUFFIX = ".config"
# Fingerprints fit in 31 bits so that EPOCH + fingerprint seconds stays a valid timestamp.
FINGERPRINT_BITS = 31


class CursorApi(Protocol):
    async def get_integration_cursor(self, kind: str, index: int) -> datetime | None: ...

    async def upsert_integration_cursor(self, kind: str, index: int, value: datetime) -> None: ...


@dataclass(frozen=True)
class ResourceState:
    last_start: datetime | None
    runs_since_full: int | None
    config_fingerprint: int | None


def config_fingerprint(resource: Any) -> int:
    """Selector and mapping of a resource config, as the catalog stores them."""
    text = json.dumps(
        {"selector": resource.selector.dict(by_alias=True), "port": resource.port.dict()},
        sort_keys=True,
        default=str,
    )
    digest = hashlib.sha256(text.encode()).digest()
    return int.from_bytes(digest[:4], "big") >> (32 - FINGERPRINT_BITS)


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _as_number(value: datetime | None) -> int | None:
    if value is None:
        return None
    return int((_utc(value) - EPOCH).total_seconds())


class SyncState:
    def __init__(self, api: CursorApi) -> None:
        self._api = api
        self._reads: dict[tuple[str, int], asyncio.Task[ResourceState]] = {}

    def prefetch(self, kind: str, index: int) -> None:
        """Start reading a resource's state now (the run's checks go on meanwhile)."""
        if (kind, index) not in self._reads:
            task = asyncio.create_task(self._read(kind, index))
            task.add_done_callback(lambda t: t.cancelled() or t.exception())
            self._reads[kind, index] = task

    async def read(self, kind: str, index: int) -> ResourceState:
        """Read once per run: a second call gets the first answer (or its error)."""
        self.prefetch(kind, index)
        return await self._reads[kind, index]

    def cancel(self) -> None:
        for task in self._reads.values():
            task.cancel()

    async def _read(self, kind: str, index: int) -> ResourceState:
        start, runs, config = await asyncio.gather(
            self._api.get_integration_cursor(kind, index),
            self._api.get_integration_cursor(kind + RUNS_SUFFIX, index),
            self._api.get_integration_cursor(kind + CONFIG_SUFFIX, index),
        )
        return ResourceState(start, _as_number(runs), _as_number(config))

    async def write(self, kind: str, index: int, state: ResourceState) -> None:
        if state.last_start is None or state.runs_since_full is None:
            raise ValueError("a recorded state needs a start time and a run count")
        writes = [
            self._api.upsert_integration_cursor(kind, index, _utc(state.last_start)),
            self._api.upsert_integration_cursor(
                kind + RUNS_SUFFIX, index, EPOCH + timedelta(seconds=state.runs_since_full)
            ),
        ]
        if state.config_fingerprint is not None:
            writes.append(
                self._api.upsert_integration_cursor(
                    kind + CONFIG_SUFFIX, index, EPOCH + timedelta(seconds=state.config_fingerprint)
                )
            )
        await asyncio.gather(*writes)
