"""Comment and worklog reads against respx mocks: paging only truncated comments, feed pages
followed by nextPage, list batches, the per-issue fallback, cut and malformed items."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import respx

from jira_server.client.activity import (
    MAX_TEXT,
    CommentReader,
    WorklogReader,
    parse_since,
)
from jira_server.client.rest_client import JiraServerClient
from jira_server.errors import JiraResponseError
from jira_server.settings import load_settings

HOST = "https://jira.example.test"
API = f"{HOST}/rest/api/2"


@pytest.fixture
async def jira() -> AsyncIterator[JiraServerClient]:
    settings = load_settings({"jira_server_host": HOST, "token": "pat-unit-activity-0001"})
    client = JiraServerClient(settings)
    yield client
    await client.aclose()


def comment(i: int, body: Any = None) -> dict[str, Any]:
    return {
        "id": str(i),
        "body": f"comment {i}" if body is None else body,
        "author": {"key": f"JIRAUSER{i}"},
        "created": "2025-06-01T10:00:00.000+0000",
        "updated": "2025-06-02T10:00:00.000+0000",
    }


def issue(issue_id: int, comments: list[dict[str, Any]], total: int) -> dict[str, Any]:
    return {
        "id": str(issue_id),
        "key": f"PLAT-{issue_id}",
        "fields": {
            "updated": "2025-06-02T10:00:00.000+0000",
            "comment": {"comments": comments, "maxResults": len(comments), "total": total},
        },
    }


def search_answer(issues: list[dict[str, Any]]) -> httpx.Response:
    return httpx.Response(
        200, json={"startAt": 0, "maxResults": 1000, "total": len(issues), "issues": issues}
    )


async def test_only_truncated_issues_are_paged(jira: JiraServerClient) -> None:
    issues = [issue(1, [comment(11)], 1), issue(2, [comment(21)], 3)]
    with respx.mock:
        search = respx.post(f"{API}/search").mock(return_value=search_answer(issues))
        paged = respx.get(f"{API}/issue/PLAT-2/comment").mock(
            side_effect=[
                httpx.Response(200, json={"startAt": 0, "total": 3, "comments": [comment(21)]}),
                httpx.Response(
                    200, json={"startAt": 1, "total": 3, "comments": [comment(22), comment(23)]}
                ),
            ]
        )
        pages = [p async for p in CommentReader(jira).pages("project = PLAT")]
    assert [c["id"] for p in pages for c in p] == ["11", "21", "22", "23"]
    assert {c["__issue"]["key"] for p in pages for c in p} == {"PLAT-1", "PLAT-2"}
    assert json.loads(search.calls[0].request.content)["fields"] == ["comment", "updated"]
    assert paged.call_count == 2  # PLAT-1 embedded all of its comments: no call
    assert paged.calls[1].request.url.params["startAt"] == "1"


async def test_huge_body_is_cut_and_malformed_comment_fails_after_the_rest(
    jira: JiraServerClient,
) -> None:
    issues = [issue(1, [comment(11, "y" * (MAX_TEXT + 10)), comment(12, None) | {"body": None}], 2)]
    reader = CommentReader(jira)
    pages: list[list[dict[str, Any]]] = []
    with respx.mock, pytest.raises(JiraResponseError, match=r"issue PLAT-1, comment 12"):
        respx.post(f"{API}/search").mock(return_value=search_answer(issues))
        async for page in reader.pages("project = PLAT"):
            pages.append(page)
    (only,) = [c for p in pages for c in p]
    assert only["id"] == "11" and only["body"].endswith("[cut: 10 more characters]")
    assert len(only["body"]) < MAX_TEXT + 40


def worklog(i: int, issue_id: int = 1, **changes: Any) -> dict[str, Any]:
    return {
        "id": str(i),
        "issueId": str(issue_id),
        "timeSpentSeconds": 60 * i,
        "started": "2025-06-01T10:00:00.000+0000",
        "updated": "2025-06-01T10:30:00.000+0000",
        "comment": "",
        "author": {"key": "JIRAUSER1"},
        **changes,
    }


async def test_feed_follows_next_page_and_lists_in_batches(jira: JiraServerClient) -> None:
    first = {
        "values": [{"worklogId": 1, "updatedTime": 100}, {"worklogId": 2, "updatedTime": 200}],
        "since": 0,
        "until": 200,
        "lastPage": False,
        "nextPage": f"{API}/worklog/updated?since=200",
    }
    last = {"values": [{"worklogId": 3, "updatedTime": 300}], "until": 300, "lastPage": True}
    reader = WorklogReader(jira)
    with respx.mock:
        feed_route = respx.get(f"{API}/worklog/updated").mock(
            side_effect=[httpx.Response(200, json=first), httpx.Response(200, json=last)]
        )
        feed = await reader.feed("updated", 0)
        assert feed.ids == [1, 2, 3] and feed.until_ms == 300
        assert feed_route.calls[1].request.url.params["since"] == "200"
        respx.post(f"{API}/worklog/list").mock(
            return_value=httpx.Response(200, json=[worklog(1), worklog(2, issue_id=9)])
        )
        # Issue 9 is not selected by the JQL: its worklog is left out.
        respx.post(f"{API}/search").mock(return_value=search_answer([{"id": "1", "key": "PLAT-1"}]))
        pages = [p async for p in reader.bodies("project = PLAT", [1, 2])]
    (only,) = [w for p in pages for w in p]
    assert only["id"] == "1" and only["__issue"] == {"id": "1", "key": "PLAT-1"}


async def test_per_issue_fallback_reads_beyond_the_embedded_twenty(
    jira: JiraServerClient,
) -> None:
    embedded = {"startAt": 0, "maxResults": 20, "total": 21, "worklogs": [worklog(1)]}
    every = {"worklogs": [worklog(i) for i in range(1, 22)] + [worklog(99, started="later")]}
    reader = WorklogReader(jira)
    pages: list[list[dict[str, Any]]] = []
    with respx.mock, pytest.raises(JiraResponseError, match=r"worklog 99 of issue PLAT-1"):
        respx.post(f"{API}/search").mock(
            return_value=search_answer(
                [{"id": "1", "key": "PLAT-1", "fields": {"worklog": embedded}}]
            )
        )
        respx.get(f"{API}/issue/PLAT-1/worklog").mock(return_value=httpx.Response(200, json=every))
        async for page in reader.per_issue("project = PLAT"):
            pages.append(page)
    assert len([w for p in pages for w in p]) == 21


def test_since_accepts_dates_and_periods_and_names_itself_when_wrong() -> None:
    now = datetime(2025, 6, 15, tzinfo=UTC)
    assert parse_since("-30d", now) == datetime(2025, 5, 16, tzinfo=UTC)
    assert parse_since("2w", now) == datetime(2025, 6, 1, tzinfo=UTC)
    assert parse_since("2025-01-31") == datetime(2025, 1, 31, tzinfo=UTC)
    with pytest.raises(ValueError, match=r"since 'last week' is neither a date"):
        parse_since("last week")


async def test_rendered_body_only_when_asked(jira: JiraServerClient) -> None:
    found = issue(1, [comment(11)], 1) | {
        "renderedFields": {"comment": {"comments": [{"id": "11", "body": "<p>comment 11</p>"}]}}
    }
    with respx.mock:
        search = respx.post(f"{API}/search").mock(return_value=search_answer([found]))
        pages = [p async for p in CommentReader(jira, rendered=True).pages("project = PLAT")]
    assert json.loads(search.calls[0].request.content)["expand"] == ["renderedFields"]
    assert pages[0][0]["renderedBody"] == "<p>comment 11</p>"
