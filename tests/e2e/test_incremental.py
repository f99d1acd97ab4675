"""Incremental sync end to end: a full run, then an incremental run that fetches only the
changed issues (the emulator's search log proves it), then deletions caught by the next
full, reconciling run. State lives in the local catalog through the framework's cursor API."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from local_stack.stack import LocalStack, jira_args, local_stack, resources_with

pytestmark = pytest.mark.e2e

DEFAULT_JQL = "(statusCategory != Done) OR (created >= -1w) OR (updated >= -1w)"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    work = tmp_path_factory.mktemp("incremental")
    # Data generated as of three hours ago: no issue was updated inside the overlap window,
    # so an incremental run must fetch exactly the issues changed after the full run.
    anchor = (datetime.now(UTC) - timedelta(hours=3)).isoformat()
    args = jira_args(projects=3, users=30, issues=250, seed=9, extra=("--anchor", anchor))
    with local_stack(work, jira=args) as running:
        yield running


def run(stack: LocalStack, **env: str) -> None:
    resources = resources_with(stack.work_dir / "resources", incremental=True, fullSyncEvery=3)
    result = stack.run_once(extra_env={"OCEAN__RESOURCES_PATH": str(resources), **env})
    assert result.returncode == 0, result.stdout[-3000:]


def issue_searches(stack: LocalStack) -> list[dict[str, Any]]:
    searches = stack.jira_control.stats(searches=True)["searches"]
    return [s for s in searches if s["maxResults"] > 0 and s["jql"] != "ORDER BY id DESC"]


def synced_issues(stack: LocalStack) -> dict[str, dict[str, Any]]:
    entities = stack.catalog_client.entities("jiraServerIssue")
    return {e["identifier"]: e for e in entities if e.get("title") is not None}


def test_full_then_incremental_then_full(stack: LocalStack) -> None:
    run(stack)  # no state yet: a full sync
    assert set(synced_issues(stack)) == set(stack.jira_control.truth(DEFAULT_JQL)["keys"])

    changed = stack.jira_control.mutate(
        {"op": "update", "jql": "statusCategory != Done", "count": 10, "summary": "changed in Jira"}
    )["results"][0]["updated"]
    assert len(changed) == 10
    stack.jira_control.reset_stats()
    run(stack)  # state present, 1 run since the full one: incremental
    searches = issue_searches(stack)
    assert searches and all(
        re.search(r'updated >= "\d{4}-\d\d-\d\d \d\d:\d\d"', s["jql"]) for s in searches
    )
    assert sum(s["returned"] for s in searches) == 10
    catalog = synced_issues(stack)
    assert set(catalog) == set(stack.jira_control.truth(DEFAULT_JQL)["keys"])
    changed_keys = {c if isinstance(c, str) else c["key"] for c in changed}
    assert {k for k, e in catalog.items() if e["title"] == "changed in Jira"} == changed_keys

    gone = set(
        stack.jira_control.mutate({"op": "delete", "jql": "issuetype != Sub-task", "count": 3})[
            "results"
        ][0]["deleted"]
    )
    run(stack)  # incremental again: upserts only, so the deleted issues are still there
    assert gone & set(synced_issues(stack))
    run(stack)  # the third run since the full one: full and reconciling
    assert not gone & set(synced_issues(stack))
    assert set(synced_issues(stack)) == set(stack.jira_control.truth(DEFAULT_JQL)["keys"])
