"""The catalog side of a run: what the catalog already holds, writing what changed, and
deleting what reconciliation approved, with as few sequential round trips as possible.

Port is a hosted API, tens of milliseconds away. port-ocean 0.54.1 compares every yielded
page with the catalog in sequential searches of 50 entities and pushes pages one after
another. Here instead:

- ``CatalogSnapshot``: a blueprint's entities (this integration's datasource) are read once
  per run, in pages of ``SNAPSHOT_PAGE`` (Port's search maximum), in the background while
  Jira is read; only fingerprints are kept, so unchanged entities are skipped without a
  search and memory stays at 16 bytes per entity. An empty blueprint costs one request.
- ``CatalogWriter``: changed entities go out in bulk upserts of up to 20 (Port's limit),
  several requests in flight across pages and kinds, within Port's published rate limits
  (``RateLimiter``). A request that fails is retried within limits, split when Port refuses
  its size or body (413/422), and what is still not written is recorded as a failure of the
  run, per blueprint, with the reasons.
- ``OwnedIndex``: one pass over the listing of everything the integration owns, at the
  start of the run, serving delta runs and reconciliation; ``delete_entities`` for what the
  deletion guard approved.
"""

from __future__ import annotations

import asyncio
import bisect
import json
import random
import time
from array import array
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from loguru import logger
from port_ocean.clients.port.types import RequestOptions, UserAgentType
from port_ocean.core.models import Entity

from jira_server.sync.outcome import Phase, RunOutcome

# Port's published limits: bulk upserts and entity searches, 35,000 requests per 5 minutes
# each, bursts of 3,500.
RATE_PER_SECOND = 35_000 / 300
RATE_BURST = 3_500
BULK_MAX_ENTITIES = 20
BULK_MAX_BYTES = 900_000  # under Port's 1 MiB body limit, with room for the envelope
SNAPSHOT_PAGE = 1000  # Port's maximum page of a blueprint search
LISTING_PAGE = 5000  # what port-ocean asks of the datasource listing
DELETE_BATCH = 100
# Beyond the framework client's own retries (429, 502, 503, 504): 500s and broken
# connections, a few times, with backoff.
WRITE_ATTEMPTS = 4
RETRY_BASE_SECONDS = 0.5
SAMPLE_IDENTIFIERS = 5


def key_hash(text: str) -> int:
    """A 64-bit hash for the run's sets and fingerprints (Python's, salted per process:
    nothing hashed here outlives the run). A collision among ~10^5 values (p < 10^-9) can
    only make an entity look kept or unchanged for one run."""
    return hash(text)


@dataclass(frozen=True)
class Projection:
    """Which parts of an entity a resource's mapping writes: the comparison looks at exactly
    these, as port-ocean's does (a property another writer set is not ours to compare)."""

    title: bool
    team: bool
    properties: tuple[str, ...]
    relations: tuple[str, ...]

    @classmethod
    def of(cls, resource: Any) -> Projection:
        mappings = resource.port.entity.mappings
        return cls(
            title=mappings.title is not None,
            team=mappings.team is not None,
            properties=tuple(sorted(mappings.properties)),
            relations=tuple(sorted(mappings.relations)),
        )

    def include(self) -> list[str]:
        fields = ["identifier"]
        fields += ["title"] if self.title else []
        fields += ["team"] if self.team else []
        fields += [f"properties.{name}" for name in self.properties]
        fields += [f"relations.{name}" for name in self.relations]
        return fields

    def fingerprint(
        self,
        identifier: str,
        title: Any,
        team: Any,
        properties: dict[str, Any] | None,
        relations: dict[str, Any] | None,
    ) -> int:
        """Equal for a mapped entity and the catalog's copy when the catalog holds what the
        mapping writes; null and absent are the same (Port returns every schema property,
        null when unset)."""
        properties, relations = properties or {}, relations or {}
        content = {
            "t": title if self.title else None,
            "m": (team or None) if self.team else None,
            "p": {k: properties[k] for k in self.properties if properties.get(k) is not None},
            "r": {k: relations[k] for k in self.relations if relations.get(k) is not None},
        }
        text = json.dumps([identifier, content], sort_keys=True, separators=(",", ":"))
        return key_hash(text)

    def of_entity(self, entity: Entity) -> int:
        return self.fingerprint(
            str(entity.identifier), entity.title, entity.team, entity.properties, entity.relations
        )


class EntityState:
    NEW = "new"
    CHANGED = "changed"
    UNCHANGED = "unchanged"


class CatalogSnapshot:
    """Fingerprints of one blueprint's entities, as this integration wrote them."""

    def __init__(self, blueprint: str, projection: Projection | None) -> None:
        self.blueprint = blueprint
        self.projection = projection  # None: identifiers only (a delta run)
        self._identifiers = array("q")
        self._contents = array("q")

    @property
    def count(self) -> int:
        return len(self._identifiers)

    def add(self, entity: dict[str, Any]) -> None:
        identifier = str(entity.get("identifier"))
        self._identifiers.append(key_hash(identifier))
        if self.projection is not None:
            self._contents.append(
                self.projection.fingerprint(
                    identifier,
                    entity.get("title"),
                    entity.get("team"),
                    entity.get("properties"),
                    entity.get("relations"),
                )
            )

    def seal(self) -> None:
        self._identifiers = array("q", sorted(self._identifiers))
        self._contents = array("q", sorted(self._contents))

    def holds(self, identifier: Any) -> bool:
        return self.holds_key(key_hash(str(identifier)))

    def holds_key(self, key: int) -> bool:
        """``holds`` by the identifier's ``key_hash``."""
        return _contains(self._identifiers, key)

    def state_of(self, entity: Entity) -> str:
        if not self.holds(entity.identifier):
            return EntityState.NEW
        if self.projection is not None and _contains(
            self._contents, self.projection.of_entity(entity)
        ):
            return EntityState.UNCHANGED
        return EntityState.CHANGED


def sorted_keys(values: Iterable[int]) -> array[int]:
    """Hashes in a sorted flat array: 8 bytes each where a set of ints takes ~70."""
    return array("q", sorted(values))


def contains_key(values: array[int], value: int) -> bool:
    """Membership in an array made by ``sorted_keys``."""
    return _contains(values, value)


def _contains(values: array[int], value: int) -> bool:
    at = bisect.bisect_left(values, value)
    return at < len(values) and values[at] == value


class RateLimiter:
    """A token bucket: ``burst`` requests at once, then ``rate`` per second."""

    def __init__(
        self,
        rate: float = RATE_PER_SECOND,
        burst: int = RATE_BURST,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._rate, self._burst = rate, burst
        self._tokens = float(burst)
        self._clock, self._sleep = clock, sleep
        self._updated = clock()
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        async with self._lock:
            while True:
                now = self._clock()
                self._tokens = min(self._burst, self._tokens + (now - self._updated) * self._rate)
                self._updated = now
                if self._tokens >= 1:
                    self._tokens -= 1
                    return
                await self._sleep((1 - self._tokens) / self._rate)


@dataclass
class Limits:
    """Request pacing shared by everything a run sends to the catalog."""

    concurrency: int
    upserts: RateLimiter = field(default_factory=RateLimiter)
    searches: RateLimiter = field(default_factory=RateLimiter)
    deletes: RateLimiter = field(default_factory=RateLimiter)
    slots: asyncio.Semaphore = field(init=False)

    def __post_init__(self) -> None:
        self.slots = asyncio.Semaphore(self.concurrency)


class CatalogRequestError(Exception):
    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class CatalogApi:
    """The Port API calls a run makes, over the framework's authenticated Port client."""

    def __init__(self, port_client: Any, limits: Limits, user_agent: UserAgentType) -> None:
        self._port = port_client
        self._limits = limits
        self._user_agent = user_agent
        self.requests: Counter[str] = Counter()

    @property
    def datasource_rules(self) -> list[dict[str, Any]]:
        """This integration's entities, as port-ocean's own searches select them."""
        auth = self._port.auth
        return [
            {
                "property": "$datasource",
                "operator": "contains",
                "value": f"port-ocean/{auth.integration_type}/",
            },
            {
                "property": "$datasource",
                "operator": "contains",
                "value": f"/{auth.integration_identifier}/{self._user_agent.value}",
            },
        ]

    async def _post(
        self,
        kind: str,
        limiter: RateLimiter,
        path: str,
        body: Any,
        params: Any = None,
        content: bytes | None = None,
    ) -> httpx.Response:
        await limiter.acquire()
        async with self._limits.slots:
            self.requests[kind] += 1
            auth = self._port.auth
            headers = await auth.headers(self._user_agent)
            if content is not None:
                headers = {**headers, "Content-Type": "application/json"}
            response: httpx.Response = await self._port.client.post(
                f"{auth.api_url}{path}",
                json=body if content is None else None,
                content=content,
                params=params,
                headers=headers,
                extensions={"retryable": True},
            )
        return response

    async def _post_retrying(
        self,
        kind: str,
        limiter: RateLimiter,
        path: str,
        body: Any,
        params: Any = None,
        content: bytes | None = None,
    ) -> httpx.Response:
        """500s and dropped connections again, a few times (the framework's client already
        retried 429, 502, 503 and 504 with backoff)."""
        for attempt in range(1, WRITE_ATTEMPTS + 1):
            try:
                response = await self._post(kind, limiter, path, body, params, content)
            except httpx.HTTPError as exc:
                if attempt == WRITE_ATTEMPTS:
                    raise CatalogRequestError(f"the catalog could not be reached: {exc}") from exc
            else:
                if response.status_code < 500 or attempt == WRITE_ATTEMPTS:
                    return response
            delay = RETRY_BASE_SECONDS * 2 ** (attempt - 1)
            await asyncio.sleep(delay * (1 + random.random()))
        raise AssertionError("unreachable")

    async def search_page(
        self, blueprint: str, include: list[str], cursor: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        body: dict[str, Any] = {
            "query": {"combinator": "and", "rules": self.datasource_rules},
            "include": include,
            "limit": SNAPSHOT_PAGE,
        }
        if cursor:
            body["from"] = cursor
        response = await self._post_retrying(
            "search",
            self._limits.searches,
            f"/blueprints/{blueprint}/entities/search",
            body,
            params={"exclude_calculated_properties": "true"},
        )
        payload = _json_or_raise(response, f"search of {blueprint}")
        return list(payload.get("entities") or []), payload.get("next") or None

    async def listing_page(self, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        auth = self._port.auth
        body: dict[str, Any] = {
            "datasource_prefix": f"port-ocean/{auth.integration_type}/",
            "datasource_suffix": f"/{auth.integration_identifier}/{self._user_agent.value}",
            "limit": LISTING_PAGE,
        }
        if cursor:
            body["from"] = cursor
        response = await self._post_retrying(
            "listing", self._limits.searches, "/blueprints/entities/datasource-entities", body
        )
        payload = _json_or_raise(response, "listing of the integration's entities")
        return list(payload.get("entities") or []), payload.get("next") or None

    async def upsert_bulk(
        self, blueprint: str, entities: list[str], options: RequestOptions
    ) -> httpx.Response:
        """``entities``: each entity's JSON text (the body is joined, not encoded again)."""
        params = {
            "upsert": "true",
            "merge": str(options["merge"]).lower(),
            "create_missing_related_entities": str(
                options["create_missing_related_entities"]
            ).lower(),
            "validation_only": "false",
            **_event_params(),
        }
        content = ('{"entities":[' + ",".join(entities) + "]}").encode()
        return await self._post_retrying(
            "upsert",
            self._limits.upserts,
            f"/blueprints/{blueprint}/entities/bulk",
            None,
            params,
            content=content,
        )

    async def delete_bulk(
        self, blueprint: str, identifiers: list[str], delete_dependents: bool
    ) -> list[str]:
        response = await self._post_retrying(
            "delete",
            self._limits.deletes,
            f"/blueprints/{blueprint}/bulk/entities/delete",
            {"entities": identifiers},
            {"delete_dependents": str(delete_dependents).lower(), **_event_params()},
        )
        payload = _json_or_raise(response, f"bulk delete of {blueprint}")
        return [str(i) for i in payload.get("deletedEntities") or []]

    async def existing(self, blueprint: str, identifiers: Sequence[str]) -> set[str]:
        """Which of ``identifiers`` the blueprint still holds."""
        found: set[str] = set()
        for first in range(0, len(identifiers), SNAPSHOT_PAGE):
            chunk = list(identifiers[first : first + SNAPSHOT_PAGE])
            body = {
                "query": {
                    "combinator": "and",
                    "rules": [{"property": "$identifier", "operator": "in", "value": chunk}],
                },
                "include": ["identifier"],
                "limit": SNAPSHOT_PAGE,
            }
            response = await self._post_retrying(
                "search", self._limits.searches, f"/blueprints/{blueprint}/entities/search", body
            )
            payload = _json_or_raise(response, f"search of {blueprint}")
            found.update(str(e.get("identifier")) for e in payload.get("entities") or [])
        return found

    async def relation_targets(self, blueprint: str) -> dict[str, str]:
        """Relation name -> target blueprint (the framework caches blueprints per resync)."""
        found = await self._port.get_blueprint(blueprint, should_log=False)
        return {name: str(relation.target) for name, relation in found.relations.items()}


def _event_params() -> dict[str, str]:
    from port_ocean.clients.port.utils import get_event_context_params

    return get_event_context_params()


def _json_or_raise(response: httpx.Response, what: str) -> dict[str, Any]:
    if response.status_code >= 400:
        raise CatalogRequestError(
            f"the catalog answered the {what} with {response.status_code}{_port_error(response)}",
            response.status_code,
        )
    try:
        payload = response.json()
    except ValueError:
        raise CatalogRequestError(f"the catalog answered the {what} with a non-JSON body") from None
    if not isinstance(payload, dict):
        raise CatalogRequestError(f"the catalog answered the {what} with an unexpected body")
    return payload


def _port_error(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    detail = body.get("message") or body.get("error")
    return f" ({detail})" if detail else ""


async def load_snapshot(
    api: CatalogApi, blueprint: str, projection: Projection | None
) -> CatalogSnapshot:
    snapshot = CatalogSnapshot(blueprint, projection)
    include = projection.include() if projection else ["identifier"]
    cursor: str | None = None
    while True:
        entities, cursor = await api.search_page(blueprint, include, cursor)
        for entity in entities:
            snapshot.add(entity)
        if not cursor:
            break
    snapshot.seal()
    logger.debug(f"Read the fingerprints of {snapshot.count} {blueprint} entities")
    return snapshot


class OwnedIndex:
    """What the integration owns in the catalog when a run starts, from one pass over the
    datasource listing (its pages are five times those of a blueprint search): for delta
    runs, which identifiers the catalog holds; for reconciliation, every owned entity with
    the relation targets it points at (as 64-bit hashes in one flat array, so that the
    entities this run keeps can protect their targets at the end)."""

    def __init__(self) -> None:
        self.identifiers: dict[str, list[str]] = defaultdict(list)
        self.titled: dict[str, bytearray] = defaultdict(bytearray)
        self.snapshots: dict[str, CatalogSnapshot] = {}
        # Entity n of a blueprint points at _targets[_ends[n-1]:_ends[n]].
        self._targets: dict[str, array[int]] = defaultdict(lambda: array("q"))
        self._ends: dict[str, array[int]] = defaultdict(lambda: array("q"))

    def add(self, entity: dict[str, Any], relation_targets: dict[str, str]) -> None:
        blueprint = str(entity.get("blueprint"))
        identifier = str(entity.get("identifier"))
        self.identifiers[blueprint].append(identifier)
        self.titled[blueprint].append(entity.get("title") is not None)
        snapshot = self.snapshots.get(blueprint)
        if snapshot is None:
            snapshot = self.snapshots[blueprint] = CatalogSnapshot(blueprint, None)
        snapshot.add(entity)
        found: set[int] = set()
        add_targets(found, entity.get("relations"), relation_targets)
        targets = self._targets[blueprint]
        targets.extend(found)
        self._ends[blueprint].append(len(targets))

    def targets_of(self, blueprint: str, position: int) -> array[int]:
        ends = self._ends[blueprint]
        start = ends[position - 1] if position else 0
        return self._targets[blueprint][start : ends[position]]

    def seal(self) -> None:
        for snapshot in self.snapshots.values():
            snapshot.seal()

    def count(self, blueprint: str) -> int:
        return len(self.identifiers.get(blueprint, ()))

    def snapshot(self, blueprint: str) -> CatalogSnapshot:
        return self.snapshots.get(blueprint) or CatalogSnapshot(blueprint, None)


def target_key(blueprint: str, identifier: str) -> int:
    return hash((blueprint, identifier))


def add_targets(into: set[int], relations: Any, relation_targets: dict[str, str]) -> None:
    """The relation targets of one entity, as (target blueprint, identifier) hashes."""
    if not isinstance(relations, dict):
        return
    for name, value in relations.items():
        target = relation_targets.get(name)
        if not target:
            continue
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str):
                into.add(target_key(target, item))


class RelationTargets:
    """Relation name -> target blueprint, per blueprint, read once per run."""

    def __init__(self, api: CatalogApi) -> None:
        self._api = api
        self._fetches: dict[str, asyncio.Task[dict[str, str]]] = {}
        self._known: dict[str, dict[str, str]] = {}

    def prefetch(self, blueprints: Iterable[str]) -> None:
        """Fetch these blueprints side by side now rather than one by one when met."""
        for blueprint in blueprints:
            self._fetch(blueprint)

    def _fetch(self, blueprint: str) -> asyncio.Task[dict[str, str]]:
        if blueprint not in self._fetches:
            task = asyncio.create_task(self._api.relation_targets(blueprint))
            # A prefetch nobody awaits (its blueprint never met) must not warn at exit; who
            # awaits it gets the error.
            task.add_done_callback(lambda t: t.cancelled() or t.exception())
            self._fetches[blueprint] = task
        return self._fetches[blueprint]

    async def of(self, blueprint: str) -> dict[str, str]:
        if blueprint not in self._known:
            self._known[blueprint] = await self._fetch(blueprint)
        return self._known[blueprint]

    def known(self, blueprint: str) -> dict[str, str]:
        return self._known.get(blueprint, {})

    def cancel(self) -> None:
        for task in self._fetches.values():
            task.cancel()


async def load_owned_index(api: CatalogApi, targets: RelationTargets) -> OwnedIndex:
    index = OwnedIndex()
    async for page in owned_entities(api):
        for entity in page:
            blueprint = str(entity.get("blueprint"))
            index.add(entity, await targets.of(blueprint))
    index.seal()
    for blueprint, identifiers in sorted(index.identifiers.items()):
        logger.info(f"Catalog holds {len(identifiers)} {blueprint} entities of this integration")
    return index


async def owned_entities(api: CatalogApi) -> AsyncIterator[list[dict[str, Any]]]:
    """Every entity of the integration's datasource: identifier, blueprint, relations. The
    next page is requested before the caller handles this one (the cursor is all it needs),
    so a remote catalog's round trips overlap the indexing."""
    pending = asyncio.create_task(api.listing_page(None))
    try:
        while True:
            entities, cursor = await pending
            if cursor:
                pending = asyncio.create_task(api.listing_page(cursor))
            if entities:
                yield entities
            if not cursor:
                return
    finally:
        if not pending.done():
            pending.cancel()


@dataclass
class _Batch:
    blueprint: str
    entities: list[Entity]
    new: list[bool]
    bodies: list[str] = field(default_factory=list)  # each entity as JSON, serialised once
    size: int = 0


def entity_body(entity: Entity) -> dict[str, Any]:
    """``entity.dict(exclude_unset=True)`` without pydantic's deep copy (a tenth of a full
    sync's CPU): the values are the mapping's plain JSON, serialised right away."""
    fields_set = entity.__fields_set__
    return {name: getattr(entity, name) for name in entity.__fields__ if name in fields_set}


class CatalogWriter:
    """Bulk upserts with several requests in flight; the caller waits only when the
    pipeline is full, so pages of a kind and the kinds themselves overlap their writes."""

    def __init__(
        self,
        api: CatalogApi,
        outcome: RunOutcome,
        options: RequestOptions,
        concurrency: int,
    ) -> None:
        self._api = api
        self._outcome = outcome
        self._options = options
        self._pending: dict[str, _Batch] = {}
        self._inflight: set[asyncio.Task[None]] = set()
        self._room = asyncio.Semaphore(concurrency * 2)
        # Entities whose relation target did not exist yet (createMissingRelatedEntities
        # off): written again once everything else is.
        self._deferred: list[tuple[Entity, bool]] = []
        self._errors: dict[str, Counter[str]] = defaultdict(Counter)
        self._examples: dict[str, list[str]] = defaultdict(list)
        self.written = 0

    async def submit(self, entity: Entity, *, new: bool) -> None:
        blueprint = str(entity.blueprint)
        body = json.dumps(entity_body(entity), default=str)
        body_size = len(body)
        batch = self._pending.get(blueprint)
        if batch is not None and batch.size + body_size > BULK_MAX_BYTES:
            await self._send(self._pending.pop(blueprint))
            batch = None
        if batch is None:
            batch = self._pending[blueprint] = _Batch(blueprint, [], [])
        batch.entities.append(entity)
        batch.new.append(new)
        batch.bodies.append(body)
        batch.size += body_size
        if len(batch.entities) >= BULK_MAX_ENTITIES:
            await self._send(self._pending.pop(blueprint))

    async def flush(self) -> None:
        """Send partial batches and wait until every request answered."""
        for blueprint in list(self._pending):
            await self._send(self._pending.pop(blueprint))
        while self._inflight:
            await asyncio.gather(*list(self._inflight))

    async def finish(self) -> None:
        """After the last kind: the deferred entities, then the failures into the outcome."""
        await self.flush()
        for _ in range(3):  # targets may chain (a sub-task's parent's parent)
            deferred, self._deferred = self._deferred, []
            if not deferred:
                break
            for entity, new in deferred:
                await self.submit(entity, new=new)
            await self.flush()
        for entity, _ in self._deferred:
            self._fail(entity, "a related entity it points at does not exist (404)")
        self._deferred = []
        for blueprint, reasons in self._errors.items():
            total = sum(reasons.values())
            why = "; ".join(f"{n} x {reason}" for reason, n in reasons.most_common(5))
            sample = ", ".join(self._examples[blueprint])
            self._outcome.fail(
                Phase.WRITE,
                blueprint,
                f"{total} entities were not written to the catalog: {why} (e.g. {sample})",
            )
        self._errors.clear()

    async def _send(self, batch: _Batch) -> None:
        await self._room.acquire()
        task = asyncio.create_task(self._write(batch))
        self._inflight.add(task)

        def done(finished: asyncio.Task[None]) -> None:
            self._inflight.discard(finished)
            self._room.release()

        task.add_done_callback(done)

    async def _write(self, batch: _Batch) -> None:
        try:
            await self._write_batch(batch)
        except Exception as exc:  # never lose a failure in a background task
            for entity in batch.entities:
                self._fail(entity, f"unexpected error: {exc}")

    async def _write_batch(self, batch: _Batch) -> None:
        try:
            response = await self._api.upsert_bulk(batch.blueprint, batch.bodies, self._options)
        except CatalogRequestError as exc:
            for entity in batch.entities:
                self._fail(entity, str(exc))
            return
        status = response.status_code
        if status in (413, 422) and len(batch.entities) > 1:
            # Too large, or one entity Port refuses outright: halves until it is isolated.
            middle = len(batch.entities) // 2
            for part in (slice(0, middle), slice(middle, None)):
                await self._write_batch(
                    _Batch(
                        batch.blueprint, batch.entities[part], batch.new[part], batch.bodies[part]
                    )
                )
            return
        if status >= 400:
            reason = f"HTTP {status}{_port_error(response)}"
            for entity in batch.entities:
                self._fail(entity, reason)
            return
        payload = response.json()
        succeeded = {int(r["index"]): r for r in payload.get("entities") or [] if "index" in r}
        failed = {int(e["index"]): e for e in payload.get("errors") or [] if "index" in e}
        for index, entity in enumerate(batch.entities):
            if index in succeeded:
                created = succeeded[index].get("created")
                self._count(batch.blueprint, batch.new[index] if created is None else created)
                continue
            error = failed.get(index, {})
            code = error.get("statusCode")
            if code == 404 and not self._options["create_missing_related_entities"]:
                self._deferred.append((entity, batch.new[index]))
                continue
            detail = error.get("message") or error.get("error") or "no result for this entity"
            self._fail(entity, f"{code or status} {detail}")

    def _count(self, blueprint: str, created: bool) -> None:
        counts = self._outcome.blueprint(blueprint)
        if created:
            counts.created += 1
        else:
            counts.updated += 1
        self.written += 1

    def _fail(self, entity: Entity, reason: str) -> None:
        blueprint = str(entity.blueprint)
        self._outcome.blueprint(blueprint).failed += 1
        self._errors[blueprint][reason[:200]] += 1
        if len(self._examples[blueprint]) < SAMPLE_IDENTIFIERS:
            self._examples[blueprint].append(str(entity.identifier))


async def delete_entities(
    api: CatalogApi,
    outcome: RunOutcome,
    by_blueprint: dict[str, list[str]],
    order: Iterable[str],
    delete_dependents: bool,
    concurrency: int,
) -> None:
    """Bulk deletes, blueprint by blueprint in ``order`` (entities that point at others
    first); an identifier Port did not delete and still holds is a failure of the run."""
    slots = asyncio.Semaphore(concurrency)

    async def one_batch(blueprint: str, identifiers: list[str]) -> list[str]:
        async with slots:
            return await api.delete_bulk(blueprint, identifiers, delete_dependents)

    for blueprint in order:
        identifiers = by_blueprint.get(blueprint) or []
        if not identifiers:
            continue
        batches = [
            identifiers[i : i + DELETE_BATCH] for i in range(0, len(identifiers), DELETE_BATCH)
        ]
        answers = await asyncio.gather(
            *(one_batch(blueprint, batch) for batch in batches), return_exceptions=True
        )
        deleted: set[str] = set()
        errors: list[str] = []
        for answer in answers:
            if isinstance(answer, BaseException):
                errors.append(str(answer))
            else:
                deleted.update(answer)
        left = [i for i in identifiers if i not in deleted]
        still_there = await api.existing(blueprint, left) if left else set()
        outcome.blueprint(blueprint).deleted += len(identifiers) - len(still_there)
        if still_there:
            why = f": {errors[0]}" if errors else ""
            sample = ", ".join(sorted(still_there)[:SAMPLE_IDENTIFIERS])
            outcome.fail(
                Phase.DELETE,
                blueprint,
                f"{len(still_there)} of {len(identifiers)} entities could not be deleted{why} "
                f"(e.g. {sample})",
            )
