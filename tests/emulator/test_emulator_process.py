"""The emulator as a real process on 127.0.0.1: same behaviour as in-process."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from local_stack.process import RunningServer, start_server

from .helpers import ANCHOR


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    args = [
        "--issues",
        "300",
        "--users",
        "40",
        "--projects",
        "4",
        "--seed",
        "7",
        "--token",
        "pt",
        "--anchor",
        "2025-06-15T16:53:20+00:00",
        "--version",
        "9.12.15",
    ]
    with start_server(
        "jira-emulator", "local_stack.jira_emulator", args, health_path="/_emulator/health"
    ) as running:
        yield running


def test_subprocess_serves_jira_and_control_routes(server: RunningServer) -> None:
    headers = {"Authorization": "Bearer pt"}
    with httpx.Client(base_url=server.url, headers=headers, timeout=10) as http:
        info = http.get("/rest/api/2/serverInfo").json()
        assert info["version"] == "9.12.15" and info["baseUrl"] == server.url
        page = http.post(
            "/rest/api/2/search",
            json={"jql": "ORDER BY id", "maxResults": 5, "fields": ["summary"]},
        )
        assert page.status_code == 200 and page.headers["X-AUSERNAME"] == "admin"
        assert len(page.json()["issues"]) == 5
        assert http.get("/_emulator/health").json()["anchor"] == int(ANCHOR * 1000)
        assert http.get("/rest/api/2/user/list").status_code == 404
        anonymous = http.get("/rest/api/2/project", headers={"Authorization": ""})
        assert anonymous.status_code == 200 and anonymous.json() == []


def test_subprocess_drops_connections_mid_body(server: RunningServer) -> None:
    with httpx.Client(
        base_url=server.url, headers={"Authorization": "Bearer pt"}, timeout=10
    ) as http:
        http.post("/_emulator/faults", json={"drop_next": 1})
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            http.post("/rest/api/2/search", json={"maxResults": 200, "fields": ["*all"]})
        assert http.get("/rest/api/2/search").status_code == 200
        assert http.get("/_emulator/stats").json()["dropped"] == 1
    assert "Traceback" not in server.log_text()


def test_subprocess_data_matches_in_process(server: RunningServer) -> None:
    from local_stack.jira_emulator import Account, DatasetSpec, create_app
    from local_stack.jira_emulator.config import EmulatorConfig

    app = create_app(
        EmulatorConfig(
            dataset=DatasetSpec(projects=4, users=40, issues=300, seed=7, anchor=ANCHOR),
            accounts=[Account("admin", password="admin", token="pt")],
        )
    )
    with httpx.Client(base_url=server.url, timeout=10) as http:
        remote = http.get("/_emulator/truth", params={"jql": "statusCategory != Done"}).json()
    local = app.state.truth("statusCategory != Done")
    assert remote["keys"] == local["keys"] and remote["users"] == local["users"]
