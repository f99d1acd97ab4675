"""When live events are on, what is registered for a mapping, and how failures are told."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from loguru import logger

from jira_server.client.rest_client import JiraServerClient
from jira_server.webhooks import lifecycle
from tests.webhooks.inprocess import SECRET, VIEWER_TOKEN, jira_client, make_app

BASE_URL = "https://ocean.example.test/jira"


def fake_ocean(base_url: str | None, processes_webhooks: bool = True) -> Any:
    return SimpleNamespace(
        app=SimpleNamespace(
            base_url=base_url,
            config=SimpleNamespace(
                event_listener=SimpleNamespace(should_process_webhooks=processes_webhooks)
            ),
        ),
        config=SimpleNamespace(integration=SimpleNamespace(identifier="wh-test")),
    )


def resource(kind: str, jql: str | None = None) -> Any:
    return SimpleNamespace(kind=kind, selector=SimpleNamespace(jql=jql))


@pytest.fixture
def logs() -> Iterator[list[str]]:
    lines: list[str] = []
    sink = logger.add(lambda message: lines.append(str(message)), level="INFO")
    yield lines
    logger.remove(sink)


def use(monkeypatch: pytest.MonkeyPatch, ocean: Any, client: JiraServerClient) -> None:
    monkeypatch.setattr(lifecycle, "ocean", ocean)
    monkeypatch.setattr(lifecycle, "get_client", lambda: client)
    monkeypatch.setattr(lifecycle, "current_settings", lambda: client.settings)


@pytest.mark.parametrize(
    "base_url, processes, expected",
    [
        (BASE_URL, True, f"{BASE_URL}/integration/webhook"),
        (BASE_URL + "/", True, f"{BASE_URL}/integration/webhook"),
        (None, True, None),  # no OCEAN__BASE_URL: the framework starts no webhook workers
        (BASE_URL, False, None),  # ONCE (or actions-only) listener
    ],
)
def test_live_events_need_a_base_url_and_a_webhook_listener(
    monkeypatch: pytest.MonkeyPatch, base_url: str | None, processes: bool, expected: str | None
) -> None:
    monkeypatch.setattr(lifecycle, "ocean", fake_ocean(base_url, processes))
    assert lifecycle.webhook_url() == expected


def test_events_follow_the_kinds_in_the_mapping(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lifecycle, "ocean", fake_ocean(BASE_URL))
    monkeypatch.setattr(lifecycle, "current_settings", lambda: SimpleNamespace(webhook_secret="s"))
    wanted = lifecycle.desired_webhook(
        "u", [resource("issue", "project = A"), resource("issue", "project = B"), resource("user")]
    )
    assert wanted is not None
    assert wanted.events == (
        "jira:issue_created",
        "jira:issue_deleted",
        "jira:issue_updated",
        "user_created",
        "user_deleted",
        "user_updated",
    )
    assert wanted.jql == "(project = A) OR (project = B)"
    assert wanted.name == "jira-server-sync (wh-test)" and wanted.secret == "s"
    assert lifecycle.desired_webhook("u", [resource("board"), resource("sprint")]) is None


async def test_registration_is_logged_without_the_secret(
    monkeypatch: pytest.MonkeyPatch, logs: list[str]
) -> None:
    app = make_app("9.12.0")
    use(monkeypatch, fake_ocean(BASE_URL), jira_client(app))
    await lifecycle.sync_registration([resource("issue", "statusCategory != Done")])
    [line] = [entry for entry in logs if "Jira webhook created" in entry]
    assert "9.x API" in line and f"{BASE_URL}/integration/webhook," in line
    assert "token in the URL" in line and SECRET not in line
    [registration] = app.webhooks.deliveries.registrations.values()
    assert registration.url.endswith(f"?token={SECRET}")


async def test_refused_registration_warns_once_then_retries_quietly(
    monkeypatch: pytest.MonkeyPatch, logs: list[str]
) -> None:
    app = make_app("10.3.0")
    app.webhooks.deliveries.settings.update({"non_admins": ["viewer"]})
    use(monkeypatch, fake_ocean(BASE_URL + "/refused"), jira_client(app, token=VIEWER_TOKEN))
    for _ in range(3):
        await lifecycle.sync_registration([resource("issue", "statusCategory != Done")])
    warnings = [entry for entry in logs if "WARNING" in entry]
    assert len(warnings) == 1 and "administrator rights" in warnings[0]
    assert sum("still cannot be registered" in entry for entry in logs) == 2
    assert app.webhooks.deliveries.registrations == {}


async def test_unreachable_jira_is_a_warning_not_a_crash(
    monkeypatch: pytest.MonkeyPatch, logs: list[str]
) -> None:
    app = make_app("10.3.0")
    app.state.set_faults({"error_next": 1, "error_statuses": [500]})
    use(monkeypatch, fake_ocean(BASE_URL), jira_client(app))
    await lifecycle.sync_registration([resource("issue", "statusCategory != Done")])
    assert any("Could not register the Jira webhook" in e and "WARNING" in e for e in logs)
