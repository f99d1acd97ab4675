"""What reading ``__sprints`` adds to an issue request, shared by resyncs, live events and
actions."""

from __future__ import annotations

from typing import Any

from jira_server.mapping.enrichment import SPRINTS_KEY, SprintEnrichment

SPRINT = {"id": 7, "name": "S7", "state": "active", "boardId": 1}


async def sprint_fields() -> list[str]:
    return ["customfield_10101"]


async def no_call() -> list[str]:
    raise AssertionError("the field list is read only when a mapping reads __sprints")


async def test_mappings_reading_sprints_ask_for_the_sprint_field_once() -> None:
    sprints = await SprintEnrichment.load(True, sprint_fields)
    assert sprints.request_fields(["summary", "customfield_10101"]) == [
        "summary",
        "customfield_10101",
    ]
    assert sprints.request_fields(["summary"]) == ["summary", "customfield_10101"]
    assert sprints.request_fields(["*all"]) == ["*all"]


async def test_issues_get_their_sprints_and_an_empty_list_without_a_sprint_field() -> None:
    issues: list[dict[str, Any]] = [
        {"key": "A-1", "fields": {"customfield_10101": [SPRINT]}},
        {"key": "A-2", "fields": {}},
    ]
    (await SprintEnrichment.load(True, sprint_fields)).apply(issues)
    assert [[s["id"] for s in i[SPRINTS_KEY]] for i in issues] == [[7], []]

    # A Jira without Jira Software has no sprint field: still a list, as a resync maps it.
    bare: list[dict[str, Any]] = [{"key": "A-3", "fields": {}}]

    async def none() -> list[str]:
        return []

    (await SprintEnrichment.load(True, none)).apply(bare)
    assert bare[0][SPRINTS_KEY] == []


async def test_mappings_not_reading_sprints_change_nothing() -> None:
    sprints = await SprintEnrichment.load(False, no_call)
    assert sprints.request_fields(["summary"]) == ["summary"]
    issue: dict[str, Any] = {"key": "A-1", "fields": {"customfield_10101": [SPRINT]}}
    sprints.apply([issue])
    assert SPRINTS_KEY not in issue
