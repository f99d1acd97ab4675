"""Jira Software routes: the field list, agile boards and sprints, project versions and
components, the sprint custom field in both forms, and the software truth oracle."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from jira_server.client.sprints import SPRINT_FIELD_SCHEMA, parse_sprint_value, sprint_field_ids
from local_stack.jira_emulator import EmulatorApp
from local_stack.jira_emulator.inprocess import emulator_client

from .helpers import bearer, load_fixture

AGILE = "/rest/agile/1.0"
COLON_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}[+-]\d{2}:\d{2}$")
DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
FIELD_KEYS = {"id", "key", "name", "custom", "orderable", "navigable", "searchable", "clauseNames"}
SPRINT_FIELD = "customfield_10101"
BOARD_NOT_FOUND = {
    "errorMessages": ["Board does not exist or you do not have permission to see it."],
    "errors": {},
}


async def all_issues(client: httpx.AsyncClient, jql: str, fields: list[str]) -> list[Any]:
    page = (
        await client.post(
            "/rest/api/2/search", json={"jql": jql, "maxResults": 1000, "fields": fields}
        )
    ).json()
    assert page["total"] == len(page["issues"])
    issues: list[Any] = page["issues"]
    return issues


async def agile_pages(client: httpx.AsyncClient, path: str, **params: Any) -> list[dict[str, Any]]:
    """Every page, following isLast like a Server-era client (there is no total)."""
    pages: list[dict[str, Any]] = []
    start = 0
    while True:
        response = await client.get(path, params={**params, "startAt": start})
        assert response.status_code == 200, response.text
        page = response.json()
        pages.append(page)
        start += len(page["values"])
        if page["isLast"]:
            return pages
        assert len(pages) < 50


# ---- /rest/api/2/field ------------------------------------------------------------------


async def test_field_list_covers_every_field_of_any_issue(client: httpx.AsyncClient) -> None:
    listed = (await client.get("/rest/api/2/field")).json()
    ids = [f["id"] for f in listed]
    assert len(ids) == len(set(ids))
    for field in listed:
        assert set(field) >= FIELD_KEYS, field
        assert field["key"] == field["id"]
        assert field["custom"] == field["id"].startswith("customfield_")
        if field["id"] not in ("issuekey", "thumbnail"):  # schema-less in real Jira too
            schema = field["schema"]
            assert ("custom" in schema) == field["custom"]
            assert ("system" in schema) != field["custom"]
        if field["custom"]:
            number = int(field["id"].removeprefix("customfield_"))
            assert field["schema"]["customId"] == number
            assert field["clauseNames"] == [f"cf[{number}]", field["name"]]
    # Every field id any issue carries (sub-tasks add "parent"), in search and issue GET.
    seen: set[str] = set()
    for issue in await all_issues(client, "ORDER BY id", ["*all"]):
        seen.update(issue["fields"])
    subtask = (await all_issues(client, "parent is not EMPTY", ["id"]))[0]
    single = (await client.get(f"/rest/api/2/issue/{subtask['key']}")).json()
    assert "parent" in single["fields"]
    seen.update(single["fields"])
    assert seen and seen <= set(ids), seen - set(ids)
    # Names and schemas agree with expand=names,schema of a search.
    page = (
        await client.post(
            "/rest/api/2/search",
            json={"jql": "", "maxResults": 1, "fields": ["*all"], "expand": ["names", "schema"]},
        )
    ).json()
    by_id = {f["id"]: f for f in listed}
    for fid, name in page["names"].items():
        assert by_id[fid]["name"] == name
        assert by_id[fid]["schema"] == page["schema"][fid]


async def test_sprint_and_story_point_fields(client: httpx.AsyncClient) -> None:
    listed = (await client.get("/rest/api/2/field")).json()
    assert sprint_field_ids(listed) == [SPRINT_FIELD]
    sprint = next(f for f in listed if f["id"] == SPRINT_FIELD)
    assert sprint["name"] == "Sprint"
    assert sprint["schema"] == {
        "type": "array",
        "items": "string",
        "custom": SPRINT_FIELD_SCHEMA,
        "customId": 10101,
    }
    points = next(f for f in listed if f["name"] == "Story Points")
    assert points["schema"]["type"] == "number"
    assert points["schema"]["custom"].endswith(":float")
    epic_link = next(f for f in listed if f["name"] == "Epic Link")
    assert epic_link["schema"]["custom"] == "com.pyxis.greenhopper.jira:gh-epic-link"
    summary = next(f for f in listed if f["id"] == "summary")
    assert summary == {
        "id": "summary",
        "key": "summary",
        "name": "Summary",
        "custom": False,
        "orderable": True,
        "navigable": True,
        "searchable": True,
        "clauseNames": ["summary"],
        "schema": {"type": "string", "system": "summary"},
    }


async def test_software_routes_need_valid_credentials(app: EmulatorApp) -> None:
    async with emulator_client(app, headers=bearer("wrong")) as http:
        for path in ("/rest/api/2/field", f"{AGILE}/board", "/rest/api/2/project/PLAT/versions"):
            assert (await http.get(path)).status_code == 401
    async with emulator_client(app) as anonymous:
        boards = await anonymous.get(f"{AGILE}/board")
        assert boards.headers["X-AUSERNAME"] == "anonymous"
        assert boards.json()["values"] == []
        assert (await anonymous.get(f"{AGILE}/board/1")).status_code == 404
        assert (await anonymous.get("/rest/api/2/project/PLAT/components")).status_code == 404
    stats = app.state.stats.to_json(searches=False)
    assert stats["routes"]["GET /rest/agile/1.0/board"] == 2


# ---- boards -----------------------------------------------------------------------------


async def test_board_pages_have_no_total_and_end_with_is_last(
    client: httpx.AsyncClient, app: EmulatorApp
) -> None:
    truth = app.software.truth()
    pages = await agile_pages(client, f"{AGILE}/board", maxResults=2)
    assert [len(p["values"]) for p in pages] == [2, 2, 1]
    assert [p["isLast"] for p in pages] == [False, False, True]
    assert [p["startAt"] for p in pages] == [0, 2, 4]
    assert all(list(p) == ["maxResults", "startAt", "isLast", "values"] for p in pages)
    boards = [b for p in pages for b in p["values"]]
    assert [b["id"] for b in boards] == [b["id"] for b in truth["boards"]] == [1, 2, 3, 4, 5]
    # The server caps maxResults at 50 and says so.
    capped = (await client.get(f"{AGILE}/board", params={"maxResults": 500})).json()
    assert capped["maxResults"] == 50 and capped["isLast"] is True
    # Optional: a server with JSWSERVER-21082 fixed also tells the total.
    async with emulator_client(app) as control:
        patched = await control.patch("/_emulator/software/settings", json={"agile_total": True})
        assert patched.json() == {"agile_total": True, "agile_max_results": 50}
        bad = await control.patch("/_emulator/software/settings", json={"agile_total": 1})
        assert bad.status_code == 400
    page = (await client.get(f"{AGILE}/board", params={"maxResults": 2})).json()
    assert list(page) == ["maxResults", "startAt", "total", "isLast", "values"]
    assert page["total"] == 5


async def test_board_shape_and_filters(client: httpx.AsyncClient) -> None:
    board = (await client.get(f"{AGILE}/board/1")).json()
    assert board == {
        "id": 1,
        "self": "http://jira.test/rest/agile/1.0/board/1",
        "name": "PLAT board",
        "type": "scrum",
        "location": {
            "projectId": 10000,
            "displayName": "Platform (PLAT)",
            "projectName": "Platform",
            "projectKey": "PLAT",
            "projectTypeKey": "software",
            "avatarURI": "/secure/projectavatar?size=small&pid=10000&avatarId=10324",
            "name": "Platform (PLAT)",
        },
    }
    fixture = load_fixture("agile_board_page.json")
    listed = (await client.get(f"{AGILE}/board")).json()
    assert set(fixture) == set(listed)
    assert set(fixture["values"][0]) <= set(listed["values"][0])

    async def ids(**params: Any) -> list[int]:
        response = await client.get(f"{AGILE}/board", params=params)
        assert response.status_code == 200, response.text
        return [b["id"] for b in response.json()["values"]]

    assert await ids(type="kanban") == [3, 4]
    assert await ids(type="scrum") == [1, 2, 5]
    assert await ids(type="scrum,kanban") == [1, 2, 3, 4, 5]
    assert await ids(projectKeyOrId="WEB") == [2]
    assert await ids(projectKeyOrId="10000") == [1]
    assert await ids(name="plat") == [1]
    assert await ids(name="board", type="kanban") == [3, 4]
    bad_type = await client.get(f"{AGILE}/board", params={"type": "simple"})
    assert bad_type.status_code == 400 and bad_type.json()["errorMessages"]
    no_project = await client.get(f"{AGILE}/board", params={"projectKeyOrId": "NOPE"})
    assert no_project.status_code == 400
    # Unknown, archived-project (DATA, board 6) and malformed boards.
    for path in ("/board/999", "/board/6", "/board/6/sprint", "/board/999/sprint"):
        response = await client.get(AGILE + path)
        assert (response.status_code, response.json()) == (404, BOARD_NOT_FOUND), path
    assert (await client.get(f"{AGILE}/board/abc")).status_code == 404


async def test_hidden_projects_hide_boards_sprints_versions_components(
    client: httpx.AsyncClient, app: EmulatorApp
) -> None:
    app.state.update_settings({"hidden_projects": ["PLAT"]})
    boards = (await client.get(f"{AGILE}/board")).json()["values"]
    assert [b["location"]["projectKey"] for b in boards] == ["WEB", "API", "OPS", "MOB"]
    for path in (f"{AGILE}/board/1", f"{AGILE}/board/1/sprint"):
        assert (await client.get(path)).json() == BOARD_NOT_FOUND
    for suffix in ("versions", "components"):
        response = await client.get(f"/rest/api/2/project/PLAT/{suffix}")
        assert response.status_code == 404
        assert response.json()["errorMessages"] == ["No project could be found with key 'PLAT'."]
        assert (await client.get(f"/rest/api/2/project/WEB/{suffix}")).status_code == 200
    truth = app.software.truth()
    assert [b["id"] for b in truth["boards"]] == [2, 3, 4, 5]
    assert {s["originBoardId"] for s in truth["sprints"]} == {2, 5}
    assert "PLAT" not in truth["versions"] and "PLAT" not in truth["components"]
    assert not any(key.startswith("PLAT-") for key in truth["issues"])
    app.state.update_settings({"hidden_projects": [], "browse_projects": False})
    assert (await client.get(f"{AGILE}/board")).json()["values"] == []


# ---- sprints ----------------------------------------------------------------------------


async def test_kanban_board_has_no_sprints(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{AGILE}/board/3/sprint")
    assert response.status_code == 400
    assert response.json() == {
        "errorMessages": ["The board does not support sprints"],
        "errors": {},
    }


async def test_sprint_pages_states_and_shape(client: httpx.AsyncClient, app: EmulatorApp) -> None:
    truth = [s for s in app.software.truth()["sprints"] if s["originBoardId"] == 1]
    pages = await agile_pages(client, f"{AGILE}/board/1/sprint")
    assert [len(p["values"]) for p in pages] == [50, len(truth) - 50]
    assert all("total" not in p for p in pages)
    sprints = [s for p in pages for s in p["values"]]
    assert [s["id"] for s in sprints] == [s["id"] for s in truth]
    assert [{k: v for k, v in s.items() if k != "self"} for s in sprints] == truth
    states = [s["state"] for s in sprints]
    # Jira lists by sequence: the closed ones, then the active one, then the future ones.
    assert states == sorted(states, key=("closed", "active", "future").index)
    assert states.count("active") == 1 and "future" in states
    for sprint in sprints:
        assert sprint["self"] == f"http://jira.test/rest/agile/1.0/sprint/{sprint['id']}"
        assert sprint["originBoardId"] == 1 and isinstance(sprint["goal"], str)
        dated = {k for k in ("startDate", "endDate", "completeDate") if k in sprint}
        assert all(COLON_DATE.match(sprint[k]) for k in dated)
        expected = {
            "closed": {"startDate", "endDate", "completeDate"},
            "active": {"startDate", "endDate"},
            "future": set(),
        }[sprint["state"]]
        assert dated == expected, sprint
    assert any("," in s["name"] for s in sprints) and any("," in s["goal"] for s in sprints)
    fixture = load_fixture("agile_sprint_page.json")
    assert set(fixture) == set(pages[0])
    assert set(fixture["values"][0]) <= set(sprints[0])

    async def states_of(state: str) -> list[str]:
        values = (await client.get(f"{AGILE}/board/1/sprint", params={"state": state})).json()
        return [s["state"] for s in values["values"]]

    assert await states_of("active,future") == ["active", "future", "future"]
    assert await states_of("future") == ["future", "future"]
    assert set(await states_of("closed")) == {"closed"}
    bad = await client.get(f"{AGILE}/board/1/sprint", params={"state": "open"})
    assert bad.status_code == 400 and "open" in bad.json()["errorMessages"][0]


# ---- versions and components ------------------------------------------------------------


async def test_versions_and_components_shapes(client: httpx.AsyncClient, app: EmulatorApp) -> None:
    truth = app.software.truth()
    versions = (await client.get("/rest/api/2/project/PLAT/versions")).json()
    assert isinstance(versions, list) and versions
    by_id = (await client.get("/rest/api/2/project/10000/versions")).json()
    assert by_id == versions
    assert [{k: v for k, v in x.items() if k != "self"} for x in versions] == truth["versions"][
        "PLAT"
    ]
    allowed = {
        "self",
        "id",
        "description",
        "name",
        "archived",
        "released",
        "startDate",
        "releaseDate",
        "overdue",
        "userStartDate",
        "userReleaseDate",
        "projectId",
    }
    for version in versions:
        assert {"self", "id", "name", "archived", "released", "projectId"} <= set(version)
        assert set(version) <= allowed
        assert version["self"] == f"http://jira.test/rest/api/2/version/{version['id']}"
        assert isinstance(version["id"], str) and version["projectId"] == 10000
        assert DAY.match(version["releaseDate"]) and DAY.match(version["startDate"])
        assert ("overdue" in version) == (not version["released"])
    assert any(v["archived"] for v in versions) and any(not v["released"] for v in versions)

    components = (await client.get("/rest/api/2/project/PLAT/components")).json()
    assert [c["id"] for c in components] == [c["id"] for c in truth["components"]["PLAT"]]
    names = [c["name"].lower() for c in components]
    assert names == sorted(names)
    for component in components:
        assert component["self"] == f"http://jira.test/rest/api/2/component/{component['id']}"
        assert component["project"] == "PLAT" and component["projectId"] == 10000
        assert {"name", "description", "assigneeType", "realAssigneeType"} <= set(component)
        assert component["isAssigneeTypeValid"] is False
        if "lead" in component:
            assert {"key", "name", "displayName"} <= set(component["lead"])
    # The project resource embeds the same components.
    project = (await client.get("/rest/api/2/project/PLAT")).json()
    assert sorted(project["components"], key=lambda c: c["id"]) == sorted(
        components, key=lambda c: c["id"]
    )
    for suffix in ("versions", "components"):
        for key, message in (
            ("NOPE", "No project could be found with key 'NOPE'."),
            ("99999", "No project could be found with id '99999'."),
        ):
            response = await client.get(f"/rest/api/2/project/{key}/{suffix}")
            assert response.status_code == 404
            assert response.json() == {"errorMessages": [message], "errors": {}}
        latest = await client.get(f"/rest/api/latest/project/PLAT/{suffix}")
        assert latest.status_code == 200
        # Archived DATA: readable by key like /project/DATA, but not in the truth's lists.
        archived = await client.get(f"/rest/api/2/project/DATA/{suffix}")
        assert archived.status_code == 200 and archived.json()
        assert "DATA" not in truth[suffix]


async def test_issues_reference_real_versions_and_components(
    client: httpx.AsyncClient, app: EmulatorApp
) -> None:
    truth = app.software.truth()
    issues = await all_issues(
        client, "ORDER BY id", ["project", "fixVersions", "versions", "components"]
    )
    assert len(issues) == len(truth["issues"])
    versions = {
        key: {v["id"]: v for v in (await client.get(f"/rest/api/2/project/{key}/versions")).json()}
        for key in truth["versions"]
    }
    components = {
        key: {
            c["id"]: c for c in (await client.get(f"/rest/api/2/project/{key}/components")).json()
        }
        for key in truth["components"]
    }
    referenced = 0
    for issue in issues:
        fields = issue["fields"]
        project = fields["project"]["key"]
        expected = truth["issues"][issue["key"]]
        assert expected["project"] == project
        assert [v["id"] for v in fields["fixVersions"]] == expected["fixVersions"]
        assert [v["id"] for v in fields["versions"]] == expected["versions"]
        assert [c["id"] for c in fields["components"]] == expected["components"]
        for ref in fields["fixVersions"] + fields["versions"]:
            full = versions[project][ref["id"]]
            shared = set(ref) & set(full)
            assert {"self", "id", "name", "archived", "released"} <= shared
            assert {k: ref[k] for k in shared} == {k: full[k] for k in shared}
            referenced += 1
        for ref in fields["components"]:
            full = components[project][ref["id"]]
            assert {k: full[k] for k in ref} == ref
            referenced += 1
    assert referenced > 100


# ---- the sprint custom field ------------------------------------------------------------


@pytest.mark.parametrize("form", ["legacy", "json"])
async def test_sprint_field_forms_parse_to_the_truth(
    client: httpx.AsyncClient, app: EmulatorApp, form: str
) -> None:
    app.state.update_settings({"sprint_field": form})
    truth = app.software.truth()
    assert truth["sprintFieldForm"] == form
    sprints = {s["id"]: s for s in truth["sprints"]}
    board_of_project = {b["location"]["projectKey"]: b["id"] for b in truth["boards"]}
    issues = await all_issues(client, "ORDER BY id", [SPRINT_FIELD, "project"])
    with_sprints = 0
    comma_names = 0
    for issue in issues:
        raw = issue["fields"][SPRINT_FIELD]
        expected = truth["issues"][issue["key"]]["sprints"]
        if not expected:
            assert raw is None
            continue
        with_sprints += 1
        assert isinstance(raw, list) and len(raw) == len(expected)
        if form == "legacy":
            assert all(
                isinstance(v, str)
                and v.startswith("com.atlassian.greenhopper.service.sprint.Sprint@")
                for v in raw
            )
        else:
            assert all(isinstance(v, dict) for v in raw)
        parsed = parse_sprint_value(raw)
        assert [s["id"] for s in parsed] == expected
        for sprint, value in zip(parsed, raw, strict=True):
            real = sprints[sprint["id"]]  # a real sprint of a visible board ...
            # ... the board of the issue's own project
            assert real["originBoardId"] == board_of_project[issue["fields"]["project"]["key"]]
            assert sprint["name"] == real["name"]
            assert sprint["state"] == real["state"]
            assert sprint["goal"] == (real["goal"] or None)
            assert sprint["startDate"] == real.get("startDate")
            assert sprint["completeDate"] == real.get("completeDate")
            board = sprint["boardId"] if form == "legacy" else value["boardId"]
            assert board == real["originBoardId"]
            comma_names += "," in real["name"]
    assert with_sprints > 50 and comma_names > 0


async def test_legacy_sprint_text_is_the_java_to_string(
    client: httpx.AsyncClient, app: EmulatorApp
) -> None:
    app.state.update_settings({"sprint_field": "legacy"})
    issues = await all_issues(client, "sprint in futureSprints()", [SPRINT_FIELD])
    values = [v for i in issues for v in i["fields"][SPRINT_FIELD] if "state=FUTURE" in v]
    assert values
    text = values[0]
    assert re.fullmatch(
        r"com\.atlassian\.greenhopper\.service\.sprint\.Sprint@[0-9a-f]+\[id=\d+,rapidViewId=\d+,"
        r"state=FUTURE,name=[^\]]+,startDate=<null>,endDate=<null>,completeDate=<null>,"
        r"activatedDate=<null>,sequence=\d+,goal=[^\]]*,autoStartStop=false,synced=false\]",
        text,
    ), text


# ---- truth ------------------------------------------------------------------------------


async def test_software_truth_over_http_matches_in_process(app: EmulatorApp) -> None:
    async with emulator_client(app) as control:
        body = (await control.get("/_emulator/truth/software")).json()
        filtered = (
            await control.get("/_emulator/truth/software", params={"jql": "sprint is not EMPTY"})
        ).json()
        bad = await control.get("/_emulator/truth/software", params={"jql": "sprint = ("})
    assert body == app.software.truth()
    assert set(body) == {
        "dataVersion",
        "jql",
        "sprintField",
        "sprintFieldForm",
        "agileTotal",
        "boards",
        "sprints",
        "versions",
        "components",
        "issues",
    }
    assert body["sprintField"] == SPRINT_FIELD
    assert set(body["versions"]) == set(app.state.truth()["projects"])
    assert filtered["issues"] and all(i["sprints"] for i in filtered["issues"].values())
    assert set(filtered["issues"]) == set(app.state.truth("sprint is not EMPTY")["keys"])
    assert bad.status_code == 400


def test_same_seed_same_software_data(make_app) -> None:
    first, second = make_app(), make_app()
    assert first.software.truth() == second.software.truth()
