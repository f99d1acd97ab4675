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
    AssignInput,
    CreateFromEntityInput,
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
    "create_issue_from_entity": CreateFromEntityInput.INPUTS,
    "add_comment": AddCommentInput.INPUTS,
    "transition_issue": TransitionInput.INPUTS,
    "assign_issue": AssignInput.INPUTS,
}
REQUIRED = {
    "create_issue": {"projectKey", "issueType", "summary"},
    "create_issue_from_entity": {
        "entityBlueprint",
        "entityIdentifier",
        "projectKey",
        "issueType",
        "summary",
    },
    "assign_issue": {"issueKey", "assignee", "callerEmail"},
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
        kind = action["invocationMethod"]["integrationActionType"]
        if kind == "create_issue_from_entity":
            # Not tied to a blueprint: it acts on an entity of any blueprint.
            assert "blueprintIdentifier" not in trigger and trigger["operation"] == "CREATE"
        else:
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


def test_an_issue_from_an_entity_keeps_it_as_a_label_and_links_back() -> None:
    parsed = CreateFromEntityInput.parse(
        {
            "entityBlueprint": "service",
            "entityIdentifier": "payments:eu/api",
            "entityTitle": "Payments API",
            "projectKey": "plat",
            "issueType": "Bug",
            "summary": "Latency alert",
            "description": "p99 above 2s ",
            "labels": ["ops"],
            "priority": None,
            "fields": None,
        }
    )
    assert parsed.entity.label == "port-entity:service:payments:eu/api"
    fields = parsed.jira_fields("https://app.us.port.io")
    assert fields["labels"] == ["ops", "port-entity:service:payments:eu/api"]
    assert fields["description"] == (
        "p99 above 2s\n\n----\nCreated from Port for [service payments:eu/api (Payments API)|"
        "https://app.us.port.io/serviceEntity?identifier=payments%3Aeu%2Fapi]."
    )
    bare = CreateFromEntityInput.parse(
        {
            "entityBlueprint": "incident",
            "entityIdentifier": "INC-7",
            "projectKey": "OPS",
            "issueType": "Task",
            "summary": "Follow up",
        }
    )
    odd = CreateFromEntityInput.parse(
        {
            "entityBlueprint": "service",
            "entityIdentifier": "x",
            "entityTitle": "A [b|c]",
            "projectKey": "OPS",
            "issueType": "Task",
            "summary": "s",
        }
    )
    assert odd.jira_fields("https://p")["description"] == (
        "Created from Port for [service x (A  b c )|https://p/serviceEntity?identifier=x]."
    )
    assert bare.jira_fields("https://app.getport.io")["description"] == (
        "Created from Port for [incident INC-7|https://app.getport.io/incidentEntity?identifier=INC-7]."
    )


@pytest.mark.parametrize(
    ("properties", "message", "label"),
    [
        (
            {"entityBlueprint": "service", "entityIdentifier": "payments", "projectKey": None},
            "Input 'projectKey' is empty: the entity service payments has no Jira project key",
            "Missing project",
        ),
        (
            {"entityIdentifier": "payments", "projectKey": "PLAT"},
            "Input 'entityBlueprint' is required",
            "Invalid input",
        ),
        (
            {"entityBlueprint": "my service", "entityIdentifier": "x", "projectKey": "PLAT"},
            "Input 'entityBlueprint' must be a Port blueprint identifier",
            "Invalid input",
        ),
        (
            {"entityBlueprint": "service", "entityIdentifier": "a b", "projectKey": "PLAT"},
            "Input 'entityIdentifier' must be a Port entity identifier",
            "Invalid input",
        ),
        (
            {"entityBlueprint": "service", "entityIdentifier": "x" * 250, "projectKey": "PLAT"},
            "longer than a Jira label may be (255 characters)",
            "Invalid input",
        ),
    ],
)
def test_entity_inputs_are_checked_before_jira(
    properties: dict[str, Any], message: str, label: str
) -> None:
    with pytest.raises(ActionInputError) as caught:
        CreateFromEntityInput.parse({"issueType": "Task", "summary": "x", **properties})
    assert message in str(caught.value)
    assert caught.value.status_label == label


def test_assign_input_needs_an_assignee_or_the_callers_email() -> None:
    assert AssignInput.parse({"issueKey": "plat-1", "assignee": "jdoe", "callerEmail": None}) == (
        AssignInput("PLAT-1", "jdoe", None)
    )
    assert AssignInput.parse({"issueKey": "PLAT-1", "assignee": "", "callerEmail": "a@b.io"}) == (
        AssignInput("PLAT-1", None, "a@b.io")
    )
    with pytest.raises(ActionInputError, match="choose a Jira user"):
        AssignInput.parse({"issueKey": "PLAT-1", "assignee": None, "callerEmail": None})
    with pytest.raises(ActionInputError, match="not an e-mail address"):
        AssignInput.parse({"issueKey": "PLAT-1", "callerEmail": "nobody"})
