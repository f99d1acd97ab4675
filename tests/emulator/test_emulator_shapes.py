"""Response shapes: structural checks that always run, plus comparisons with captured real
Jira bodies (../shared/jira-fixtures beside the project root; required in CI)."""

from __future__ import annotations

import re
from typing import Any

import httpx

from local_stack.jira_emulator.inprocess import emulator_client

from .helpers import load_fixture

DATE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}[+-]\d{4}$")
USER_REF_KEYS = {"self", "name", "key", "avatarUrls", "displayName", "active", "timeZone"}
USER_KEYS = {
    "self",
    "key",
    "name",
    "avatarUrls",
    "displayName",
    "active",
    "deleted",
    "timeZone",
    "locale",
}


def keys(obj: dict[str, Any]) -> set[str]:
    return set(obj)


async def test_server_info(client: httpx.AsyncClient, app) -> None:
    body = (await client.get("/rest/api/2/serverInfo")).json()
    assert body["deploymentType"] == "Server"
    assert body["versionNumbers"] == [10, 3, 0]
    assert body["buildNumber"] == 10030000
    assert body["baseUrl"] == "http://jira.test"
    assert DATE.match(body["serverTime"]) and DATE.match(body["buildDate"])
    async with emulator_client(app) as anonymous:
        anon = (await anonymous.get("/rest/api/2/serverInfo")).json()
    assert "serverTime" not in anon
    assert keys(body) == keys(load_fixture("serverinfo_dc_10.3.19.json"))
    assert keys(anon) == keys(load_fixture("serverinfo_dc_9.12.15_anonymous.json"))


async def test_project_list_and_get(client: httpx.AsyncClient) -> None:
    projects = (await client.get("/rest/api/2/project")).json()
    assert isinstance(projects, list) and projects
    first = projects[0]
    assert first["self"].endswith(f"/rest/api/2/project/{first['id']}")
    assert set(first["avatarUrls"]) == {"48x48", "24x24", "16x16", "32x32"}
    assert "description" not in first and "lead" not in first
    expanded = (
        await client.get("/rest/api/2/project", params={"expand": "description,lead"})
    ).json()
    assert "description" in expanded[0] and expanded[0]["lead"]["key"]
    full = (await client.get(f"/rest/api/2/project/{first['key']}")).json()
    assert {"components", "issueTypes", "versions", "roles", "lead", "archived"} <= keys(full)
    by_id = (await client.get(f"/rest/api/2/project/{first['id']}")).json()
    assert by_id["key"] == first["key"]
    element = load_fixture("project_list_element_dc_port.json")
    assert keys(element) <= keys(first)
    apache = load_fixture("project_get_apache_server.json")
    assert keys(apache) - {"url"} <= keys(full)
    assert keys(apache["versions"][0]) <= keys(full["versions"][0]) | {
        "releaseDate",
        "userReleaseDate",
    }


async def test_issue_shape_matches_dc_issue(client: httpx.AsyncClient) -> None:
    issue = (await client.get("/rest/api/2/issue/PLAT-2")).json()
    assert list(issue)[:5] == ["expand", "id", "self", "key", "fields"]
    assert issue["self"] == f"http://jira.test/rest/api/2/issue/{issue['id']}"
    fields = issue["fields"]
    assert DATE.match(fields["created"]) and DATE.match(fields["updated"])
    assert fields["status"]["statusCategory"]["key"] in {"new", "indeterminate", "done"}
    assert keys(fields["reporter"]) >= USER_REF_KEYS and "locale" not in fields["reporter"]
    assert {"comments", "maxResults", "total", "startAt"} == keys(fields["comment"])
    assert {"startAt", "maxResults", "total", "worklogs"} == keys(fields["worklog"])
    fixture = load_fixture("issue_dc_port.json")
    assert keys(fixture) - {"renderedFields"} == keys(issue)
    system = {k for k in fixture["fields"] if not k.startswith("customfield_")}
    assert system <= keys(fields)
    for name in ("status", "priority", "issuetype", "project", "watches", "votes", "progress"):
        assert keys(fixture["fields"][name]) <= keys(fields[name]), name
    assert keys(fixture["fields"]["status"]["statusCategory"]) == keys(
        fields["status"]["statusCategory"]
    )
    assert keys(fixture["fields"]["reporter"]) <= keys(fields["reporter"]) | {"emailAddress"}


async def test_search_page_like_server_search(client: httpx.AsyncClient) -> None:
    page = (await client.get("/rest/api/2/search", params={"jql": "issuetype = Sub-task"})).json()
    assert list(page) == ["expand", "startAt", "maxResults", "total", "issues"]
    issue = page["issues"][0]
    parent = issue["fields"]["parent"]
    assert set(parent) == {"id", "key", "self", "fields"}
    assert set(parent["fields"]) == {"summary", "status", "priority", "issuetype"}
    assert "comment" not in issue["fields"] and "worklog" not in issue["fields"]
    fixture = load_fixture("search_page_server7.json")
    assert list(fixture)[:5] == list(page)
    navigable = {
        k for i in fixture["issues"] for k in i["fields"] if not k.startswith("customfield_")
    }
    assert navigable <= keys(issue["fields"])


async def test_user_shapes(client: httpx.AsyncClient) -> None:
    users = (await client.get("/rest/api/2/user/search", params={"username": "."})).json()
    assert isinstance(users, list)
    assert all(keys(u) >= USER_KEYS for u in users)
    single = (await client.get("/rest/api/2/user", params={"username": users[0]["name"]})).json()
    assert {"groups", "applicationRoles", "expand"} <= keys(single)
    legacy = [u for u in users if not u["key"].startswith("JIRAUSER")]
    assert any(u["key"] != u["name"] for u in legacy)
    assert keys(load_fixture("user_dc_port.json")) <= keys(users[0]) | {"emailAddress"}
    for fixture_user in load_fixture("user_search_dot_dc_docker.json"):
        assert keys(fixture_user) <= keys(users[0]) | {"emailAddress"}


async def test_error_bodies(client: httpx.AsyncClient, app) -> None:
    wrong = await client.get("/rest/api/2/myself", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    assert wrong.json() == {
        "message": "Client must be authenticated to access this resource.",
        "status-code": 401,
    }
    missing = await client.get("/rest/api/2/project/NOPE")
    assert missing.status_code == 404
    assert missing.json() == {
        "errorMessages": ["No project could be found with key 'NOPE'."],
        "errors": {},
    }
    issue = await client.get("/rest/api/2/issue/NOPE-1")
    assert issue.status_code == 404 and issue.json()["errorMessages"] == ["Issue Does Not Exist"]
    unknown = await client.get("/rest/api/2/nothing/here")
    assert unknown.status_code == 404 and unknown.json()["status-code"] == 404
    assert load_fixture("error_401_client_must_be_authenticated_dc10.json") == wrong.json()


async def test_latest_alias_and_self_links_follow_host(app) -> None:
    async with emulator_client(
        app, base_url="http://jira.example:8080", headers={"Authorization": "Bearer test-pat"}
    ) as http:
        body = (await http.get("/rest/api/latest/project")).json()
    assert body[0]["self"].startswith("http://jira.example:8080/rest/api/2/project/")
