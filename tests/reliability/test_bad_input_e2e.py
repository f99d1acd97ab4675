"""Bad input, end to end: a real ``ocean sail`` ONCE run against a catalog that already holds
a synced Jira. Each case must fail with its own clear message, with the right exit code (2:
settings, before anything starts; 1: found at run time), and leave the catalog untouched:
the same entities with the same contents and ``updatedAt``, and no entity write at all."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from local_stack.catalog.testing import free_loopback_port
from local_stack.stack import LocalStack, jira_args, local_stack
from tests.reliability.support import (
    assert_catalog_equals_jira,
    assert_unchanged,
    change_mapping,
    issue_resource,
    output,
    run,
    set_mapping,
    snapshot,
    tail,
    writes,
)
from tests.support.tls_server import tls_server

pytestmark = pytest.mark.e2e

SECRET_TOKEN = "pat-do-not-print-7Hq2"
SECRET_PASSWORD = "pw-do-not-print-9Zx4"
HOST = "OCEAN__INTEGRATION__CONFIG__JIRA_SERVER_HOST"
TOKEN = "OCEAN__INTEGRATION__CONFIG__TOKEN"
Result = subprocess.CompletedProcess[str]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    work = tmp_path_factory.mktemp("bad-input")
    with local_stack(work, jira=jira_args(projects=3, users=20, issues=120, seed=5)) as running:
        result = run(running, "baseline.log")
        assert result.returncode == 0, tail(result)
        assert_catalog_equals_jira(running)
        yield running


def untouched_run(stack: LocalStack, name: str, **kwargs: Any) -> Result:
    """Run ONCE; assert the catalog did not change and saw no entity write."""
    before, counters = snapshot(stack), writes(stack)
    result = run(stack, f"{name}.log", **kwargs)
    assert_unchanged(before, snapshot(stack))
    assert writes(stack) == counters
    return result


def assert_failed(result: Result, code: int, *messages: str) -> None:
    text = output(result)
    assert result.returncode == code, tail(result)
    for message in messages:
        assert message in text, f"{message!r} not in output:\n{tail(result)}"
    assert SECRET_TOKEN not in text and SECRET_PASSWORD not in text


# ---- settings: exit 2 before the framework calls the catalog ----------------------------------


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {HOST: ""},
            "jiraServerHost (OCEAN__INTEGRATION__CONFIG__JIRA_SERVER_HOST) is required",
        ),
        (
            {HOST: "jira.example.com"},
            "jiraServerHost (OCEAN__INTEGRATION__CONFIG__JIRA_SERVER_HOST) must be an http(s) URL",
        ),
        ({TOKEN: ""}, "No Jira credentials: set token (OCEAN__INTEGRATION__CONFIG__TOKEN)"),
        (
            {
                TOKEN: SECRET_TOKEN,
                "OCEAN__INTEGRATION__CONFIG__USERNAME": "sync-bot",
                "OCEAN__INTEGRATION__CONFIG__PASSWORD": SECRET_PASSWORD,
            },
            "Set exactly one authentication method",
        ),
    ],
    ids=["missing-host", "malformed-host", "no-auth", "two-auth-methods"],
)
def test_invalid_settings_exit_2_before_any_catalog_call(
    stack: LocalStack, env: dict[str, str], message: str
) -> None:
    requests = sum(stack.catalog_client.stats()["requests"].values())
    result = untouched_run(stack, "settings", env=env)
    assert_failed(result, 2, f"Invalid jira-server-sync configuration: {message}")
    assert sum(stack.catalog_client.stats()["requests"].values()) == requests


# ---- connection ---------------------------------------------------------------------------


def test_unreachable_host(stack: LocalStack) -> None:
    host = f"http://127.0.0.1:{free_loopback_port()}"  # nothing listens there
    result = untouched_run(stack, "unreachable", env={HOST: host}, maxRetries=0)
    assert_failed(result, 1, f"Cannot reach Jira at {host}", "Resync failed")


def test_tls_failure_hints_at_ca_bundle_which_then_works(stack: LocalStack, tmp_path: Path) -> None:
    with tls_server(tmp_path) as server:
        result = untouched_run(stack, "tls", env={HOST: server.url})
        assert_failed(
            result,
            1,
            f"TLS verification failed for {server.url}",
            "point caBundle (OCEAN__INTEGRATION__CONFIG__CA_BUNDLE) at that CA's PEM file",
        )
        # With the CA the connection is trusted: the (stub) server's 401 is what stops it.
        result = untouched_run(stack, "tls-ca", env={HOST: server.url}, caBundle=server.ca_pem)
        assert_failed(result, 1, "Jira rejected the personal access token (401")


# ---- credentials and permissions --------------------------------------------------------------


def test_wrong_token(stack: LocalStack) -> None:
    result = untouched_run(stack, "401", env={TOKEN: SECRET_TOKEN})
    assert_failed(
        result,
        1,
        "Jira rejected the personal access token (401 on GET /rest/api/2/myself)",
        "Sync failure, this run deletes nothing: all kinds (credentials) (checks before the sync)",
    )


def basic(password: str) -> dict[str, str]:
    return {
        TOKEN: "",
        "OCEAN__INTEGRATION__CONFIG__USERNAME": "sync-bot",
        "OCEAN__INTEGRATION__CONFIG__PASSWORD": password,
    }


@pytest.fixture
def emulator_settings(stack: LocalStack) -> Iterator[Callable[..., None]]:
    """Change the emulator's settings for one test; restored afterwards."""
    original = stack.jira_control._call("GET", "/settings")
    yield stack.jira_control.patch_settings
    names = ("captcha_after", "basic_auth", "browse_projects", "browse_users")
    stack.jira_control.patch_settings(**{name: original[name] for name in names})
    stack.jira_control._call("POST", "/reset-lockout", json={})


def test_captcha_lockout(stack: LocalStack, emulator_settings: Callable[..., None]) -> None:
    emulator_settings(captcha_after=1)
    result = untouched_run(stack, "basic-wrong", env=basic(SECRET_PASSWORD))
    assert_failed(result, 1, "Jira rejected the username/password of 'sync-bot' (401")
    # The failed login locked the account: the right password now meets the CAPTCHA.
    result = untouched_run(stack, "captcha", env=basic("admin"))
    assert_failed(
        result,
        1,
        "Jira locked username/password of 'sync-bot' behind a CAPTCHA after failed logins",
        f"{stack.jira.url}/login.jsp",
    )


def test_basic_auth_disabled(stack: LocalStack, emulator_settings: Callable[..., None]) -> None:
    emulator_settings(basic_auth=False)
    result = untouched_run(stack, "basic-disabled", env=basic("admin"))
    assert_failed(
        result,
        1,
        "Basic authentication has been disabled on this instance",
        "use a personal access token (token)",
    )


def test_no_browse_projects_permission(
    stack: LocalStack, emulator_settings: Callable[..., None]
) -> None:
    emulator_settings(browse_projects=False)  # /project and searches answer empty lists
    result = untouched_run(stack, "no-browse")
    assert_failed(
        result,
        1,
        "Jira returned no projects: the user needs the 'Browse Projects' permission",
        "board, component, issue, project, sprint, version (checks before the sync)",
    )


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        ("forbidden", "Jira refused GET /rest/api/2/user/list (403): missing permission"),
        ("empty", "Jira lists no users: the user needs the 'Browse users and groups'"),
    ],
)
def test_no_browse_users_permission(
    stack: LocalStack, emulator_settings: Callable[..., None], mode: str, message: str
) -> None:
    emulator_settings(browse_users=mode)
    result = untouched_run(stack, f"users-{mode}")
    assert_failed(result, 1, message, "Sync failure, this run deletes nothing: user (checks before")


# ---- the mapping ------------------------------------------------------------------------------


@pytest.fixture
def mapping_change(
    stack: LocalStack,
) -> Iterator[Callable[[Callable[[dict[str, Any]], None]], None]]:
    """Change the stored mapping (as a user would in Port) for one test; restored after."""
    originals: list[dict[str, Any]] = []

    def change(how: Callable[[dict[str, Any]], None]) -> None:
        originals.append(change_mapping(stack, how))

    yield change
    if originals:
        set_mapping(stack, originals[0])


def test_invalid_jql_shows_jiras_message(
    stack: LocalStack, mapping_change: Callable[[Callable[[dict[str, Any]], None]], None]
) -> None:
    mapping_change(lambda m: issue_resource(m)["selector"].update(jql="project = (PLAT"))
    result = untouched_run(stack, "bad-jql")
    assert_failed(
        result,
        1,
        "Jira rejected POST /rest/api/2/search (400): Error in the JQL Query: Expecting "
        "either a value, list or function but got '('",
        "issue (resource #6) (checks before the sync)",
    )


def test_mapping_reading_an_unknown_field(
    stack: LocalStack, mapping_change: Callable[[Callable[[dict[str, Any]], None]], None]
) -> None:
    def read_story_points(m: dict[str, Any]) -> None:
        issue_resource(m)["port"]["entity"]["mappings"]["properties"]["points"] = (
            ".fields.storypoints"
        )

    # Mappings are shared between instances: one field this Jira lacks is a loud warning
    # naming the field and its closest match; the property is null and the rest syncs.
    mapping_change(read_story_points)
    result = untouched_run(stack, "unknown-field")
    assert result.returncode == 0, tail(result)
    text = output(result)
    assert (
        "The issue (resource #6) mapping reads .fields.storypoints (did you mean "
        ".fields.customfield_10106 (Story Points)"
    ) in text
    assert "which this Jira does not have: that property is null on every issue" in text


def test_selector_fields_naming_an_unknown_field(
    stack: LocalStack, mapping_change: Callable[[Callable[[dict[str, Any]], None]], None]
) -> None:
    # Fields named explicitly in the selector are the user's own request: a clear error.
    mapping_change(
        lambda m: issue_resource(m)["selector"].update(fields="summary,status,storypoints")
    )
    result = untouched_run(stack, "unknown-selector-field")
    assert_failed(
        result,
        1,
        "the selector's fields name fields this Jira does not have: .fields.storypoints",
        "issue (resource #6) (checks before the sync)",
    )


def test_mapping_that_does_not_validate(
    stack: LocalStack, mapping_change: Callable[[Callable[[dict[str, Any]], None]], None]
) -> None:
    mapping_change(lambda m: issue_resource(m).update(selector={"jql": "project = PLAT"}))
    result = untouched_run(stack, "invalid-mapping")
    assert_failed(result, 1, "all kinds (mapping): the mapping is invalid", "query")


def test_a_once_run_with_basic_auth_logs_in_once(stack: LocalStack) -> None:
    # Every failed Basic login counts towards Jira's CAPTCHA lock-out: the start-up check
    # and the run's checks share one proof of the credentials.
    stack.jira_control.reset_stats()
    result = run(stack, "basic-once.log", env=basic("admin"))
    assert result.returncode == 0, tail(result)
    routes = stack.jira_control.stats()["routes"]
    assert routes.get("GET /rest/api/2/myself") == 1


def test_malformed_custom_headers_exit_2_without_printing_them(stack: LocalStack) -> None:
    leaked = "cf-access-SECRET-value-41"
    result = untouched_run(
        stack,
        "custom-headers",
        env={
            "OCEAN__INTEGRATION__CONFIG__CUSTOM_HEADERS": '{"CF-Access-Client-Secret": "' + leaked
        },
    )
    assert_failed(
        result,
        2,
        "Invalid jira-server-sync configuration: customHeaders "
        "(OCEAN__INTEGRATION__CONFIG__CUSTOM_HEADERS) is not valid JSON",
    )
    assert leaked not in output(result)
