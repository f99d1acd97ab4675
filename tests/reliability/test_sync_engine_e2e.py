"""The sync engine's guarantees end to end: a real ``ocean sail`` ONCE process, the Jira
emulator and the local catalog. Each test leaves the catalog equal to Jira (or restores it),
so they run in any order on one stack."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from jira_server import blueprints
from local_stack.stack import LOCAL_JIRA_TOKEN, LocalStack, jira_args, local_stack
from tests.e2e.oracle import expected_catalog
from tests.reliability.support import (
    DEFAULT_JQL,
    Snapshot,
    add_blueprint_properties,
    assert_catalog_equals_jira,
    catalog_fault,
    change_mapping,
    clear_catalog_faults,
    cursors,
    differences,
    issue_resource,
    output,
    run,
    set_mapping,
    snapshot,
    synced,
    tail,
    writes,
)

pytestmark = pytest.mark.e2e

SETTINGS: dict[str, Any] = {"pageSize": 60, "maxConcurrentRequests": 4}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    work = tmp_path_factory.mktemp("engine")
    with local_stack(work, jira=jira_args(projects=4, users=40, issues=700, seed=41)) as running:
        yield running


def good_run(stack: LocalStack, name: str, **settings: Any) -> Snapshot:
    result = run(stack, name, **{**SETTINGS, **settings})
    assert result.returncode == 0, tail(result)
    return assert_catalog_equals_jira(stack)


def in_sync(stack: LocalStack, name: str) -> Snapshot:
    snap = snapshot(stack)
    if differences(expected_catalog(stack, DEFAULT_JQL), snap):
        return good_run(stack, name)
    return snap


def jira(stack: LocalStack, path: str, **params: Any) -> Any:
    response = httpx.get(
        f"{stack.jira.url}{path}",
        params=params,
        headers={"Authorization": f"Bearer {LOCAL_JIRA_TOKEN}"},
        timeout=30,
    )
    response.raise_for_status()
    return response.json()


# ---- any failure in any phase fails the run, keeps the state and deletes nothing ---------


def test_a_delta_run_with_a_revoked_token_fails_and_keeps_everything(stack: LocalStack) -> None:
    in_sync(stack, "before-revoked.log")
    good_run(stack, "delta-before-revoked.log")  # state recorded: the next run is a delta
    state = cursors(stack)
    assert state["issue"] and state["issue.runs-since-full"]
    deleted = stack.jira_control.mutate({"op": "delete", "jql": DEFAULT_JQL, "count": 3})
    before, counters = snapshot(stack), writes(stack)
    stack.jira_control.reset_stats()

    result = run(stack, "revoked.log", env={"OCEAN__INTEGRATION__CONFIG__TOKEN": "revoked"})

    assert result.returncode == 1, tail(result)
    text = output(result)
    assert "all kinds (credentials) (checks before the sync)" in text
    assert "Resync failed" in text and "nothing was deleted from the catalog" in text
    assert cursors(stack) == state
    assert snapshot(stack) == before and writes(stack) == counters
    assert stack.jira_control.stats(searches=True)["searches"] == []  # nothing was read
    # The next run (valid token) is a delta again and catches up, deletions included.
    after = good_run(stack, "after-revoked.log")
    assert not set(deleted["results"][0]["deleted"]) & set(after[blueprints.ISSUE])


def test_a_share_of_failing_bulk_upserts_is_retried_within_limits(stack: LocalStack) -> None:
    in_sync(stack, "before-some-500.log")
    stack.jira_control.mutate(
        {"op": "update", "jql": DEFAULT_JQL, "count": 200, "summary": "renamed for the 500s"}
    )
    catalog_fault(stack, operation="upsert", status=500, count=1000, rate=0.3, seed=3)
    try:
        good_run(stack, "some-500.log")
    finally:
        clear_catalog_faults(stack)


def test_bulk_upserts_failing_beyond_the_retries_fail_loudly_then_converge(
    stack: LocalStack,
) -> None:
    in_sync(stack, "before-500.log")
    stack.jira_control.mutate(
        {"op": "update", "jql": DEFAULT_JQL, "count": 200, "summary": "renamed again"}
    )
    catalog_fault(stack, operation="upsert", status=500, count=1000, rate=0.9, seed=4)
    try:
        result = run(stack, "upsert-500.log", **SETTINGS)
    finally:
        clear_catalog_faults(stack)
    assert result.returncode == 1, tail(result)
    text = output(result)
    assert "jiraServerSyncIssue (writing to the catalog):" in text
    assert "entities were not written to the catalog:" in text and "HTTP 500" in text
    assert "nothing was deleted from the catalog" in text
    good_run(stack, "after-500.log")  # a clean rerun converges


def test_entities_the_catalog_rejects_fail_the_run_and_name_them(stack: LocalStack) -> None:
    in_sync(stack, "before-422.log")
    # Port refuses identifiers with spaces: this mapping makes every PLAT issue invalid.
    original = change_mapping(
        stack,
        lambda m: issue_resource(m)["port"]["entity"]["mappings"].update(
            identifier='.key | if startswith("PLAT-") then . + " x" else . end'
        ),
    )
    try:
        result = run(stack, "rejected.log", **SETTINGS)
    finally:
        set_mapping(stack, original)
    assert result.returncode == 1, tail(result)
    text = output(result)
    assert "jiraServerSyncIssue (writing to the catalog):" in text
    assert "(e.g. PLAT-" in text
    assert "nothing was deleted from the catalog" in text
    good_run(stack, "after-422.log")


def test_failed_deletes_fail_the_run_then_converge(stack: LocalStack) -> None:
    in_sync(stack, "before-delete-fault.log")
    deleted = stack.jira_control.mutate(
        {"op": "delete", "jql": f"({DEFAULT_JQL}) AND issuetype != Sub-task", "count": 4}
    )["results"][0]["deleted"]
    catalog_fault(stack, operation="delete", status=500, count=50)
    try:
        result = run(stack, "delete-500.log", **SETTINGS)
    finally:
        clear_catalog_faults(stack)
    assert result.returncode == 1, tail(result)
    assert "jiraServerSyncIssue (deleting from the catalog):" in output(result)
    assert set(deleted) <= set(snapshot(stack)[blueprints.ISSUE])
    after = good_run(stack, "after-delete-fault.log")
    assert not set(deleted) & set(after[blueprints.ISSUE])


def test_a_reconciliation_read_failure_is_named_as_such(stack: LocalStack) -> None:
    in_sync(stack, "before-listing-fault.log")
    catalog_fault(stack, operation="datasource", status=500, count=50)
    try:
        result = run(stack, "listing-500.log", **SETTINGS)
    finally:
        clear_catalog_faults(stack)
    assert result.returncode == 1, tail(result)
    text = output(result)
    assert (
        "all kinds (reading the catalog): listing the integration's entities in the catalog failed"
    ) in text
    assert "nothing was deleted from the catalog" in text


# ---- what Jira gets wrong ------------------------------------------------------------------


def test_short_pages_mid_partition_lose_nothing(stack: LocalStack) -> None:
    in_sync(stack, "before-short.log")
    stack.jira_control.set_faults(paths=["/rest/api/2/search"], short_page_rate=0.5, seed=5)
    try:
        result = run(stack, "short-pages.log", **SETTINGS, fullSync=True)
    finally:
        stack.jira_control.set_faults()  # the oracle reads Jira too
    assert result.returncode == 0, tail(result)
    assert_catalog_equals_jira(stack)


def test_items_without_fields_fail_the_kind_and_null_nothing(stack: LocalStack) -> None:
    before = in_sync(stack, "before-malformed.log")
    stack.jira_control.set_faults(paths=["/rest/api/2/search"], malformed_issue_rate=0.05, seed=2)
    try:
        result = run(stack, "malformed.log", **SETTINGS, fullSync=True)
    finally:
        stack.jira_control.set_faults()
    assert result.returncode == 1, tail(result)
    assert "has no fields: a malformed response" in output(result)
    after = snapshot(stack)
    nulled = [
        key
        for key, entity in synced(after, blueprints.ISSUE).items()
        if entity["title"] is None or entity["properties"].get("status") is None
    ]
    assert nulled == [] and set(after[blueprints.ISSUE]) == set(before[blueprints.ISSUE])


# ---- expected churn passes the deletion guard -------------------------------------------------


def test_a_tenth_of_the_issues_deleted_in_jira_leave_the_catalog(stack: LocalStack) -> None:
    first = in_sync(stack, "before-tenth.log")
    count = len(synced(first, blueprints.ISSUE)) // 10
    deleted = stack.jira_control.mutate(
        {"op": "delete", "jql": f"({DEFAULT_JQL}) AND issuetype != Sub-task", "count": count}
    )["results"][0]["deleted"]
    after = good_run(stack, "tenth-deleted.log")
    assert len(deleted) >= count
    assert not set(deleted) & set(after[blueprints.ISSUE])


def test_every_active_sprint_closing_at_once_is_not_refused(stack: LocalStack) -> None:
    first = in_sync(stack, "before-cadence.log")
    active = [
        k
        for k, e in synced(first, blueprints.SPRINT).items()
        if e["properties"]["state"] == "active"
    ]
    assert len(active) > 1
    stack.jira_control.mutate({"op": "close_sprints", "states": ["active", "future"]})
    result = run(stack, "cadence.log", **SETTINGS)
    assert result.returncode == 0, tail(result)
    text = output(result)
    assert "refusing" not in text
    after = snapshot(stack)
    # Sprints nothing points at any more are gone; those issues still point at stay as the
    # relations' targets.
    referenced = {
        sprint
        for issue in after[blueprints.ISSUE].values()
        for sprint in issue["relations"].get("sprints") or []
    }
    assert set(after[blueprints.SPRINT]) <= referenced


def test_a_kind_removed_from_the_mapping_is_emptied_without_failing(stack: LocalStack) -> None:
    first = in_sync(stack, "before-removed-kind.log")
    assert first[blueprints.COMPONENT]
    original = change_mapping(
        stack, lambda m: m.update(resources=[r for r in m["resources"] if r["kind"] != "component"])
    )
    try:
        result = run(stack, "removed-kind.log", **SETTINGS)
        assert result.returncode == 0, tail(result)
        assert snapshot(stack)[blueprints.COMPONENT] == {}
    finally:
        set_mapping(stack, original)
    good_run(stack, "kind-restored.log")


# ---- each resource as its own selector says; whole objects on every page ----------------------


def test_two_issue_resources_with_different_incremental_settings(stack: LocalStack) -> None:
    in_sync(stack, "before-two.log")

    def two_resources(m: dict[str, Any]) -> None:
        issue = issue_resource(m)
        issue["selector"]["jql"] = f"({DEFAULT_JQL}) AND project = PLAT"
        other = json.loads(json.dumps(issue))
        other["selector"].update(jql=f"({DEFAULT_JQL}) AND project != PLAT", incremental=False)
        m["resources"].append(other)

    original = change_mapping(stack, two_resources)
    try:
        good_run(stack, "two-first.log")  # the mapping changed: full for both
        stack.jira_control.reset_stats()
        good_run(stack, "two-second.log")
        searches = stack.jira_control.stats(searches=True)["searches"]
        plat = [s for s in searches if "project = PLAT" in s["jql"]]
        others = [s for s in searches if "project != PLAT" in s["jql"]]
        # The delta resource lists its scope (and re-reads by id); the other reads in full.
        assert plat and others
        assert not any('updated >= "' in s["jql"] for s in searches)
        assert all(" id in (" not in s["jql"] for s in others)
        assert len(others) >= 2  # its full scan's pages
    finally:
        set_mapping(stack, original)
    good_run(stack, "two-restored.log")


def test_whole_object_mappings_survive_every_page(stack: LocalStack) -> None:
    in_sync(stack, "before-whole.log")
    add_blueprint_properties(
        stack,
        blueprints.ISSUE,
        assigneeObject={"type": "object", "title": "Assignee (object)"},
        fixVersionList={"type": "array", "title": "Fix versions (objects)"},
    )

    def whole(m: dict[str, Any]) -> None:
        properties = issue_resource(m)["port"]["entity"]["mappings"]["properties"]
        properties["assigneeObject"] = ".fields.assignee"
        properties["fixVersionList"] = ".fields.fixVersions"

    original = change_mapping(stack, whole)
    try:
        result = run(stack, "whole-objects.log", pageSize=20, maxConcurrentRequests=4)
        assert result.returncode == 0, tail(result)
        issues = synced(snapshot(stack), blueprints.ISSUE)
        checked = 0
        for key, entity in sorted(issues.items())[::7]:
            fields = jira(stack, f"/rest/api/2/issue/{key}", fields="assignee,fixVersions")[
                "fields"
            ]
            assert entity["properties"]["assigneeObject"] == fields.get("assignee"), key
            assert (entity["properties"]["fixVersionList"] or []) == (
                fields.get("fixVersions") or []
            ), key
            checked += fields.get("assignee") is not None
        assert checked > 10
    finally:
        set_mapping(stack, original)
