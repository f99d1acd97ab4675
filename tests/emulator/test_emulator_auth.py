"""Authentication and permissions the way Jira's Seraph filter and REST layer behave."""

from __future__ import annotations

import httpx
import pytest

from local_stack.jira_emulator import Account
from local_stack.jira_emulator.inprocess import emulator_client

from .helpers import PASSWORD, TOKEN, basic, bearer

MALFORMED = [
    None,
    "",
    "Bearer",
    "Bearer ",
    "Basic",
    "Basic !!!not-base64",
    "Basic " + "bm9jb2xvbg==",
    "Token abc",
    "Negotiate xyz",
]


@pytest.mark.parametrize("header", MALFORMED)
async def test_missing_or_malformed_header_is_anonymous(app, header: str | None) -> None:
    headers = {} if header is None else {"Authorization": header}
    async with emulator_client(app, headers=headers) as http:
        search = await http.get("/rest/api/2/search", params={"jql": "ORDER BY id"})
        projects = await http.get("/rest/api/2/project")
        users = await http.get("/rest/api/2/user/search", params={"username": "."})
        myself = await http.get("/rest/api/2/myself")
        scoped = await http.get("/rest/api/2/search", params={"jql": "project = PLAT"})
        issue = await http.get("/rest/api/2/issue/PLAT-1")
    for response in (search, projects, users):
        assert response.status_code == 200
        assert response.headers["X-AUSERNAME"] == "anonymous"
    assert search.json()["total"] == 0 and search.json()["issues"] == []
    assert projects.json() == [] and users.json() == []
    assert myself.status_code == 401
    assert scoped.status_code == 400, "a project the caller cannot browse does not exist"
    assert issue.status_code == 401 and "Login Required" in issue.json()["errorMessages"]


async def test_valid_credentials_name_the_user(app) -> None:
    for headers in (bearer(), basic()):
        async with emulator_client(app, headers=headers) as http:
            response = await http.get("/rest/api/2/myself")
        assert response.status_code == 200
        assert response.headers["X-AUSERNAME"] == "admin"
        assert response.json()["name"] == "admin" and response.json()["key"] == "JIRAUSER10000"


async def test_wrong_pat_is_401_with_framework_body(app) -> None:
    async with emulator_client(app, headers=bearer("wrong")) as http:
        for path in ("/rest/api/2/myself", "/rest/api/2/search", "/rest/api/2/project"):
            response = await http.get(path)
            assert response.status_code == 401
            assert response.json() == {
                "message": "Client must be authenticated to access this resource.",
                "status-code": 401,
            }


async def test_wrong_password_locks_the_account_behind_a_captcha(app) -> None:
    async with emulator_client(app) as http:
        for _ in range(3):
            failed = await http.get("/rest/api/2/myself", headers=basic(password="bad"))
            assert failed.status_code == 401
            assert failed.headers["X-Seraph-LoginReason"] == "AUTHENTICATED_FAILED"
            assert "errorMessages" in failed.json()
        locked = await http.get("/rest/api/2/myself", headers=basic())
        assert locked.status_code == 403
        assert locked.headers["X-Authentication-Denied-Reason"] == (
            "CAPTCHA_CHALLENGE; login-url=http://jira.test/login.jsp"
        )
        # The PAT still works: the lock-out is on password logins.
        assert (await http.get("/rest/api/2/myself", headers=bearer())).status_code == 200
        stats = (await http.get("/_emulator/stats")).json()
        assert stats["auth"]["locked"] == ["admin"]
        assert (
            await http.post("/_emulator/reset-lockout", json={"username": "admin"})
        ).status_code == 200
        assert (await http.get("/rest/api/2/myself", headers=basic())).status_code == 200


async def test_success_resets_failure_count(app) -> None:
    async with emulator_client(app) as http:
        for _ in range(5):
            assert (
                await http.get("/rest/api/2/myself", headers=basic(password="bad"))
            ).status_code == 401
            assert (
                await http.get("/rest/api/2/myself", headers=basic(password="bad"))
            ).status_code == 401
            assert (await http.get("/rest/api/2/myself", headers=basic())).status_code == 200


@pytest.mark.parametrize(
    ("overrides", "basic_ok"),
    [
        ({"basic_auth": False}, False),
        ({"version": "11.0.0"}, False),
        ({"version": "11.0.0", "basic_auth": True}, True),
    ],
)
async def test_basic_auth_can_be_disabled(make_app, overrides, basic_ok: bool) -> None:
    app = make_app(**overrides)
    async with emulator_client(app) as http:
        response = await http.get("/rest/api/2/myself", headers=basic())
        assert (response.status_code == 200) is basic_ok
        if basic_ok:
            assert response.headers["X-Seraph-LoginReason"] == "OK"
        assert (await http.get("/rest/api/2/myself", headers=bearer())).status_code == 200


async def test_several_accounts(make_app) -> None:
    app = make_app(
        accounts=[
            Account("admin", password=PASSWORD, token=TOKEN),
            Account("Sync.Bot", password="pw", token="bot"),
        ]
    )
    async with emulator_client(app, headers=bearer("bot")) as http:
        me = (await http.get("/rest/api/2/myself")).json()
    assert me["name"] == "Sync.Bot" and me["key"].startswith("JIRAUSER")


async def test_hidden_projects_are_filtered_and_404(make_app) -> None:
    app = make_app(hidden_projects=["PLAT"])
    async with emulator_client(app, headers=bearer()) as http:
        keys = [p["key"] for p in (await http.get("/rest/api/2/project")).json()]
        assert "PLAT" not in keys and keys
        assert (await http.get("/rest/api/2/project/PLAT")).status_code == 404
        assert (await http.get("/rest/api/2/issue/PLAT-1")).status_code == 404
        page = (await http.get("/rest/api/2/search", params={"maxResults": 1000})).json()
        assert page["total"] > 0 and not any(i["key"].startswith("PLAT-") for i in page["issues"])
        assert "PLAT" not in app.state.truth("")["projects"]


async def test_archived_projects_need_include_archived(client: httpx.AsyncClient, app) -> None:
    archived = [p.key for p in app.state.store.projects if p.archived]
    default = {p["key"] for p in (await client.get("/rest/api/2/project")).json()}
    everything = (
        await client.get("/rest/api/2/project", params={"includeArchived": "true"})
    ).json()
    assert archived and not set(archived) & default
    assert {p["key"] for p in everything if p["archived"]} == set(archived)


async def test_no_browse_permission_sees_nothing(make_app) -> None:
    app = make_app(browse_projects=False)
    async with emulator_client(app, headers=bearer()) as http:
        assert (await http.get("/rest/api/2/project")).json() == []
        assert (await http.get("/rest/api/2/search")).json()["total"] == 0
        assert (await http.get("/rest/api/2/issue/PLAT-1")).status_code == 404
        assert (await http.get("/rest/api/2/myself")).status_code == 200


@pytest.mark.parametrize(("mode", "status"), [("forbidden", 403), ("empty", 200)])
async def test_no_user_browse_permission(make_app, mode: str, status: int) -> None:
    app = make_app(browse_users=mode)
    async with emulator_client(app, headers=bearer()) as http:
        search = await http.get("/rest/api/2/user/search", params={"username": "."})
        listing = await http.get("/rest/api/2/user/list")
    assert search.status_code == status and listing.status_code == status
    if status == 200:
        assert search.json() == [] and listing.json()["values"] == []
    else:
        assert search.json()["errorMessages"]
