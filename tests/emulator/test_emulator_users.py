"""User listing quirks: /user/search's required username and 10.x cap, /user/list cursors."""

from __future__ import annotations

import httpx
import pytest

from local_stack.jira_emulator import DatasetSpec
from local_stack.jira_emulator.inprocess import emulator_client

from .helpers import ANCHOR, bearer


async def test_username_is_required_and_blank_lists_nobody(client: httpx.AsyncClient) -> None:
    missing = await client.get("/rest/api/2/user/search")
    assert missing.status_code == 400
    assert missing.json()["errorMessages"] == ["The username query parameter was not provided"]
    for blank in ("", "   "):
        response = await client.get("/rest/api/2/user/search", params={"username": blank})
        assert response.status_code == 200 and response.json() == []


@pytest.mark.parametrize("query", [".", "''", '""', "%", "_"])
async def test_match_all_queries_list_every_active_user(
    client: httpx.AsyncClient, app, query: str
) -> None:
    response = await client.get(
        "/rest/api/2/user/search", params={"username": query, "maxResults": 1000}
    )
    expected = {u.key for u in app.state.store.users if u.active and not u.deleted}
    assert {u["key"] for u in response.json()} == expected


async def test_include_inactive_and_paging(client: httpx.AsyncClient, app) -> None:
    users = app.state.store.users
    everyone = {u.key for u in users if not u.deleted}
    inactive = {u.key for u in users if not u.active and not u.deleted}
    assert inactive
    params: dict[str, str | int] = {"username": ".", "includeInactive": "true", "maxResults": 1000}
    assert {
        u["key"] for u in (await client.get("/rest/api/2/user/search", params=params)).json()
    } == everyone
    only_inactive = {**params, "includeActive": "false"}
    assert {
        u["key"] for u in (await client.get("/rest/api/2/user/search", params=only_inactive)).json()
    } == inactive
    paged: list[str] = []
    start = 0
    while True:
        page = (
            await client.get(
                "/rest/api/2/user/search", params={**params, "startAt": start, "maxResults": 40}
            )
        ).json()
        if not page:
            break
        paged += [u["key"] for u in page]
        start += len(page)
    assert len(paged) == len(set(paged)) and set(paged) == everyone


async def test_prefix_matches_name_display_name_and_email(client: httpx.AsyncClient, app) -> None:
    user = next(u for u in app.state.store.users if u.active and u.email and " " in u.display_name)
    last_name = user.display_name.split()[1]
    for query in (user.name[:3], last_name[:4].lower()):
        found = (
            await client.get(
                "/rest/api/2/user/search", params={"username": query, "maxResults": 1000}
            )
        ).json()
        assert user.key in {u["key"] for u in found}
        assert all(
            any(
                w.startswith(query.lower())
                for w in [
                    u["name"].lower(),
                    u.get("emailAddress", "").lower(),
                    *u["displayName"].lower().split(),
                ]
            )
            for u in found
        )


@pytest.mark.parametrize("version", ["10.0.1", "10.2.0"])
async def test_dc10_reaches_only_the_first_100_matches(make_app, version: str) -> None:
    app = make_app(
        version=version,
        dataset=DatasetSpec(projects=2, users=260, issues=20, seed=2, anchor=ANCHOR),
    )
    async with emulator_client(app, headers=bearer()) as http:
        big = (
            await http.get("/rest/api/2/user/search", params={"username": ".", "maxResults": 1000})
        ).json()
        assert len(big) == 100
        second = (
            await http.get(
                "/rest/api/2/user/search",
                params={"username": ".", "startAt": 100, "maxResults": 100},
            )
        ).json()
        assert second == []
        tail = (
            await http.get(
                "/rest/api/2/user/search", params={"username": ".", "startAt": 90, "maxResults": 50}
            )
        ).json()
        assert [u["key"] for u in tail] == [u["key"] for u in big[90:]]
        listing = await http.get("/rest/api/2/user/list")
    assert listing.status_code == 404
    assert listing.json() == {
        "message": "null for uri: http://jira.test/rest/api/2/user/list",
        "status-code": 404,
    }


async def test_nine_x_pages_past_100(make_app) -> None:
    app = make_app(
        version="9.12.15",
        dataset=DatasetSpec(projects=2, users=260, issues=20, seed=2, anchor=ANCHOR),
    )
    async with emulator_client(app, headers=bearer()) as http:
        big = (
            await http.get("/rest/api/2/user/search", params={"username": ".", "maxResults": 1000})
        ).json()
        assert (await http.get("/rest/api/2/user/list")).status_code == 404
    assert len(big) > 200


@pytest.mark.parametrize("version", ["10.3.0", "11.0.0"])
async def test_user_list_cursor_pages(make_app, version: str) -> None:
    app = make_app(
        version=version,
        dataset=DatasetSpec(projects=2, users=230, issues=20, seed=2, anchor=ANCHOR),
    )
    expected = [u.key for u in app.state.store.users if not u.deleted]
    async with emulator_client(app, headers=bearer()) as http:
        first = (await http.get("/rest/api/2/user/list")).json()
        assert first["isLast"] is True and "nextCursor" not in first
        assert [u["key"] for u in first["values"]] == expected
        seen: list[str] = []
        cursor = None
        pages = 0
        while True:
            params = {"maxResults": 100, **({"cursor": cursor} if cursor else {})}
            page = (await http.get("/rest/api/2/user/list", params=params)).json()
            pages += 1
            seen += [u["key"] for u in page["values"]]
            if page["isLast"]:
                break
            cursor = page["nextCursor"]
            assert isinstance(cursor, str) and cursor
        bad = await http.get("/rest/api/2/user/list", params={"cursor": "%%%"})
    assert pages == 3 and seen == expected
    assert any(not u["active"] for u in first["values"]), "the list includes inactive users"
    assert bad.status_code == 400


async def test_single_user_by_name_or_key(client: httpx.AsyncClient, app) -> None:
    legacy = next(
        u for u in app.state.store.users if not u.key.startswith("JIRAUSER") and u.key != u.name
    )
    by_name = await client.get("/rest/api/2/user", params={"username": legacy.name})
    by_key = await client.get("/rest/api/2/user", params={"key": legacy.key})
    assert by_name.json() == by_key.json() and by_name.json()["key"] == legacy.key
    missing = await client.get("/rest/api/2/user", params={"username": "ghost"})
    assert missing.status_code == 404
    assert missing.json()["errorMessages"] == ["The user named 'ghost' does not exist"]
