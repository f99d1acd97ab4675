"""Auth, integration record, unknown routes, stats, fault knobs, action runs."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import jwt
import pytest
from starlette.applications import Starlette

from local_stack.catalog import create_app
from local_stack.catalog.catalog import Catalog

from .helpers import bulk, service


async def test_token_and_auth(anon: httpx.AsyncClient) -> None:
    response = await anon.post(
        "/v1/auth/access_token", json={"clientId": "id", "clientSecret": "secret"}
    )
    body = response.json()
    assert response.status_code == 200
    assert body["ok"] is True and body["tokenType"] == "Bearer" and body["expiresIn"] > 0
    # The framework decodes the token (unverified) to see whether it is a machine user.
    assert jwt.decode(body["accessToken"], options={"verify_signature": False})["isMachine"]

    empty = await anon.post("/v1/auth/access_token", json={"clientId": "", "clientSecret": "x"})
    assert empty.status_code == 401
    assert empty.json()["ok"] is False

    no_token = await anon.get("/v1/organization")
    assert no_token.status_code == 401
    forged = await anon.get("/v1/organization", headers={"Authorization": "Bearer abc.def.ghi"})
    assert forged.status_code == 401
    good = await anon.get(
        "/v1/organization", headers={"Authorization": f"Bearer {body['accessToken']}"}
    )
    assert good.json()["organization"]["featureFlags"] == []


async def test_configured_credentials_and_feature_flags() -> None:
    app = create_app(client_id="cid", client_secret="s3cret", feature_flags=["LAKEHOUSE_ELIGIBLE"])
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://c.test"
    ) as client:
        wrong = await client.post(
            "/v1/auth/access_token", json={"clientId": "cid", "clientSecret": "nope"}
        )
        assert wrong.status_code == 401
        assert wrong.json() == {
            "ok": False,
            "error": "invalid_credentials",
            "message": "Invalid clientId or clientSecret",
        }
        right = await client.post(
            "/v1/auth/access_token", json={"clientId": "cid", "clientSecret": "s3cret"}
        )
        token = right.json()["accessToken"]
        org = await client.get("/v1/organization", headers={"Authorization": f"Bearer {token}"})
        assert org.json()["organization"]["featureFlags"] == ["LAKEHOUSE_ELIGIBLE"]


async def test_integration_lifecycle(api: httpx.AsyncClient) -> None:
    missing = await api.get("/v1/integration/probe")
    assert missing.status_code == 404
    assert "integration" not in missing.json()  # the framework then creates it

    mapping = {"resources": [{"kind": "widget"}], "deleteDependentEntities": True}
    created = await api.post(
        "/v1/integration",
        json={
            "installationId": "probe",
            "installationAppType": "probe-type",
            "version": "0.1.0",
            "config": mapping,
            "changelogDestination": {},
        },
    )
    integration = created.json()["integration"]
    assert integration["config"] == mapping
    assert integration["logAttributes"]["ingestUrl"] == "http://catalog.test/ingest/logs/probe"
    duplicate = await api.post("/v1/integration", json={"installationId": "probe"})
    assert duplicate.status_code == 409

    patched = await api.patch(
        "/v1/integration/probe", json={"arePortResourcesInitialized": True, "version": "0.2.0"}
    )
    assert patched.json()["integration"]["arePortResourcesInitialized"] is True
    config = await api.patch("/v1/integration/probe/config", json={"config": {"resources": []}})
    assert config.json()["integration"]["config"] == {"resources": []}

    state = await api.patch(
        "/v1/integration/probe/resync-state", json={"status": "running", "lastResyncEnd": None}
    )
    resync_state = state.json()["integration"]["resyncState"]
    assert resync_state["status"] == "running" and resync_state["updatedAt"]

    logs = await api.post(
        "/ingest/logs/probe",
        json={"logs": [{"message": "hello", "level": "ERROR"}, {"message": "x", "level": "INFO"}]},
    )
    assert logs.json() == {"ok": True}
    metrics = await api.put("/ingest/metrics/probe/syncMetrics/resync/e1/kind/widget-0", json={})
    assert metrics.status_code == 200


async def test_cursor_put_404_then_post(api: httpx.AsyncClient) -> None:
    await api.post("/v1/integration", json={"installationId": "probe"})
    params = {"kind": "issue", "index": "0"}
    assert (await api.get("/v1/integration/probe/cursor", params=params)).json()["cursor"] is None
    put = await api.put("/v1/integration/probe/cursor", params=params, json={"primary": "t1"})
    assert put.status_code == 404
    await api.post("/v1/integration/probe/cursor", params=params, json={"primary": "t1"})
    got = await api.get("/v1/integration/probe/cursor", params=params)
    assert got.json()["cursor"]["primary"] == "t1"


async def test_unknown_route_is_logged_and_counted(
    api: httpx.AsyncClient, anon: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="local_stack.catalog"):
        response = await api.post("/v1/kafka-credentials/rotate", json={"secret": "value-42"})
        wrong_method = await api.put("/v1/blueprints", json={})
    assert response.status_code == 404
    assert response.json()["ok"] is False and response.json()["error"] == "not_found"
    assert wrong_method.status_code == 404
    messages = " ".join(r.getMessage() for r in caplog.records)
    assert "UNKNOWN ROUTE POST /v1/kafka-credentials/rotate" in messages
    assert "value-42" in messages  # body excerpt
    assert "UNKNOWN ROUTE PUT /v1/blueprints" in messages
    stats = (await anon.get("/_catalog/stats")).json()
    assert {"route": "POST /v1/kafka-credentials/rotate", "count": 1} in stats["unknownRoutes"]


@pytest.mark.usefixtures("blueprints")
async def test_stats_count_requests_and_entities(
    api: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    await bulk(api, "service", [service("a"), service("b"), {"identifier": "c"}])
    await api.post("/v1/entities/search", json={"combinator": "and", "rules": []})
    await api.delete("/v1/blueprints/service/entities/a", params={"delete_dependents": "true"})
    stats = (await anon.get("/_catalog/stats")).json()
    assert stats["requests"]["POST /v1/blueprints/{blueprint}/entities/bulk"] == 1
    assert stats["bulkUpserts"] == 1
    assert stats["entitiesUpserted"] == 2 and stats["entityErrors"] == 1
    assert stats["searches"] == 1 and stats["entitiesDeleted"] == 1
    assert stats["entityCounts"] == {"service": 1}
    assert stats["unknownRoutes"] == []


@pytest.mark.usefixtures("blueprints")
async def test_fault_injection(api: httpx.AsyncClient, anon: httpx.AsyncClient) -> None:
    armed = await anon.post(
        "/_catalog/fail", json={"operation": "upsert", "count": 2, "status": 503, "retryAfter": 1}
    )
    assert armed.json()["pending"] == [{"operation": "upsert", "remaining": 2, "status": 503}]
    for _ in range(2):
        failed = await bulk(api, "service", [service("a")])
        assert failed.status_code == 503 and failed.headers["retry-after"] == "1"
    assert (await bulk(api, "service", [service("a")])).status_code == 200

    await anon.post("/_catalog/fail", json={"operation": "search", "count": 1, "status": 500})
    searched = await api.post("/v1/entities/search", json={"combinator": "and", "rules": []})
    assert searched.status_code == 500
    assert (await anon.get("/_catalog/stats")).json()["faultsInjected"] == 3
    bad = await anon.post("/_catalog/fail", json={"operation": "everything"})
    assert bad.status_code == 422


async def test_reset(api: httpx.AsyncClient, anon: httpx.AsyncClient, catalog: Catalog) -> None:
    await api.post("/v1/integration", json={"installationId": "probe"})
    await anon.post("/_catalog/reset")
    assert catalog.store.list_docs("integration") == []
    assert (await anon.get("/_catalog/stats")).json()["requests"] == {}


async def test_action_runs_claim_ack_patch(api: httpx.AsyncClient, anon: httpx.AsyncClient) -> None:
    await api.post("/v1/integration", json={"installationId": "probe"})
    queued = await anon.post(
        "/_catalog/action-runs",
        json={"action": "create_issue", "integrationActionType": "jira", "properties": {"a": 1}},
    )
    run_id = queued.json()["run"]["id"]

    async def claim() -> list[dict[str, Any]]:
        response = await api.post(
            "/v1/actions/runs/claim-pending",
            json={"installationId": "probe", "limit": 10, "visibilityTimeoutMs": 60000},
        )
        runs: list[dict[str, Any]] = response.json()["runs"]
        return runs

    [run] = await claim()
    assert run["id"] == run_id and run["status"] == "IN_PROGRESS"
    assert run["payload"]["integrationActionExecutionProperties"] == {"a": 1}
    assert await claim() == []  # invisible while claimed
    assert (await api.patch("/v1/actions/runs/ack", json={"runId": run_id})).status_code == 200
    again = await api.patch("/v1/actions/runs/ack", json={"runId": run_id})
    assert again.status_code == 409
    await api.patch(f"/v1/actions/runs/{run_id}", json={"externalRunId": "ext-1", "link": "x"})
    found = await api.get("/v1/actions/runs", params={"version": "v2", "external_run_id": "ext-1"})
    assert [r["id"] for r in found.json()["runs"]] == [run_id]
    await api.post(f"/v1/actions/runs/{run_id}/logs", json={"message": "done"})
    await api.patch(f"/v1/actions/runs/{run_id}", json={"status": "SUCCESS"})
    [stored] = (await anon.get("/_catalog/action-runs")).json()["runs"]
    assert stored["status"] == "SUCCESS" and stored["logs"][0]["message"] == "done"
    nodes = await api.post("/v1/workflows/runs/claim-pending", json={"installationId": "probe"})
    assert nodes.json() == {"ok": True, "nodeRuns": []}


def test_state_is_per_app() -> None:
    first: Starlette = create_app()
    second: Starlette = create_app()
    assert first.state.catalog is not second.state.catalog
