"""Settings validation: every bad input names the setting (and its env var) and never
echoes a secret."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from jira_server.errors import SettingsError
from jira_server.settings import BasicAuth, TokenAuth, load_settings

HOST = "https://jira.example.test"


def settings(**raw: Any) -> Any:
    return load_settings({"jira_server_host": HOST, **raw})


def error_of(**raw: Any) -> str:
    with pytest.raises(SettingsError) as caught:
        load_settings(raw)
    return str(caught.value)


def test_token_is_bearer() -> None:
    loaded = settings(token="abcd-1234")
    assert isinstance(loaded.auth, TokenAuth)
    assert loaded.auth.header() == "Bearer abcd-1234"


def test_username_password_is_basic() -> None:
    loaded = settings(username="bot", password="pw-1234")
    assert isinstance(loaded.auth, BasicAuth)
    assert loaded.auth.header() == "Basic " + base64.b64encode(b"bot:pw-1234").decode()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({}, "jiraServerHost (OCEAN__INTEGRATION__CONFIG__JIRA_SERVER_HOST) is required"),
        ({"jira_server_host": "jira.example.test", "token": "t0k3n"}, "must be an http(s) URL"),
        ({"jira_server_host": "ftp://jira", "token": "t0k3n"}, "must be an http(s) URL"),
        (
            {"jira_server_host": "https://u:p@jira", "token": "t0k3n"},
            "must not contain credentials",
        ),
        ({"jira_server_host": HOST}, "No Jira credentials: set token"),
        (
            {"jira_server_host": HOST, "token": "t0k3n", "username": "u", "password": "p4ss"},
            "Set exactly one authentication method",
        ),
        (
            {"jira_server_host": HOST, "username": "u"},
            "password (OCEAN__INTEGRATION__CONFIG__PASSWORD) is required",
        ),
        (
            {"jira_server_host": HOST, "password": "p4ss"},
            "username (OCEAN__INTEGRATION__CONFIG__USERNAME) is required",
        ),
        ({"jira_server_host": HOST, "token": "t0k3n", "page_size": "lots"}, "pageSize"),
        (
            {"jira_server_host": HOST, "token": "t0k3n", "max_concurrent_requests": 0},
            "between 1 and",
        ),
        ({"jira_server_host": HOST, "token": "t0k3n", "verify_ssl": "maybe"}, "verifySsl"),
        ({"jira_server_host": HOST, "token": "t0k3n", "ca_bundle": "/nonexistent.pem"}, "caBundle"),
        ({"jira_server_host": HOST, "token": "t0k3n", "custom_headers": "x"}, "customHeaders"),
        (
            {"jira_server_host": HOST, "token": "t0k3n", "custom_headers": {"Authorization": "x"}},
            "must not set Authorization",
        ),
    ],
)
def test_bad_settings_name_the_setting(raw: dict[str, Any], expected: str) -> None:
    assert expected in error_of(**raw)


def test_error_messages_never_contain_secrets() -> None:
    message = error_of(
        jira_server_host=HOST, token="tok-SECRET-1", username="u", password="pw-SECRET-2"
    )
    assert "SECRET" not in message


def test_host_keeps_context_path_and_drops_trailing_slash() -> None:
    assert settings(token="t0k3n", jira_server_host="https://example.test/jira/").host == (
        "https://example.test/jira"
    )


def test_secrets_include_encoded_basic_credentials_and_secret_headers() -> None:
    loaded = settings(
        username="bot",
        password="pw-1234",
        webhook_secret="hook-secret",
        custom_headers={"CF-Access-Client-Secret": "cf-secret", "X-Trace": "visible"},
    )
    assert "pw-1234" in loaded.secrets
    assert base64.b64encode(b"bot:pw-1234").decode() in loaded.secrets
    assert "hook-secret" in loaded.secrets
    assert "cf-secret" in loaded.secrets
    assert "visible" not in loaded.secrets
    assert "pw-1234" not in repr(loaded)


@pytest.mark.parametrize("suffix", ["/rest/api/2", "/rest/api/2/", "/rest/api/latest", "/rest"])
def test_a_rest_api_url_as_host_names_the_setting_and_the_fix(suffix: str) -> None:
    message = error_of(jira_server_host=f"https://jira.example.test/jira{suffix}", token="t0k3n")
    assert "jiraServerHost (OCEAN__INTEGRATION__CONFIG__JIRA_SERVER_HOST)" in message
    assert "use 'https://jira.example.test/jira'" in message


def test_custom_headers_from_an_environment_variable_are_json_text() -> None:
    loaded = settings(token="t0k3n", custom_headers='{"CF-Access-Client-Id": "id-1"}')
    assert loaded.custom_headers == {"CF-Access-Client-Id": "id-1"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('{"CF-Access-Client-Secret": "cf-SECRET-9", ', "is not valid JSON"),
        ('["cf-SECRET-9"]', "got a JSON list"),
        ('{"bad name": "cf-SECRET-9"}', "the header name of entry 1 is not valid"),
        ('{"X-Token": {"nested": "cf-SECRET-9"}}', "header X-Token must have a text value"),
    ],
)
def test_malformed_custom_headers_never_print_their_values(value: str, expected: str) -> None:
    message = error_of(jira_server_host=HOST, token="t0k3n", custom_headers=value)
    assert "customHeaders (OCEAN__INTEGRATION__CONFIG__CUSTOM_HEADERS)" in message
    assert expected in message
    assert "SECRET" not in message


def test_port_app_url_defaults_to_ports_eu_app_and_is_validated() -> None:
    assert settings(token="t").port_app_url == "https://app.getport.io"
    assert settings(token="t", port_app_url="https://app.us.port.io/").port_app_url == (
        "https://app.us.port.io"
    )
    for bad in ("app.getport.io", "https://app.getport.io/?x=1", "ftp://port"):
        message = error_of(jira_server_host=HOST, token="t", port_app_url=bad)
        assert "portAppUrl (OCEAN__INTEGRATION__CONFIG__PORT_APP_URL)" in message
