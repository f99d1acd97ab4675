"""Boot the integration in-process with port-ocean's own ``IntegrationTestHarness``.

The harness intercepts the framework's HTTP clients; our Jira client builds its own httpx
client, so its transport is swapped through ``client_provider.transport_factory``.
"""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import yaml
from port_ocean.integration_testing import IntegrationTestHarness, InterceptTransport

from jira_server.client import provider as client_provider

ROOT = Path(__file__).resolve().parents[2]
SECRET_TOKEN = "pat-Zq81-very-secret-token"


def default_mapping() -> dict[str, Any]:
    mapping: dict[str, Any] = yaml.safe_load(
        (ROOT / ".port/resources/port-app-config.yml").read_text()
    )
    return mapping


def default_blueprints() -> dict[str, dict[str, Any]]:
    blueprints = json.loads((ROOT / ".port/resources/blueprints.json").read_text())
    return {b["identifier"]: b for b in blueprints}


def resource(mapping: dict[str, Any], kind: str) -> dict[str, Any]:
    found: dict[str, Any] = next(r for r in mapping["resources"] if r["kind"] == kind)
    return found


def integration_config(**overrides: Any) -> dict[str, Any]:
    config = {"jira_server_host": "http://jira.example.test", "token": SECRET_TOKEN}
    config.update(overrides)
    return {
        "integration": {"identifier": "jira-test", "type": "jira-server-sync", "config": config},
        "processing_mode": "ocean-core",
    }


class BlueprintSearch:
    """Port's paginated blueprint search (``POST /v1/blueprints/{id}/entities/search``),
    which the harness's Port mock lacks (it would take it for an upsert): answers from the
    entities the catalog is said to hold, ``page`` at a time."""

    def __init__(self, entities: list[dict[str, Any]], page: int = 1000) -> None:
        self.entities = entities
        self.page = page
        self.requests: list[dict[str, Any]] = []

    def install(self, harness: IntegrationTestHarness) -> None:
        import re

        from port_ocean.integration_testing.transport import Route

        route = Route("POST", re.compile(r"/v1/blueprints/[^/]+/entities/search"), self._handle)
        harness.port_mock.transport._routes.insert(0, route)

    def _handle(self, request: httpx.Request) -> dict[str, Any]:
        blueprint = request.url.path.split("/")[3]
        body = json.loads(request.content or b"{}")
        self.requests.append({"blueprint": blueprint, **body})
        held = [e for e in self.entities if e.get("blueprint") == blueprint]
        rules = (body.get("query") or {}).get("rules") or []
        wanted = next(
            (
                r["value"]
                for r in rules
                if r.get("property") == "$identifier" and r.get("operator") == "in"
            ),
            None,
        )
        if wanted is not None:
            held = [e for e in held if e.get("identifier") in wanted]
        start = int(body.get("from") or 0)
        chosen = held[start : start + min(int(body.get("limit", 200)), self.page)]
        answer: dict[str, Any] = {"ok": True, "entities": chosen}
        if start + len(chosen) < len(held):
            answer["next"] = str(start + len(chosen))
        return {"json": answer}


@asynccontextmanager
async def booted(
    jira_transport: httpx.AsyncBaseTransport,
    *,
    mapping: dict[str, Any] | None = None,
    config: dict[str, Any] | None = None,
    port_entities: list[dict[str, Any]] | None = None,
) -> AsyncIterator[IntegrationTestHarness]:
    """``port_entities``: what the catalog holds before the resync (for reconciliation)."""
    previous = client_provider.transport_factory
    client_provider.transport_factory = lambda _settings: jira_transport
    harness = IntegrationTestHarness(
        integration_path=str(ROOT),
        port_mapping_config=copy.deepcopy(mapping or default_mapping()),
        third_party_transport=InterceptTransport(strict=True),
        # The real blueprints: reconciliation reads their relations to protect targets.
        port_blueprints=default_blueprints(),
        config_overrides=config or integration_config(),
        port_search_entities_response=port_entities,
    )
    try:
        await harness.start()
        BlueprintSearch(list(port_entities or [])).install(harness)
        yield harness
    finally:
        await harness.shutdown()
        client_provider.transport_factory = previous
        client_provider.reset()


class CursorStore:
    """The catalog's incremental-cursor API (``/v1/integration/{id}/cursor``), which the
    harness's Port mock lacks: an in-memory dict keyed by (kind, index)."""

    def __init__(self) -> None:
        self.values: dict[tuple[str, int], str] = {}
        self.corrupt = False

    def install(self, harness: IntegrationTestHarness) -> None:
        from port_ocean.integration_testing.transport import Route

        route = Route(None, "/cursor", self._handle)
        # Ahead of the mock's generic /v1/integration route, which would swallow it.
        harness.port_mock.transport._routes.insert(0, route)

    def _handle(self, request: httpx.Request) -> dict[str, Any]:
        key = (request.url.params["kind"], int(request.url.params["index"]))
        if request.method == "GET":
            if self.corrupt:
                return {"json": {"ok": True, "cursor": {"primary": "not-a-date"}}}
            value = self.values.get(key)
            return {"json": {"ok": True, "cursor": {"primary": value} if value else None}}
        import json

        self.values[key] = json.loads(request.content)["primary"]
        return {"json": {"ok": True}}
