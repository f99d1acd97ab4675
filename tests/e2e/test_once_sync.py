"""The main job end to end: the emulator, the local catalog and a real `ocean sail` ONCE
process; the catalog must equal Jira entity by entity, and follow deletions."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from jira_server import blueprints
from local_stack.demo import expected_counts
from local_stack.stack import BLUEPRINTS as DEMO_BLUEPRINTS
from local_stack.stack import LocalStack, jira_args, local_stack
from tests.e2e.oracle import expected_issues, jira_get

pytestmark = pytest.mark.e2e

DEFAULT_JQL = "(statusCategory != Done) OR (created >= -1w) OR (updated >= -1w)"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    work = tmp_path_factory.mktemp("once")
    with local_stack(work, jira=jira_args(projects=4, users=45, issues=400, seed=11)) as running:
        yield running


def synced(stack: LocalStack, blueprint: str) -> dict[str, dict[str, Any]]:
    """Entities the sync mapped, without the bare placeholders the catalog creates for
    relation targets outside the selectors (createMissingRelatedEntities)."""
    entities = stack.catalog_client.entities(blueprint)
    return {e["identifier"]: e for e in entities if e.get("title") is not None}


def placeholders(stack: LocalStack, blueprint: str) -> set[str]:
    entities = stack.catalog_client.entities(blueprint)
    return {e["identifier"] for e in entities if e.get("title") is None}


def assert_catalog_equals_jira(stack: LocalStack) -> None:
    truth = stack.jira_control.truth(DEFAULT_JQL)
    assert set(synced(stack, blueprints.PROJECT)) == set(truth["projects"])
    # Every user, the people who left included: issues still name them.
    assert set(synced(stack, blueprints.USER)) == set(truth["users"])
    assert placeholders(stack, blueprints.USER) == set()

    expected = expected_issues(stack, DEFAULT_JQL)
    issues = synced(stack, blueprints.ISSUE)
    assert set(issues) == set(expected)
    referenced = {
        target
        for want in expected.values()
        for target in [want["relations"]["parentIssue"], *want["relations"]["subtasks"]]
        if target
    }
    assert placeholders(stack, blueprints.ISSUE) <= referenced - set(expected)
    for key, want in expected.items():
        got = issues[key]
        assert got["title"] == want["title"], key
        assert got["properties"]["status"] == want["status"], key
        relations = {name: got["relations"].get(name) for name in want["relations"]}
        # Many-relations are compared as sets: their order carries no meaning.
        for name in ("subtasks", "fixVersions", "sprints"):
            relations[name] = sorted(relations[name] or [])
            want["relations"][name] = sorted(want["relations"][name])
        assert relations == want["relations"], key


def test_first_run_mirrors_jira(stack: LocalStack) -> None:
    result = stack.run_once(log_name="run1.log")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert_catalog_equals_jira(stack)
    assert stack.catalog_client.stats()["unknownRoutes"] == []
    # `make demo` prints these counts side by side: its "in Jira" column must mean what the
    # default selectors select (it once counted active users only).
    wanted = expected_counts(stack.jira_control)
    assert {kind: len(synced(stack, bp)) for kind, bp in DEMO_BLUEPRINTS.items()} == wanted


def test_second_run_removes_issues_deleted_in_jira(stack: LocalStack) -> None:
    before = set(synced(stack, blueprints.ISSUE))
    deleted = stack.jira_control.mutate(
        {"op": "delete", "jql": "statusCategory != Done AND issuetype != Sub-task", "count": 5}
    )["results"][0]
    gone = set(deleted["deleted"])
    assert gone & before  # sub-tasks go with their parent, matching or not

    result = stack.run_once(log_name="run2.log")
    assert result.returncode == 0, result.stdout[-3000:]
    after = set(synced(stack, blueprints.ISSUE))
    assert not gone & after
    assert_catalog_equals_jira(stack)


def jira_time(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z")


def default_jql_by_hand(stack: LocalStack) -> tuple[set[str], set[str]]:
    """DEFAULT_JQL evaluated in plain Python from every issue's status and dates, as Jira
    documents it (a relative date like -1w is that long before the server's now), not by
    the emulator's JQL engine. Returns (matching keys, keys within 10 minutes of the
    one-week boundary, which the clock moving between calls could tip either way)."""
    now = jira_time(jira_get(stack, "/serverInfo")["serverTime"])
    week_ago = now - timedelta(weeks=1)
    matching: set[str] = set()
    borderline: set[str] = set()
    start = 0
    while True:
        page = jira_get(
            stack,
            "/search",
            jql="ORDER BY id",
            fields="status,created,updated",
            startAt=start,
            maxResults=1000,
        )
        for issue in page["issues"]:
            f = issue["fields"]
            created, updated = jira_time(f["created"]), jira_time(f["updated"])
            open_ = f["status"]["statusCategory"]["key"] != "done"
            if open_ or created >= week_ago or updated >= week_ago:
                matching.add(issue["key"])
            if min(abs(created - week_ago), abs(updated - week_ago)) < timedelta(minutes=10):
                borderline.add(issue["key"])
        start += len(page["issues"])
        if not page["issues"] or start >= page["total"]:
            return matching, borderline


def test_a_day_later_delta_run_follows_every_change(stack: LocalStack) -> None:
    """A day later (the clock moves on, so issues leave the one-week window), with issues
    updated, deleted and created: the scheduled run is a delta run, and afterwards the
    catalog equals Jira: new values, deletions and issues that left the JQL."""
    control = stack.jira_control
    before = set(synced(stack, blueprints.ISSUE))
    control.patch_settings(clock_offset_seconds=24 * 3600)
    moved_out = before - set(control.truth(DEFAULT_JQL)["keys"])
    updated = control.mutate(
        {"op": "update", "jql": DEFAULT_JQL, "count": 8, "summary": "edited a day later"}
    )["results"][0]["updated"]
    deleted = control.mutate(
        {"op": "delete", "jql": f"({DEFAULT_JQL}) AND issuetype != Sub-task", "count": 3}
    )["results"][0]["deleted"]
    project = sorted(control.truth("")["projects"])[0]
    created = {
        c["key"]
        for c in control.mutate({"op": "create", "project": project, "count": 3})["results"][0][
            "created"
        ]
    }
    assert moved_out and updated and deleted and created

    result = stack.run_once(log_name="run3.log")
    assert result.returncode == 0, result.stdout[-3000:]
    assert "issue (resource #6): delta sync" in result.stdout + result.stderr

    assert_catalog_equals_jira(stack)
    issues = synced(stack, blueprints.ISSUE)
    assert not moved_out & set(issues)
    assert not set(deleted) & set(issues)
    assert created <= set(issues)
    truth = set(control.truth(DEFAULT_JQL)["keys"])
    for key in set(updated) & truth:
        assert issues[key]["title"] == "edited a day later", key
    # The emulator's JQL engine against the JQL's documented meaning.
    by_hand, borderline = default_jql_by_hand(stack)
    assert (set(issues) ^ by_hand) <= borderline
