"""Both forms of Jira Server's sprint custom field."""

from __future__ import annotations

from typing import Any

from jira_server.client.sprints import parse_legacy_sprint, parse_sprint_value, sprint_field_ids

LEGACY = (
    "com.atlassian.greenhopper.service.sprint.Sprint@1a2b3c[id=7,rapidViewId=3,state=CLOSED,"
    "name=Sprint 7, part 2,startDate=2024-01-01T10:00:00.000+01:00,endDate=<null>,"
    "completeDate=<null>,activatedDate=<null>,sequence=7,goal=Ship, then rest=done,"
    "autoStartStop=false,synced=false]"
)


def test_legacy_text_with_commas_and_nulls() -> None:
    assert parse_legacy_sprint(LEGACY) == {
        "id": 7,
        "name": "Sprint 7, part 2",
        "state": "closed",
        "boardId": 3,
        "goal": "Ship, then rest=done",
        "startDate": "2024-01-01T10:00:00.000+01:00",
        "endDate": None,
        "completeDate": None,
    }


def test_legacy_text_with_keys_in_another_order_and_empty_goal() -> None:
    text = "com.atlassian.greenhopper.service.sprint.Sprint@ff[rapidViewId=<null>,state=FUTURE,name=Next,goal=,id=12]"
    parsed = parse_legacy_sprint(text)
    assert parsed is not None
    assert (parsed["id"], parsed["state"], parsed["boardId"], parsed["goal"]) == (
        12,
        "future",
        None,
        None,
    )


def test_json_objects_and_mixed_lists() -> None:
    value = [
        {"id": 37, "self": "x", "state": "future", "name": "sprint 2", "originBoardId": 4},
        LEGACY,
        "not a sprint",
        {"name": "no id"},
    ]
    parsed = parse_sprint_value(value)
    assert [(s["id"], s["state"], s["boardId"]) for s in parsed] == [
        (37, "future", 4),
        (7, "closed", 3),
    ]


def test_null_and_single_values() -> None:
    assert parse_sprint_value(None) == []
    assert [s["id"] for s in parse_sprint_value(LEGACY)] == [7]


def test_sprint_field_found_by_schema_not_name() -> None:
    fields: list[dict[str, Any]] = [
        {
            "id": "customfield_10104",
            "name": "Sprint",
            "schema": {"custom": "com.pyxis.greenhopper.jira:gh-sprint"},
        },
        {
            "id": "customfield_20000",
            "name": "Sprint (old)",
            "schema": {"custom": "com.example:text"},
        },
        {"id": "summary", "name": "Summary"},
    ]
    assert sprint_field_ids(fields) == ["customfield_10104"]
