"""The Jira client against respx mocks: auth, Jira's error shapes, retries, paging."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import respx

from jira_server.client.rest_client import JiraServerClient
from jira_server.errors import (
    JiraAuthError,
    JiraConnectionError,
    JiraPermissionError,
    JiraQueryError,
    JiraResponseError,
    PartialResultError,
)
from jira_server.settings import load_settings

HOST = "https://jira.example.test"
API = f"{HOST}/rest/api/2"
TOKEN = "pat-unit-secret-0001"


class Sleeps:
    """A fake clock: sleeping records the delay and moves the clock on by it."""

    def __init__(self) -> None:
        self.delays: list[float] = []
        self.now = 1000.0

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        self.now += delay

    def clock(self) -> float:
        return self.now


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
async def jira(sleeps: Sleeps) -> AsyncIterator[JiraServerClient]:
    settings = load_settings(
        {
            "jira_server_host": HOST,
            "token": TOKEN,
            "custom_headers": {"CF-Access-Client-Id": "proxy-id"},
            "max_retries": 3,
            "max_concurrent_requests": 3,
        }
    )
    client = JiraServerClient(settings, sleep=sleeps, clock=sleeps.clock)
    yield client
    await client.aclose()


async def collect(pages: AsyncIterator[list[dict[str, Any]]]) -> list[list[dict[str, Any]]]:
    return [page async for page in pages]


@respx.mock
async def test_sends_bearer_and_custom_headers(jira: JiraServerClient) -> None:
    route = respx.get(f"{API}/myself").respond(
        200, json={"name": "bot"}, headers={"X-AUSERNAME": "bot"}
    )
    assert await jira.fetch_myself() == {"name": "bot"}
    sent = route.calls.last.request.headers
    assert sent["Authorization"] == f"Bearer {TOKEN}"
    assert sent["CF-Access-Client-Id"] == "proxy-id"


@respx.mock
async def test_anonymous_fallback_is_an_auth_error(jira: JiraServerClient) -> None:
    respx.get(f"{API}/project").respond(200, json=[], headers={"X-AUSERNAME": "anonymous"})
    with pytest.raises(JiraAuthError, match=r"treated .* as anonymous"):
        await collect(jira.fetch_projects())


@pytest.mark.parametrize(
    "body",
    [
        {"message": "Client must be authenticated to access this resource.", "status-code": 401},
        {"errorMessages": ["You are not authenticated."], "errors": {}},
    ],
)
@respx.mock
async def test_401_is_never_retried_and_explains(
    jira: JiraServerClient, body: dict[str, Any]
) -> None:
    route = respx.get(f"{API}/myself").respond(401, json=body)
    with pytest.raises(JiraAuthError) as caught:
        await jira.fetch_myself()
    assert route.call_count == 1
    assert "personal access token" in str(caught.value)
    assert "authenticated" in str(caught.value)


@respx.mock
async def test_captcha_lockout_explains_how_to_unlock(jira: JiraServerClient) -> None:
    respx.get(f"{API}/myself").respond(
        403,
        headers={
            "X-Authentication-Denied-Reason": f"CAPTCHA_CHALLENGE; login-url={HOST}/login.jsp"
        },
    )
    with pytest.raises(JiraPermissionError, match="CAPTCHA") as caught:
        await jira.fetch_myself()
    assert f"{HOST}/login.jsp" in str(caught.value)


@respx.mock
async def test_bad_jql_shows_jiras_messages(jira: JiraServerClient) -> None:
    respx.post(f"{API}/search").respond(
        400,
        json={
            "errorMessages": ["Error in the JQL Query: Expecting ')' before the end."],
            "errors": {},
        },
    )
    with pytest.raises(JiraQueryError) as caught:
        await collect(jira.fetch_issues("project = (A"))
    assert "Expecting ')'" in str(caught.value)
    assert caught.value.jira_messages == ["Error in the JQL Query: Expecting ')' before the end."]


@respx.mock
async def test_secret_echoed_by_jira_is_redacted(jira: JiraServerClient) -> None:
    respx.get(f"{API}/myself").respond(400, json={"errorMessages": [f"bad header Bearer {TOKEN}"]})
    with pytest.raises(JiraQueryError) as caught:
        await jira.fetch_myself()
    assert TOKEN not in str(caught.value)


@respx.mock
async def test_html_answer_hints_at_wrong_base_url(jira: JiraServerClient) -> None:
    respx.get(f"{API}/myself").respond(
        200, text="<html>login</html>", headers={"content-type": "text/html"}
    )
    with pytest.raises(JiraResponseError, match="jiraServerHost"):
        await jira.fetch_myself()


@respx.mock
async def test_retries_503_and_honours_retry_after(jira: JiraServerClient, sleeps: Sleeps) -> None:
    route = respx.get(f"{API}/myself")
    route.side_effect = [
        httpx.Response(503),
        httpx.Response(429, headers={"Retry-After": "7"}),
        httpx.Response(200, json={"name": "bot"}),
    ]
    assert await jira.fetch_myself() == {"name": "bot"}
    assert route.call_count == 3
    assert len(sleeps.delays) == 2
    assert 7 <= sleeps.delays[1] < 8


@respx.mock
async def test_500_is_not_retried(jira: JiraServerClient) -> None:
    route = respx.post(f"{API}/search").respond(
        500, json={"errorMessages": ["Search limit exceeded"]}
    )
    with pytest.raises(JiraResponseError, match="500"):
        await collect(jira.fetch_issues("project = A"))
    assert route.call_count == 1


@respx.mock
async def test_connection_errors_are_retried_then_reported(
    jira: JiraServerClient, sleeps: Sleeps
) -> None:
    route = respx.get(f"{API}/myself").mock(side_effect=httpx.ConnectError("connection refused"))
    with pytest.raises(JiraConnectionError, match=f"Cannot reach Jira at {HOST}"):
        await jira.fetch_myself()
    assert route.call_count == 4  # 1 + maxRetries
    assert len(sleeps.delays) == 3


def search_route(issues: list[dict[str, Any]], cap: int) -> Any:
    """A keyset-aware /search: filters `id > a AND id <= b` and honours a page cap."""

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        jql: str = body["jql"]
        chosen = sorted(issues, key=lambda i: int(i["id"]))
        for token, test in (("id > ", lambda a, b: a > b), ("id <= ", lambda a, b: a <= b)):
            if token in jql:
                bound = int(jql.split(token)[1].split()[0])
                chosen = [i for i in chosen if test(int(i["id"]), bound)]
        if "DESC" in jql:
            chosen.reverse()
        size = min(body["maxResults"], cap)
        return httpx.Response(
            200,
            json={"startAt": 0, "maxResults": size, "total": len(chosen), "issues": chosen[:size]},
        )

    return handler


@respx.mock
async def test_issue_scan_is_complete_ordered_and_bounded(jira: JiraServerClient) -> None:
    # Sparse, uneven ids: partitions estimated from the first page will be wrong in places.
    ids = [10 + n * 3 for n in range(40)] + [1000 + n for n in range(37)] + [50_000, 50_001]
    issues = [{"id": str(i), "key": f"A-{n}", "fields": {}} for n, i in enumerate(ids)]
    respx.post(f"{API}/search").mock(side_effect=search_route(issues, cap=10))
    pages = await collect(jira.fetch_issues("project = A", fields=["summary"]))
    seen = [int(i["id"]) for page in pages for i in page]
    assert seen == sorted(ids)
    assert jira.stats.max_in_flight <= 3


@respx.mock
async def test_issue_scan_refuses_unsorted_pages(jira: JiraServerClient) -> None:
    def unsorted(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            json={
                "startAt": 0,
                "maxResults": 2,
                "total": 2,
                "issues": [{"id": "9", "key": "A-9"}, {"id": "3", "key": "A-3"}],
            },
        )

    respx.post(f"{API}/search").mock(side_effect=unsorted)
    with pytest.raises(PartialResultError, match="ascending id order"):
        await collect(jira.fetch_issues("project = A"))


@respx.mock
async def test_dc10_user_search_cap_is_split_by_prefix(jira: JiraServerClient) -> None:
    users: list[dict[str, Any]] = [
        {"key": f"JIRAUSER{n}", "name": f"a{n:03d}", "active": True} for n in range(150)
    ]
    users += [{"key": "JIRAUSER999", "name": "zed", "active": True}]
    respx.get(f"{API}/user/list").respond(404, json={"errorMessages": ["null for uri"]})
    respx.get(f"{API}/serverInfo").respond(
        200, json={"version": "10.1.2", "versionNumbers": [10, 1, 2], "deploymentType": "Server"}
    )

    def search(request: httpx.Request) -> httpx.Response:
        query = request.url.params["username"]
        matching = [u for u in users if query == "." or str(u["name"]).startswith(query)]
        return httpx.Response(200, json=matching[:100])  # DC 10.0-10.2: only 100 reachable

    respx.get(f"{API}/user/search").mock(side_effect=search)
    keys = [u["key"] for page in await collect(jira.fetch_users()) for u in page]
    assert sorted(keys) == sorted(u["key"] for u in users)
    assert len(keys) == len(set(keys))


@respx.mock
async def test_no_visible_projects_is_a_permission_error(jira: JiraServerClient) -> None:
    respx.get(f"{API}/project").respond(200, json=[], headers={"X-AUSERNAME": "bot"})
    with pytest.raises(JiraPermissionError, match="Browse Projects"):
        await collect(jira.fetch_projects())


@respx.mock
async def test_no_visible_users_is_a_permission_error(jira: JiraServerClient) -> None:
    respx.get(f"{API}/user/list").respond(200, json={"values": [], "isLast": True})
    with pytest.raises(JiraPermissionError, match="Browse users and groups"):
        await collect(jira.fetch_users())


@respx.mock
async def test_user_list_failing_after_a_page_is_not_a_fallback(jira: JiraServerClient) -> None:
    route = respx.get(f"{API}/user/list")
    route.side_effect = [
        httpx.Response(
            200, json={"values": [{"key": "a", "active": True}], "isLast": False, "nextCursor": "1"}
        ),
        httpx.Response(404, json={"errorMessages": ["gone"]}),
    ]
    search = respx.get(f"{API}/user/search").respond(200, json=[])
    with pytest.raises(JiraResponseError, match="404"):
        await collect(jira.fetch_users())
    assert search.call_count == 0


def issues_with_ids(ids: list[int]) -> list[dict[str, Any]]:
    return [{"id": str(i), "key": f"A-{i}", "fields": {}} for i in ids]


@respx.mock
async def test_empty_result_is_one_request_and_no_page(jira: JiraServerClient) -> None:
    route = respx.post(f"{API}/search").mock(side_effect=search_route([], cap=50))
    assert await collect(jira.fetch_issues("project = A")) == []
    assert route.call_count == 1


@respx.mock
async def test_server_lowering_max_results_is_followed(jira: JiraServerClient) -> None:
    route = respx.post(f"{API}/search").mock(
        side_effect=search_route(issues_with_ids(list(range(1, 30))), cap=7)
    )
    pages = await collect(jira.fetch_issues("project = A"))
    asked = [json.loads(c.request.content)["maxResults"] for c in route.calls]
    assert asked[0] == 1000  # pageSize, lowered silently by Jira to 7
    # 1: the highest-id probe; 0: the counts that plan the partitions.
    page_requests = [a for a in asked[1:] if a not in (0, 1)]
    assert page_requests and set(page_requests) == {7}
    assert [int(i["id"]) for p in pages for i in p] == list(range(1, 30))
    assert max(len(p) for p in pages) == 7 and len(pages[-1]) < 7  # a short last page


@respx.mock
async def test_total_changing_during_the_scan_loses_nothing(jira: JiraServerClient) -> None:
    # Ten issues at the first page; then two are deleted and five created (higher ids).
    issues = issues_with_ids(list(range(100, 110)))
    handler = search_route(issues, cap=3)
    calls = 0

    def changing(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls == 2:
            del issues[4:6]
            issues.extend(issues_with_ids([200, 201, 202, 203, 204]))
        return handler(request)  # type: ignore[no-any-return]

    respx.post(f"{API}/search").mock(side_effect=changing)
    pages = await collect(jira.fetch_issues("project = A"))
    seen = [int(i["id"]) for p in pages for i in p]
    assert seen == sorted(seen) and len(seen) == len(set(seen))
    # Everything that existed throughout is there, and so are the issues created meanwhile.
    assert {100, 101, 102, 103, 106, 107, 108, 109} <= set(seen)
    assert {200, 201, 202, 203, 204} <= set(seen)
