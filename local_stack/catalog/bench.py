"""Throughput of the catalog: upsert N issue-like entities through the bulk endpoint.

``python -m local_stack.catalog.bench [--entities 100000] [--concurrency 8] [--db PATH]``
starts the catalog as a subprocess (SQLite file in a temp dir unless ``--db``), upserts
users and projects, then N issues in 20-entity batches with relations to them, and prints
the seconds taken, the DB size, and the time of the reconciliation listing and a search.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from local_stack.catalog.testing import start_catalog

BATCH = 20
USER_AGENT = "port-ocean/bench/0.0.0/bench/exporter"
BLUEPRINTS: list[dict[str, Any]] = [
    {
        "identifier": "benchUser",
        "title": "User",
        "schema": {"properties": {"email": {"type": "string", "format": "email"}}},
        "relations": {},
    },
    {
        "identifier": "benchProject",
        "title": "Project",
        "schema": {"properties": {"url": {"type": "string", "format": "url"}}},
        "relations": {"lead": {"target": "benchUser", "many": False, "required": False}},
    },
    {
        "identifier": "benchIssue",
        "title": "Issue",
        "schema": {
            "properties": {
                "url": {"type": "string", "format": "url"},
                "status": {"type": "string"},
                "priority": {"type": "string", "enum": ["Low", "Medium", "High"]},
                "labels": {"type": "array", "items": {"type": "string"}},
                "created": {"type": "string", "format": "date-time"},
                "storyPoints": {"type": "number"},
                "flagged": {"type": "boolean"},
            }
        },
        "relations": {
            "project": {"target": "benchProject", "many": False, "required": False},
            "assignee": {"target": "benchUser", "many": False, "required": False},
            "reporter": {"target": "benchUser", "many": False, "required": False},
            "parentIssue": {"target": "benchIssue", "many": False, "required": False},
            "subtasks": {"target": "benchIssue", "many": True, "required": False},
        },
    },
]


def issue(number: int, users: int, projects: int) -> dict[str, Any]:
    project = f"P{number % projects}"
    key = f"{project}-{number}"
    return {
        "identifier": key,
        "title": f"Issue {number}: something needs doing",
        "properties": {
            "url": f"https://jira.example.com/browse/{key}",
            "status": ("Open", "In Progress", "Done")[number % 3],
            "priority": ("Low", "Medium", "High")[number % 3],
            "labels": [f"label{number % 7}", "bench"],
            "created": f"2024-{(number % 12) + 1:02d}-01T09:00:00+00:00",
            "storyPoints": number % 13,
            "flagged": number % 5 == 0,
        },
        "relations": {
            "project": project,
            "assignee": f"user{number % users}",
            "reporter": f"user{(number * 7) % users}",
            "parentIssue": None,
            "subtasks": [],
        },
    }


async def _upsert_all(
    client: httpx.AsyncClient, blueprint: str, entities: list[dict[str, Any]], concurrency: int
) -> None:
    queue = [entities[i : i + BATCH] for i in range(0, len(entities), BATCH)]
    params = {"upsert": "true", "merge": "true", "create_missing_related_entities": "true"}

    async def worker() -> None:
        while queue:
            batch = queue.pop()
            response = await client.post(
                f"/v1/blueprints/{blueprint}/entities/bulk",
                params=params,
                json={"entities": batch},
            )
            if response.status_code != 200:
                raise RuntimeError(f"bulk upsert failed: {response.status_code} {response.text}")

    await asyncio.gather(*(worker() for _ in range(concurrency)))


async def run(
    url: str, entities: int, concurrency: int, users: int, projects: int
) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        token = (
            await client.post(
                "/v1/auth/access_token", json={"clientId": "bench", "clientSecret": "bench"}
            )
        ).json()["accessToken"]
        client.headers.update({"Authorization": f"Bearer {token}", "User-Agent": USER_AGENT})
        for blueprint in BLUEPRINTS:
            (await client.post("/v1/blueprints", json=blueprint)).raise_for_status()
        await _upsert_all(
            client,
            "benchUser",
            [
                {
                    "identifier": f"user{i}",
                    "title": f"User {i}",
                    "properties": {"email": f"u{i}@ex.com"},
                }
                for i in range(users)
            ],
            concurrency,
        )
        await _upsert_all(
            client,
            "benchProject",
            [
                {"identifier": f"P{i}", "title": f"Project {i}", "relations": {"lead": "user0"}}
                for i in range(projects)
            ],
            concurrency,
        )
        issues = [issue(n, users, projects) for n in range(entities)]
        started = time.perf_counter()
        await _upsert_all(client, "benchIssue", issues, concurrency)
        upsert_seconds = time.perf_counter() - started

        started = time.perf_counter()
        listed, cursor = 0, None
        while True:
            body: dict[str, Any] = {
                "datasource_prefix": "port-ocean/bench/",
                "datasource_suffix": "/bench/exporter",
                "limit": 5000,
            }
            if cursor:
                body["from"] = cursor
            page = (
                await client.post("/v1/blueprints/entities/datasource-entities", json=body)
            ).json()
            listed += len(page["entities"])
            cursor = page.get("next")
            if not cursor:
                break
        listing_seconds = time.perf_counter() - started

        started = time.perf_counter()
        ids = [issue(n, users, projects)["identifier"] for n in range(0, 50 * 97, 97)]
        query = {
            "combinator": "and",
            "rules": [
                {"property": "$identifier", "operator": "in", "value": ids},
                {"property": "$blueprint", "operator": "=", "value": "benchIssue"},
                {"property": "$datasource", "operator": "contains", "value": "port-ocean/bench/"},
            ],
        }
        found = (await client.post("/v1/entities/search", json=query)).json()["entities"]
        search_ms = (time.perf_counter() - started) * 1000
    return {
        "issues": entities,
        "batches": -(-entities // BATCH),
        "concurrency": concurrency,
        "upsertSeconds": round(upsert_seconds, 2),
        "entitiesPerSecond": round(entities / upsert_seconds),
        "reconciliationListing": {"entities": listed, "seconds": round(listing_seconds, 2)},
        "search50ByIdentifierMs": round(search_ms, 1),
        "searchFound": len(found),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entities", type=int, default=100_000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--projects", type=int, default=100)
    parser.add_argument("--db", help="SQLite file (default: a new file in a temp dir)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="catalog-bench-"))
    db = Path(args.db) if args.db else work / "catalog.db"
    with start_catalog(work, str(db)) as server:
        result = asyncio.run(
            run(server.url, args.entities, args.concurrency, args.users, args.projects)
        )
    # After shutdown: the WAL has been checkpointed into the database file.
    result["dbBytes"] = sum(p.stat().st_size for p in db.parent.glob(db.name + "*"))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
