"""The connection check: respx for Jira's answers, a real TLS server for certificates, a
closed port for an unreachable host."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest
import respx

from jira_server.check import EXIT_BAD_SETTINGS, EXIT_FAILED, EXIT_OK, check
from tests.support.tls_server import tls_server

HOST = "https://jira.example.test"
API = f"{HOST}/rest/api/2"
TOKEN = "pat-check-secret-42"
SERVER_INFO = {"version": "10.3.0", "versionNumbers": [10, 3, 0], "deploymentType": "Server"}


def env(**overrides: str) -> dict[str, str]:
    values = {"JIRA_SERVER_HOST": HOST, "TOKEN": TOKEN, **overrides}
    return {f"OCEAN__INTEGRATION__CONFIG__{k}": v for k, v in values.items()}


def healthy_jira() -> None:
    respx.get(f"{API}/serverInfo").respond(200, json=SERVER_INFO)
    respx.get(f"{API}/myself").respond(200, json={"name": "sync-bot", "displayName": "Sync Bot"})
    respx.get(f"{API}/project").respond(200, json=[{"key": "A"}, {"key": "B"}])
    respx.post(f"{API}/search").respond(
        200, json={"startAt": 0, "maxResults": 0, "total": 1234, "issues": []}
    )
    respx.get(f"{API}/user/list").respond(200, json={"values": [{"key": "u"}], "isLast": True})


@respx.mock
async def test_success_prints_version_user_and_counts(capsys: pytest.CaptureFixture[str]) -> None:
    healthy_jira()
    code, report = await check(env())
    out = capsys.readouterr().out
    assert code == EXIT_OK
    assert report is not None and report.ok
    assert "Server version:   10.3.0 (Server)" in out
    assert "Authenticated as: Sync Bot (sync-bot)" in out
    assert "Projects visible: 2" in out
    assert "Issues visible:   1234" in out
    assert "Can list users:   yes" in out
    assert TOKEN not in out


@respx.mock
async def test_bad_token(capsys: pytest.CaptureFixture[str]) -> None:
    respx.get(f"{API}/serverInfo").respond(200, json=SERVER_INFO)
    respx.get(f"{API}/myself").respond(
        401,
        json={
            "message": "Client must be authenticated to access this resource.",
            "status-code": 401,
        },
    )
    code, report = await check(env())
    assert code == EXIT_FAILED
    assert report is not None
    assert report.problems == [
        "Jira rejected the personal access token (401 on GET /rest/api/2/myself): "
        "Client must be authenticated to access this resource."
    ]
    assert "Connection check FAILED" in capsys.readouterr().out


@respx.mock
async def test_no_browse_permission() -> None:
    healthy_jira()
    respx.get(f"{API}/project").respond(200, json=[])
    code, report = await check(env())
    assert code == EXIT_FAILED
    assert report is not None
    assert "sees no projects: grant the 'Browse Projects' permission" in report.problems[0]


@respx.mock
async def test_users_not_listable_is_a_warning() -> None:
    healthy_jira()
    respx.get(f"{API}/user/list").respond(404)
    respx.get(f"{API}/user/search").respond(403, json={"errorMessages": ["Forbidden"]})
    code, report = await check(env())
    assert code == EXIT_OK
    assert report is not None and report.can_list_users is False
    assert "Browse users and groups" in report.warnings[0]


async def test_bad_settings_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, report = await check(env(USERNAME="bot", PASSWORD="pw-secret-9"))
    assert (code, report) == (EXIT_BAD_SETTINGS, None)
    err = capsys.readouterr().err
    assert "Set exactly one authentication method" in err
    assert "pw-secret-9" not in err and TOKEN not in err


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_unreachable_host() -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    code, report = await check(env(JIRA_SERVER_HOST=url, MAX_RETRIES="0"))
    assert code == EXIT_FAILED
    assert report is not None
    assert report.problems[0].startswith(f"Cannot reach Jira at {url}")


async def test_tls_failure_hints_at_ca_bundle_and_ca_bundle_fixes_it(tmp_path: Path) -> None:
    with tls_server(tmp_path) as server:
        code, report = await check(env(JIRA_SERVER_HOST=server.url, MAX_RETRIES="0"))
        assert code == EXIT_FAILED and report is not None
        assert f"TLS verification failed for {server.url}" in report.problems[0]
        assert "caBundle" in report.problems[0]

        code, report = await check(
            env(JIRA_SERVER_HOST=server.url, MAX_RETRIES="0", CA_BUNDLE=str(server.ca_pem))
        )
        assert report is not None
        # TLS now verifies: the check gets as far as authentication (this server says 401).
        assert report.server_version == "9.12.15"
        assert "401" in report.problems[0]


def test_report_lines_mark_unknowns() -> None:
    from jira_server.connection_check import CheckReport

    lines: list[Any] = CheckReport(host=HOST, problems=["boom"]).lines()
    assert "Server version:   ? (?)" in lines
    assert lines[-2:] == ["PROBLEM: boom", "Connection check FAILED"]


@respx.mock
async def test_empty_user_list_is_not_a_yes() -> None:
    healthy_jira()
    respx.get(f"{API}/user/list").respond(200, json={"values": [], "isLast": True})
    code, report = await check(env())
    assert code == EXIT_OK
    assert report is not None and report.can_list_users is False
    assert report.warnings == [
        "Jira lists no users; the 'user' kind needs the 'Browse users and groups' global permission"
    ]


async def test_the_check_uses_the_proxy_of_its_environment_and_names_it() -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    proxy = f"127.0.0.1:{closed_port()}"  # nothing listens there either
    environ = {
        **env(JIRA_SERVER_HOST=url, MAX_RETRIES="0"),
        "HTTP_PROXY": f"http://bot:proxy-pw-2Hd7@{proxy}",
    }
    code, report = await check(environ)
    assert code == EXIT_FAILED
    assert report is not None
    problem = report.problems[0]
    assert problem.startswith(f"Cannot reach Jira at {url}")
    assert f"(through the proxy http://{proxy} from HTTP_PROXY)" in problem
    assert "proxy-pw-2Hd7" not in problem
    assert f"Through:          proxy http://{proxy} (from HTTP_PROXY)" in report.lines()
    assert "proxy-pw-2Hd7" not in "\n".join(report.lines())
