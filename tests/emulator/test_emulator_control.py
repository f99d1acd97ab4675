"""The control API: knobs, mutations, the truth oracle and settings."""

from __future__ import annotations

import httpx

from local_stack.jira_emulator.inprocess import emulator_client


async def test_health_and_faults_round_trip(client: httpx.AsyncClient) -> None:
    health = (await client.get("/_emulator/health")).json()
    assert health["status"] == "ok" and health["issues"] == 600 and health["dataVersion"] == 1
    replaced = (
        await client.post(
            "/_emulator/faults", json={"latency_ms": 5, "rate_limit": {"capacity": 50}}
        )
    ).json()
    assert replaced["latency_ms"] == 5 and replaced["rate_limit"]["capacity"] == 50
    merged = (await client.patch("/_emulator/faults", json={"error_rate": 0.5})).json()
    assert merged["latency_ms"] == 5 and merged["error_rate"] == 0.5
    reset = (await client.post("/_emulator/faults", json={})).json()
    assert reset["latency_ms"] == 0 and reset["rate_limit"] is None
    bad = await client.post("/_emulator/faults", json={"latency": 5})
    assert bad.status_code == 400 and "latency" in bad.json()["error"]


async def test_mutations_change_what_searches_and_truth_return(
    client: httpx.AsyncClient, app
) -> None:
    before = app.state.truth("project = PLAT")
    created = (
        await client.post(
            "/_emulator/mutate",
            json={"op": "create", "project": "PLAT", "count": 2, "summary": "Brand new"},
        )
    ).json()
    new_keys = [c["key"] for c in created["results"][0]["created"]]
    assert created["dataVersion"] == before["dataVersion"] + 1
    assert int(created["results"][0]["created"][0]["id"]) > int(before["ids"][-1])
    page = (
        await client.get(
            "/rest/api/2/search",
            params={"jql": "summary ~ 'brand new'", "fields": "summary,created"},
        )
    ).json()
    assert {i["key"] for i in page["issues"]} == set(new_keys)

    target = app.state.truth("project = PLAT AND statusCategory != Done")["keys"][0]
    ops = {
        "ops": [
            {"op": "transition", "keys": [target], "status": "Done"},
            {"op": "update", "keys": [target], "summary": "Renamed", "assignee": None},
        ]
    }
    assert (await client.post("/_emulator/mutate", json=ops)).status_code == 200
    issue = (await client.get(f"/rest/api/2/issue/{target}", params={"expand": "changelog"})).json()
    assert (
        issue["fields"]["status"]["name"] == "Done"
        and issue["fields"]["resolution"]["name"] == "Done"
    )
    assert issue["fields"]["summary"] == "Renamed" and issue["fields"]["assignee"] is None
    assert issue["fields"]["resolutiondate"] is not None
    last = issue["changelog"]["histories"][-1]["items"]
    assert {i["field"] for i in last} >= {"summary"}
    assert target in app.state.truth("updated >= -1m")["keys"]

    deleted = (
        await client.post("/_emulator/mutate", json={"op": "delete", "keys": new_keys})
    ).json()
    assert deleted["results"][0]["deleted"] == new_keys[::-1] or set(
        deleted["results"][0]["deleted"]
    ) == set(new_keys)
    assert (await client.get(f"/rest/api/2/issue/{new_keys[0]}")).status_code == 404
    bad = await client.post("/_emulator/mutate", json={"op": "delete", "keys": ["NOPE-1"]})
    assert bad.status_code == 400


async def test_truth_oracle(client: httpx.AsyncClient, app) -> None:
    truth = (
        await client.get("/_emulator/truth", params={"jql": "project = WEB ORDER BY created DESC"})
    ).json()
    page = (
        await client.get(
            "/rest/api/2/search",
            params={
                "jql": "project = WEB ORDER BY created DESC",
                "maxResults": 1000,
                "fields": "id",
            },
        )
    ).json()
    assert truth["keys"] == [i["key"] for i in page["issues"]] and truth["total"] == page["total"]
    assert "WEB" in truth["projects"] and truth["archivedProjects"]
    assert len(truth["users"]) > len(truth["activeUsers"]) > 0
    anonymous = (await client.get("/_emulator/truth", params={"as": "anonymous"})).json()
    assert anonymous["total"] == 0 and anonymous["projects"] == [] and anonymous["users"] == []
    bad = await client.get("/_emulator/truth", params={"jql": "project = "})
    assert bad.status_code == 400 and bad.json()["errorMessages"]


async def test_hidden_projects_via_mutate_and_settings(client: httpx.AsyncClient) -> None:
    await client.post("/_emulator/mutate", json={"op": "set_hidden_projects", "projects": ["WEB"]})
    assert (await client.get("/rest/api/2/project/WEB")).status_code == 404
    settings = (
        await client.patch("/_emulator/settings", json={"hidden_projects": [], "version": "10.1.0"})
    ).json()
    assert (
        settings["derived"]["userSearchCapped"] is True
        and settings["derived"]["userListAvailable"] is False
    )
    assert (await client.get("/rest/api/2/project/WEB")).status_code == 200
    info = (await client.get("/rest/api/2/serverInfo")).json()
    assert info["version"] == "10.1.0" and info["versionNumbers"] == [10, 1, 0]
    bad = await client.patch("/_emulator/settings", json={"max_results_cap": "many"})
    assert bad.status_code == 400


async def test_user_deactivation_shows_in_renders(client: httpx.AsyncClient, app) -> None:
    user = next(u for u in app.state.store.users if u.active and u.idx > 0)
    await client.post(
        "/_emulator/mutate", json={"op": "set_user_active", "username": user.name, "active": False}
    )
    found = (await client.get("/rest/api/2/user", params={"username": user.name})).json()
    assert found["active"] is False


async def test_control_api_refuses_remote_clients(app) -> None:
    transport = httpx.ASGITransport(app=app, client=("10.1.2.3", 5000))
    async with httpx.AsyncClient(transport=transport, base_url="http://jira.test") as http:
        assert (await http.get("/_emulator/health")).status_code == 403


async def test_stats_reset(client: httpx.AsyncClient) -> None:
    await client.get("/rest/api/2/project")
    assert (await client.get("/_emulator/stats")).json()["requests"] == 1
    await client.post("/_emulator/stats/reset")
    stats = (await client.get("/_emulator/stats", params={"searches": "false"})).json()
    assert stats["requests"] == 0 and "searches" not in stats


async def test_in_process_state_api_matches_http(app) -> None:
    app.state.mutate([{"op": "archive_project", "project": "WEB", "archived": True}])
    async with emulator_client(app, headers={"Authorization": "Bearer test-pat"}) as http:
        default = {p["key"] for p in (await http.get("/rest/api/2/project")).json()}
        response = await http.get("/rest/api/2/search", params={"jql": "project = WEB"})
    assert "WEB" not in default and response.status_code == 400
