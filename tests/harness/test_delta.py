"""Delta runs through the real framework (harness) with a cursor store: what is read, what
is written, and that any failure in any phase leaves the recorded state as it was."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.support import jira_mock
from tests.support.harness import CursorStore, booted, default_mapping, resource

LATER = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def delta_mapping(**selector: Any) -> dict[str, Any]:
    mapping = default_mapping()
    resource(mapping, "issue")["selector"].update({"incremental": True, **selector})
    return mapping


def issue_searches(jira: jira_mock.JiraMock) -> list[dict[str, Any]]:
    """The searches of the issue kind, not those the comment kind makes for its comments."""
    return [s for s in jira.searches if "comment" not in (s.get("fields") or [])]


def fields_asked(jira: jira_mock.JiraMock) -> list[list[str]]:
    return [s.get("fields") or [] for s in jira.searches]


async def test_a_delta_run_lists_the_scope_and_rereads_only_what_changed() -> None:
    jira = jira_mock.sample_jira()
    cursors = CursorStore()
    async with booted(jira.transport(), mapping=delta_mapping()) as harness:
        cursors.install(harness)
        first = await harness.trigger_resync()
        assert first.errors == []
        assert ("issue.runs-since-full", 6) in cursors.values
    held = first.upserted_entities
    first_state = dict(cursors.values)
    jira.searches.clear()
    changed = jira.issues[1]
    changed["fields"]["summary"] = "Part A, renamed"
    changed["fields"]["updated"] = LATER
    async with booted(jira.transport(), mapping=delta_mapping(), port_entities=held) as harness:
        cursors.install(harness)
        second = await harness.trigger_resync()
    assert second.errors == []
    assert ["updated"] in fields_asked(jira)  # the scope: ids, keys and updated only
    # (the comment kind re-reads the comments of the same changed issue: fields=comment)
    by_id = [s for s in issue_searches(jira) if " id in (" in s["jql"]]
    assert len(by_id) == 1 and f"id in ({changed['id']})" in by_id[0]["jql"]
    # The other kinds are read in full, but what the catalog holds unchanged is not re-sent.
    assert [e["identifier"] for e in second.upserted_entities] == [changed["key"]]
    assert second.upserted_entities[0]["title"] == "Part A, renamed"
    assert second.deleted_entities == []
    runs = cursors.values[("issue.runs-since-full", 6)]
    assert runs != first_state[("issue.runs-since-full", 6)]


async def test_a_delta_run_deletes_what_left_the_scope() -> None:
    jira = jira_mock.sample_jira()
    cursors = CursorStore()
    async with booted(jira.transport(), mapping=delta_mapping()) as harness:
        cursors.install(harness)
        first = await harness.trigger_resync()
    gone = jira.issues.pop(4)  # OLD-2 deleted in Jira; OLD is archived but visible
    async with booted(
        jira.transport(), mapping=delta_mapping(), port_entities=first.upserted_entities
    ) as harness:
        cursors.install(harness)
        second = await harness.trigger_resync()
    assert second.errors == []
    assert [e["identifier"] for e in second.deleted_entities] == [gone["key"]]


async def test_two_issue_resources_each_run_as_their_selector_says() -> None:
    jira = jira_mock.sample_jira()
    mapping = default_mapping()
    issue = resource(mapping, "issue")
    mapping["resources"].append(
        json.loads(json.dumps({**issue, "selector": {**issue["selector"], "incremental": False}}))
    )
    issue["selector"]["incremental"] = True
    cursors = CursorStore()
    async with booted(jira.transport(), mapping=mapping) as harness:
        cursors.install(harness)
        first = await harness.trigger_resync()
        assert first.errors == []
        # Only the delta resource records a state; the full one never needs it.
        # (the comment and worklog resources, #7 and #8, record their own)
        issue_state = {(k, i) for k, i in cursors.values if k.split(".")[0] == "issue"}
        assert {k for k, _ in issue_state} == {"issue", "issue.runs-since-full", "issue.config"}
        assert {i for _, i in issue_state} == {6}
    jira.searches.clear()
    async with booted(
        jira.transport(), mapping=mapping, port_entities=first.upserted_entities
    ) as harness:
        cursors.install(harness)
        second = await harness.trigger_resync()
    assert second.errors == []
    asked = fields_asked(jira)
    scope = [f for f in asked if f == ["updated"]]
    full = [f for f in asked if "summary" in f]
    assert scope and full  # resource 6 listed its scope; resource 7 read everything
    assert not any('updated >= "' in s["jql"] for s in jira.searches)


async def test_a_failure_in_any_phase_keeps_the_state_and_deletes_nothing() -> None:
    jira = jira_mock.sample_jira()
    cursors = CursorStore()
    async with booted(jira.transport(), mapping=delta_mapping()) as harness:
        cursors.install(harness)
        first = await harness.trigger_resync()
    state = dict(cursors.values)
    held = [*first.upserted_entities]
    jira.issues.pop(4)  # something to delete, were the run to succeed

    # The sprint field list (read only by the issue kind) answers 500.
    transport = jira.transport()
    transport.add_route("GET", "/rest/api/2/field", {"status_code": 500, "json": {}})
    transport._routes.insert(0, transport._routes.pop())
    async with booted(transport, mapping=delta_mapping(), port_entities=held) as harness:
        cursors.install(harness)
        failed = await harness.trigger_resync()
    assert failed.errors and failed.deleted_entities == []
    assert "issue (resource #6)" in str(failed.errors[0])
    assert cursors.values == state

    jira.reject_credentials = True  # a revoked token
    async with booted(jira.transport(), mapping=delta_mapping(), port_entities=held) as harness:
        cursors.install(harness)
        revoked = await harness.trigger_resync()
    assert revoked.errors and revoked.upserted_entities == [] and revoked.deleted_entities == []
    assert "all kinds (credentials)" in str(revoked.errors[0])
    assert cursors.values == state
