"""The catalog side on its own, against an httpx mock of Port's API: snapshots, bulk writes
with failures recorded per blueprint, request pacing, deletions that did not happen."""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from port_ocean.clients.port.types import UserAgentType
from port_ocean.core.models import Entity

from jira_server.sync import catalog
from jira_server.sync.catalog import (
    CatalogApi,
    CatalogSnapshot,
    CatalogWriter,
    EntityState,
    Limits,
    Projection,
    RateLimiter,
    delete_entities,
    load_snapshot,
)
from jira_server.sync.outcome import Phase, RunOutcome

OPTIONS = {
    "merge": True,
    "create_missing_related_entities": True,
    "delete_dependent_entities": True,
    "validation_only": False,
}


class FakeAuth:
    api_url = "https://api.port.test/v1"
    integration_type = "jira-server-sync"
    integration_identifier = "jira-test"

    async def headers(self, user_agent_type: Any = None) -> dict[str, str]:
        return {"Authorization": "Bearer t"}


def api_with(handler: Any, concurrency: int = 4) -> CatalogApi:
    port = SimpleNamespace(
        client=httpx.AsyncClient(transport=httpx.MockTransport(handler)), auth=FakeAuth()
    )
    return CatalogApi(port, Limits(concurrency), UserAgentType.exporter)


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(catalog, "RETRY_BASE_SECONDS", 0.0)


def entity(n: int, blueprint: str = "issues", **properties: Any) -> Entity:
    return Entity(
        identifier=f"A-{n}",
        blueprint=blueprint,
        title=f"Issue {n}",
        icon=None,
        properties={"status": "Open", **properties},
        relations={"project": "A"},
    )


def bulk_ok(request: httpx.Request) -> httpx.Response:
    body = json.loads(request.content)
    return httpx.Response(
        200,
        json={
            "ok": True,
            "entities": [
                {"index": i, "identifier": e["identifier"], "created": True}
                for i, e in enumerate(body["entities"])
            ],
            "errors": [],
        },
    )


async def test_unchanged_entities_are_recognised_from_the_snapshot() -> None:
    projection = Projection(title=True, team=False, properties=("status",), relations=("project",))
    held = [
        {
            "identifier": "A-1",
            "title": "Issue 1",
            "properties": {"status": "Open", "other": 1},
            "relations": {"project": "A", "sprint": None},
        },
        {
            "identifier": "A-2",
            "title": "Issue 2",
            "properties": {"status": "Done"},
            "relations": {"project": "A"},
        },
    ]

    def search(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        assert body["limit"] == 1000 and "properties.status" in body["include"]
        start = int(body.get("from") or 0)
        page = held[start : start + 1]
        answer: dict[str, Any] = {"ok": True, "entities": page}
        if start + 1 < len(held):
            answer["next"] = str(start + 1)
        return httpx.Response(200, json=answer)

    snapshot = await load_snapshot(api_with(search), "issues", projection)
    assert snapshot.count == 2
    assert snapshot.state_of(entity(1)) == EntityState.UNCHANGED  # null/absent/unmapped ignored
    assert snapshot.state_of(entity(2)) == EntityState.CHANGED
    assert snapshot.state_of(entity(3)) == EntityState.NEW


async def test_writes_are_batched_and_overlapped() -> None:
    in_flight = peak = 0
    sizes: list[int] = []

    async def slow(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        sizes.append(len(json.loads(request.content)["entities"]))
        await asyncio.sleep(0.01)
        in_flight -= 1
        return bulk_ok(request)

    outcome = RunOutcome()
    writer = CatalogWriter(api_with(slow), outcome, OPTIONS, concurrency=4)  # type: ignore[arg-type]
    for n in range(200):
        await writer.submit(entity(n), new=True)
    await writer.finish()
    assert sorted(sizes) == [20] * 10
    assert peak == 4
    assert outcome.counts["issues"].created == 200 and not outcome.failed


async def test_a_500_is_retried_then_recorded_per_blueprint() -> None:
    calls = 0

    def failing(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(500, json={"ok": False, "error": "internal_error"})

    outcome = RunOutcome()
    writer = CatalogWriter(api_with(failing), outcome, OPTIONS, concurrency=2)  # type: ignore[arg-type]
    for n in range(25):
        await writer.submit(entity(n), new=True)
    await writer.finish()
    assert calls == 2 * catalog.WRITE_ATTEMPTS  # two batches, each retried
    [failure] = outcome.failures
    assert failure.phase is Phase.WRITE and failure.scope == "issues"
    assert "25 entities were not written to the catalog: 25 x HTTP 500 (internal_error)" in (
        failure.message
    )
    assert outcome.counts["issues"].failed == 25


async def test_entities_the_catalog_rejects_are_named() -> None:
    def partial(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        return httpx.Response(
            207,
            json={
                "ok": True,
                "entities": [{"index": 0, "identifier": body["entities"][0]["identifier"]}],
                "errors": [
                    {
                        "index": 1,
                        "identifier": body["entities"][1]["identifier"],
                        "statusCode": 422,
                        "error": "schema_mismatch",
                        "message": "bad status",
                    }
                ],
            },
        )

    outcome = RunOutcome()
    writer = CatalogWriter(api_with(partial), outcome, OPTIONS, concurrency=2)  # type: ignore[arg-type]
    await writer.submit(entity(1), new=False)
    await writer.submit(entity(2), new=False)
    await writer.finish()
    assert outcome.counts["issues"].updated == 1
    [failure] = outcome.failures
    assert "1 entities were not written to the catalog: 1 x 422 bad status (e.g. A-2)" in (
        failure.message
    )


async def test_a_refused_batch_is_split_to_isolate_the_entity() -> None:
    def refuses_a7(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        if any(e["identifier"] == "A-7" for e in body["entities"]):
            return httpx.Response(422, json={"ok": False, "error": "invalid_request"})
        return bulk_ok(request)

    outcome = RunOutcome()
    writer = CatalogWriter(api_with(refuses_a7), outcome, OPTIONS, concurrency=2)  # type: ignore[arg-type]
    for n in range(20):
        await writer.submit(entity(n), new=True)
    await writer.finish()
    assert outcome.counts["issues"].created == 19
    assert "(e.g. A-7)" in outcome.failures[0].message


async def test_deletions_that_did_not_happen_fail_the_run() -> None:
    def deletes_half(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        if request.url.path.endswith("/bulk/entities/delete"):
            return httpx.Response(200, json={"ok": True, "deletedEntities": body["entities"][:1]})
        wanted = body["query"]["rules"][0]["value"]
        return httpx.Response(
            200, json={"ok": True, "entities": [{"identifier": i} for i in wanted]}
        )

    outcome = RunOutcome()
    await delete_entities(
        api_with(deletes_half), outcome, {"issues": ["A-1", "A-2"]}, ["issues"], True, 2
    )
    assert outcome.counts["issues"].deleted == 1
    [failure] = outcome.failures
    assert (
        failure.phase is Phase.DELETE and "1 of 2 entities could not be deleted" in failure.message
    )


async def test_the_rate_limiter_allows_a_burst_then_the_rate() -> None:
    now = [0.0]
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    limiter = RateLimiter(rate=10, burst=3, clock=lambda: now[0], sleep=sleep)
    for _ in range(5):
        await limiter.acquire()
    assert len(slept) == 2 and all(abs(s - 0.1) < 1e-9 for s in slept)


def test_snapshot_memory_is_two_arrays_of_64_bit_values() -> None:
    snapshot = CatalogSnapshot("issues", None)
    for n in range(1000):
        snapshot.add({"identifier": f"A-{n}"})
    snapshot.seal()
    assert snapshot.holds("A-999") and not snapshot.holds("A-1000")
    assert snapshot._identifiers.itemsize == 8


@pytest.mark.parametrize(
    "raw",
    [
        {"identifier": "A-1", "blueprint": "b"},
        {"identifier": "A-1", "blueprint": "b", "title": None, "properties": {"x": [1, {"y": 2}]}},
        {"identifier": "A-1", "blueprint": "b", "relations": {"r": ["A-2"]}, "icon": "Jira"},
        {"identifier": {"combinator": "and", "rules": []}, "blueprint": "b", "team": ["t"]},
    ],
)
def test_entity_body_is_what_pydantic_would_write(raw: dict[str, Any]) -> None:
    entity = Entity.parse_obj(raw)
    body = catalog.entity_body(entity)
    assert json.dumps(body) == json.dumps(entity.dict(exclude_unset=True, by_alias=True))
