"""Compact records of pushed entities: produced identifiers per blueprint, each relation
target carried once per resync, one shared record for entities that carry nothing new."""

from __future__ import annotations

from port_ocean.core.models import Entity

from jira_server.kept_entities import KeptEntities


def issue(key: str, reporter: str | None, sprints: list[str]) -> Entity:
    entity = Entity.parse_obj({"identifier": key, "blueprint": "jiraServerIssue"})
    entity.relations = {"reporter": reporter, "sprints": sprints, "parentIssue": None}
    return entity


def test_each_target_is_carried_once_and_the_rest_share_a_record() -> None:
    kept = KeptEntities()
    records = kept.compact(
        [issue("A-1", "u1", ["7", "8"]), issue("A-2", "u1", ["8", "9"]), issue("A-3", "u1", [])]
    )
    assert records[0].identifier == "A-1"
    assert records[0].relations == {"reporter": ["u1"], "sprints": ["7", "8"]}
    assert (records[1].identifier, records[1].relations) == ("A-2", {"sprints": ["9"]})
    assert records[2].relations == {} and records[2].identifier == ""
    assert records[2] is kept.compact([issue("A-4", None, [])])[0]  # shared per blueprint


def test_produced_identifiers_are_remembered_per_blueprint() -> None:
    kept = KeptEntities()
    assert not kept.active
    kept.compact([issue("A-1", None, []), issue("A-2", None, [])])
    assert kept.active
    assert kept.produced("jiraServerIssue", "A-1") and kept.produced("jiraServerIssue", "A-2")
    assert not kept.produced("jiraServerIssue", "A-3")
    assert not kept.produced("jiraServerUser", "A-1")
    assert kept.produced_counts() == {"jiraServerIssue": 2}


def test_reset_starts_a_new_resync() -> None:
    kept = KeptEntities()
    kept.compact([issue("A-1", "u1", [])])
    kept.reset()
    assert not kept.produced("jiraServerIssue", "A-1")
    assert kept.compact([issue("A-2", "u1", [])])[0].relations == {"reporter": ["u1"]}
