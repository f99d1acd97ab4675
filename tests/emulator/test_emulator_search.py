"""Search paging and field selection: Jira's caps, limits and defaults."""

from __future__ import annotations

import httpx
import pytest

from local_stack.jira_emulator.fields import NAVIGABLE_FIELDS
from local_stack.jira_emulator.inprocess import emulator_client

from .helpers import bearer


async def test_defaults_total_and_paging(client: httpx.AsyncClient, app) -> None:
    page = (await client.get("/rest/api/2/search")).json()
    assert page["maxResults"] == 50 and page["startAt"] == 0
    assert len(page["issues"]) == 50
    total = page["total"]
    assert total == app.state.truth("")["total"]
    tail = (await client.get("/rest/api/2/search", params={"startAt": total - 3})).json()
    assert len(tail["issues"]) == 3 and tail["total"] == total
    beyond = (await client.get("/rest/api/2/search", params={"startAt": total + 10})).json()
    assert beyond["issues"] == [] and beyond["total"] == total
    count_only = (await client.get("/rest/api/2/search", params={"maxResults": 0})).json()
    assert count_only["issues"] == [] and count_only["total"] == total


async def test_max_results_is_capped_silently(make_app) -> None:
    app = make_app(max_results_cap=100)
    async with emulator_client(app, headers=bearer()) as http:
        page = (
            await http.post("/rest/api/2/search", json={"maxResults": 5000, "fields": ["id"]})
        ).json()
    assert page["maxResults"] == 100 and len(page["issues"]) == 100


@pytest.mark.parametrize(
    ("version", "refused"), [("9.12.15", True), ("10.3.0", True), ("8.20.30", False)]
)
async def test_deep_offsets_answer_500_on_recent_data_center(
    make_app, version: str, refused: bool
) -> None:
    app = make_app(version=version, deep_offset_limit=300)
    async with emulator_client(app, headers=bearer()) as http:
        ok = await http.get("/rest/api/2/search", params={"startAt": 250, "maxResults": 50})
        deep = await http.get("/rest/api/2/search", params={"startAt": 251, "maxResults": 50})
    assert ok.status_code == 200
    if refused:
        assert deep.status_code == 500
        assert deep.json()["errorMessages"][0].startswith("Search limit exceeded")
    else:
        assert deep.status_code == 200


async def test_get_and_post_agree(client: httpx.AsyncClient) -> None:
    jql = "project = PLAT ORDER BY created DESC"
    via_get = await client.get(
        "/rest/api/2/search",
        params={
            "jql": jql,
            "startAt": 5,
            "maxResults": 20,
            "fields": "summary,status",
            "expand": "names",
        },
    )
    via_post = await client.post(
        "/rest/api/2/search",
        json={
            "jql": jql,
            "startAt": 5,
            "maxResults": 20,
            "fields": ["summary", "status"],
            "expand": ["names"],
        },
    )
    assert via_get.content == via_post.content


async def test_field_selection(client: httpx.AsyncClient) -> None:
    async def fields(spec: list[str] | None) -> set[str]:
        body: dict[str, object] = {"jql": "issuetype = Story ORDER BY id", "maxResults": 1}
        if spec is not None:
            body["fields"] = spec
        issue = (await client.post("/rest/api/2/search", json=body)).json()["issues"][0]
        assert issue["id"] and issue["key"] and issue["self"]
        return set(issue["fields"])

    navigable = await fields(None)
    assert navigable == await fields(["*navigable"])
    assert "comment" not in navigable and "summary" in navigable
    assert navigable <= NAVIGABLE_FIELDS
    everything = await fields(["*all"])
    assert {"comment", "worklog", "timetracking", "attachment"} <= everything
    assert await fields(["summary", "status", "nosuchfield", "customfield_99999"]) == {
        "summary",
        "status",
    }
    assert await fields(["*all", "-comment", "-worklog"]) == everything - {"comment", "worklog"}
    assert await fields(["-summary"]) == navigable - {"summary"}
    assert await fields(["id"]) == set()
    assert await fields(["Summary"]) == {"summary"}


async def test_expand_changelog_names_schema_rendered(client: httpx.AsyncClient) -> None:
    page = (
        await client.post(
            "/rest/api/2/search",
            json={
                "jql": "statusCategory = Done ORDER BY id",
                "maxResults": 3,
                "fields": ["summary", "status", "customfield_10106", "description"],
                "expand": ["changelog", "names", "schema", "renderedFields"],
            },
        )
    ).json()
    assert page["names"] == {
        "summary": "Summary",
        "status": "Status",
        "customfield_10106": "Story Points",
        "description": "Description",
    }
    assert page["schema"]["customfield_10106"]["custom"].endswith(":float")
    issue = page["issues"][0]
    changelog = issue["changelog"]
    assert set(changelog) == {"startAt", "maxResults", "total", "histories"}
    assert changelog["total"] == len(changelog["histories"]) >= 1
    items = [item for h in changelog["histories"] for item in h["items"]]
    assert any(
        i["field"] == "status" and i["toString"] == issue["fields"]["status"]["name"] for i in items
    )
    assert set(issue["renderedFields"]) == {"summary", "status", "customfield_10106", "description"}
    single = (
        await client.get(
            f"/rest/api/2/issue/{issue['key']}",
            params={"expand": "changelog,names", "fields": "summary"},
        )
    ).json()
    assert single["changelog"] == changelog and single["names"] == {"summary": "Summary"}


async def test_issue_get_defaults_to_all_fields_and_accepts_ids(client: httpx.AsyncClient) -> None:
    by_key = (await client.get("/rest/api/2/issue/PLAT-3")).json()
    by_id = (await client.get(f"/rest/api/2/issue/{by_key['id']}")).json()
    assert by_key == by_id
    assert "comment" in by_key["fields"] and "worklog" in by_key["fields"]


async def test_subtasks_and_parents_are_consistent(client: httpx.AsyncClient) -> None:
    page = (
        await client.post(
            "/rest/api/2/search",
            json={
                "jql": "issuetype in subTaskIssueTypes() ORDER BY id",
                "maxResults": 20,
                "fields": ["parent"],
            },
        )
    ).json()
    child = page["issues"][0]
    parent_key = child["fields"]["parent"]["key"]
    parent = (
        await client.get(f"/rest/api/2/issue/{parent_key}", params={"fields": "subtasks"})
    ).json()
    assert child["key"] in {s["key"] for s in parent["fields"]["subtasks"]}
    by_parent = (
        await client.get(
            "/rest/api/2/search", params={"jql": f"parent = {parent_key}", "fields": "id"}
        )
    ).json()
    assert child["key"] in {i["key"] for i in by_parent["issues"]}


@pytest.mark.parametrize(("version", "legacy"), [("9.12.15", True), ("10.3.0", False)])
async def test_sprint_field_format_follows_version(make_app, version: str, legacy: bool) -> None:
    app = make_app(version=version)
    async with emulator_client(app, headers=bearer()) as http:
        page = (
            await http.post(
                "/rest/api/2/search",
                json={
                    "jql": "sprint is not EMPTY ORDER BY id",
                    "maxResults": 1,
                    "fields": ["customfield_10101"],
                },
            )
        ).json()
    value = page["issues"][0]["fields"]["customfield_10101"][0]
    if legacy:
        assert value.startswith("com.atlassian.greenhopper.service.sprint.Sprint@")
        assert "state=CLOSED" in value or "state=ACTIVE" in value or "state=FUTURE" in value
        assert "rapidViewId=" in value
    else:
        assert {"id", "name", "state", "boardId"} <= set(value)
        assert value["state"] in {"closed", "active", "future"}
