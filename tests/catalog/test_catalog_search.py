"""Search operators, include projection, and the reconciliation listing (datasource, before)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from local_stack.catalog.query import QueryError, compile_query

from .helpers import OCEAN_UA, bulk, service

pytestmark = pytest.mark.usefixtures("blueprints")


async def _seed(api: httpx.AsyncClient) -> None:
    await bulk(api, "user", [{"identifier": "u1"}, {"identifier": "u2"}])
    response = await bulk(
        api,
        "service",
        [
            {
                **service("api", replicas=3, labels=["core", "http"], public=True),
                "title": "Public API",
                "relations": {"owner": "u1"},
            },
            {
                **service("db", tier="silver", replicas=1, labels=["storage"]),
                "relations": {"owner": "u2", "dependsOn": []},
            },
            {
                **service("web", replicas=5, public=False),
                "relations": {"owner": "u1", "dependsOn": ["api", "db"]},
            },
        ],
    )
    assert response.status_code == 200, response.text


async def _ids(
    api: httpx.AsyncClient, *rules: dict[str, Any], combinator: str = "and"
) -> list[str]:
    response = await api.post(
        "/v1/entities/search", json={"combinator": combinator, "rules": list(rules)}
    )
    assert response.status_code == 200, response.text
    return sorted(e["identifier"] for e in response.json()["entities"])


def rule(prop: str, operator: str, value: Any = None) -> dict[str, Any]:
    return {"property": prop, "operator": operator, "value": value}


SERVICES = rule("$blueprint", "=", "service")


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        ([rule("$identifier", "=", "db")], ["db"]),
        ([rule("$identifier", "!=", "db")], ["api", "web"]),
        ([rule("$identifier", "in", ["api", "web", "zzz"])], ["api", "web"]),
        ([rule("$identifier", "notIn", ["api"])], ["db", "web"]),
        ([rule("$title", "contains", "public")], ["api"]),  # case-insensitive
        ([rule("$title", "doesNotContains", "public")], ["db", "web"]),
        ([rule("$identifier", "beginsWith", "w")], ["web"]),
        ([rule("$identifier", "endsWith", "b")], ["db", "web"]),
        ([rule("tier", "=", "silver")], ["db"]),
        ([rule("public", "=", True)], ["api"]),
        ([rule("replicas", ">", 1)], ["api", "web"]),
        ([rule("replicas", "<=", 3)], ["api", "db"]),
        ([rule("labels", "contains", "storage")], ["db"]),
        ([rule("labels", "containsAny", ["http", "storage"])], ["api", "db"]),
        ([rule("labels", "isEmpty")], ["web"]),
        ([rule("labels", "isNotEmpty")], ["api", "db"]),
        ([rule("url", "=", None)], ["api", "db", "web"]),
        (
            [
                {
                    "combinator": "or",
                    "rules": [rule("tier", "=", "silver"), rule("public", "=", False)],
                }
            ],
            ["db", "web"],
        ),
        (
            [
                {
                    "operator": "relatedTo",
                    "blueprint": "service",
                    "value": "web",
                    "direction": "upstream",
                }
            ],
            ["api", "db"],
        ),
        (
            [
                {
                    "operator": "relatedTo",
                    "blueprint": "user",
                    "value": "u1",
                    "direction": "downstream",
                }
            ],
            ["api", "web"],
        ),
    ],
)
async def test_operators(
    api: httpx.AsyncClient, rules: list[dict[str, Any]], expected: list[str]
) -> None:
    await _seed(api)
    assert await _ids(api, SERVICES, *rules) == expected


async def test_framework_batch_lookup_with_include(api: httpx.AsyncClient) -> None:
    """The query ``_fetch_entities_batch_from_port`` sends before upserting a page."""
    await _seed(api)
    query = {
        "combinator": "and",
        "rules": [
            rule("$identifier", "in", ["api", "db", "missing"]),
            rule("$blueprint", "=", "service"),
            rule("$datasource", "contains", "port-ocean/probe-type/"),
            rule("$datasource", "contains", "/probe/exporter"),
        ],
    }
    response = await api.post(
        "/v1/entities/search",
        params=[
            ("exclude_calculated_properties", "true"),
            ("include", "blueprint"),
            ("include", "identifier"),
            ("include", "title"),
            ("include", "properties.replicas"),
            ("include", "properties.url"),
            ("include", "relations.owner"),
        ],
        json=query,
    )
    body = response.json()
    assert body["ok"] is True and body["matchingBlueprints"] == ["service"]
    by_id = {e["identifier"]: e for e in body["entities"]}
    assert set(by_id) == {"api", "db"}
    assert by_id["api"] == {
        "blueprint": "service",
        "identifier": "api",
        "title": "Public API",
        "properties": {"replicas": 3, "url": None},
        "relations": {"owner": "u1"},
    }


async def test_search_by_other_datasource_finds_nothing(api: httpx.AsyncClient) -> None:
    await _seed(api)
    assert await _ids(api, SERVICES, rule("$datasource", "contains", "port-ocean/other/")) == []


async def test_updated_at_comparisons(api: httpx.AsyncClient) -> None:
    await bulk(api, "service", [service("old")])
    await asyncio.sleep(0.01)
    cut = datetime.now(UTC).isoformat()
    await asyncio.sleep(0.01)
    await bulk(api, "service", [service("new")])
    assert await _ids(api, SERVICES, rule("$updatedAt", "<", cut)) == ["old"]
    assert await _ids(api, SERVICES, rule("$updatedAt", ">=", cut)) == ["new"]
    between = {"from": "2000-01-01T00:00:00Z", "to": cut}
    assert await _ids(api, SERVICES, rule("$createdAt", "between", between)) == ["old"]


async def test_unsupported_query_is_a_loud_422(api: httpx.AsyncClient) -> None:
    response = await api.post(
        "/v1/entities/search",
        json={"combinator": "and", "rules": [rule("$identifier", "fuzzy", "x")]},
    )
    assert response.status_code == 422
    assert "unsupported operator 'fuzzy'" in response.json()["message"]
    with pytest.raises(QueryError):
        compile_query({"combinator": "xor", "rules": []})
    with pytest.raises(QueryError):
        compile_query({"combinator": "and", "rules": [rule("bad name'", "=", 1)]})


async def _listing(api: httpx.AsyncClient, **extra: Any) -> dict[str, Any]:
    body = {
        "datasource_prefix": "port-ocean/probe-type/",
        "datasource_suffix": "/probe/exporter",
        "limit": 2,
        **extra,
    }
    response = await api.post("/v1/blueprints/entities/datasource-entities", json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def test_datasource_listing_pages_and_filters(api: httpx.AsyncClient) -> None:
    await bulk(api, "service", [service(f"s{i}") for i in range(5)])
    # Written by someone else (no Ocean User-Agent): never part of this integration's list.
    other = {"User-Agent": "curl/8"}
    await api.post(
        "/v1/blueprints/user/entities/bulk",
        params={"upsert": "true"},
        json={"entities": [{"identifier": "by-hand"}]},
        headers=other,
    )
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        page = await _listing(api, **({"from": cursor} if cursor else {}))
        assert len(page["entities"]) <= 2
        seen += [e["identifier"] for e in page["entities"]]
        cursor = page["next"]
        if cursor is None:
            break
    assert sorted(seen) == ["s0", "s1", "s2", "s3", "s4"]

    cut = datetime.now(UTC).isoformat()
    await asyncio.sleep(0.01)
    await bulk(api, "service", [service("s0"), service("s1")])  # re-written after the cut
    stale = await _listing(api, before=cut, limit=100)
    assert sorted(e["identifier"] for e in stale["entities"]) == ["s2", "s3", "s4"]
    assert stale["next"] is None


async def test_entity_datasource_is_the_user_agent(
    api: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    await bulk(api, "service", [service("s")])
    [entity] = (await anon.get("/_catalog/entities", params={"blueprint": "service"})).json()[
        "entities"
    ]
    assert entity["datasource"] == OCEAN_UA
