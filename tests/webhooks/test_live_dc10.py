"""Live events end to end on Data Center 10+: the Jira emulator delivers signed webhooks to a
real ``ocean sail`` (POLLING) whose framework route, workers and catalog writes are the real
ones; the catalog is checked entity by entity."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from local_stack.catalog.testing import CatalogClient
from tests.webhooks import payloads
from tests.webhooks.live import (
    ADMIN_TOKEN,
    ISSUE_BP,
    USER_BP,
    WEBHOOK_SECRET,
    Emulator,
    Sail,
    running_sail,
    servers,
    start_sail,
    wait_for,
    wait_until_synced,
)

pytestmark = pytest.mark.e2e

JQL = "statusCategory != Done"
IDENTIFIER = "wh-dc10"
ALL_EVENTS = sorted(
    [
        "jira:issue_created",
        "jira:issue_updated",
        "jira:issue_deleted",
        "project_created",
        "project_updated",
        "project_deleted",
        "user_created",
        "user_updated",
        "user_deleted",
    ]
)


@dataclass
class Live:
    jira: Emulator
    catalog: CatalogClient
    catalog_url: str
    sail: Sail
    work: Path
    earlier_logs: list[str]

    def issues(self) -> dict[str, dict[str, Any]]:
        return {e["identifier"]: e for e in self.catalog.entities(ISSUE_BP)}

    def issue_id(self, key: str) -> str:
        response = self.jira.jira("GET", f"/rest/api/2/issue/{key}", params={"fields": "summary"})
        assert response.status_code == 200, response.text
        return str(response.json()["id"])

    def truth(self, jql: str) -> list[str]:
        keys: list[str] = self.jira.control.truth(jql)["keys"]
        return keys

    def barrier(self) -> None:
        """Events are processed in order by one worker: once a fresh, signed update of
        another issue is visible, everything sent before it has been handled."""
        key = next(k for k in self.truth(JQL) if k in self.issues())
        summary = f"barrier {time.monotonic_ns()}"
        self.jira.control.mutate({"op": "update", "keys": [key], "summary": summary})
        wait_for(lambda: self.issues().get(key, {}).get("title") == summary, f"barrier on {key}")


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    work = tmp_path_factory.mktemp("dc10")
    with (
        servers(work, "10.3.0") as (jira, catalog),
        running_sail(
            work,
            catalog.url,
            jira.url,
            identifier=IDENTIFIER,
            jql=JQL,
            auth={"TOKEN": ADMIN_TOKEN},
            secret=WEBHOOK_SECRET,
            log_name="sail-1.log",
        ) as sail,
    ):
        state = Live(jira, CatalogClient(catalog.url), catalog.url, sail, work, [])
        try:
            wait_for(jira.registrations, "the webhook registration")
            yield state
        finally:
            state.sail.stop()  # the restart test replaces the first one


def test_registers_one_webhook_with_the_issue_filter_and_secret(live: Live) -> None:
    [registration] = live.jira.registrations()
    assert registration["url"] == live.sail.webhook_url
    assert sorted(registration["events"]) == ALL_EVENTS
    assert registration["configuration"] == {
        "FILTERS": JQL,
        "EXCLUDE_BODY": "false",
        "SECRET": WEBHOOK_SECRET,
    }
    assert registration["active"] is True
    assert "Jira webhook created (Data Center 10+ API" in live.sail.log()


def test_signed_update_is_applied(live: Live) -> None:
    key = sorted(live.issues())[0]
    live.jira.control.mutate({"op": "update", "keys": [key], "summary": "Renamed in Jira"})
    wait_for(lambda: live.issues()[key]["title"] == "Renamed in Jira", f"{key} renamed")
    [queued] = live.jira.deliveries(issue=key, webhookEvent="jira:issue_updated")
    [record] = live.jira.delivered([queued["id"]])
    assert record["signed"] is True
    assert record["status"] == 200


def test_unauthenticated_or_altered_deliveries_get_401_and_change_nothing(live: Live) -> None:
    # An issue deleted in Jira while no delivery reached us: the catalog still has it, so
    # any delivery that got through would remove it.
    key = sorted(live.issues())[1]
    issue_id = live.issue_id(key)
    live.jira.webhook_settings(paused=True)
    live.jira.control.mutate({"op": "delete", "keys": [key]})
    live.jira.webhook_settings(paused=False)
    delete = payloads.encode(payloads.issue_event("jira:issue_deleted", issue_id, key))
    other = payloads.encode(payloads.issue_event("jira:issue_updated", "10001", "PLAT-1"))

    forged = {
        "no signature": live.sail.post(delete),
        "wrong secret": live.sail.post(
            delete, {"X-Hub-Signature": payloads.signature("not-the-secret", delete)}
        ),
        "replayed signature, altered body": live.sail.post(
            delete, {"X-Hub-Signature": payloads.signature(WEBHOOK_SECRET, other)}
        ),
        "truncated signature": live.sail.post(
            delete, {"X-Hub-Signature": payloads.signature(WEBHOOK_SECRET, delete)[:-2]}
        ),
        "sha1 prefix": live.sail.post(
            delete,
            {"X-Hub-Signature": "sha1=" + payloads.signature(WEBHOOK_SECRET, delete)[7:]},
        ),
        "wrong token": live.sail.post(delete, query="token=guess"),
        "right token, wrong signature": live.sail.post(
            delete,
            {"X-Hub-Signature": payloads.signature("nope", delete)},
            query=f"token={WEBHOOK_SECRET}",
        ),
        "spoofed verification header": live.sail.post(
            delete, {"X-Jira-Server-Sync-Auth": "0" * 32 + " signed"}
        ),
    }
    assert forged == dict.fromkeys(forged, 401)
    # The emulator's control API can forge too (recorded like any delivery).
    ids = live.jira.send(
        url=live.sail.webhook_url,
        payload=payloads.issue_event("jira:issue_deleted", issue_id, key),
        unsigned=True,
    )
    assert [r["status"] for r in live.jira.delivered(ids)] == [401]

    live.barrier()
    assert key in live.issues(), "an unauthenticated delete must not remove anything"

    # The same delete, signed with the registration's secret: applied (Jira answers 404).
    ids = live.jira.send(
        webhookId=live.jira.registrations()[0]["id"],
        payload=payloads.issue_event("jira:issue_deleted", issue_id, key),
    )
    assert [r["status"] for r in live.jira.delivered(ids)] == [200]
    wait_for(lambda: key not in live.issues(), f"{key} removed after the signed delete")


def test_signed_delete_of_an_issue_jira_still_has_is_not_applied(live: Live) -> None:
    key = sorted(live.issues())[2]
    title = live.issues()[key]["title"]
    webhook = live.jira.registrations()[0]["id"]
    ids = live.jira.send(
        webhookId=webhook,
        payload=payloads.issue_event("jira:issue_deleted", live.issue_id(key), key),
    )
    assert [r["status"] for r in live.jira.delivered(ids)] == [200]
    live.barrier()
    assert live.issues()[key]["title"] == title


def test_signed_but_inconsistent_delete_removes_nothing(live: Live) -> None:
    # Signed, so from Jira (or with the secret): an id Jira does not know, a key it does.
    # The entity removed would be the key's, and Jira has that issue: nothing goes.
    key = sorted(live.issues())[4]
    title = live.issues()[key]["title"]
    webhook = live.jira.registrations()[0]["id"]
    ids = live.jira.send(
        webhookId=webhook, payload=payloads.issue_event("jira:issue_deleted", "999999", key)
    )
    assert [r["status"] for r in live.jira.delivered(ids)] == [200]
    live.barrier()
    assert live.issues()[key]["title"] == title


def test_delete_in_jira_removes_the_entity(live: Live) -> None:
    key = sorted(live.issues())[3]
    live.jira.control.mutate({"op": "delete", "keys": [key]})
    wait_for(lambda: key not in live.issues(), f"{key} removed")
    [queued] = live.jira.deliveries(issue=key, webhookEvent="jira:issue_deleted")
    [record] = live.jira.delivered([queued["id"]])
    assert record["signed"] is True and record["status"] == 200


def test_update_that_leaves_the_jql_removes_the_entity(live: Live) -> None:
    key = next(k for k in live.truth(f"{JQL} AND issuetype != Sub-task") if k in live.issues())
    live.jira.control.mutate({"op": "transition", "keys": [key], "status": "Done"})
    wait_for(lambda: key not in live.issues(), f"{key} removed once Done")
    assert key not in live.truth(JQL)


def test_issue_that_starts_matching_is_added(live: Live) -> None:
    key = next(k for k in live.truth("statusCategory = Done AND issuetype != Sub-task"))
    assert key not in live.issues()
    live.jira.control.mutate({"op": "transition", "keys": [key], "status": "In Progress"})
    issue = wait_for(lambda: live.issues().get(key), f"{key} added")
    assert issue["properties"]["status"] == "In Progress"


def test_created_issue_is_added_and_duplicate_deliveries_are_harmless(live: Live) -> None:
    live.jira.webhook_settings(duplicate=True)
    try:
        result = live.jira.control.mutate(
            {"op": "create", "project": "PLAT", "summary": "Brand new"}
        )
    finally:
        live.jira.webhook_settings(duplicate=False)
    key = result["results"][0]["created"][0]["key"]
    wait_for(lambda: live.issues().get(key, {}).get("title") == "Brand new", f"{key} created")
    records = live.jira.delivered(
        [r["id"] for r in live.jira.deliveries(issue=key, webhookEvent="jira:issue_created")]
    )
    assert [r["status"] for r in records] == [200, 200]


def test_user_deactivated_and_reactivated(live: Live) -> None:
    users = {e["identifier"]: e for e in live.catalog.entities(USER_BP)}
    target = next(u for u in users.values() if u["properties"]["username"] not in ("sync-bot",))
    username = target["properties"]["username"]

    def active() -> Any:
        found = {e["identifier"]: e for e in live.catalog.entities(USER_BP)}
        return found.get(target["identifier"], {}).get("properties", {}).get("active")

    # The default selector keeps people who left (includeInactive: true): updated, not removed.
    live.jira.control.mutate({"op": "set_user_active", "username": username, "active": False})
    wait_for(lambda: active() is False, "user marked inactive")
    live.jira.control.mutate({"op": "set_user_active", "username": username, "active": True})
    wait_for(lambda: active() is True, "user active again")


def test_token_in_the_url_is_accepted_and_never_logged(live: Live) -> None:
    key = sorted(live.issues())[-1]
    issue_id = live.issue_id(key)
    live.jira.webhook_settings(paused=True)
    live.jira.control.mutate({"op": "update", "keys": [key], "summary": "Seen through a token"})
    live.jira.webhook_settings(paused=False)
    body = payloads.encode(payloads.issue_event("jira:issue_updated", issue_id, key))
    assert live.sail.post(body, query=f"token={WEBHOOK_SECRET}&source=jira") == 200
    wait_for(lambda: live.issues()[key]["title"] == "Seen through a token", f"{key} via token")
    # uvicorn's access log shows the request, with the token stripped from the query.
    assert "POST /integration/webhook?source=jira HTTP/1.1" in live.sail.log()


def test_oversized_delivery_gets_413(live: Live) -> None:
    body = b'{"webhookEvent": "jira:issue_updated", "pad": "' + b"x" * (1024 * 1024) + b'"}'
    headers = {"X-Hub-Signature": payloads.signature(WEBHOOK_SECRET, body)}
    assert live.sail.post(body, headers) == 413


def test_restart_keeps_one_registration_and_repairs_a_stale_filter(live: Live) -> None:
    [before] = live.jira.registrations()
    stale = {**before, "configuration": {**before["configuration"], "FILTERS": "project = WEB"}}
    response = live.jira.jira(
        "PUT",
        f"/rest/jira-webhook/1.0/webhooks/{before['id']}",
        json={k: stale[k] for k in ("name", "url", "events", "configuration", "active")},
    )
    assert response.status_code == 200, response.text
    live.sail.stop()
    live.earlier_logs.append(live.sail.log())
    live.sail = start_sail(
        live.work,
        live.catalog_url,
        live.jira.url,
        identifier=IDENTIFIER,
        auth={"TOKEN": ADMIN_TOKEN},
        secret=WEBHOOK_SECRET,
        log_name="sail-2.log",
        port=live.sail.port,
    )
    wait_until_synced(live.sail)
    wait_for(lambda: "Jira webhook updated" in live.sail.log(), "the registration update")
    [after] = live.jira.registrations()
    assert after["id"] == before["id"]
    assert after["url"] == live.sail.webhook_url
    assert after["configuration"]["FILTERS"] == JQL
    assert after["configuration"]["SECRET"] == WEBHOOK_SECRET
    assert "changed: filter" in live.sail.log()


def test_secrets_never_reach_any_log(live: Live) -> None:
    """A failing refetch on top of the full resyncs and all the deliveries above; then the
    captured output of both processes and the logs shipped to the catalog."""
    key = next(k for k in live.truth(JQL) if k in live.issues())
    # 1 + 2 retries: a 500 on a read is retried twice (jira_server.client.transport).
    live.jira.control.set_faults(error_next=3, error_statuses=[500], paths=["/rest/api/2/issue/"])
    live.jira.control.mutate({"op": "update", "keys": [key], "summary": "refetch fails"})
    wait_for(lambda: "Error processing queued webhook" in live.sail.log(), "the failed refetch")
    live.jira.control.set_faults()
    live.sail.stop()
    shipped = httpx.get(f"{live.catalog_url}/_catalog/logs", timeout=10).text
    assert "Resync finished" in shipped, "the integration ships its logs to the catalog"
    everything = "\n".join([*live.earlier_logs, live.sail.log(), shipped])
    for secret in (ADMIN_TOKEN, WEBHOOK_SECRET, base64.b64encode(ADMIN_TOKEN.encode()).decode()):
        assert secret not in everything
