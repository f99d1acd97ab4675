"""Faults: rate limiting, injected 5xx, dropped connections, latency, mutation mid-scan."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from local_stack.jira_emulator import FaultConfig, RateLimit
from local_stack.jira_emulator.inprocess import emulator_client

from .helpers import bearer


async def test_rate_limit_headers_and_429(app, client: httpx.AsyncClient) -> None:
    app.state.set_faults(
        FaultConfig(rate_limit=RateLimit(capacity=3, fill_rate=0.001, interval_seconds=1))
    )
    remaining = []
    for _ in range(3):
        response = await client.get("/rest/api/2/project")
        assert response.status_code == 200
        assert response.headers["X-RateLimit-Limit"] == "3"
        assert response.headers["X-RateLimit-Interval-Seconds"] == "1"
        assert response.headers["X-RateLimit-FillRate"] == "0.001"
        assert response.headers["Retry-After"] == "0"
        remaining.append(int(response.headers["X-RateLimit-Remaining"]))
    assert remaining == [2, 1, 0]
    limited = await client.get("/rest/api/2/search")
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) >= 1
    assert limited.headers["X-RateLimit-Remaining"] == "0"
    info = await client.get("/rest/api/2/serverInfo")
    assert info.status_code == 200 and "X-RateLimit-Limit" not in info.headers
    stats = (await client.get("/_emulator/stats")).json()
    assert stats["rateLimited"] == 1 and stats["statuses"]["429"] == 1


async def test_rate_limit_refills(app, client: httpx.AsyncClient) -> None:
    app.state.set_faults({"rate_limit": {"capacity": 1, "fill_rate": 20, "interval_seconds": 1}})
    assert (await client.get("/rest/api/2/project")).status_code == 200
    assert (await client.get("/rest/api/2/project")).status_code == 429
    await asyncio.sleep(0.08)
    assert (await client.get("/rest/api/2/project")).status_code == 200


async def statuses(client: httpx.AsyncClient, n: int) -> list[int]:
    return [(await client.get("/rest/api/2/project")).status_code for _ in range(n)]


async def test_injected_errors_are_reproducible_by_seed(client: httpx.AsyncClient) -> None:
    knobs = {"error_rate": 0.3, "seed": 42}
    assert (await client.post("/_emulator/faults", json=knobs)).status_code == 200
    first = await statuses(client, 40)
    await client.post("/_emulator/faults", json=knobs)
    second = await statuses(client, 40)
    await client.post("/_emulator/faults", json={**knobs, "seed": 43})
    other = await statuses(client, 40)
    assert first == second != other
    assert (
        {s for s in first if s != 200} <= {500, 502, 503, 504}
        and 200 in first
        and len(set(first)) > 2
    )
    # Control routes are never faulty.
    assert (await client.get("/_emulator/health")).status_code == 200


async def test_error_next_and_proxy_bodies(client: httpx.AsyncClient) -> None:
    await client.post("/_emulator/faults", json={"error_next": 2, "error_statuses": [502]})
    first, second, third = await statuses(client, 3)
    assert (first, second, third) == (502, 502, 200)
    await client.post("/_emulator/faults", json={"error_next": 1, "error_statuses": [500]})
    response = await client.get("/rest/api/2/project")
    assert response.status_code == 500 and response.json()["errorMessages"] == [
        "Internal server error"
    ]
    assert (await client.get("/_emulator/faults")).json()["error_next"] == 0


async def test_dropped_connection_is_a_transport_error(app, client: httpx.AsyncClient) -> None:
    app.state.set_faults(FaultConfig(drop_next=1))
    with pytest.raises(httpx.RemoteProtocolError):
        await client.get("/rest/api/2/search")
    assert (await client.get("/rest/api/2/search")).status_code == 200
    assert app.state.stats.dropped == 1


async def test_latency_and_max_in_flight(app, client: httpx.AsyncClient) -> None:
    app.state.set_faults(FaultConfig(latency_ms=60))
    await client.post("/_emulator/stats/reset")
    started = time.perf_counter()
    responses = await asyncio.gather(
        *(
            client.get("/rest/api/2/search", params={"startAt": n * 10, "maxResults": 10})
            for n in range(8)
        )
    )
    elapsed = time.perf_counter() - started
    assert all(r.status_code == 200 for r in responses)
    assert 0.06 <= elapsed < 0.06 * 8, "the requests overlapped"
    stats = (await client.get("/_emulator/stats")).json()
    assert stats["maxInFlight"] == 8 and stats["inFlight"] == 0
    assert stats["routes"] == {"GET /rest/api/2/search": 8}
    assert stats["bytesSent"] == sum(len(r.content) for r in responses)
    logged = sorted((s["startAt"], s["maxResults"]) for s in stats["searches"])
    assert logged == [(n * 10, 10) for n in range(8)]
    assert all(s["jql"] == "" and s["status"] == 200 for s in stats["searches"])


async def _offset_scan(client: httpx.AsyncClient, jql: str, size: int) -> list[str]:
    keys: list[str] = []
    start = 0
    while True:
        page = (
            await client.post(
                "/rest/api/2/search",
                json={
                    "jql": f"{jql} ORDER BY id ASC",
                    "startAt": start,
                    "maxResults": size,
                    "fields": ["id"],
                },
            )
        ).json()
        keys += [i["key"] for i in page["issues"]]
        start += len(page["issues"])
        if not page["issues"] or start >= page["total"]:
            return keys


async def _keyset_scan(client: httpx.AsyncClient, jql: str, size: int) -> list[str]:
    keys: list[str] = []
    after = 0
    while True:
        page = (
            await client.post(
                "/rest/api/2/search",
                json={
                    "jql": f"({jql}) AND id > {after} ORDER BY id ASC",
                    "maxResults": size,
                    "fields": ["id"],
                },
            )
        ).json()
        if not page["issues"]:
            return keys
        keys += [i["key"] for i in page["issues"]]
        after = int(page["issues"][-1]["id"])


async def test_mutation_during_paging_makes_offset_paging_skip(
    app, client: httpx.AsyncClient
) -> None:
    # Sub-tasks are deleted with their parent: scan parents only so the effect is exact.
    jql = "project = PLAT AND issuetype in standardIssueTypes()"
    before = app.state.truth(jql)["keys"]
    assert len(before) > 80
    plan = {
        "mutate_during_paging": {
            "after_search_requests": 2,
            "ops": [{"op": "delete", "jql": jql, "count": 5}],
        }
    }
    await client.post("/_emulator/faults", json=plan)
    offset_keys = await _offset_scan(client, jql, 20)
    after = app.state.truth(jql)["keys"]
    assert after == before[5:]
    assert set(after) - set(offset_keys) == set(before[40:45]), "offset paging skipped live issues"

    await client.post(
        "/_emulator/faults",
        json={
            **plan,
            "mutate_during_paging": {
                **plan["mutate_during_paging"],
                "ops": [
                    {"op": "delete", "jql": "project = PLAT", "count": 5},
                    {"op": "create", "project": "PLAT", "count": 2},
                ],
            },
        },
    )
    keyset_keys = await _keyset_scan(client, "project = PLAT", 20)
    final = app.state.truth("project = PLAT")["keys"]
    assert set(final) <= set(keyset_keys), "keyset paging misses nothing that still exists"


async def test_rerank_mid_scan_disturbs_rank_order(app, client: httpx.AsyncClient) -> None:
    await client.post(
        "/_emulator/faults",
        json={
            "mutate_during_paging": {
                "after_search_requests": 1,
                "repeat_every": 1,
                "ops": [
                    {
                        "op": "rerank",
                        "jql": "project = WEB",
                        "count": 3,
                        "pick": "last",
                        "to": "top",
                    }
                ],
            }
        },
    )
    keys: list[str] = []
    start = 0
    while True:
        page = (
            await client.get(
                "/rest/api/2/search",
                params={
                    "jql": "project = WEB ORDER BY Rank ASC",
                    "startAt": start,
                    "maxResults": 25,
                    "fields": "id",
                },
            )
        ).json()
        keys += [i["key"] for i in page["issues"]]
        start += len(page["issues"])
        if start >= page["total"]:
            break
    assert len(keys) > len(set(keys)), "issues moved to the top show up twice"


async def _keys_by_status(client: httpx.AsyncClient) -> list[str]:
    page = await client.get(
        "/rest/api/2/search",
        params={"jql": "ORDER BY status", "maxResults": 300, "fields": "status"},
    )
    return [i["key"] for i in page.json()["issues"]]


async def test_shuffled_ties_reorder_between_requests(app, client: httpx.AsyncClient) -> None:
    app.state.set_faults(FaultConfig(shuffle_ties=True, seed=5))
    orders = [await _keys_by_status(client) for _ in range(2)]
    assert orders[0] != orders[1]
    app.state.set_faults(FaultConfig())
    stable = [await _keys_by_status(client) for _ in range(2)]
    assert stable[0] == stable[1]


async def test_faults_only_apply_to_configured_paths(app) -> None:
    app.state.set_faults(FaultConfig(error_rate=1.0, paths=["/rest/api/2/search"]))
    async with emulator_client(app, headers=bearer()) as http:
        assert (await http.get("/rest/api/2/project")).status_code == 200
        assert (await http.get("/rest/api/2/search")).status_code >= 500


async def test_failing_paging_mutation_is_reported_not_raised(client: httpx.AsyncClient) -> None:
    await client.post(
        "/_emulator/faults",
        json={"mutate_during_paging": {"ops": [{"op": "delete", "keys": ["NOPE-1"]}]}},
    )
    assert (await client.get("/rest/api/2/search")).status_code == 200
    stats = (await client.get("/_emulator/stats")).json()
    assert stats["mutationErrors"] == ["no issue 'NOPE-1'"]
