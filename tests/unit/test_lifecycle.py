"""``__lifecycle``: lead and cycle time, time in status and category, reopenings, from a
changelog; the changelog re-read where search results truncated it; deleted statuses."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import respx

from jira_server.client.rest_client import STATUSES_TTL, JiraServerClient
from jira_server.errors import JiraResponseError
from jira_server.mapping.enrichment import IssueEnrichment
from jira_server.mapping.lifecycle import StatusCatalog, lifecycle
from jira_server.mapping.slimming import PayloadSlimmer
from jira_server.settings import load_settings
from tests.support.fixtures import load_fixture

HOST = "https://jira.example.test"
API = f"{HOST}/rest/api/2"


def status(sid: str, name: str, key: str, category: str) -> dict[str, Any]:
    return {"id": sid, "name": name, "statusCategory": {"key": key, "name": category}}


STATUSES = [
    status("1", "Open", "new", "To Do"),
    status("3", "In Progress", "indeterminate", "In Progress"),
    status("10001", "In Review", "indeterminate", "In Progress"),
    status("5", "Resolved", "done", "Done"),
    status("4", "Reopened", "new", "To Do"),
]
CATALOG = StatusCatalog(STATUSES)
NAMES = {s["id"]: s["name"] for s in STATUSES}


def move(hid: int, at: str, src: str, dst: str, *extra: dict[str, Any]) -> dict[str, Any]:
    item = {
        "field": "status",
        "fieldtype": "jira",
        "from": src,
        "fromString": NAMES.get(src, "Triage"),
        "to": dst,
        "toString": NAMES.get(dst, "Triage"),
    }
    return {"id": str(hid), "created": at, "items": [item, *extra]}


def issue_with(histories: list[dict[str, Any]], resolved: str | None) -> dict[str, Any]:
    return {
        "id": "10",
        "key": "ABC-1",
        "fields": {
            "created": "2024-01-01T00:00:00.000+0000",
            "resolutiondate": resolved,
            "status": {"id": "5", "name": "Resolved"},
        },
        "changelog": {
            "startAt": 0,
            "maxResults": 100,
            "total": len(histories),
            "histories": histories,
        },
    }


# Open 10h -> In Progress 20h -> In Review 6h -> Resolved 12h -> Reopened 2h -> In Progress
# 4h -> Resolved (at 54h). A non-status change in between counts for nothing.
HISTORY = [
    move(1, "2024-01-01T10:00:00.000+0000", "1", "3"),
    {
        "id": "2",
        "created": "2024-01-01T12:00:00.000+0000",
        "items": [{"field": "assignee", "fieldtype": "jira", "from": None, "to": "u1"}],
    },
    move(3, "2024-01-02T06:00:00.000+0000", "3", "10001"),
    move(4, "2024-01-02T12:00:00.000+0000", "10001", "5"),
    move(5, "2024-01-03T00:00:00.000+0000", "5", "4"),
    move(6, "2024-01-03T02:00:00.000+0000", "4", "3"),
    move(7, "2024-01-03T06:00:00.000+0000", "3", "5"),
]


def test_metrics_of_a_known_history() -> None:
    metrics = lifecycle(issue_with(HISTORY, "2024-01-03T06:00:00.000+0000"), CATALOG)
    assert metrics == {
        "leadTimeHours": 54.0,
        "cycleTimeHours": 44.0,
        "timeInStatusHours": {
            "Open": 10.0,
            "In Progress": 24.0,
            "In Review": 6.0,
            "Resolved": 12.0,
            "Reopened": 2.0,
        },
        "timeInCategoryHours": {"To Do": 12.0, "In Progress": 30.0, "Done": 12.0},
        "reopenings": 1,
        "statusChanges": 6,
        "firstTransitionAt": "2024-01-01T10:00:00.000+0000",
        "lastStatusChangeAt": "2024-01-03T06:00:00.000+0000",
        "currentStatus": "Resolved",
    }


def test_an_issue_created_in_progress_started_when_created() -> None:
    history = [move(1, "2024-01-01T04:00:00.000+0000", "3", "5")]
    metrics = lifecycle(issue_with(history, "2024-01-01T04:00:00.000+0000"), CATALOG)
    assert metrics["cycleTimeHours"] == metrics["leadTimeHours"] == 4.0
    assert metrics["timeInStatusHours"] == {"In Progress": 4.0}


def test_order_of_histories_does_not_matter_and_offsets_are_honoured() -> None:
    shuffled = list(reversed(HISTORY))
    shuffled[0] = {**shuffled[0], "created": "2024-01-03T07:00:00.000+0100"}  # the same instant
    metrics = lifecycle(issue_with(shuffled, "2024-01-03T06:00:00.000+0000"), CATALOG)
    assert metrics["leadTimeHours"] == 54.0
    assert metrics["timeInStatusHours"]["In Progress"] == 24.0


def test_an_unresolved_issue_never_started_has_no_lead_or_cycle_time() -> None:
    issue = issue_with([], None)
    issue["fields"]["status"] = {"id": "1", "name": "Open"}
    metrics = lifecycle(issue, CATALOG)
    assert metrics["leadTimeHours"] is None and metrics["cycleTimeHours"] is None
    assert metrics["timeInStatusHours"] == {} and metrics["statusChanges"] == 0
    assert metrics["currentStatus"] == "Open" and metrics["firstTransitionAt"] is None


def test_a_deleted_status_is_counted_under_its_name_and_reported_once() -> None:
    history = [
        move(1, "2024-01-01T05:00:00.000+0000", "1", "999"),  # 999: deleted since, "Triage"
        move(2, "2024-01-01T08:00:00.000+0000", "999", "3"),
        move(3, "2024-01-01T09:00:00.000+0000", "3", "999"),
        move(4, "2024-01-01T10:00:00.000+0000", "999", "5"),
    ]
    unknown: list[tuple[str | None, str | None]] = []
    metrics = lifecycle(
        issue_with(history, "2024-01-01T10:00:00.000+0000"),
        CATALOG,
        lambda sid, name: unknown.append((sid, name)),
    )
    assert metrics["timeInStatusHours"] == {"Open": 5.0, "Triage": 4.0, "In Progress": 1.0}
    assert metrics["timeInCategoryHours"] == {"To Do": 5.0, "Unknown": 4.0, "In Progress": 1.0}
    assert metrics["leadTimeHours"] == 10.0 and metrics["cycleTimeHours"] == 2.0
    assert set(unknown) == {("999", "Triage")}


def test_real_jira_changelog_items_are_read() -> None:
    # A Jira 5 issue with a full changelog and no status change: nothing counted, no error.
    issue = load_fixture("issue_with_changelog_jrjc_jira5.json")
    metrics = lifecycle(issue, CATALOG)
    assert metrics["statusChanges"] == 0 and metrics["timeInStatusHours"] == {}
    # A Server 8 status change (Reopened -> In Progress), as a history of the issue.
    event = load_fixture("webhook_issue_updated_status_server8.json")
    fields = event["issue"]["fields"]
    history = {"id": event["changelog"]["id"], "created": "2019-08-14T11:00:00.000+0800"}
    history["items"] = event["changelog"]["items"]
    issue = {"fields": fields, "changelog": {"total": 1, "histories": [history]}}
    metrics = lifecycle(issue, CATALOG)
    assert fields["created"] == "2019-08-13T06:14:23.580+0800"
    assert metrics["timeInStatusHours"] == {"Reopened": 28.76}
    assert metrics["currentStatus"] == fields["status"]["name"] == "In Progress"
    assert metrics["cycleTimeHours"] is None  # not resolved


class Source:
    """The client calls the enrichment makes, counted."""

    def __init__(self, full: dict[str, Any]) -> None:
        self.full = full
        self.calls: list[str] = []

    async def sprint_field_ids(self) -> list[str]:
        self.calls.append("field")
        return []

    async def dev_summary_field_ids(self) -> list[str]:
        self.calls.append("field")
        return ["customfield_10000"]

    async def fetch_statuses(self) -> list[dict[str, Any]]:
        self.calls.append("status")
        return STATUSES

    async def fetch_changelog(self, key: str) -> dict[str, Any]:
        self.calls.append(f"changelog {key}")
        return self.full


async def test_a_truncated_changelog_is_read_again_and_a_complete_one_is_not() -> None:
    full = issue_with(HISTORY, "2024-01-03T06:00:00.000+0000")
    truncated = copy.deepcopy(full)
    truncated["key"] = "ABC-2"
    truncated["changelog"].update(maxResults=2, histories=HISTORY[-2:])  # total stays 7
    source = Source(full["changelog"])
    enrichment = await IssueEnrichment.load([".__lifecycle.leadTimeHours"], source)
    assert enrichment.request_expand([]) == ["changelog"]
    assert enrichment.request_fields(["summary"]) == [
        "summary",
        "created",
        "resolutiondate",
        "status",
    ]
    complete = copy.deepcopy(full)
    await enrichment.apply([complete, truncated])
    assert source.calls == ["status", "changelog ABC-2"]
    assert complete["__lifecycle"] == truncated["__lifecycle"]
    assert truncated["__lifecycle"]["reopenings"] == 1


async def test_a_mapping_not_reading_the_lifecycle_asks_for_nothing_more() -> None:
    source = Source({})
    enrichment = await IssueEnrichment.load([".key", ".fields.summary"], source)
    assert source.calls == []
    assert enrichment.request_expand([]) == []
    assert enrichment.request_fields(["summary"]) == ["summary"]
    issue: dict[str, Any] = {"key": "A-1", "fields": {}}
    await enrichment.apply([issue])
    assert issue == {"key": "A-1", "fields": {}}


def test_slimming_keeps_the_lifecycle_read_and_drops_the_changelog() -> None:
    issue = issue_with(HISTORY, "2024-01-03T06:00:00.000+0000")
    issue["__lifecycle"] = lifecycle(issue, CATALOG)
    slimmer = PayloadSlimmer.for_expressions([".key", ".__lifecycle.cycleTimeHours"])
    assert slimmer is not None
    slim = slimmer.slim(issue)
    assert "changelog" not in slim
    assert slim["__lifecycle"]["cycleTimeHours"] == 44.0


@pytest.fixture
async def jira() -> AsyncIterator[JiraServerClient]:
    client = JiraServerClient(load_settings({"jira_server_host": HOST, "token": "pat-lc-0001"}))
    yield client
    await client.aclose()


@respx.mock
async def test_the_client_reads_the_whole_changelog_from_the_issue_resource(
    jira: JiraServerClient,
) -> None:
    body = issue_with(HISTORY, None)
    route = respx.get(f"{API}/issue/ABC-1").respond(json=body)
    assert len((await jira.fetch_changelog("ABC-1"))["histories"]) == len(HISTORY)
    assert route.calls[0].request.url.params["expand"] == "changelog"


@respx.mock
async def test_a_changelog_still_truncated_fails_loudly(jira: JiraServerClient) -> None:
    body = issue_with(HISTORY, None)
    body["changelog"].update(total=500)
    respx.get(f"{API}/issue/ABC-1").respond(json=body)
    with pytest.raises(JiraResponseError, match="7 of the 500 changelog entries of ABC-1"):
        await jira.fetch_changelog("ABC-1")


@respx.mock
async def test_statuses_are_read_once_then_again_after_their_ttl() -> None:
    now = [1000.0]
    jira = JiraServerClient(
        load_settings({"jira_server_host": HOST, "token": "pat-lc-0001"}), clock=lambda: now[0]
    )
    route = respx.get(f"{API}/status").mock(return_value=httpx.Response(200, json=STATUSES))
    try:
        assert await jira.fetch_statuses() == STATUSES
        now[0] += STATUSES_TTL - 1
        assert await jira.fetch_statuses() == STATUSES
        assert route.call_count == 1
        now[0] += 2  # a status added to a workflow since is seen
        assert await jira.fetch_statuses() == STATUSES
        assert route.call_count == 2
    finally:
        await jira.aclose()
