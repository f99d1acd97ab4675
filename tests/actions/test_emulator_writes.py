"""The emulator's write routes (routes_writes.py) over HTTP in-process: Jira's answers and
validation, and that every change goes through the mutation path (data version, search and
the truth oracle see it)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from local_stack.jira_emulator import EmulatorApp
from local_stack.jira_emulator.inprocess import emulator_client
from tests.support.fixtures import load_fixture

from .support import project_key

API = "/rest/api/2"


def base_fields(app: EmulatorApp, **extra: Any) -> dict[str, Any]:
    return {
        "project": {"key": project_key(app)},
        "issuetype": {"name": "Task"},
        "summary": "Emulated",
        **extra,
    }


async def create(http: httpx.AsyncClient, fields: dict[str, Any]) -> httpx.Response:
    return await http.post(f"{API}/issue", json={"fields": fields})


def open_issue(app: EmulatorApp, in_project: str | None = None) -> str:
    where = f"project = {in_project} AND " if in_project else ""
    key: str = app.state.truth(f"{where}statusCategory = 'To Do' ORDER BY id ASC")["keys"][0]
    return key


async def search_total(http: httpx.AsyncClient, jql: str) -> int:
    response = await http.post(f"{API}/search", json={"jql": jql, "maxResults": 0})
    assert response.status_code == 200, response.text
    total: int = response.json()["total"]
    return total


# ---- POST /issue -------------------------------------------------------------------------


async def test_create_answers_201_and_the_issue_is_searchable(
    app: EmulatorApp, http: httpx.AsyncClient
) -> None:
    before = app.state.health()["dataVersion"]
    fields = base_fields(
        app,
        priority={"id": "1"},
        labels=["ops", "api"],
        assignee={"name": "admin"},
        description="ignored by the model, accepted by the screen",
        customfield_10106=5,
    )
    response = await create(http, fields)
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {"id", "key", "self"}
    assert body["self"] == f"http://jira.test{API}/issue/{body['id']}"
    assert body["key"].startswith(f"{project_key(app)}-")

    assert app.state.health()["dataVersion"] > before
    assert app.state.truth(f"key = {body['key']}")["ids"] == [body["id"]]
    assert (
        await search_total(
            http,
            f"key = {body['key']} AND labels = ops AND priority = Highest AND assignee = admin",
        )
        == 1
    )
    issue = (await http.get(f"{API}/issue/{body['key']}")).json()["fields"]
    assert issue["summary"] == "Emulated"
    assert issue["reporter"]["name"] == "admin"
    assert issue["status"]["name"] == "To Do"
    assert issue["labels"] == ["api", "ops"]


async def test_unknown_field_answers_like_the_jira_fixture(
    app: EmulatorApp, http: httpx.AsyncClient
) -> None:
    response = await create(http, base_fields(app, customfield_99="x"))
    assert response.status_code == 400
    assert response.json() == {
        "errorMessages": [],
        "errors": {
            "customfield_99": "Field 'customfield_99' cannot be set. It is not on the "
            "appropriate screen, or unknown."
        },
    }
    # Same envelope as Jira Server's captured field-error answer.
    fixture = load_fixture("error_400_field_errors_server.json")
    assert set(response.json()) == set(fixture)
    assert app.state.health()["dataVersion"] == 1


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({}, {"project": "project is required", "issuetype": "issue type is required"}),
        (
            {"project": {"key": "NOPE"}, "issuetype": {"name": "Saga"}, "summary": "x"},
            {"project": "valid project is required", "issuetype": "valid issue type is required"},
        ),
        ({"project": "PLAT", "issuetype": {"name": "Task"}}, {"project": "data was not an object"}),
        ("SUMMARY-MISSING", {"summary": "You must specify a summary of the issue."}),
        ("PRIORITY", {"priority": "Priority name 'Urgent' is not valid"}),
        ("ASSIGNEE", {"assignee": "User 'nobody' does not exist."}),
        ("LABELS", {"labels": "The label 'two words' contains spaces which is invalid."}),
        (
            "SUBTASK",
            {"parent": "Issue type is a sub-task but parent issue key or id not specified."},
        ),
        (
            "PARENT-ON-TASK",
            {
                "parent": "Field 'parent' cannot be set. It is not on the appropriate screen, or unknown."
            },
        ),
        (
            "STATUS",
            {
                "status": "Field 'status' cannot be set. It is not on the appropriate screen, or unknown."
            },
        ),
    ],
)
async def test_create_validation_errors(
    app: EmulatorApp, http: httpx.AsyncClient, fields: Any, errors: dict[str, str]
) -> None:
    variants = {
        "SUMMARY-MISSING": {k: v for k, v in base_fields(app).items() if k != "summary"},
        "PRIORITY": base_fields(app, priority={"name": "Urgent"}),
        "ASSIGNEE": base_fields(app, assignee={"name": "nobody"}),
        "LABELS": base_fields(app, labels=["two words"]),
        "SUBTASK": base_fields(app, issuetype={"name": "Sub-task"}),
        "PARENT-ON-TASK": base_fields(app, parent={"key": open_issue(app)}),
        "STATUS": base_fields(app, status={"name": "Done"}),
    }
    response = await create(http, variants[fields] if isinstance(fields, str) else fields)
    assert response.status_code == 400
    assert response.json() == {"errorMessages": [], "errors": errors}


async def test_subtask_with_parent_is_created_under_it(
    app: EmulatorApp, http: httpx.AsyncClient
) -> None:
    parent = open_issue(app, in_project=project_key(app))
    response = await create(
        http, base_fields(app, issuetype={"name": "Sub-task"}, parent={"key": parent})
    )
    assert response.status_code == 201, response.text
    issue = (await http.get(f"{API}/issue/{response.json()['key']}")).json()["fields"]
    assert issue["parent"]["key"] == parent


async def test_hidden_project_is_unknown_and_missing_permission_is_403(
    app: EmulatorApp, http: httpx.AsyncClient
) -> None:
    fields = base_fields(app)
    app.state.update_settings({"hidden_projects": [fields["project"]["key"]]})
    hidden = await create(http, fields)
    assert hidden.status_code == 400
    assert hidden.json()["errors"] == {"project": "valid project is required"}
    app.state.update_settings({"hidden_projects": []})

    settings = await http.patch(
        "/_emulator/writes/settings", json={"denied_permissions": ["CREATE_ISSUES"]}
    )
    assert settings.json() == {"denied_permissions": ["CREATE_ISSUES"], "required_fields": []}
    denied = await create(http, base_fields(app))
    assert denied.status_code == 403
    assert denied.json() == {
        "errorMessages": [],
        "errors": {"project": "You do not have permission to create issues in this project."},
    }
    bad = await http.patch("/_emulator/writes/settings", json={"denied_permissions": ["FLY"]})
    assert bad.status_code == 400


async def test_anonymous_writes_are_401(app: EmulatorApp) -> None:
    async with emulator_client(app) as anonymous:
        response = await anonymous.post(f"{API}/issue", json={"fields": base_fields(app)})
        assert response.status_code == 401
        comment = await anonymous.post(f"{API}/issue/{open_issue(app)}/comment", json={"body": "x"})
        assert comment.status_code == 401


# ---- comments ------------------------------------------------------------------------------


async def test_comment_answers_201_and_moves_updated(
    app: EmulatorApp, http: httpx.AsyncClient
) -> None:
    key = open_issue(app)
    before = (await http.get(f"{API}/issue/{key}", params={"fields": "updated"})).json()
    version = app.state.health()["dataVersion"]
    response = await http.post(f"{API}/issue/{key}/comment", json={"body": "First!"})
    assert response.status_code == 201, response.text
    comment = response.json()
    assert set(comment) == {"self", "id", "author", "body", "updateAuthor", "created", "updated"}
    assert comment["body"] == "First!" and comment["author"]["name"] == "admin"
    assert comment["self"].endswith(f"/comment/{comment['id']}")
    after = (await http.get(f"{API}/issue/{key}", params={"fields": "updated"})).json()
    assert after["fields"]["updated"] > before["fields"]["updated"]
    assert app.state.health()["dataVersion"] == version + 1
    truth = (await http.get("/_emulator/truth/comments", params={"key": key})).json()
    assert truth == {
        "key": key,
        "comments": [{"id": comment["id"], "body": "First!", "author": "admin"}],
    }


async def test_comment_errors(app: EmulatorApp, http: httpx.AsyncClient) -> None:
    key = open_issue(app)
    empty = await http.post(f"{API}/issue/{key}/comment", json={"body": "  "})
    assert empty.status_code == 400
    assert empty.json() == {
        "errorMessages": [],
        "errors": {"comment": "Comment body can not be empty!"},
    }
    missing = await http.post(f"{API}/issue/NOPE-404/comment", json={"body": "x"})
    assert missing.status_code == 404
    assert missing.json()["errorMessages"] == ["Issue Does Not Exist"]
    app.writes.settings.update({"denied_permissions": ["ADD_COMMENTS"]})
    denied = await http.post(f"{API}/issue/{key}/comment", json={"body": "x"})
    assert denied.status_code == 403
    assert app.state.store.comments == {}


# ---- transitions ---------------------------------------------------------------------------


async def test_transitions_listing_follows_the_current_status(
    app: EmulatorApp, http: httpx.AsyncClient
) -> None:
    key = open_issue(app)
    body = (await http.get(f"{API}/issue/{key}/transitions")).json()
    assert body["expand"] == "transitions"
    offered = {t["id"]: (t["name"], t["to"]["name"]) for t in body["transitions"]}
    assert offered == {
        "21": ("Start Progress", "In Progress"),
        "41": ("Request Review", "In Review"),
        "31": ("Done", "Done"),
    }
    done = next(t for t in body["transitions"] if t["id"] == "31")["to"]
    assert done["statusCategory"] == {
        "self": "http://jira.test/rest/api/2/statuscategory/3",
        "id": 3,
        "key": "done",
        "colorName": "green",
        "name": "Done",
    }
    assert (
        await http.post(f"{API}/issue/{key}/transitions", json={"transition": {"id": "31"}})
    ).status_code == 204
    after = (await http.get(f"{API}/issue/{key}/transitions")).json()["transitions"]
    assert [(t["id"], t["name"]) for t in after] == [("51", "Reopen")]


async def test_transition_changes_status_through_the_mutation_path(
    app: EmulatorApp, http: httpx.AsyncClient
) -> None:
    key = open_issue(app)
    version = app.state.health()["dataVersion"]
    response = await http.post(f"{API}/issue/{key}/transitions", json={"transition": {"id": "31"}})
    assert response.status_code == 204 and response.content == b""
    assert app.state.health()["dataVersion"] == version + 1
    assert key in app.state.truth("statusCategory = Done")["keys"]
    assert (
        await search_total(http, f'key = {key} AND status = "Done" AND resolution is not EMPTY')
        == 1
    )
    fields = (await http.get(f"{API}/issue/{key}", params={"expand": "changelog"})).json()
    last = fields["changelog"]["histories"][-1]["items"]
    assert {"field": "status", "toString": "Done"}.items() <= last[0].items()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"transition": {"id": "99"}}, "Transition id '99' is not valid for this issue."),
        ({}, "Missing 'transition' identifier"),
        (
            {"transition": {"id": "51"}},
            "It seems that you have tried to perform a workflow operation (Reopen) that is not "
            "valid for the current state of this issue ({key}).",
        ),
    ],
)
async def test_invalid_transitions_are_400_with_jiras_message(
    app: EmulatorApp, http: httpx.AsyncClient, body: dict[str, Any], message: str
) -> None:
    key = open_issue(app)
    response = await http.post(f"{API}/issue/{key}/transitions", json=body)
    assert response.status_code == 400
    [text] = response.json()["errorMessages"]
    assert text.startswith(message.format(key=key))
    assert app.state.health()["dataVersion"] == 1


async def test_transition_fields_other_than_resolution_are_refused(
    app: EmulatorApp, http: httpx.AsyncClient
) -> None:
    key = open_issue(app)
    body = {"transition": {"id": "31"}, "fields": {"resolution": {"name": "Done"}, "summary": "x"}}
    response = await http.post(f"{API}/issue/{key}/transitions", json=body)
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["summary"]


async def test_without_transition_permission_nothing_is_offered_or_allowed(
    app: EmulatorApp, http: httpx.AsyncClient
) -> None:
    app.writes.settings.update({"denied_permissions": ["TRANSITION_ISSUES"]})
    key = open_issue(app)
    listing = (await http.get(f"{API}/issue/{key}/transitions")).json()
    assert listing == {"expand": "transitions", "transitions": []}
    response = await http.post(f"{API}/issue/{key}/transitions", json={"transition": {"id": "21"}})
    assert response.status_code == 400
    assert "workflow operation (Start Progress)" in response.json()["errorMessages"][0]
