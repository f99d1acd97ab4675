"""The real framework against the catalog: ``ocean sail`` (ONCE) with a probe integration.

Run 1 creates the blueprints and mapping from ``.port/resources`` and syncs everything;
run 2 returns fewer items and reconciliation must delete the missing ones; run 3 has a
handler that raises: the resync is marked failed and nothing is deleted.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from local_stack.catalog.testing import (
    CatalogClient,
    run_ocean_sail,
    spawn_ocean_sail,
    start_catalog,
)
from local_stack.process import RunningServer
from tests.support.processes import stop_sail

from .probe_integration import (
    OWNER_BLUEPRINT,
    WIDGET_BLUEPRINT,
    owner,
    widget,
    write_items,
    write_probe_integration,
)

pytestmark = pytest.mark.e2e

IDENTIFIER = "catalog-probe"
INTEGRATION_TYPE = "catalog-probe-type"
SAIL_TIMEOUT = 120.0


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RunningServer]:
    with start_catalog(tmp_path, str(tmp_path / "catalog.db")) as running:
        yield running


def _expected_widget(item: dict[str, Any]) -> dict[str, Any]:
    props = ("size", "color", "tags", "launched", "homepage", "active")
    return {
        "identifier": item["id"],
        "title": item["name"],
        "properties": {name: item[name] for name in props},
        "relations": {"owner": item["owner"], "parts": item["parts"]},
    }


def _actual(client: CatalogClient, blueprint: str) -> dict[str, dict[str, Any]]:
    return {
        e["identifier"]: {k: e[k] for k in ("identifier", "title", "properties", "relations")}
        for e in client.entities(blueprint)
    }


def _sail(integration: Path, server: RunningServer, log: Path) -> None:
    result = run_ocean_sail(
        integration,
        server.url,
        identifier=IDENTIFIER,
        integration_type=INTEGRATION_TYPE,
        timeout=SAIL_TIMEOUT,
        log_path=log,
    )
    assert result.returncode == 0, f"ocean sail failed, see {log}:\n{result.stderr[-3000:]}"


def _assert_clean(client: CatalogClient, server: RunningServer) -> None:
    stats = client.stats()
    assert stats["unknownRoutes"] == [], server.log_text()[-3000:]
    assert stats["entityErrors"] == 0
    assert "UNKNOWN ROUTE" not in server.log_text()


def test_resync_creates_then_reconciles(tmp_path: Path, server: RunningServer) -> None:
    client = CatalogClient(server.url)
    owners = [owner(1), owner(2), owner(3)]
    # More than 10 widgets per page, so the framework compares with the catalog first and
    # skips unchanged ones; owner 3 is only referenced by widgets dropped in run 2.
    widgets = [widget(n, 3 if n > 20 else (n % 2) + 1) for n in range(1, 26)]
    integration = write_probe_integration(
        tmp_path / "integration", {"owner": owners, "widget": widgets}
    )

    _sail(integration, server, tmp_path / "sail-1.log")

    blueprints = client.blueprints()
    assert {OWNER_BLUEPRINT, WIDGET_BLUEPRINT} <= set(blueprints)
    assert set(blueprints[WIDGET_BLUEPRINT]["relations"]) == {"owner", "parts"}
    assert _actual(client, WIDGET_BLUEPRINT) == {w["id"]: _expected_widget(w) for w in widgets}
    assert _actual(client, OWNER_BLUEPRINT) == {
        o["id"]: {
            "identifier": o["id"],
            "title": o["name"],
            "properties": {"email": o["email"]},
            "relations": {},
        }
        for o in owners
    }
    [record] = client.integrations()
    assert record["installationId"] == IDENTIFIER
    assert record["installationAppType"] == INTEGRATION_TYPE
    mapping = yaml.safe_load(
        (integration / ".port" / "resources" / "port-app-config.yml").read_text()
    )
    assert [r["kind"] for r in record["config"]["resources"]] == ["owner", "widget"]
    assert record["config"]["deleteDependentEntities"] is mapping["deleteDependentEntities"]
    assert record["resyncState"]["status"] == "completed"
    assert record["arePortResourcesInitialized"] is True
    assert client.stats()["logsIngested"] > 0  # the framework ships its logs to us
    _assert_clean(client, server)

    # Run 2: five widgets and owner 3 are gone from the source.
    write_items(integration, {"owner": owners[:2], "widget": widgets[:20]})
    _sail(integration, server, tmp_path / "sail-2.log")

    assert client.identifiers(WIDGET_BLUEPRINT) == {f"W-{n}" for n in range(1, 21)}
    assert client.identifiers(OWNER_BLUEPRINT) == {"owner-1", "owner-2"}
    stats = client.stats()
    assert stats["entitiesDeleted"] == 6 and stats["deleteRequests"] >= 1
    # Unchanged widgets were not re-sent: the framework searched and skipped them.
    assert stats["searches"] >= 2
    assert client.integrations()[0]["resyncState"]["status"] == "completed"
    _assert_clean(client, server)

    # Run 3: the widget handler raises. ONCE still exits 0; nothing may be deleted.
    write_items(integration, {"owner": owners[:1], "widget": [], "raise": ["widget"]})
    _sail(integration, server, tmp_path / "sail-3.log")
    assert client.integrations()[0]["resyncState"]["status"] == "failed"
    assert client.identifiers(WIDGET_BLUEPRINT) == {f"W-{n}" for n in range(1, 21)}
    assert client.identifiers(OWNER_BLUEPRINT) == {"owner-1", "owner-2"}
    assert client.stats()["entitiesDeleted"] == 6
    errors = " ".join(json.dumps(r) for r in client.logs(level="ERROR"))
    assert "failed on purpose" in errors

    page = httpx.get(server.url + "/", timeout=10)
    assert page.status_code == 200 and "W-20" in page.text and "Probe widget" in page.text


def test_catalog_survives_restart_on_the_same_file(tmp_path: Path) -> None:
    db = str(tmp_path / "persist.db")
    with start_catalog(
        tmp_path / "a", db, ["--client-id", "cid", "--client-secret", "sec"]
    ) as first:
        token = httpx.post(
            f"{first.url}/v1/auth/access_token",
            json={"clientId": "cid", "clientSecret": "sec"},
            timeout=10,
        ).json()["accessToken"]
        headers = {"Authorization": f"Bearer {token}"}
        blueprint = {"identifier": "thing", "schema": {"properties": {}}}
        httpx.post(f"{first.url}/v1/blueprints", json=blueprint, headers=headers, timeout=10)
        httpx.post(
            f"{first.url}/v1/blueprints/thing/entities/bulk",
            params={"upsert": "true"},
            json={"entities": [{"identifier": "kept"}]},
            headers=headers,
            timeout=10,
        ).raise_for_status()
        wrong = httpx.post(
            f"{first.url}/v1/auth/access_token",
            json={"clientId": "cid", "clientSecret": "other"},
            timeout=10,
        )
        assert wrong.status_code == 401
    with start_catalog(tmp_path / "b", db) as second:
        assert CatalogClient(second.url).identifiers("thing") == {"kept"}


@pytest.mark.parametrize(
    ("catalog_args", "stale_deleted"),
    [([], False), (["--keep-updated-at-on-noop"], True)],
    ids=["updatedAt-always-moves", "updatedAt-kept-on-noop"],
)
def test_small_kind_reconciliation_depends_on_updated_at(
    tmp_path: Path, catalog_args: list[str], stale_deleted: bool
) -> None:
    """Pages of at most 10 entities are re-sent without comparing, and reconciliation only
    lists entities *updated before* the resync started. If every upsert moves updatedAt,
    that listing holds nothing but the stale entity: a 100% deletion rate, above the 0.9
    threshold, so the framework deletes nothing. This pins the behaviour either way."""
    with start_catalog(tmp_path, ":memory:", catalog_args) as server:
        owners = [owner(1)]
        widgets = [widget(n, 1) for n in range(1, 6)]
        integration = write_probe_integration(
            tmp_path / "integration", {"owner": owners, "widget": widgets}
        )
        _sail(integration, server, tmp_path / "sail-1.log")
        write_items(integration, {"owner": owners, "widget": widgets[:4]})
        _sail(integration, server, tmp_path / "sail-2.log")

        remaining = CatalogClient(server.url).identifiers(WIDGET_BLUEPRINT)
        assert ("W-5" not in remaining) is stale_deleted
        assert {"W-1", "W-2", "W-3", "W-4"} <= remaining
        log = (tmp_path / "sail-2.log").read_text()
        assert ("Skipping deletion of entities with deletion rate 1.0" in log) is not stale_deleted


def test_polling_listener_claims_and_fails_an_action_run(
    tmp_path: Path, server: RunningServer
) -> None:
    """POLLING with the actions processor: the framework polls claim-pending, acks the run
    and, having no executor for its type, logs to it and marks it FAILURE."""
    client = CatalogClient(server.url)
    integration = write_probe_integration(
        tmp_path / "integration", {"owner": [owner(1)], "widget": [widget(1, 1)]}, actions=True
    )
    process = spawn_ocean_sail(
        integration,
        server.url,
        identifier=IDENTIFIER,
        integration_type=INTEGRATION_TYPE,
        log_path=tmp_path / "sail-polling.log",
        extra_env={
            "OCEAN__EVENT_LISTENER": '{"type": "POLLING", "resync_on_start": true}',
            "OCEAN__ACTIONS_PROCESSOR__ENABLED": "true",
            "OCEAN__ACTIONS_PROCESSOR__POLL_CHECK_INTERVAL_SECONDS": "1",
        },
    )
    try:
        deadline = time.monotonic() + 60
        while not client.integrations() and time.monotonic() < deadline:
            assert process.poll() is None, (tmp_path / "sail-polling.log").read_text()[-3000:]
            time.sleep(0.2)
        run = client.enqueue_action_run("probe_action", "no_such_executor", {"n": 1})
        stored, status = run, run["status"]
        while status == "IN_PROGRESS" and time.monotonic() < deadline:
            time.sleep(0.2)
            [stored] = httpx.get(f"{server.url}/_catalog/action-runs", timeout=10).json()["runs"]
            status = stored["status"]
    finally:
        stop_sail(process)
    assert status == "FAILURE"
    assert stored["acknowledged"] is True
    assert "no_such_executor" in stored["logs"][0]["message"]
    assert client.identifiers(WIDGET_BLUEPRINT) == {"W-1"}
    _assert_clean(client, server)
