"""Live events on Jira 9.x (the legacy registration API, unsigned deliveries): the secret
travels as a token in the webhook URL; Basic auth. Nothing secret may reach a log."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from local_stack.catalog.testing import CatalogClient, run_ocean_sail
from local_stack.stack import REPO_ROOT
from tests.webhooks import payloads
from tests.webhooks.live import (
    BASIC_PASSWORD,
    BASIC_USER,
    INTEGRATION_TYPE,
    ISSUE_BP,
    WEBHOOK_SECRET,
    Emulator,
    Sail,
    running_sail,
    servers,
    wait_for,
)

pytestmark = pytest.mark.e2e

JQL = "statusCategory != Done ORDER BY key"
WRONG_PASSWORD = "pw-WH-wrong-0Zx8cV3n"
IDENTIFIER = "wh-legacy"


@dataclass
class Live:
    jira: Emulator
    catalog: CatalogClient
    catalog_url: str
    sail: Sail


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    work = tmp_path_factory.mktemp("legacy")
    with (
        servers(work, "9.12.0") as (jira, catalog),
        running_sail(
            work,
            catalog.url,
            jira.url,
            identifier=IDENTIFIER,
            jql=JQL,
            auth={"USERNAME": BASIC_USER, "PASSWORD": BASIC_PASSWORD},
            secret=WEBHOOK_SECRET,
        ) as sail,
    ):
        wait_for(jira.registrations, "the webhook registration")
        yield Live(jira, CatalogClient(catalog.url), catalog.url, sail)


def test_falls_back_to_the_9x_api_with_the_token_in_the_url(live: Live) -> None:
    [registration] = live.jira.registrations()
    assert registration["api"] == "legacy"
    url = urlsplit(registration["url"])
    assert f"{url.scheme}://{url.netloc}{url.path}" == live.sail.webhook_url
    assert parse_qs(url.query) == {"token": [WEBHOOK_SECRET]}
    assert registration["configuration"]["FILTERS"] == "statusCategory != Done"
    assert "SECRET" not in registration["configuration"]
    # Through the 9.x API itself: the shape Jira 9 answers, with the filter section.
    response = httpx.get(
        f"{live.jira.url}/rest/webhooks/1.0/webhook", auth=(BASIC_USER, BASIC_PASSWORD), timeout=10
    )
    [legacy] = response.json()
    assert legacy["filters"] == {"issue-related-events-section": "statusCategory != Done"}
    assert legacy["enabled"] is True and legacy["excludeBody"] is False
    assert "Jira webhook created (9.x API" in live.sail.log()


def test_unsigned_delivery_with_the_token_is_applied(live: Live) -> None:
    issues = live.catalog.identifiers(ISSUE_BP)
    key = sorted(issues)[0]
    live.jira.control.mutate({"op": "update", "keys": [key], "summary": "Renamed on 9.x"})

    wait_for(lambda: _title(live, key) == "Renamed on 9.x", f"{key} renamed")
    [record] = live.jira.delivered([r["id"] for r in live.jira.deliveries(issue=key)])
    assert record["signed"] is False and record["status"] == 200


def test_delivery_without_the_token_gets_401(live: Live) -> None:
    key = sorted(live.catalog.identifiers(ISSUE_BP))[1]
    live.jira.webhook_settings(paused=True)
    live.jira.control.mutate({"op": "delete", "keys": [key]})
    live.jira.webhook_settings(paused=False)
    body = payloads.encode(payloads.issue_event("jira:issue_deleted", "1", key))
    assert live.sail.post(body) == 401
    assert live.sail.post(body, query="token=" + WEBHOOK_SECRET[:-1]) == 401
    # A later, genuine delivery is applied; the forged one before it was not.
    other = sorted(live.catalog.identifiers(ISSUE_BP) - {key})[0]
    live.jira.control.mutate({"op": "update", "keys": [other], "summary": "barrier"})
    wait_for(lambda: _title(live, other) == "barrier", f"{other} renamed")
    assert key in live.catalog.identifiers(ISSUE_BP)


def _title(live: Live, key: str) -> str | None:
    found = [e["title"] for e in live.catalog.entities(ISSUE_BP) if e["identifier"] == key]
    return found[0] if found else None


def test_no_credential_reaches_any_log(live: Live, tmp_path: Path) -> None:
    """A full resync, a retried 503 and every delivery above (token in the URL), then a
    ONCE run whose Basic password Jira rejects (401): nothing secret in any output."""
    live.jira.control.set_faults(error_next=1, error_statuses=[503], paths=["/rest/api/2/issue/"])
    key = sorted(live.catalog.identifiers(ISSUE_BP))[0]
    live.jira.control.mutate({"op": "update", "keys": [key], "summary": "after a 503"})
    wait_for(lambda: "Jira answered 503" in live.sail.log(), "the retried 503")
    live.jira.control.set_faults()
    live.sail.stop()
    rejected = run_ocean_sail(
        REPO_ROOT,
        live.catalog_url,
        identifier=f"{IDENTIFIER}-once",
        integration_type=INTEGRATION_TYPE,
        timeout=60,
        extra_env={
            "OCEAN__INTEGRATION__CONFIG__JIRA_SERVER_HOST": live.jira.url,
            "OCEAN__INTEGRATION__CONFIG__USERNAME": BASIC_USER,
            "OCEAN__INTEGRATION__CONFIG__PASSWORD": WRONG_PASSWORD,
            "OCEAN__INTEGRATION__CONFIG__WEBHOOK_SECRET": WEBHOOK_SECRET,
        },
        log_path=tmp_path / "once.log",
    )
    assert rejected.returncode == 1
    assert "Jira rejected the username/password of 'basic-bot' (401" in rejected.stdout
    shipped = httpx.get(f"{live.catalog_url}/_catalog/logs", timeout=10).text
    assert "Resync finished" in shipped
    everything = live.sail.log() + rejected.stdout + rejected.stderr + shipped
    assert "POST /integration/webhook HTTP/1.1" in everything  # the token was in that URL
    for password in (BASIC_PASSWORD, WRONG_PASSWORD):
        basic = base64.b64encode(f"{BASIC_USER}:{password}".encode()).decode()
        for secret in (password, basic, WEBHOOK_SECRET):
            assert secret not in everything
