"""The main job end to end: the emulator, the local catalog and a real `ocean sail` ONCE
process; the catalog must equal Jira entity by entity, and follow deletions."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from local_stack.stack import LocalStack, jira_args, local_stack
from tests.e2e.oracle import expected_issues

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
    assert set(synced(stack, "jiraServerProject")) == set(truth["projects"])
    # Every user, the people who left included: issues still name them.
    assert set(synced(stack, "jiraServerUser")) == set(truth["users"])
    assert placeholders(stack, "jiraServerUser") == set()

    expected = expected_issues(stack, DEFAULT_JQL)
    issues = synced(stack, "jiraServerIssue")
    assert set(issues) == set(expected)
    referenced = {
        target
        for want in expected.values()
        for target in [want["relations"]["parentIssue"], *want["relations"]["subtasks"]]
        if target
    }
    assert placeholders(stack, "jiraServerIssue") <= referenced - set(expected)
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


def test_second_run_removes_issues_deleted_in_jira(stack: LocalStack) -> None:
    before = set(synced(stack, "jiraServerIssue"))
    deleted = stack.jira_control.mutate(
        {"op": "delete", "jql": "statusCategory != Done AND issuetype != Sub-task", "count": 5}
    )["results"][0]
    gone = set(deleted["deleted"])
    assert gone & before  # sub-tasks go with their parent, matching or not

    result = stack.run_once(log_name="run2.log")
    assert result.returncode == 0, result.stdout[-3000:]
    after = set(synced(stack, "jiraServerIssue"))
    assert not gone & after
    assert_catalog_equals_jira(stack)
