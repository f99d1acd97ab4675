"""Helpers of the end-to-end reliability tests: catalog snapshots, the entity-by-entity
comparison with the oracle, mapping changes through Port's API, and ONCE runs."""

from __future__ import annotations

import copy
import subprocess
from collections.abc import Callable
from typing import Any

import httpx

from local_stack.catalog.testing import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
from local_stack.stack import BLUEPRINTS, LocalStack
from tests.e2e.oracle import Expected, expected_catalog, relation_targets

IDENTIFIER = "jira-server-sync-local"  # LocalStack.integration_env's default
DEFAULT_JQL = "(statusCategory != Done) OR (created >= -1w) OR (updated >= -1w)"
Snapshot = dict[str, dict[str, dict[str, Any]]]  # blueprint -> identifier -> entity
LIST_RELATIONS = ("subtasks", "fixVersions", "sprints")


def config_env(**settings: Any) -> dict[str, str]:
    """``pageSize=50`` -> ``OCEAN__INTEGRATION__CONFIG__PAGE_SIZE=50``."""
    env = {}
    for name, value in settings.items():
        snake = "".join(f"_{c}" if c.isupper() else c for c in name).upper()
        env[f"OCEAN__INTEGRATION__CONFIG__{snake}"] = (
            str(value).lower() if isinstance(value, bool) else str(value)
        )
    return env


def run(
    stack: LocalStack, log_name: str, *, env: dict[str, str] | None = None, **settings: Any
) -> subprocess.CompletedProcess[str]:
    """One ``ocean sail`` ONCE run with integration settings given in camelCase."""
    return stack.run_once(
        extra_env={**config_env(**settings), **(env or {})}, timeout=120, log_name=log_name
    )


def output(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout + result.stderr


def tail(result: subprocess.CompletedProcess[str], size: int = 4000) -> str:
    return output(result)[-size:]


def snapshot(stack: LocalStack) -> Snapshot:
    """Every entity of every blueprint of the integration, as stored (updatedAt included)."""
    return {
        blueprint: {e["identifier"]: e for e in stack.catalog_client.entities(blueprint)}
        for blueprint in BLUEPRINTS.values()
    }


def synced(snap: Snapshot, blueprint: str) -> dict[str, dict[str, Any]]:
    """Mapped entities, without the bare placeholders the catalog creates for relation
    targets outside the selectors (createMissingRelatedEntities): those have no title."""
    return {k: e for k, e in snap[blueprint].items() if e.get("title") is not None}


def differences(expected: Expected, snap: Snapshot) -> list[str]:
    """Every way the catalog differs from ``expected``, entity by entity."""
    problems: list[str] = []
    targets = relation_targets(expected)
    for blueprint, want_all in expected.items():
        got_all = synced(snap, blueprint)
        missing = sorted(set(want_all) - set(got_all))
        extra = sorted(set(got_all) - set(want_all))
        if missing:
            problems.append(f"{blueprint}: missing {len(missing)}: {missing[:10]}")
        if extra:
            problems.append(f"{blueprint}: not in Jira {len(extra)}: {extra[:10]}")
        stray = sorted(set(snap[blueprint]) - set(got_all) - targets)
        if stray:
            problems.append(f"{blueprint}: placeholders nothing points at: {stray[:10]}")
        for identifier in sorted(set(want_all) & set(got_all)):
            problems += entity_differences(
                f"{blueprint}/{identifier}", want_all[identifier], got_all[identifier]
            )
    return problems


def entity_differences(where: str, want: dict[str, Any], got: dict[str, Any]) -> list[str]:
    """``want``: title, properties and relations expected (unlisted properties are free)."""
    problems = []
    if got["title"] != want["title"]:
        problems.append(f"{where}: title {got['title']!r} != {want['title']!r}")
    for name, value in want["properties"].items():
        if got["properties"].get(name) != value:
            problems.append(f"{where}: {name} {got['properties'].get(name)!r} != {value!r}")
    for name, value in want["relations"].items():
        actual = got["relations"].get(name)
        if name in LIST_RELATIONS:
            actual, value = sorted(actual or []), sorted(value or [])
        if actual != value:
            problems.append(f"{where}: relation {name} {actual!r} != {value!r}")
    return problems


def assert_catalog_equals_jira(stack: LocalStack, jql: str = DEFAULT_JQL) -> Snapshot:
    """The catalog equals Jira now, every entity of every blueprint (see the oracle)."""
    snap = snapshot(stack)
    problems = differences(expected_catalog(stack, jql), snap)
    assert not problems, "\n".join(problems[:40])
    return snap


def assert_unchanged(before: Snapshot, after: Snapshot) -> None:
    """Same entities with the same contents and the same updatedAt: nothing was written."""
    for blueprint in before:
        assert set(after[blueprint]) == set(before[blueprint]), blueprint
        changed = [k for k, e in before[blueprint].items() if after[blueprint][k] != e]
        assert not changed, f"{blueprint}: changed {changed[:10]}"


def writes(stack: LocalStack) -> dict[str, int]:
    """The catalog's counters of entity writes (upserts and deletes)."""
    stats = stack.catalog_client.stats()
    names = ("bulkUpserts", "singleUpserts", "deleteRequests", "entitiesDeleted")
    return {name: stats[name] for name in names}


# ---- the mapping, changed through Port's API as a user would ----------------------------------


def _port(stack: LocalStack) -> httpx.Client:
    base = stack.catalog.url
    token = httpx.post(
        f"{base}/v1/auth/access_token",
        json={"clientId": DEFAULT_CLIENT_ID, "clientSecret": DEFAULT_CLIENT_SECRET},
        timeout=10,
    ).json()["accessToken"]
    return httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=10)


def mapping(stack: LocalStack) -> dict[str, Any]:
    with _port(stack) as port:
        response = port.get(f"/v1/integration/{IDENTIFIER}")
        response.raise_for_status()
        config: dict[str, Any] = response.json()["integration"]["config"]
        return config


def change_mapping(stack: LocalStack, change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    """Apply ``change`` to the stored mapping; returns the previous one (to restore)."""
    previous = mapping(stack)
    updated = copy.deepcopy(previous)
    change(updated)
    set_mapping(stack, updated)
    return previous


def set_mapping(stack: LocalStack, config: dict[str, Any]) -> None:
    with _port(stack) as port:
        port.patch(f"/v1/integration/{IDENTIFIER}", json={"config": config}).raise_for_status()


def issue_resource(config: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = next(r for r in config["resources"] if r["kind"] == "issue")
    return found


def cursors(stack: LocalStack, index: int = 6) -> dict[str, Any]:
    """The sync state a delta-capable issue resource recorded (see jira_server/sync/state)."""
    found: dict[str, Any] = {}
    with _port(stack) as port:
        for kind in ("issue", "issue.runs-since-full", "issue.config"):
            response = port.get(
                f"/v1/integration/{IDENTIFIER}/cursor", params={"kind": kind, "index": index}
            )
            response.raise_for_status()
            found[kind] = (response.json().get("cursor") or {}).get("primary")
    return found


def add_blueprint_properties(stack: LocalStack, blueprint: str, **properties: Any) -> None:
    """Add properties to a blueprint's schema, as a user would in Port."""
    with _port(stack) as port:
        current = port.get(f"/v1/blueprints/{blueprint}").json()["blueprint"]
        schema = current["schema"]
        schema["properties"].update(properties)
        port.patch(f"/v1/blueprints/{blueprint}", json={"schema": schema}).raise_for_status()


def catalog_fault(stack: LocalStack, **fault: Any) -> None:
    httpx.post(f"{stack.catalog.url}/_catalog/fail", json=fault, timeout=10).raise_for_status()


def clear_catalog_faults(stack: LocalStack) -> None:
    httpx.delete(f"{stack.catalog.url}/_catalog/fail", timeout=10).raise_for_status()
