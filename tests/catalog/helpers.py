"""Blueprints and request helpers shared by the catalog tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from starlette.applications import Starlette

OCEAN_UA = "port-ocean/probe-type/0.1.0/probe/exporter"

USER_BP: dict[str, Any] = {
    "identifier": "user",
    "title": "User",
    "schema": {
        "properties": {"email": {"type": "string", "format": "email"}},
        "required": [],
    },
    "relations": {},
}
SERVICE_BP: dict[str, Any] = {
    "identifier": "service",
    "title": "Service",
    "schema": {
        "properties": {
            "url": {"type": "string", "format": "url"},
            "deployed": {"type": "string", "format": "date-time"},
            "tier": {"type": "string", "enum": ["gold", "silver"]},
            "replicas": {"type": "number"},
            "public": {"type": "boolean"},
            "labels": {"type": "array", "items": {"type": "string"}},
            "meta": {"type": "object"},
            "code": {"type": "string", "pattern": "^[A-Z]+$"},
        },
        "required": ["tier"],
    },
    "relations": {
        "owner": {"title": "Owner", "target": "user", "required": False, "many": False},
        "maintainers": {"target": "user", "required": False, "many": True},
        "dependsOn": {"target": "service", "required": False, "many": True},
    },
}
DEPLOYMENT_BP: dict[str, Any] = {
    "identifier": "deployment",
    "title": "Deployment",
    "schema": {"properties": {}},
    "relations": {"service": {"target": "service", "required": True, "many": False}},
}


UPSERT = {"upsert": "true", "merge": "false", "create_missing_related_entities": "false"}


async def bulk(
    api: httpx.AsyncClient, blueprint: str, entities: list[dict[str, Any]], **params: str
) -> httpx.Response:
    return await api.post(
        f"/v1/blueprints/{blueprint}/entities/bulk",
        params={**UPSERT, **params},
        json={"entities": entities},
    )


def service(identifier: str, **properties: Any) -> dict[str, Any]:
    return {
        "identifier": identifier,
        "title": f"Service {identifier}",
        "properties": {"tier": "gold", **properties},
        "relations": {},
    }


@asynccontextmanager
async def signed_in(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process client of ``app`` (one built with non-default options) with a token."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://c.test") as client:
        token = (
            await client.post("/v1/auth/access_token", json={"clientId": "a", "clientSecret": "b"})
        ).json()["accessToken"]
        client.headers["Authorization"] = f"Bearer {token}"
        yield client
