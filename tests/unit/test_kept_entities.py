"""Compact records of pushed entities, each relation target carried once per resync."""

from __future__ import annotations

from port_ocean.core.models import Entity

from jira_server.kept_entities import KeptEntities


def issue(key: str, reporter: str | None, sprints: list[str]) -> Entity:
    entity = Entity.parse_obj({"identifier": key, "blueprint": "jiraServerIssue"})
    entity.relations = {"reporter": reporter, "sprints": sprints, "parentIssue": None}
    return entity


def test_each_target_is_carried_once() -> None:
    kept = KeptEntities().compact(
        [issue("A-1", "u1", ["7", "8"]), issue("A-2", "u1", ["8", "9"]), issue("A-3", "u1", [])]
    )
    assert [(k.identifier, k.blueprint) for k in kept] == [
        ("A-1", "jiraServerIssue"),
        ("A-2", "jiraServerIssue"),
        ("A-3", "jiraServerIssue"),
    ]
    assert kept[0].relations == {"reporter": ["u1"], "sprints": ["7", "8"]}
    assert kept[1].relations == {"sprints": ["9"]}
    assert kept[2].relations == {}


def test_reset_starts_a_new_resync() -> None:
    kept = KeptEntities()
    kept.compact([issue("A-1", "u1", [])])
    kept.reset()
    assert kept.compact([issue("A-2", "u1", [])])[0].relations == {"reporter": ["u1"]}
