"""JQL: each query is checked against a plain-Python filter over the same records."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import pytest

from local_stack.jira_emulator import EmulatorApp
from local_stack.jira_emulator import catalog as cat
from local_stack.jira_emulator.data import Issue
from local_stack.jira_emulator.inprocess import emulator_client

from .helpers import ANCHOR_MS, DAY_MS, bearer

Predicate = Callable[[Issue], bool]


def searchable(app: EmulatorApp) -> list[Issue]:
    store = app.state.store
    return [i for i in store.issues if i is not None and not store.projects[i.project].archived]


async def keys_for(client: httpx.AsyncClient, jql: str) -> list[str]:
    out: list[str] = []
    start = 0
    while True:
        page = await client.post(
            "/rest/api/2/search",
            json={"jql": jql, "startAt": start, "maxResults": 1000, "fields": ["id"]},
        )
        assert page.status_code == 200, page.text
        body = page.json()
        out += [i["key"] for i in body["issues"]]
        start += len(body["issues"])
        if start >= body["total"]:
            return out


def user_name(app: EmulatorApp, idx: int) -> str:
    return app.state.store.users[idx].name


@pytest.mark.parametrize(
    ("jql", "predicate"),
    [
        ("project = PLAT", lambda app, i: i.project == 0),
        (
            "project in (PLAT, web) AND status = 'In Progress'",
            lambda app, i: i.project in (0, 1) and i.status == cat.STATUS_IN_PROGRESS,
        ),
        ("project != PLAT", lambda app, i: i.project != 0),
        ("project not in (PLAT, WEB)", lambda app, i: i.project not in (0, 1)),
        ("statusCategory = Done", lambda app, i: cat.STATUSES[i.status].category is cat.DONE),
        ("statusCategory != done", lambda app, i: cat.STATUSES[i.status].category is not cat.DONE),
        (
            "statusCategory in (new, 'In Progress')",
            lambda app, i: cat.STATUSES[i.status].category is not cat.DONE,
        ),
        (
            "issuetype = Bug OR type = Story",
            lambda app, i: i.type in (cat.TYPE_BUG, cat.TYPE_STORY),
        ),
        ("issuetype in subTaskIssueTypes()", lambda app, i: cat.ISSUE_TYPES[i.type].subtask),
        ("priority = High", lambda app, i: i.priority == 1),
        ("priority > Medium", lambda app, i: i.priority < 2),
        ("resolution = Unresolved", lambda app, i: i.resolution < 0),
        ("resolution is not EMPTY", lambda app, i: i.resolution >= 0),
        ("assignee is EMPTY", lambda app, i: i.assignee < 0),
        ("assignee = currentUser()", lambda app, i: i.assignee == 0),
        ("reporter is not EMPTY AND assignee = EMPTY", lambda app, i: i.assignee < 0),
        ("labels = backend", lambda app, i: "backend" in i.labels),
        (
            "labels in (ux, api) AND labels != security",
            lambda app, i: bool({"ux", "api"} & set(i.labels)) and "security" not in i.labels,
        ),
        ("labels is EMPTY", lambda app, i: not i.labels),
        ("NOT labels = backend", lambda app, i: bool(i.labels) and "backend" not in i.labels),
        ("created >= -1w", lambda app, i: i.created >= ANCHOR_MS - 7 * DAY_MS),
        (
            "updated > -7d AND updated <= now()",
            lambda app, i: ANCHOR_MS - 7 * DAY_MS < i.updated <= ANCHOR_MS,
        ),
        (
            "created < -24h AND created > -30d",
            lambda app, i: ANCHOR_MS - 30 * DAY_MS < i.created < ANCHOR_MS - DAY_MS,
        ),
        ("updated >= -30m", lambda app, i: i.updated >= ANCHOR_MS - 1_800_000),
        ('created >= "-4w 2d"', lambda app, i: i.created >= ANCHOR_MS - 30 * DAY_MS),
        ("resolved >= startOfDay(-14)", lambda app, i: i.resolved >= _day(ANCHOR_MS) - 14 * DAY_MS),
        ("resolutiondate is EMPTY", lambda app, i: i.resolved < 0),
        (
            'created >= "2025-01-01" AND created < "2025-02-01 12:30"',
            lambda app, i: _ms(2025, 1, 1) <= i.created < _ms(2025, 2, 1, 12, 30),
        ),
        ("created = 2025-03-03", lambda app, i: _ms(2025, 3, 3) <= i.created < _ms(2025, 3, 4)),
        (
            "(statusCategory != Done) OR (created >= -1w) OR (updated >= -1w)",
            lambda app, i: (
                cat.STATUSES[i.status].category is not cat.DONE
                or i.created >= ANCHOR_MS - 7 * DAY_MS
                or i.updated >= ANCHOR_MS - 7 * DAY_MS
            ),
        ),
        (
            "project = PLAT AND (priority = High OR labels = ux) AND NOT status = Done",
            lambda app, i: (
                i.project == 0
                and (i.priority == 1 or "ux" in i.labels)
                and i.status != cat.STATUS_DONE
            ),
        ),
        ("id > 10100 and id <= 10300", lambda app, i: 10100 < i.id <= 10300),
        ("key >= PLAT-10 AND key < PLAT-20", lambda app, i: i.project == 0 and 10 <= i.num < 20),
        (
            "key in (PLAT-1, WEB-2, PLAT-3)",
            lambda app, i: (i.project, i.num) in {(0, 1), (1, 2), (0, 3)},
        ),
        ("summary ~ 'login'", lambda app, i: "login" in i.summary.lower()),
        (
            "text ~ safari",
            lambda app, i: (
                "safari" in i.summary.lower()
                or "safari" in (_description(i) or "").lower()
                or _in_comments(app, i, "safari")
            ),
        ),
        (
            "sprint in openSprints()",
            lambda app, i: any(
                app.state.store.data.sprints[s].state == "active" for s in i.sprints
            ),
        ),
        ("", lambda app, i: True),
    ],
)
async def test_jql_matches_python_filter(
    app: EmulatorApp, client: httpx.AsyncClient, jql: str, predicate
) -> None:
    expected = {i.key for i in searchable(app) if predicate(app, i)}
    got = await keys_for(client, jql)
    assert len(got) == len(set(got))
    assert set(got) == expected
    assert set(app.state.truth(jql)["keys"]) == expected


def _ms(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> int:
    return int(datetime(y, mo, d, h, mi, tzinfo=UTC).timestamp() * 1000)


def _day(ms: int) -> int:
    return ms - ms % DAY_MS


def _description(issue: Issue) -> str | None:
    from local_stack.jira_emulator import derived

    return derived.description(issue)


def _in_comments(app: EmulatorApp, issue: Issue, term: str) -> bool:
    from local_stack.jira_emulator import derived

    return any(term in c.body.lower() for c in derived.comments(issue, len(app.state.store.users)))


async def test_user_clauses_accept_names_keys_and_emails(
    app: EmulatorApp, client: httpx.AsyncClient
) -> None:
    issue = next(i for i in searchable(app) if i.assignee > 0)
    user = app.state.store.users[issue.assignee]
    expected = {i.key for i in searchable(app) if i.assignee == user.idx}
    for value in {user.name, user.key, user.name.upper()}:
        assert set(await keys_for(client, f'assignee = "{value}"')) == expected


async def test_order_by_several_keys_breaks_ties_by_id(
    app: EmulatorApp, client: httpx.AsyncClient
) -> None:
    keys = await keys_for(client, "project = PLAT ORDER BY priority DESC, created ASC")
    issues = [app.state.store.issues[app.state.store.pos_by_key[k]] for k in keys]
    sort_keys = [(i.priority, i.created, i.id) for i in issues if i]
    assert sort_keys == sorted(sort_keys)
    by_status = await keys_for(client, "project = WEB ORDER BY status DESC")
    statuses = [app.state.store.issues[app.state.store.pos_by_key[k]] for k in by_status]
    pairs = [(-i.status, i.id) for i in statuses if i]
    assert pairs == sorted(pairs), "ties keep ascending id order"


async def test_default_order_and_explicit_orders(client: httpx.AsyncClient) -> None:
    default = await keys_for(client, "project = PLAT")
    assert [int(k.split("-")[1]) for k in default] == sorted(
        (int(k.split("-")[1]) for k in default), reverse=True
    )
    ids = [
        int(i["id"])
        for i in (
            await client.get(
                "/rest/api/2/search", params={"jql": "ORDER BY id DESC", "maxResults": 100}
            )
        ).json()["issues"]
    ]
    assert ids == sorted(ids, reverse=True)
    ranked = (
        await client.post(
            "/rest/api/2/search",
            json={"jql": "ORDER BY Rank ASC", "fields": ["customfield_10100"], "maxResults": 200},
        )
    ).json()
    ranks = [i["fields"]["customfield_10100"] for i in ranked["issues"]]
    assert ranks == sorted(ranks)
    updated = (
        await client.post(
            "/rest/api/2/search",
            json={
                "jql": "ORDER BY updated DESC, key ASC",
                "fields": ["updated"],
                "maxResults": 200,
            },
        )
    ).json()
    stamps = [i["fields"]["updated"] for i in updated["issues"]]
    assert stamps == sorted(stamps, reverse=True)


@pytest.mark.parametrize(
    ("jql", "message"),
    [
        (
            "project = ",
            "Error in the JQL Query: Expecting either a value, list or function before the end of the query.",
        ),
        ("project PLAT", "Error in the JQL Query: Expecting operator but got 'PLAT'."),
        (
            "project = PLAT AND",
            "Error in the JQL Query: Expecting a field name before the end of the query.",
        ),
        ("(project = PLAT", "Error in the JQL Query: Expecting ')' before the end of the query."),
        (
            "summary ~ 'open",
            "Error in the JQL Query: The quoted string 'open' has not been completed.",
        ),
        (
            "project = PLAT foo",
            "Error in the JQL Query: Expecting either 'OR' or 'AND' but got 'foo'.",
        ),
        (
            "project = PLAT ORDER created",
            "Error in the JQL Query: Expecting 'BY' but got 'created'.",
        ),
        (
            "nosuchfield = 1",
            "Field 'nosuchfield' does not exist or you do not have permission to view it.",
        ),
        ("project = NOPE", "The value 'NOPE' does not exist for the field 'project'."),
        ("status = Frozen", "The value 'Frozen' does not exist for the field 'status'."),
        (
            "assignee = nobody.at.all",
            "The value 'nobody.at.all' does not exist for the field 'assignee'.",
        ),
        ("created > yesterday", "Date value 'yesterday' for field 'created' is invalid."),
        ("project ~ PLAT", "The operator '~' is not supported by the 'project' field."),
        ("key = PLAT-999999", "An issue with key 'PLAT-999999' does not exist for field 'key'."),
        ("ORDER BY labels", "Field 'labels' does not support sorting."),
        (
            "assignee in membersOf('jira-users')",
            "Unable to find JQL function 'membersOf(jira-users)'.",
        ),
    ],
)
async def test_bad_jql_is_400_with_jira_wording(
    client: httpx.AsyncClient, jql: str, message: str
) -> None:
    for response in (
        await client.get("/rest/api/2/search", params={"jql": jql}),
        await client.post("/rest/api/2/search", json={"jql": jql}),
    ):
        assert response.status_code == 400
        body = response.json()
        assert body["errors"] == {}
        assert any(m.startswith(message) for m in body["errorMessages"]), body


async def test_validate_query_false_turns_unknown_values_into_no_match(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/rest/api/2/search",
        json={"jql": "status = Frozen OR project = PLAT", "validateQuery": False},
    )
    assert response.status_code == 200 and response.json()["total"] > 0


async def test_hidden_and_archived_projects_do_not_exist_in_jql(make_app) -> None:
    app = make_app(hidden_projects=["WEB"])
    archived = next(p.key for p in app.state.store.projects if p.archived)
    async with emulator_client(app, headers=bearer()) as http:
        for key in ("WEB", archived):
            response = await http.get("/rest/api/2/search", params={"jql": f"project = {key}"})
            assert response.status_code == 400
            assert response.json()["errorMessages"] == [
                f"The value '{key}' does not exist for the field 'project'."
            ]
        everything = await keys_for(http, "ORDER BY id")
    assert everything and not any(k.startswith(("WEB-", f"{archived}-")) for k in everything)


async def test_time_zone_shapes_dates_and_day_boundaries(make_app) -> None:
    app = make_app(time_zone="America/Los_Angeles")
    async with emulator_client(app, headers=bearer()) as http:
        issue = (await http.get("/rest/api/2/issue/PLAT-1")).json()
        assert issue["fields"]["created"].endswith(("-0700", "-0800"))
        myself = (await http.get("/rest/api/2/myself")).json()
        assert myself["timeZone"] == "America/Los_Angeles"
        got = set(await keys_for(http, 'created >= "2025-03-03" AND created < "2025-03-04"'))
    start = int(datetime(2025, 3, 3, 8, tzinfo=UTC).timestamp() * 1000)  # PST midnight
    expected = {i.key for i in searchable(app) if start <= i.created < start + DAY_MS}
    assert got == expected


async def test_keyset_pages_reuse_the_cached_result(
    app: EmulatorApp, client: httpx.AsyncClient
) -> None:
    engine = app.state.engine
    first = await client.post(
        "/rest/api/2/search",
        json={
            "jql": "(statusCategory != Done) AND id > 0 ORDER BY id ASC",
            "maxResults": 50,
            "fields": ["id"],
        },
    )
    misses = engine.cache_misses
    last_id = int(first.json()["issues"][-1]["id"])
    collected = [i["id"] for i in first.json()["issues"]]
    while True:
        page = (
            await client.post(
                "/rest/api/2/search",
                json={
                    "jql": f"(statusCategory != Done) AND id > {last_id} ORDER BY id ASC",
                    "maxResults": 50,
                    "fields": ["id"],
                },
            )
        ).json()
        if not page["issues"]:
            break
        collected += [i["id"] for i in page["issues"]]
        last_id = int(page["issues"][-1]["id"])
    assert engine.cache_misses == misses, "id bounds are answered from the cached list"
    assert collected == app.state.truth("statusCategory != Done")["ids"]
