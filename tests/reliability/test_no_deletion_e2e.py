"""Nothing is deleted after a partial failure, end to end: real reconciliation in the local
catalog, a real ``ocean sail`` ONCE process.

Two ways a kind can come back short:
* it *raises* midway (here: the issue scan's pages keep failing after the retries). The
  framework then marks the resync failed and skips deletion for every kind;
* it *returns nothing* without an error (here: a JQL that suddenly matches nothing). The
  framework takes that as the truth and deletes the kind's entities whenever its global
  ``entityDeletionThreshold`` (0.9 of all the integration's entities) is not exceeded; the
  integration's deletion guard refuses instead (jira_server/sync/guard.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from jira_server import blueprints
from local_stack.stack import LocalStack, jira_args, local_stack, resources_without
from tests.e2e.oracle import expected_catalog
from tests.reliability.support import (
    DEFAULT_JQL,
    Snapshot,
    assert_catalog_equals_jira,
    change_mapping,
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

SETTINGS: dict[str, Any] = {"pageSize": 40, "maxConcurrentRequests": 4}
NOTHING = "created > 2099-01-01"  # valid JQL, matches no issue


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    work = tmp_path_factory.mktemp("no-deletion")
    with local_stack(work, jira=jira_args(projects=4, users=40, issues=450, seed=33)) as running:
        # Without the comment and worklog kinds: the comments a delta run keeps point at their
        # issues and so spare them (the guard's rule 1), and their searches would move the
        # scan fault's aim, which counts searches.
        resources = resources_without(work / "resources", "comment", "worklog")
        running.run_env["OCEAN__RESOURCES_PATH"] = str(resources)
        yield running


def good_run(stack: LocalStack, name: str) -> Snapshot:
    result = run(stack, name, **SETTINGS)
    assert result.returncode == 0, tail(result)
    return assert_catalog_equals_jira(stack)


def in_sync(stack: LocalStack, name: str) -> Snapshot:
    """The catalog equal to Jira: as the previous test left it, else after a run."""
    snap = snapshot(stack)
    if differences(expected_catalog(stack, DEFAULT_JQL), snap):
        return good_run(stack, name)
    return snap


def assert_all_kept(first: Snapshot, now: Snapshot) -> None:
    for blueprint, entities in first.items():
        lost = set(entities) - set(now[blueprint])
        assert not lost, f"{blueprint} lost {sorted(lost)[:10]}"


def test_scan_failing_midway_deletes_nothing(stack: LocalStack) -> None:
    stack.jira_control.reset_stats()
    first = good_run(stack, "first.log")
    jqls = [s["jql"] for s in stack.jira_control.stats(searches=True)["searches"]]
    before_partitions = next(i for i, jql in enumerate(jqls) if " AND id > " in jql)

    # Jira loses issues, and the next run's scan fails after its first pages were pushed.
    deleted = stack.jira_control.mutate(
        {"op": "delete", "jql": f"({DEFAULT_JQL}) AND issuetype != Sub-task", "count": 6}
    )["results"][0]["deleted"]
    assert set(deleted) <= set(first[blueprints.ISSUE])
    stack.jira_control.set_faults(
        paths=["/rest/api/2/search"],
        error_statuses=[503],
        error_next=60,  # every partition page and its one retry
        error_next_after=before_partitions,
    )
    counters = writes(stack)
    try:
        result = run(stack, "failing.log", maxRetries=1, **SETTINGS)
    finally:
        stack.jira_control.set_faults()

    assert result.returncode == 1, tail(result)
    text = output(result)
    assert "Sync failure, this run deletes nothing: issue (resource #6) (reading Jira)" in text
    assert "503 Service Temporarily Unavailable (after 1 retries)" in text
    assert "nothing was deleted from the catalog (the run failed)" in text
    after = snapshot(stack)
    assert_all_kept(first, after)
    assert set(deleted) <= set(after[blueprints.ISSUE])  # gone from Jira, kept here
    assert writes(stack)["entitiesDeleted"] == counters["entitiesDeleted"]

    # Once Jira answers again, the next run catches up, deletions included.
    recovered = good_run(stack, "recovered.log")
    assert not set(deleted) & set(recovered[blueprints.ISSUE])


def test_kind_returning_nothing_is_refused_unless_allowed(stack: LocalStack) -> None:
    first = in_sync(stack, "before-empty.log")
    issues = synced(first, blueprints.ISSUE)
    total = sum(len(entities) for entities in first.values())
    original = change_mapping(stack, lambda m: issue_resource(m)["selector"].update(jql=NOTHING))
    try:
        # The guard (default maxDeletionFraction 0.5): the run fails, no issue is deleted.
        result = run(stack, "empty-guarded.log", **SETTINGS)
        assert result.returncode == 1, tail(result)
        text = output(result)
        assert (
            f"refusing to delete {len(first['jiraServerSyncIssue'])} of "
            f"{len(first['jiraServerSyncIssue'])} jiraServerSyncIssue entities: issue (resource #6) "
            "returned nothing"
        ) in text
        assert "jiraServerSyncIssue (reconciliation)" in text
        guarded = snapshot(stack)
        assert guarded[blueprints.ISSUE] == first[blueprints.ISSUE]
        assert_all_kept(first, guarded)

        # The framework alone (the guard opened with maxDeletionFraction 1): the empty kind
        # is taken as the truth and every issue entity goes, because the issues are only
        # a share of all the integration's entities (below its 0.9 threshold).
        change_mapping(stack, lambda m: m.update(maxDeletionFraction=1))
        result = run(stack, "empty-unguarded.log", **SETTINGS)
        assert result.returncode == 0, tail(result)
        unguarded = snapshot(stack)
        print(
            f"kind returning nothing, no guard: {len(issues)} of {total} entities were "
            f"issues; issue entities left: {len(unguarded['jiraServerSyncIssue'])}"
        )
        assert len(issues) / total <= 0.9
        assert synced(unguarded, blueprints.ISSUE) == {}
    finally:
        set_mapping(stack, original)
    good_run(stack, "restored.log")  # and back: a full resync recreates them
