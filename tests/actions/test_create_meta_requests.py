"""The create-metadata reads and the assignee write as requests (respx): which createmeta
form a Jira version gets, paging until ``isLast``, a bounded page loop, the 404 of an
unknown project, and the executors' validation on Jira-shaped metadata bodies."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import respx
from port_ocean.exceptions.execution_manager import ActionExecutionError

from jira_server.actions.create_issue import CreateIssueExecutor
from jira_server.actions.create_meta import FieldsRejected, check_fields
from jira_server.client.rest_client import MAX_CREATE_META_PAGES, JiraServerClient
from jira_server.errors import JiraResponseError
from jira_server.settings import load_settings

from .support import NoCatalog, RecordingReporter, action_run

HOST = "https://jira.example.test"
API = f"{HOST}/rest/api/2"
TOKEN = "pat-createmeta-secret-77"

TYPES = [
    {"id": "3", "name": "Task", "subtask": False},
    {"id": "1", "name": "Bug", "subtask": False},
]
FIELDS = [
    {"fieldId": "project", "name": "Project", "required": True, "hasDefaultValue": False},
    {"fieldId": "issuetype", "name": "Issue Type", "required": True, "hasDefaultValue": False},
    {"fieldId": "summary", "name": "Summary", "required": True, "hasDefaultValue": False},
    {"fieldId": "reporter", "name": "Reporter", "required": True, "hasDefaultValue": True},
    {
        "fieldId": "priority",
        "name": "Priority",
        "required": False,
        "hasDefaultValue": True,
        "allowedValues": [{"id": "2", "name": "High"}, {"id": "3", "name": "Medium"}],
    },
    {
        "fieldId": "components",
        "name": "Component/s",
        "required": True,
        "hasDefaultValue": False,
        "allowedValues": [{"id": "10000", "name": "API"}],
    },
    {"fieldId": "customfield_10112", "name": "Severity", "required": False},
]


def server_info(version: str) -> dict[str, Any]:
    numbers = [int(n) for n in version.split(".")]
    return {"version": version, "versionNumbers": numbers, "deploymentType": "Server"}


def paged(values: list[dict[str, Any]], start: int, size: int) -> dict[str, Any]:
    chunk = values[start : start + size]
    return {
        "startAt": start,
        "maxResults": size,
        "total": len(values),
        "isLast": start + len(chunk) >= len(values),
        "values": chunk,
    }


@pytest.fixture
async def jira() -> AsyncIterator[JiraServerClient]:
    settings = load_settings({"jira_server_host": HOST, "token": TOKEN, "max_retries": 0})
    client = JiraServerClient(settings)
    yield client
    await client.aclose()


def mock_paged_meta(router: respx.MockRouter, size: int = 3) -> respx.Route:
    router.get(f"{API}/serverInfo").respond(json=server_info("9.12.15"))
    router.get(f"{API}/issue/createmeta/PLAT/issuetypes").respond(json=paged(TYPES, 0, 50))

    def fields_page(request: httpx.Request) -> httpx.Response:
        start = int(request.url.params.get("startAt", "0"))
        return httpx.Response(200, json=paged(FIELDS, start, size))

    return router.get(f"{API}/issue/createmeta/PLAT/issuetypes/1").mock(side_effect=fields_page)


@respx.mock
async def test_jira_9_reads_the_paged_form_until_is_last(jira: JiraServerClient) -> None:
    fields_route = mock_paged_meta(respx.mock)
    screen = await check_fields(
        jira,
        {
            "project": {"key": "PLAT"},
            "issuetype": {"name": "bug"},
            "summary": "x",
            "components": [{"name": "api"}],
            "priority": {"id": "2"},
        },
        "PLAT",
        "bug",
    )
    assert screen.issue_type == {"id": "1", "name": "Bug"}
    assert set(screen.fields) == {f["fieldId"] for f in FIELDS}
    assert [r.request.url.params["startAt"] for r in fields_route.calls] == ["0", "3", "6"]


@respx.mock
async def test_every_refused_field_is_named_at_once(jira: JiraServerClient) -> None:
    mock_paged_meta(respx.mock)
    with pytest.raises(FieldsRejected) as caught:
        await check_fields(
            jira,
            {
                "project": {"key": "PLAT"},
                "issuetype": {"id": "1"},
                "summary": "x",
                "priority": {"name": "Urgent"},
                "customfield_99": 1,
            },
            "PLAT",
            "1",
        )
    assert str(caught.value) == (
        "Jira's create screen for Bug in PLAT refuses the issue, nothing was created: "
        "priority: 'Urgent' is not an allowed value of Priority (allowed: High, Medium); "
        "customfield_99: Field 'customfield_99' cannot be set. It is not on the appropriate "
        "screen, or unknown.; components: Component/s is required."
    )
    assert caught.value.status_label == "Invalid fields"


@respx.mock
async def test_jira_8_before_8_4_reads_the_legacy_form(jira: JiraServerClient) -> None:
    respx.get(f"{API}/serverInfo").respond(json=server_info("8.2.0"))
    legacy = respx.get(f"{API}/issue/createmeta").respond(
        json={
            "expand": "projects",
            "projects": [
                {
                    "key": "PLAT",
                    "issuetypes": [
                        {
                            "id": "3",
                            "name": "Task",
                            "fields": {f["fieldId"]: f for f in FIELDS},
                        }
                    ],
                }
            ],
        }
    )
    screen = await check_fields(
        jira,
        {"summary": "x", "components": [{"id": "10000"}]},
        "PLAT",
        "Task",
    )
    assert screen.issue_type["id"] == "3"
    params = legacy.calls.last.request.url.params
    assert params["projectKeys"] == "PLAT"
    assert params["expand"] == "projects.issuetypes.fields"


@respx.mock
async def test_unknown_project_names_the_input(jira: JiraServerClient) -> None:
    respx.get(f"{API}/serverInfo").respond(json=server_info("10.3.0"))
    respx.get(f"{API}/issue/createmeta/NOPE/issuetypes").respond(
        404, json={"errorMessages": ["No project could be found with key 'NOPE'."], "errors": {}}
    )
    with pytest.raises(ActionExecutionError) as caught:
        await check_fields(jira, {"summary": "x"}, "NOPE", "Task")
    assert str(caught.value).startswith("Input 'projectKey': Jira has no project NOPE")


@respx.mock
async def test_a_page_loop_that_never_ends_is_stopped(jira: JiraServerClient) -> None:
    route = respx.get(f"{API}/issue/createmeta/PLAT/issuetypes").respond(
        json={"startAt": 0, "maxResults": 1, "isLast": False, "values": [TYPES[0]]}
    )
    with pytest.raises(JiraResponseError, match="more than 20 pages"):
        await jira.fetch_create_meta_types("PLAT")
    assert route.call_count == MAX_CREATE_META_PAGES


@respx.mock
async def test_create_issue_sends_the_type_by_the_id_jira_listed(jira: JiraServerClient) -> None:
    mock_paged_meta(respx.mock, size=50)
    create = respx.post(f"{API}/issue").respond(
        201, json={"id": "10500", "key": "PLAT-9", "self": f"{API}/issue/10500"}
    )
    reporter = RecordingReporter()
    executor = CreateIssueExecutor(client=lambda: jira, reporter=reporter, catalog=NoCatalog())
    await executor.execute(
        action_run(
            "create_issue",
            {
                "projectKey": "PLAT",
                "issueType": "BUG",
                "summary": "Typed by name",
                "fields": {"components": [{"name": "API"}]},
            },
        )
    )
    assert reporter.success is not None
    sent = json.loads(create.calls.last.request.content)["fields"]
    assert sent["issuetype"] == {"id": "1"}
    assert sent["components"] == [{"name": "API"}]
    assert "The fields fit Jira's create screen for Bug in PLAT" in reporter.logs


@respx.mock
async def test_assign_puts_the_username_and_null_unassigns(jira: JiraServerClient) -> None:
    route = respx.put(f"{API}/issue/PLAT-1/assignee").respond(204)
    await jira.assign_issue("PLAT-1", "jdoe")
    await jira.assign_issue("PLAT-1", None)
    assert [json.loads(c.request.content) for c in route.calls] == [
        {"name": "jdoe"},
        {"name": None},
    ]
