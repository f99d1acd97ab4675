"""Boards, sprints, versions and components end to end, with the sprint field in both forms
Jira writes it (JSON objects on recent servers, `Sprint@...[..]` text on 8.x/9.x)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from jira_server import blueprints
from local_stack.stack import LocalStack, jira_args, local_stack

pytestmark = pytest.mark.e2e

DEFAULT_JQL = "(statusCategory != Done) OR (created >= -1w) OR (updated >= -1w)"


@pytest.fixture(scope="module", params=["legacy", "json"])
def synced(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LocalStack]:
    form = request.param
    work = tmp_path_factory.mktemp(f"software-{form}")
    args = jira_args(projects=4, users=40, issues=300, seed=5, extra=("--sprint-field", form))
    with local_stack(work, jira=args) as stack:
        result = stack.run_once()
        assert result.returncode == 0, result.stdout[-3000:]
        yield stack


def titled(stack: LocalStack, blueprint: str) -> dict[str, dict[str, Any]]:
    return {
        e["identifier"]: e
        for e in stack.catalog_client.entities(blueprint)
        if e.get("title") is not None
    }


def test_boards_and_their_projects(synced: LocalStack) -> None:
    truth = synced.jira_control.software_truth()
    boards = titled(synced, blueprints.BOARD)
    assert set(boards) == {str(b["id"]) for b in truth["boards"]}
    for board in truth["boards"]:
        got = boards[str(board["id"])]
        assert got["title"] == board["name"]
        assert got["properties"]["type"] == board["type"]
        assert got["relations"]["project"] == (board.get("location") or {}).get("projectKey")


def test_active_and_future_sprints_on_their_boards(synced: LocalStack) -> None:
    truth = synced.jira_control.software_truth()
    wanted = [s for s in truth["sprints"] if s["state"] in ("active", "future")]
    sprints = titled(synced, blueprints.SPRINT)
    assert set(sprints) == {str(s["id"]) for s in wanted}
    for sprint in wanted:
        got = sprints[str(sprint["id"])]
        assert got["title"] == sprint["name"]
        assert got["properties"]["state"] == sprint["state"]
        assert got["relations"]["board"] == str(sprint["originBoardId"])


def test_versions_and_components_per_project(synced: LocalStack) -> None:
    truth = synced.jira_control.software_truth()
    versions = titled(synced, blueprints.VERSION)
    expected_versions = {
        v["id"]: key for key, vs in truth["versions"].items() for v in vs if not v.get("archived")
    }
    assert set(versions) == set(expected_versions)
    assert all(
        versions[vid]["relations"]["project"] == key for vid, key in expected_versions.items()
    )
    components = titled(synced, blueprints.COMPONENT)
    expected_components = {c["id"]: (key, c) for key, cs in truth["components"].items() for c in cs}
    assert set(components) == set(expected_components)
    for cid, (key, component) in expected_components.items():
        assert components[cid]["relations"]["project"] == key
        assert components[cid]["relations"]["lead"] == (component.get("lead") or {}).get("key")


def test_issue_sprints_and_fix_versions_from_either_field_form(synced: LocalStack) -> None:
    truth = synced.jira_control.software_truth(DEFAULT_JQL)
    issues = titled(synced, blueprints.ISSUE)
    assert set(issues) == set(truth["issues"])
    for key, links in truth["issues"].items():
        relations = issues[key]["relations"]
        assert sorted(relations["sprints"]) == sorted(str(s) for s in links["sprints"]), key
        assert sorted(relations["fixVersions"]) == sorted(links["fixVersions"]), key
