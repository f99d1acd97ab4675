"""The emulator's create metadata in both forms (the pre-9 ``/issue/createmeta`` and the
8.4+ per-project/issue type pages), required fields a field configuration adds, enforced
on POST with Jira-shaped 400 bodies, and ``PUT /issue/{key}/assignee``."""

from __future__ import annotations

from typing import Any

import httpx

from local_stack.jira_emulator import EmulatorApp
from local_stack.jira_emulator.inprocess import emulator_client
from tests.support.fixtures import load_fixture

from .support import TOKEN, make_emulator, project_key

API = "/rest/api/2"


async def test_issue_types_and_fields_are_paged_with_field_ids(
    app: EmulatorApp, http: httpx.AsyncClient
) -> None:
    key = project_key(app)
    types = (await http.get(f"{API}/issue/createmeta/{key}/issuetypes")).json()
    assert types["startAt"] == 0 and types["isLast"] is True
    assert {"Task", "Bug", "Sub-task"} <= {t["name"] for t in types["values"]}
    task = next(t for t in types["values"] if t["name"] == "Task")

    first = (
        await http.get(f"{API}/issue/createmeta/{key}/issuetypes/{task['id']}?maxResults=5")
    ).json()
    assert (first["maxResults"], first["startAt"], len(first["values"])) == (5, 0, 5)
    assert first["isLast"] is False and first["total"] > 5
    everything: list[dict[str, Any]] = []
    start = 0
    for _ in range(20):  # bounded: a few pages
        page = (
            await http.get(
                f"{API}/issue/createmeta/{key}/issuetypes/{task['id']}",
                params={"startAt": start, "maxResults": 5},
            )
        ).json()
        everything += page["values"]
        start += len(page["values"])
        if page["isLast"]:
            break
    by_id = {f["fieldId"]: f for f in everything}
    assert len(by_id) == first["total"]
    assert by_id["summary"]["required"] is True
    assert by_id["components"]["required"] is False
    assert by_id["components"]["name"] == "Component/s"
    assert "parent" not in by_id  # only sub-tasks have it
    assert by_id["reporter"]["required"] is True and by_id["reporter"]["hasDefaultValue"]
    assert [p["name"] for p in by_id["priority"]["allowedValues"]][:2] == ["Highest", "High"]
    assert "key" not in by_id["summary"]


async def test_unknown_project_or_type_is_404(app: EmulatorApp, http: httpx.AsyncClient) -> None:
    response = await http.get(f"{API}/issue/createmeta/NOPE/issuetypes")
    assert response.status_code == 404
    assert response.json()["errorMessages"] == ["No project could be found with key 'NOPE'."]
    response = await http.get(f"{API}/issue/createmeta/{project_key(app)}/issuetypes/999")
    assert response.status_code == 404


async def test_legacy_createmeta_only_before_jira_9() -> None:
    old = make_emulator(version="8.20.10")
    async with emulator_client(old, headers={"Authorization": f"Bearer {TOKEN}"}) as http:
        key = project_key(old)
        body = (
            await http.get(
                f"{API}/issue/createmeta",
                params={
                    "projectKeys": key,
                    "issuetypeNames": "Bug",
                    "expand": "projects.issuetypes.fields",
                },
            )
        ).json()
        assert body["expand"] == "projects"
        [entry] = body["projects"]
        assert entry["key"] == key
        [bug] = entry["issuetypes"]
        assert bug["name"] == "Bug"
        assert bug["fields"]["summary"]["required"] is True
        assert bug["fields"]["components"]["key"] == "components"
        # 8.x has the paged form too (added in 8.4).
        paged = await http.get(f"{API}/issue/createmeta/{key}/issuetypes")
        assert paged.status_code == 200
    ancient = make_emulator(version="8.2.0")
    async with emulator_client(ancient, headers={"Authorization": f"Bearer {TOKEN}"}) as http:
        response = await http.get(f"{API}/issue/createmeta/{project_key(ancient)}/issuetypes")
        assert response.status_code == 404


async def test_jira_9_has_no_legacy_createmeta(app: EmulatorApp, http: httpx.AsyncClient) -> None:
    response = await http.get(f"{API}/issue/createmeta", params={"projectKeys": project_key(app)})
    assert response.status_code == 404
    assert response.json() == {"errorMessages": ["Issue Does Not Exist"], "errors": {}}


async def test_required_fields_show_in_metadata_and_are_enforced_on_create(
    app: EmulatorApp, http: httpx.AsyncClient
) -> None:
    app.writes.settings.update({"required_fields": ["components", "customfield_10112"]})
    key = project_key(app)
    fields = (await http.get(f"{API}/issue/createmeta/{key}/issuetypes/3")).json()["values"]
    required = {f["fieldId"] for f in fields if f["required"] and not f["hasDefaultValue"]}
    assert required == {"project", "issuetype", "summary", "components", "customfield_10112"}

    response = await http.post(
        f"{API}/issue",
        json={
            "fields": {
                "project": {"key": key},
                "issuetype": {"name": "Task"},
                "summary": "x",
                "components": [{"name": "No such component"}],
            }
        },
    )
    assert response.status_code == 400
    body = response.json()
    # The shape of the real Jira ErrorCollection fixture.
    assert set(body) == set(load_fixture("error_400_field_errors_server.json"))
    assert body["errors"] == {
        "components": "Component name 'No such component' is not valid",
        "customfield_10112": "Severity is required.",
    }


async def test_assignee_route(app: EmulatorApp, http: httpx.AsyncClient) -> None:
    key: str = app.state.truth("ORDER BY id ASC")["keys"][0]
    response = await http.put(f"{API}/issue/{key}/assignee", json={"name": "admin"})
    assert response.status_code == 204
    issue = (await http.get(f"{API}/issue/{key}?fields=assignee")).json()
    assert issue["fields"]["assignee"]["name"] == "admin"

    response = await http.put(f"{API}/issue/{key}/assignee", json={"name": "ghost"})
    assert response.status_code == 400
    assert response.json()["errors"] == {"assignee": "User 'ghost' does not exist."}

    response = await http.put(f"{API}/issue/{key}/assignee", json={"name": None})
    assert response.status_code == 204
    issue = (await http.get(f"{API}/issue/{key}?fields=assignee")).json()
    assert issue["fields"]["assignee"] is None

    app.writes.settings.update({"denied_permissions": ["ASSIGN_ISSUES"]})
    response = await http.put(f"{API}/issue/{key}/assignee", json={"name": "admin"})
    assert response.status_code == 403


async def test_created_truth_keeps_the_fields_sent(
    app: EmulatorApp, http: httpx.AsyncClient
) -> None:
    fields = {
        "project": {"key": project_key(app)},
        "issuetype": {"name": "Task"},
        "summary": "With a description",
        "description": "See [the service|https://port.example/serviceEntity?identifier=x]",
    }
    response = await http.post(f"{API}/issue", json={"fields": fields})
    assert response.status_code == 201, response.text
    key = response.json()["key"]
    truth = await http.get("/_emulator/truth/created", params={"key": key})
    assert truth.json() == {"key": key, "fields": fields}
