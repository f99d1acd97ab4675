"""``__development``: the Development panel summary field, from its JSON part or its bean
text, on real bodies and on the counts a linked Bitbucket/CI gives."""

from __future__ import annotations

import json
from typing import Any

from jira_server.client.development import (
    dev_summary_field_ids,
    empty_development,
    parse_dev_summary,
)
from jira_server.mapping.enrichment import IssueEnrichment
from tests.support.fixtures import load_fixture

BEAN = "com.atlassian.jira.plugin.devstatus"


def dev_field(fixture: str) -> str:
    issue = load_fixture(fixture)
    fields = issue.get("fields") or issue["issue"]["fields"]
    value: str = fields["customfield_10000"]
    return value


def linked_summary(*, json_part: bool) -> str:
    """A summary with 3 pull requests (1 open, 2 merged), builds and commits."""
    bean = (
        f"{{summaryBean={BEAN}.rest.SummaryBean@1a[summary={{pullrequest={BEAN}.rest."
        "SummaryItemBean@2b[byInstanceType={},overall=PullRequestOverallBean{stateCount=3, "
        "state='MERGED', details=PullRequestOverallDetails{openCount=1, mergedCount=2, "
        f"declinedCount=0}}}}], build={BEAN}.rest.SummaryItemBean@3c[byInstanceType={{}},overall="
        f"{BEAN}.summary.beans.BuildOverallBean@4d[failedBuildCount=1,successfulBuildCount=4,"
        "unknownBuildCount=0,count=5,lastUpdated=<null>,lastUpdatedTimestamp=<null>]], review="
        f"{BEAN}.rest.SummaryItemBean@5e[byInstanceType={{}},overall={BEAN}.summary.beans."
        "ReviewsOverallBean@6f[dueDate=<null>,overDue=false,state=REVIEW,stateCount=1,count=1,"
        f"lastUpdated=<null>,lastUpdatedTimestamp=<null>]], repository={BEAN}.rest."
        f"SummaryItemBean@7a[byInstanceType={{}},overall={BEAN}.summary.beans.CommitOverallBean@8b"
        f"[count=12,lastUpdated=<null>,lastUpdatedTimestamp=<null>]], branch={BEAN}.rest."
        f"SummaryItemBean@9c[byInstanceType={{}},overall={BEAN}.summary.beans.BranchOverallBean@ad"
        "[count=2,lastUpdated=<null>,lastUpdatedTimestamp=<null>]]},configErrors=[],errors=[]]"
    )
    if not json_part:
        return bean + "}"
    summary = {
        "pullrequest": {
            "overall": {
                "count": 3,
                "lastUpdated": "2024-05-02T10:00:00.000+0000",
                "stateCount": 3,
                "state": "MERGED",
                "details": {"openCount": 1, "mergedCount": 2, "declinedCount": 0, "total": 3},
                "open": False,
            },
            "byInstanceType": {"stash": {"count": 3, "name": "Bitbucket Server"}},
        },
        "build": {
            "overall": {
                "count": 5,
                "lastUpdated": "2024-05-03T10:00:00.000+0000",
                "failedBuildCount": 1,
                "successfulBuildCount": 4,
                "unknownBuildCount": 0,
            },
            "byInstanceType": {},
        },
        "review": {"overall": {"count": 1, "state": "REVIEW"}, "byInstanceType": {}},
        "repository": {"overall": {"count": 12, "lastUpdated": None}, "byInstanceType": {}},
        "branch": {"overall": {"count": 2, "lastUpdated": None}, "byInstanceType": {}},
    }
    payload = {"cachedValue": {"errors": [], "configErrors": [], "summary": summary}}
    return f"{bean}, devSummaryJson={json.dumps(payload)}}}"


LINKED = {
    "pullRequests": {"count": 3, "state": "MERGED", "open": 1, "merged": 2, "declined": 0},
    "builds": {"count": 5, "successful": 4, "failed": 1, "unknown": 0},
    "reviews": {"count": 1, "state": "REVIEW"},
    "commits": 12,
    "branches": 2,
    "deployments": 0,
}


def test_real_summaries_without_linked_code_are_all_zero() -> None:
    for fixture in (
        "issue_dc_port.json",
        "webhook_issue_created_dc9.json",
        "webhook_issue_updated_status_server8.json",
    ):
        assert parse_dev_summary(dev_field(fixture)) == empty_development(), fixture


def test_the_json_part_and_the_bean_text_give_the_same_counts() -> None:
    from_json = parse_dev_summary(linked_summary(json_part=True))
    from_bean = parse_dev_summary(linked_summary(json_part=False))
    assert {k: v for k, v in from_json.items() if k != "lastUpdated"} == LINKED
    assert from_json["lastUpdated"] == "2024-05-03T10:00:00.000+0000"
    assert {k: v for k, v in from_bean.items() if k != "lastUpdated"} == LINKED


def test_odd_values_give_an_empty_summary_not_an_error() -> None:
    for value in (None, "", "garbage", 42, "{summaryBean=x, devSummaryJson={broken"):
        assert parse_dev_summary(value) == empty_development()


def test_the_field_is_found_by_its_schema_whatever_its_id() -> None:
    fields: list[dict[str, Any]] = [
        {"id": "customfield_10300", "schema": {"custom": "com.atlassian.jira.plugins."
         "jira-development-integration-plugin:devsummarycf"}},
        {"id": "customfield_10101", "schema": {"custom": "com.pyxis.greenhopper.jira:gh-sprint"}},
        {"id": "summary"},
    ]  # fmt: skip
    assert dev_summary_field_ids(fields) == ["customfield_10300"]


class Source:
    def __init__(self) -> None:
        self.calls = 0

    async def sprint_field_ids(self) -> list[str]:
        return []

    async def dev_summary_field_ids(self) -> list[str]:
        self.calls += 1
        return ["customfield_10000"]

    async def fetch_statuses(self) -> list[dict[str, Any]]:
        raise AssertionError("no lifecycle read")

    async def fetch_changelog(self, key: str) -> dict[str, Any]:
        raise AssertionError("no lifecycle read")


async def test_mappings_reading_development_ask_for_the_field_and_get_the_counts() -> None:
    source = Source()
    enrichment = await IssueEnrichment.load([".__development.pullRequests.count"], source)
    assert enrichment.request_fields(["summary"]) == ["summary", "customfield_10000"]
    assert enrichment.request_expand([]) == []
    issues: list[dict[str, Any]] = [
        {"key": "A-1", "fields": {"customfield_10000": linked_summary(json_part=True)}},
        {"key": "A-2", "fields": {"customfield_10000": None}},
    ]
    await enrichment.apply(issues)
    assert issues[0]["__development"]["pullRequests"]["merged"] == 2
    assert issues[1]["__development"] == empty_development()
    assert source.calls == 1
