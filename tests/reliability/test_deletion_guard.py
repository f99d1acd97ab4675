"""The per-blueprint deletion guard: the rule on its own, then inside the framework's real
reconciliation (in-process harness; the end-to-end version is in test_no_deletion_e2e)."""

from __future__ import annotations

from typing import Any

from port_ocean.core.models import Entity

from jira_server import outcome
from jira_server.deletion_guard import ALWAYS_ALLOWED_DELETIONS, kinds_of, review
from tests.support import jira_mock
from tests.support.harness import booted, default_mapping


def entities(blueprint: str, count: int, prefix: str = "E") -> list[Entity]:
    return [
        Entity(identifier=f"{prefix}-{n}", blueprint=blueprint, icon=None, title=None)
        for n in range(count)
    ]


def test_a_kind_dropping_to_zero_is_refused() -> None:
    [refusal] = review(entities("issue", 300), [], limit=0.5)
    assert (refusal.blueprint, refusal.deleting, refusal.keeping) == ("issue", 300, 0)
    assert "refusing to delete 300 of 300 issue entities (100%" in refusal.message()
    assert "so it deletes nothing" in refusal.message()
    assert "maxDeletionFraction to 1" in refusal.message()


def test_each_blueprint_is_judged_on_its_own() -> None:
    # 100 of 110 issues would go; 900 users stay. Across kinds that is 100/1010 < 0.9 (the
    # framework's own threshold lets it through); per blueprint it is 91% of the issues.
    deleting = entities("issue", 100)
    keeping = entities("issue", 10, "K") + entities("user", 900)
    [refusal] = review(deleting, keeping, limit=0.5)
    assert refusal.blueprint == "issue"
    assert round(refusal.fraction, 2) == 0.91


def test_ordinary_churn_and_small_kinds_pass() -> None:
    assert review(entities("issue", 40), entities("issue", 60, "K"), limit=0.5) == []
    few = ALWAYS_ALLOWED_DELETIONS
    assert review(entities("sprint", few), [], limit=0.5) == []  # the last sprints closing
    assert review(entities("sprint", few + 1), [], limit=0.5) != []


def test_limit_one_lets_everything_through() -> None:
    assert review(entities("issue", 500), [], limit=1.0) == []


def test_kept_duplicates_count_once() -> None:
    keeping = entities("issue", 10, "K") * 5
    assert review(entities("issue", 11), keeping, limit=0.5) != []


class Resource:
    def __init__(self, kind: str, blueprint: str) -> None:
        self.kind = kind
        self.port = type("P", (), {"entity": type("E", (), {"mappings": None})()})()
        self.port.entity.mappings = type("M", (), {"blueprint": blueprint})()


def test_refusals_name_the_kinds_writing_the_blueprint() -> None:
    resources = [
        Resource("issue", '"jiraServerIssue"'),
        Resource("issue", '"jiraServerIssue"'),
        Resource("user", '"jiraServerUser"'),
    ]
    assert kinds_of("jiraServerIssue", resources) == "issue"
    assert kinds_of("jiraServerSprint", resources) == "jiraServerSprint"


def stale_issues(count: int) -> list[dict[str, Any]]:
    return [
        {
            "identifier": f"GONE-{n}",
            "blueprint": "jiraServerIssue",
            "title": "Stale",
            "properties": {},
            "relations": {},
        }
        for n in range(count)
    ]


async def current_entities() -> list[dict[str, Any]]:
    async with booted(jira_mock.sample_jira().transport()) as harness:
        return list((await harness.trigger_resync()).upserted_entities)


async def test_reconciliation_refuses_a_mass_deletion_of_one_kind() -> None:
    current = await current_entities()
    issues = [e for e in current if e["blueprint"] == "jiraServerIssue"]
    stale = stale_issues(2 * len(issues) + 6)  # 2/3 of the issues would go
    held = [*current, *stale]
    assert len(stale) / len(held) <= 0.9  # the framework's own threshold lets that through
    async with booted(jira_mock.sample_jira().transport(), port_entities=held) as harness:
        result = await harness.trigger_resync()
    assert result.deleted_entities == []
    assert "refusing to delete" in outcome.failures()["issue"]


async def test_reconciliation_deletes_when_the_drop_is_allowed() -> None:
    current = await current_entities()
    mapping = default_mapping()
    mapping["maxDeletionFraction"] = 1
    held = [*current, *stale_issues(30)]
    transport = jira_mock.sample_jira().transport()
    async with booted(transport, mapping=mapping, port_entities=held) as harness:
        result = await harness.trigger_resync()
    assert {e["identifier"] for e in result.deleted_entities} == {f"GONE-{n}" for n in range(30)}
    assert outcome.failures() == {}
