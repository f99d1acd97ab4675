"""An account without Jira administrator rights and no ``webhookSecret``: registration fails
with a clear warning and the integration keeps running; unsigned deliveries are accepted
(and loudly warned about) but only ever make it re-read Jira."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from local_stack.catalog.testing import CatalogClient
from tests.webhooks import payloads
from tests.webhooks.live import (
    ISSUE_BP,
    VIEWER,
    VIEWER_TOKEN,
    Emulator,
    Sail,
    running_sail,
    servers,
    wait_for,
)

pytestmark = pytest.mark.e2e

JQL = "statusCategory != Done"
IDENTIFIER = "wh-viewer"


@dataclass
class Live:
    jira: Emulator
    catalog: CatalogClient
    sail: Sail

    def titles(self) -> dict[str, str]:
        return {e["identifier"]: e["title"] for e in self.catalog.entities(ISSUE_BP)}

    def issue_id(self, key: str) -> str:
        response = self.jira.jira("GET", f"/rest/api/2/issue/{key}", params={"fields": "id"})
        return str(response.json()["id"])


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    work = tmp_path_factory.mktemp("viewer")
    with servers(work, "10.3.0") as (jira, catalog):
        jira.webhook_settings(non_admins=[VIEWER])
        with running_sail(
            work,
            catalog.url,
            jira.url,
            identifier=IDENTIFIER,
            jql=JQL,
            auth={"TOKEN": VIEWER_TOKEN},
            secret=None,
        ) as sail:
            yield Live(jira, CatalogClient(catalog.url), sail)


def test_registration_refused_is_a_warning_and_the_integration_keeps_running(live: Live) -> None:
    wait_for(lambda: "Could not register the Jira webhook" in live.sail.log(), "the warning")
    log = live.sail.log()
    warning = next(
        line for line in log.splitlines() if "Could not register the Jira webhook" in line
    )
    assert "WARNING" in warning and "administrator" in warning and "403" in warning
    assert live.sail.webhook_url in warning and JQL in warning
    assert live.jira.registrations() == []
    assert live.sail.alive()
    assert httpx.get(f"{live.sail.url}/health/ready", timeout=5).status_code == 200
    assert live.titles(), "the resync still filled the catalog"


def test_missing_secret_is_warned_about_at_start(live: Live) -> None:
    warning = next(
        line for line in live.sail.log().splitlines() if "webhookSecret is NOT set" in line
    )
    assert "WARNING" in warning and live.sail.webhook_url in warning
    assert "cannot change content" in warning and "404" in warning


def test_unsigned_deliveries_only_make_it_reread_jira(live: Live) -> None:
    keys = sorted(live.titles())
    changed, kept = keys[0], keys[1]
    live.jira.control.mutate({"op": "update", "keys": [changed], "summary": "Changed in Jira"})
    forged_delete = payloads.issue_event("jira:issue_deleted", live.issue_id(kept), kept)
    assert live.sail.post(payloads.encode(forged_delete)) == 200
    update = payloads.issue_event(
        "jira:issue_updated", live.issue_id(changed), changed, summary="Forged title"
    )
    assert live.sail.post(payloads.encode(update)) == 200
    wait_for(lambda: live.titles().get(changed) == "Changed in Jira", f"{changed} refetched")
    assert kept in live.titles(), "Jira still has it: a forged delete must not remove it"


def test_forged_delete_with_an_unknown_id_and_a_live_key_removes_nothing(live: Live) -> None:
    # Without a secret anyone who reaches the route can post; the payload's key is what the
    # entity is named by, so only Jira confirming that key gone could remove it.
    keys = sorted(live.titles())
    target, other = keys[2], keys[3]
    forged = payloads.issue_event("jira:issue_deleted", "999999", target)
    assert live.sail.post(payloads.encode(forged)) == 200
    # A barrier: one worker handles deliveries in order, so once this update is applied the
    # forged delete before it has been handled too.
    live.jira.control.mutate({"op": "update", "keys": [other], "summary": "after the forgery"})
    update = payloads.issue_event("jira:issue_updated", live.issue_id(other), other)
    assert live.sail.post(payloads.encode(update)) == 200
    wait_for(lambda: live.titles().get(other) == "after the forgery", f"{other} updated")
    assert target in live.titles()
