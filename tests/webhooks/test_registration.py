"""Idempotent registration against the emulator's Data Center 10+ and 9.x APIs."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from jira_server.errors import JiraPermissionError
from jira_server.webhooks.events import ALL_EVENTS
from jira_server.webhooks.registration import (
    DesiredWebhook,
    endpoint,
    ensure_webhook,
    issue_filter,
)
from tests.webhooks.inprocess import HOOK_URL, SECRET, VIEWER_TOKEN, control, jira_client, make_app

JQL = "statusCategory != Done"


def desired(jql: str = JQL, secret: str | None = SECRET, url: str = HOOK_URL) -> DesiredWebhook:
    return DesiredWebhook("jira-server-sync (test)", url, ALL_EVENTS, jql, secret)


async def test_dc10_creates_once_then_leaves_it_alone() -> None:
    app = make_app("10.3.0")
    client = jira_client(app)
    first = await ensure_webhook(client, desired())
    second = await ensure_webhook(client, desired())
    assert (first.action, second.action) == ("created", "unchanged")
    assert first.api == "Data Center 10+" and first.id == second.id
    [registration] = app.webhooks.deliveries.registrations.values()
    assert registration.url == HOOK_URL
    assert registration.jql == JQL and registration.secret == SECRET
    assert sorted(registration.events) == sorted(ALL_EVENTS)


async def test_dc10_sends_options_in_configuration_as_strings() -> None:
    app = make_app("10.3.0")
    client = jira_client(app)
    await ensure_webhook(client, desired())
    async with control(app) as http:
        [body] = (await http.get("/rest/jira-webhook/1.0/webhooks")).json()
    assert body["configuration"] == {"FILTERS": JQL, "EXCLUDE_BODY": "false", "SECRET": SECRET}
    assert "filters" not in body and "secret" not in body


@pytest.mark.parametrize(
    "stale, changed",
    [
        (
            {
                "configuration": {
                    "FILTERS": "statusCategory = Done",
                    "EXCLUDE_BODY": "false",
                    "SECRET": SECRET,
                }
            },
            ["filter"],
        ),
        ({"configuration": {"FILTERS": JQL, "EXCLUDE_BODY": "false"}}, ["secret"]),
        ({"events": ["jira:issue_updated"]}, ["events"]),
        ({"active": False}, ["active"]),
        ({"configuration": {"FILTERS": JQL, "EXCLUDE_BODY": "true", "SECRET": SECRET}}, ["body"]),
    ],
)
async def test_dc10_updates_a_stale_registration_in_place(
    stale: dict[str, object], changed: list[str]
) -> None:
    app = make_app("10.3.0")
    client = jira_client(app)
    created = await ensure_webhook(client, desired())
    base = {
        "name": "old",
        "url": HOOK_URL,
        "events": list(ALL_EVENTS),
        "active": True,
        "configuration": {"FILTERS": JQL, "EXCLUDE_BODY": "false", "SECRET": SECRET},
    }
    async with control(app) as http:
        response = await http.put(
            f"/rest/jira-webhook/1.0/webhooks/{created.id}", json={**base, **stale}
        )
        assert response.status_code == 200
    result = await ensure_webhook(client, desired())
    assert result.action == "updated" and list(result.changed) == changed
    [registration] = app.webhooks.deliveries.registrations.values()
    assert registration.id == int(created.id)
    assert (registration.jql, registration.secret, registration.active) == (JQL, SECRET, True)
    assert sorted(registration.events) == sorted(ALL_EVENTS)


async def test_duplicates_with_our_url_are_removed_and_others_left_alone() -> None:
    app = make_app("10.3.0")
    client = jira_client(app)
    body = {"name": "x", "events": ["jira:issue_updated"], "configuration": {"FILTERS": JQL}}
    async with control(app) as http:
        for url in (HOOK_URL, HOOK_URL + "/", "http://127.0.0.1:8000/other", HOOK_URL + "?a=1"):
            assert (
                await http.post("/rest/jira-webhook/1.0/webhooks", json={**body, "url": url})
            ).status_code == 201
    result = await ensure_webhook(client, desired())
    assert result.action == "updated" and result.id == "1"
    assert result.removed_duplicates == ("2", "4")
    urls = sorted(r.url for r in app.webhooks.deliveries.registrations.values())
    assert urls == sorted([HOOK_URL, "http://127.0.0.1:8000/other"])


async def test_9x_falls_back_and_puts_the_token_in_the_url() -> None:
    app = make_app("9.12.0")
    client = jira_client(app)
    first = await ensure_webhook(client, desired())
    second = await ensure_webhook(client, desired())
    assert (first.api, first.action, second.action) == ("9.x", "created", "unchanged")
    [registration] = app.webhooks.deliveries.registrations.values()
    parts = urlsplit(registration.url)
    assert endpoint(registration.url) == endpoint(HOOK_URL)
    assert parse_qs(parts.query) == {"token": [SECRET]}
    assert registration.jql == JQL and registration.secret is None


async def test_9x_new_secret_rewrites_the_token() -> None:
    app = make_app("9.12.0")
    await ensure_webhook(jira_client(app), desired())
    result = await ensure_webhook(
        jira_client(app, secret="rotated-secret"), desired(secret="rotated-secret")
    )
    assert result.action == "updated" and result.changed == ("url/token",)
    [registration] = app.webhooks.deliveries.registrations.values()
    assert registration.url.endswith("?token=rotated-secret")


async def test_without_a_secret_nothing_secret_is_registered() -> None:
    for version in ("10.3.0", "9.12.0"):
        app = make_app(version)
        await ensure_webhook(jira_client(app, secret=None), desired(secret=None))
        [registration] = app.webhooks.deliveries.registrations.values()
        assert registration.url == HOOK_URL and registration.secret is None


async def test_non_admin_gets_a_permission_error_and_nothing_is_created() -> None:
    app = make_app("10.3.0")
    app.webhooks.deliveries.settings.update({"non_admins": ["viewer"]})
    with pytest.raises(JiraPermissionError) as caught:
        await ensure_webhook(jira_client(app, token=VIEWER_TOKEN), desired())
    assert "403" in str(caught.value) and SECRET not in str(caught.value)
    assert app.webhooks.deliveries.registrations == {}


@pytest.mark.parametrize(
    "jqls, expected",
    [
        ([JQL], JQL),
        (["project = A ORDER BY key"], "project = A"),
        (["project = A", "project = B"], "(project = A) OR (project = B)"),
        (["project = A", "project = A ORDER BY id"], "project = A"),
        (["project = A", ""], ""),
        ([], ""),
    ],
)
def test_issue_filter_covers_every_issue_selector(jqls: list[str], expected: str) -> None:
    assert issue_filter(jqls) == expected
