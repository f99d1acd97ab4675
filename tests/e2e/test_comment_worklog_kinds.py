"""Comments and worklogs end to end with a real `ocean sail`: exact values against the
emulator's truth (with comments truncated in the search so paging is needed), a delta run
that follows an added comment and a deleted worklog and keeps everything else, the
per-issue fallback of servers without worklog feeds, and bad data that fails the run
loudly without losing anything."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from jira_server import blueprints
from local_stack.stack import LocalStack, jira_args, local_stack

pytestmark = pytest.mark.e2e

DEFAULT_JQL = "(statusCategory != Done) OR (created >= -1w) OR (updated >= -1w)"
COMMENT_RESOURCE = "comment (resource #7)"
WORKLOG_RESOURCE = "worklog (resource #8)"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    work = tmp_path_factory.mktemp("activity")
    with local_stack(work, jira=jira_args(projects=3, users=30, issues=160, seed=21)) as running:
        # One comment embedded per issue: every issue with more is paged.
        running.jira_control.patch_settings(embedded_comment_limit=1)
        yield running


def entities(stack: LocalStack, blueprint: str) -> dict[str, dict[str, Any]]:
    return {
        e["identifier"]: e
        for e in stack.catalog_client.entities(blueprint)
        if e.get("title") is not None
    }


def truth(stack: LocalStack) -> dict[str, Any]:
    return stack.jira_control.activity_truth(DEFAULT_JQL)


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text).astimezone(UTC).timestamp() * 1000)


def assert_catalog_equals_jira(stack: LocalStack) -> dict[str, Any]:
    want = truth(stack)
    comments = entities(stack, blueprints.COMMENT)
    expected_comments = {c["id"]: (key, c) for key, cs in want["comments"].items() for c in cs}
    assert set(comments) == set(expected_comments)
    for comment_id, (key, c) in expected_comments.items():
        got = comments[comment_id]
        assert got["relations"]["issue"] == key, comment_id
        assert got["relations"]["author"] == c["author"], comment_id
        assert got["properties"]["body"] == c["body"], comment_id
        assert ms(got["properties"]["created"]) == c["created"], comment_id
        assert ms(got["properties"]["updated"]) == c["updated"], comment_id
        assert got["properties"]["url"].endswith(f"/browse/{key}?focusedCommentId={comment_id}")
    worklogs = entities(stack, blueprints.WORKLOG)
    expected_worklogs = {w["id"]: (key, w) for key, ws in want["worklogs"].items() for w in ws}
    assert set(worklogs) == set(expected_worklogs)
    for worklog_id, (key, w) in expected_worklogs.items():
        got = worklogs[worklog_id]
        assert got["relations"]["issue"] == key, worklog_id
        assert got["relations"]["author"] == w["author"], worklog_id
        assert got["properties"]["timeSpentSeconds"] == w["seconds"], worklog_id
        assert ms(got["properties"]["started"]) == w["started"], worklog_id
        assert got["properties"]["comment"] == w["comment"], worklog_id
    return want


def test_first_run_syncs_every_comment_and_worklog_exactly(stack: LocalStack) -> None:
    result = stack.run_once(log_name="activity-run1.log")
    assert result.returncode == 0, result.stdout[-3000:]
    want = assert_catalog_equals_jira(stack)
    # The fixture set is big enough to mean something: issues with paged comments, and
    # worklogs on many issues.
    assert sum(len(cs) > 1 for cs in want["comments"].values()) >= 10
    assert sum(len(ws) for ws in want["worklogs"].values()) >= 30


def test_delta_run_follows_added_and_deleted_comments_and_worklogs(stack: LocalStack) -> None:
    control = stack.jira_control
    want = truth(stack)
    commented = next(key for key, cs in want["comments"].items() if len(cs) >= 2)
    added = control.mutate({"op": "comment", "keys": [commented], "body": "Added after run 1"})
    added_id = added["results"][0]["comments"][0]["id"]
    worked = next(key for key, ws in want["worklogs"].items() if ws)
    removed_id = want["worklogs"][worked][0]["id"]
    control.mutate({"op": "delete_worklog", "keys": [worked], "id": removed_id})
    other = next(key for key, cs in want["comments"].items() if cs and key != commented)
    dropped_id = want["comments"][other][0]["id"]
    control.mutate({"op": "delete_comment", "keys": [other], "id": dropped_id})
    logged = control.mutate({"op": "worklog", "keys": [commented], "seconds": 5400})
    logged_id = logged["results"][0]["worklogs"][0]
    # Jira's worklog feeds leave out the last minute: the next run comes two minutes later.
    control.patch_settings(clock_offset_seconds=120)

    result = stack.run_once(log_name="activity-run2.log")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert f"{COMMENT_RESOURCE}: delta sync" in output
    assert f"{WORKLOG_RESOURCE}: delta sync" in output

    assert_catalog_equals_jira(stack)
    comments = entities(stack, blueprints.COMMENT)
    assert comments[added_id]["properties"]["body"] == "Added after run 1"
    assert dropped_id not in comments
    worklogs = entities(stack, blueprints.WORKLOG)
    assert removed_id not in worklogs
    assert worklogs[logged_id]["properties"]["timeSpentSeconds"] == 5400


def test_servers_without_worklog_feeds_are_read_per_issue(stack: LocalStack) -> None:
    control = stack.jira_control
    control.patch_settings(worklog_feeds=False)
    try:
        result = stack.run_once(
            extra_env={"OCEAN__INTEGRATION__CONFIG__FULL_SYNC": "true"},
            log_name="activity-run3.log",
        )
    finally:
        control.patch_settings(worklog_feeds=None)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "reading worklogs per issue" in output
    assert_catalog_equals_jira(stack)


def test_huge_and_malformed_items_fail_loudly_and_lose_nothing(stack: LocalStack) -> None:
    control = stack.jira_control
    want = truth(stack)
    before_comments = set(entities(stack, blueprints.COMMENT))
    before_worklogs = set(entities(stack, blueprints.WORKLOG))
    keys = [key for key, cs in want["comments"].items() if cs]
    huge = control.mutate({"op": "comment", "keys": [keys[0]], "body": "x" * 100_000})
    huge_id = huge["results"][0]["comments"][0]["id"]
    broken_comment = want["comments"][keys[1]][0]["id"]
    control.mutate({"op": "corrupt_comment", "keys": [keys[1]], "id": broken_comment})
    worked = [key for key, ws in want["worklogs"].items() if ws]
    broken_worklog = want["worklogs"][worked[-1]][0]["id"]
    control.mutate({"op": "corrupt_worklog", "keys": [worked[-1]], "id": broken_worklog})

    result = stack.run_once(
        extra_env={"OCEAN__INTEGRATION__CONFIG__FULL_SYNC": "true"},
        log_name="activity-run4.log",
    )
    output = result.stdout + result.stderr
    assert result.returncode == 1, output[-3000:]
    assert f"issue {keys[1]}, comment {broken_comment} (no id, body or created date)" in output
    assert f"worklog {broken_worklog} of issue {worked[-1]} (timeSpentSeconds is None)" in output
    assert "nothing was deleted" in output

    comments = entities(stack, blueprints.COMMENT)
    worklogs = entities(stack, blueprints.WORKLOG)
    # Nothing lost: the broken items keep their last good values, the rest is there.
    assert before_comments <= set(comments)
    assert before_worklogs <= set(worklogs)
    body = comments[huge_id]["properties"]["body"]
    assert body.startswith("x" * 32_767) and body.endswith("[cut: 67,233 more characters]")
    assert f"comment {huge_id} has 100,000 characters" in output
