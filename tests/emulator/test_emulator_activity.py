"""Comments and worklogs: embedded (and truncated) in issues, the paged comment route, the
per-issue worklog route, the worklog feeds and /worklog/list, and the control ops; worklog
shapes against the real Jira Server 8 body (a webhook's issue with its worklogs)."""

from __future__ import annotations

from typing import Any

import httpx

from local_stack.jira_emulator import EmulatorApp

from .helpers import load_fixture
from .test_emulator_shapes import DATE


async def _issue_with_comments(client: httpx.AsyncClient, at_least: int) -> dict[str, Any]:
    page = (
        await client.post(
            "/rest/api/2/search", json={"jql": "", "fields": ["comment"], "maxResults": 500}
        )
    ).json()
    return next(i for i in page["issues"] if i["fields"]["comment"]["total"] >= at_least)


async def test_embedded_comments_are_truncated_and_paged_in_full(
    client: httpx.AsyncClient, app: EmulatorApp
) -> None:
    app.state.config.embedded_comment_limit = 1
    issue = await _issue_with_comments(client, 3)
    block = issue["fields"]["comment"]
    assert len(block["comments"]) == 1 and block["maxResults"] == 1 and block["startAt"] == 0
    seen: list[dict[str, Any]] = []
    start = 0
    while True:
        page = (
            await client.get(
                f"/rest/api/2/issue/{issue['key']}/comment",
                params={"startAt": start, "maxResults": 2, "expand": "renderedBody"},
            )
        ).json()
        assert page["total"] == block["total"] and page["startAt"] == start
        seen += page["comments"]
        start += len(page["comments"])
        if start >= page["total"]:
            break
    assert len(seen) == block["total"] and seen[0] == {**block["comments"][0], **seen[0]}
    for comment in seen:
        assert DATE.match(comment["created"]) and DATE.match(comment["updated"])
        assert comment["renderedBody"] == f"<p>{comment['body']}</p>"
        assert comment["self"].endswith(f"/issue/{issue['id']}/comment/{comment['id']}")


async def test_worklog_shapes_match_real_jira(client: httpx.AsyncClient) -> None:
    real = load_fixture("webhook_issue_updated_status_server8.json")["issue"]["fields"]["worklog"]
    page = (
        await client.post(
            "/rest/api/2/search", json={"jql": "", "fields": ["worklog"], "maxResults": 500}
        )
    ).json()
    issue = next(i for i in page["issues"] if i["fields"]["worklog"]["total"])
    ours = issue["fields"]["worklog"]
    assert set(ours) == set(real)
    assert set(ours["worklogs"][0]) == set(real["worklogs"][0])
    listed = (await client.get(f"/rest/api/2/issue/{issue['key']}/worklog")).json()
    assert listed["worklogs"] == ours["worklogs"] and listed["total"] == ours["total"]


async def test_feeds_list_and_deletions(client: httpx.AsyncClient, app: EmulatorApp) -> None:
    app.state.config.worklog_feed_page = 5
    ids: list[int] = []
    since, pages = 0, 0
    while True:
        page = (await client.get("/rest/api/2/worklog/updated", params={"since": since})).json()
        pages += 1
        assert set(page) >= {"values", "since", "until", "self", "lastPage"}
        ids += [v["worklogId"] for v in page["values"]]
        if page["lastPage"]:
            assert "nextPage" not in page
            break
        assert page["nextPage"].endswith(f"since={page['until']}")
        since = page["until"]
    assert pages > 1 and len(set(ids)) >= 10
    bodies = (await client.post("/rest/api/2/worklog/list", json={"ids": ids[:3]})).json()
    assert [int(b["id"]) for b in bodies] == ids[:3]
    target = bodies[0]
    app.state.mutate([{"op": "delete_worklog", "keys": [target["issueId"]], "id": target["id"]}])
    # Left out for the quiet minute, listed after it; gone from /worklog/list at once.
    deleted = (await client.get("/rest/api/2/worklog/deleted", params={"since": 0})).json()
    assert deleted["values"] == []
    app.state.config.clock_offset_seconds = 120
    deleted = (await client.get("/rest/api/2/worklog/deleted", params={"since": 0})).json()
    assert [v["worklogId"] for v in deleted["values"]] == [int(target["id"])]
    again = (await client.post("/rest/api/2/worklog/list", json={"ids": ids[:3]})).json()
    assert [b["id"] for b in again] == [b["id"] for b in bodies[1:]]
    too_many = await client.post("/rest/api/2/worklog/list", json={"ids": list(range(1001))})
    assert too_many.status_code == 400


async def test_old_servers_have_no_feeds(client: httpx.AsyncClient, app: EmulatorApp) -> None:
    app.state.config.worklog_feeds = False
    assert (await client.get("/rest/api/2/worklog/updated")).status_code == 404
    assert (await client.post("/rest/api/2/worklog/list", json={"ids": [1]})).status_code == 404


async def test_control_ops_change_comments_and_worklogs(
    client: httpx.AsyncClient, app: EmulatorApp
) -> None:
    issue = await _issue_with_comments(client, 2)
    key, first = issue["key"], issue["fields"]["comment"]["comments"][0]
    before = issue["fields"]["comment"]["total"]
    app.state.mutate([{"op": "delete_comment", "keys": [key], "id": first["id"]}])
    app.state.mutate([{"op": "comment", "keys": [key], "body": "new"}])
    result = app.state.mutate([{"op": "worklog", "keys": [key], "seconds": 600}])
    worklog_id = result["results"][0]["worklogs"][0]
    page = (await client.get(f"/rest/api/2/issue/{key}/comment")).json()
    assert page["total"] == before and first["id"] not in {c["id"] for c in page["comments"]}
    assert page["comments"][-1]["body"] == "new"
    worklogs = (await client.get(f"/rest/api/2/issue/{key}/worklog")).json()["worklogs"]
    assert worklogs[-1]["id"] == worklog_id and worklogs[-1]["timeSpentSeconds"] == 600


async def test_rendered_fields_carry_the_comments_html(client: httpx.AsyncClient) -> None:
    page = (
        await client.post(
            "/rest/api/2/search",
            json={
                "jql": "",
                "fields": ["comment"],
                "expand": ["renderedFields"],
                "maxResults": 500,
            },
        )
    ).json()
    issue = next(i for i in page["issues"] if i["fields"]["comment"]["total"])
    html = issue["renderedFields"]["comment"]["comments"]
    plain = issue["fields"]["comment"]["comments"]
    assert [h["id"] for h in html] == [c["id"] for c in plain]
    assert html[0]["body"] == f"<p>{plain[0]['body']}</p>"
