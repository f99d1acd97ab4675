"""``.port/resources/actions.json`` agrees with the executors, the blueprints and the spec,
and the input parsing turns Port's rendered properties into Jira's create fields."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from jira_server import blueprints
from jira_server.actions import executors
from jira_server.actions.errors import ActionInputError
from jira_server.actions.inputs import (
    AddCommentInput,
    CreateIssueInput,
    TransitionInput,
)
from jira_server.actions.registry import foreign_definitions
from jira_server.actions.transitions import resolve

ROOT = Path(__file__).resolve().parents[2]
ACTIONS = json.loads((ROOT / ".port/resources/actions.json").read_text())
BLUEPRINTS = {
    b["identifier"] for b in json.loads((ROOT / ".port/resources/blueprints.json").read_text())
}
INPUTS = {
    "create_issue": CreateIssueInput.INPUTS,
    "add_comment": AddCommentInput.INPUTS,
    "transition_issue": TransitionInput.INPUTS,
}
REQUIRED = {
    "create_issue": {"projectKey", "issueType", "summary"},
    "add_comment": {"issueKey", "body"},
    "transition_issue": {"issueKey", "transition"},
}


def test_every_action_is_served_by_an_executor_with_matching_inputs() -> None:
    served = {e.ACTION_NAME for e in executors()}
    declared = {a["invocationMethod"]["integrationActionType"] for a in ACTIONS}
    assert declared == served == set(INPUTS)
    for action in ACTIONS:
        method = action["invocationMethod"]
        kind = method["integrationActionType"]
        assert method["type"] == "INTEGRATION_ACTION"
        assert method["installationId"] == "jira-server-sync"  # the documented identifier
        properties = method["integrationActionExecutionProperties"]
        assert set(properties) <= set(INPUTS[kind]), kind
        assert REQUIRED[kind] <= set(properties), kind


def test_user_inputs_and_blueprints_exist_and_templates_read_them() -> None:
    for action in ACTIONS:
        trigger = action["trigger"]
        assert trigger["type"] == "self-service"
        assert trigger["blueprintIdentifier"] == blueprints.ISSUE
        inputs = trigger["userInputs"]["properties"]
        assert set(trigger["userInputs"]["required"]) <= set(inputs)
        assert trigger["userInputs"]["order"] == list(inputs)
        for spec in inputs.values():
            assert spec.get("blueprint", blueprints.ISSUE) in BLUEPRINTS
        templates = " ".join(
            action["invocationMethod"]["integrationActionExecutionProperties"].values()
        )
        assert set(re.findall(r"\.inputs\.(\w+)", templates)) == set(inputs)
        if trigger["operation"] == "DAY-2":
            assert "{{ .entity.identifier }}" in templates  # the issue key


def test_spec_allows_the_actions_processor() -> None:
    spec = yaml.safe_load((ROOT / ".port/spec.yaml").read_text())
    assert spec["actionsProcessingEnabled"] is True


def test_foreign_installation_is_detected(tmp_path: Path) -> None:
    assert foreign_definitions("jira-server-sync") == []
    assert foreign_definitions("jira-prod") == [a["identifier"] for a in ACTIONS]
    assert foreign_definitions("x", tmp_path / "missing.json") == []


def test_create_fields_use_ids_for_numbers_names_otherwise_and_server_usernames() -> None:
    parsed = CreateIssueInput.parse(
        {
            "projectKey": " plat ",
            "issueType": "10001",
            "summary": "Title",
            "description": "",
            "priority": "High",
            "labels": "a, b  c,,a",
            "assignee": "jdoe",
            "fields": '{"customfield_10106": 3, "components": [{"name": "API"}]}',
        }
    )
    assert parsed.jira_fields() == {
        "project": {"key": "PLAT"},
        "issuetype": {"id": "10001"},
        "summary": "Title",
        "priority": {"name": "High"},
        "labels": ["a", "b", "c"],
        "assignee": {"name": "jdoe"},
        "customfield_10106": 3,
        "components": [{"name": "API"}],
    }


def test_port_nulls_for_empty_optional_inputs_are_ignored() -> None:
    parsed = CreateIssueInput.parse(
        {
            "projectKey": "PLAT",
            "issueType": "Task",
            "summary": "Only the required ones",
            "description": None,
            "priority": None,
            "labels": None,
            "assignee": None,
            "fields": None,
        }
    )
    assert set(parsed.jira_fields()) == {"project", "issuetype", "summary"}


def _t(tid: str, name: str, to: str) -> dict[str, Any]:
    return {"id": tid, "name": name, "to": {"name": to}}


OFFERED = [
    _t("21", "Start", "In Progress"),
    _t("41", "Review", "In Review"),
    _t("61", "Fast track", "In Review"),
]


@pytest.mark.parametrize(
    ("wanted", "expected"),
    [("21", "21"), ("start", "21"), ("in progress", "21"), ("REVIEW", "41"), ("Fast Track", "61")],
)
def test_transition_resolution_prefers_id_then_name_then_target(wanted: str, expected: str) -> None:
    assert resolve(OFFERED, wanted, "PLAT-1", "To Do")["id"] == expected


def test_ambiguous_target_status_asks_for_the_transition() -> None:
    with pytest.raises(ActionInputError) as caught:
        resolve(OFFERED, "in review", "PLAT-1", "To Do")
    assert "Several transitions of PLAT-1 lead to 'in review'" in str(caught.value)
    assert "'Review' (id 41, to 'In Review'), 'Fast track' (id 61, to 'In Review')" in str(
        caught.value
    )
    assert caught.value.status_label == "Ambiguous transition"
