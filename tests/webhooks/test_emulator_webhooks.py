"""The emulator's webhook registration APIs and deliveries (in-process, deliveries captured)."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from local_stack.jira_emulator import EmulatorApp
from tests.webhooks.inprocess import HOOK_URL, VIEWER_TOKEN, Receiver, control, make_app

DC = "/rest/jira-webhook/1.0/webhooks"
LEGACY = "/rest/webhooks/1.0/webhook"
JQL = "statusCategory != Done"
EVENTS = [
    "jira:issue_created",
    "jira:issue_updated",
    "jira:issue_deleted",
    "user_updated",
    "project_updated",
]


async def register(app: EmulatorApp, **configuration: str) -> dict[str, object]:
    body = {"name": "t", "url": HOOK_URL, "events": EVENTS, "configuration": configuration}
    async with control(app) as http:
        response = await http.post(DC, json=body)
    assert response.status_code == 201, response.text
    created: dict[str, object] = response.json()
    return created


def first_key(app: EmulatorApp, jql: str) -> str:
    key: str = app.state.truth(jql)["keys"][0]
    return key


async def mutate(app: EmulatorApp, *ops: dict[str, object]) -> None:
    async with control(app) as http:
        response = await http.post("/_emulator/mutate", json={"ops": list(ops)})
        assert response.status_code == 200, response.text
    await app.webhooks.deliveries.settle()


@pytest.mark.parametrize(
    "version, present, absent", [("10.3.0", DC, LEGACY), ("9.12.0", LEGACY, DC)]
)
async def test_each_api_exists_on_its_side_of_version_10(
    version: str, present: str, absent: str
) -> None:
    app = make_app(version)
    async with control(app) as http:
        assert (await http.get(present)).status_code == 200
        missing = await http.get(absent)
    assert missing.status_code == 404
    assert missing.json()["message"].startswith("null for uri:")


async def test_registration_needs_an_administrator() -> None:
    app = make_app()
    app.webhooks.deliveries.settings.update({"non_admins": ["viewer"]})
    async with control(app) as http:
        anonymous = await http.get(DC, headers={"Authorization": ""})
        viewer = await http.get(DC, headers={"Authorization": f"Bearer {VIEWER_TOKEN}"})
    assert (anonymous.status_code, viewer.status_code) == (401, 403)


async def test_dc10_ignores_top_level_filters_and_secret() -> None:
    app = make_app()
    body = {
        "name": "t",
        "url": HOOK_URL,
        "events": EVENTS,
        "filters": JQL,
        "secret": "top",
        "excludeBody": True,
    }
    async with control(app) as http:
        created = (await http.post(DC, json=body)).json()
        bad_config = await http.post(DC, json={**body, "configuration": {"EXCLUDE_BODY": False}})
        bad_jql = await http.post(DC, json={**body, "configuration": {"FILTERS": "statuz = x"}})
        [listed] = (await http.get(DC)).json()
    assert created["configuration"] == {"FILTERS": "", "EXCLUDE_BODY": "false"}
    assert listed == created
    assert set(created) == {
        "id",
        "name",
        "url",
        "events",
        "configuration",
        "active",
        "createdDate",
        "updatedDate",
    }
    assert (bad_config.status_code, bad_jql.status_code) == (400, 400)


async def test_update_is_delivered_signed_with_the_secret() -> None:
    app = make_app()
    receiver = Receiver().install(app)
    await register(app, FILTERS=JQL, SECRET="shh")
    key = first_key(app, JQL)
    await mutate(app, {"op": "update", "keys": [key], "summary": "New summary"})
    [request] = receiver.requests
    expected = "sha256=" + hmac.new(b"shh", request.content, hashlib.sha256).hexdigest()
    assert request.headers["X-Hub-Signature"] == expected
    payload = json.loads(request.content)
    assert payload["webhookEvent"] == "jira:issue_updated"
    assert payload["issue_event_type_name"] == "issue_updated"
    assert payload["issue"]["key"] == key and payload["issue"]["fields"]["summary"] == "New summary"
    assert payload["changelog"]["items"][0]["field"] == "summary"
    assert payload["changelog"]["items"][0]["toString"] == "New summary"
    assert {"timestamp", "user"} <= set(payload)
    [record] = app.webhooks.deliveries.records
    assert (record["status"], record["signed"], record["issue"]) == (200, True, key)


async def test_filter_decides_who_hears_and_state_before_or_after_counts() -> None:
    app = make_app()
    receiver = Receiver().install(app)
    await register(app, FILTERS=JQL)
    done = first_key(app, "statusCategory = Done")
    await mutate(app, {"op": "update", "keys": [done], "summary": "still done"})
    assert receiver.requests == []  # never matched
    leaving = first_key(app, JQL)
    await mutate(app, {"op": "transition", "keys": [leaving], "status": "Done"})
    assert [p["issue"]["key"] for p in receiver.payloads()] == [leaving]
    assert receiver.payloads()[0]["issue_event_type_name"] == "issue_generic"
    app.webhooks.deliveries.settings.update({"filter_match": "after"})
    other = first_key(app, JQL)
    await mutate(app, {"op": "transition", "keys": [other], "status": "Done"})
    assert len(receiver.requests) == 1  # on the new state only: it left, nobody hears


async def test_create_and_delete_events_and_unsigned_on_9x() -> None:
    app = make_app("9.12.0")
    receiver = Receiver().install(app)
    async with control(app) as http:
        body = {
            "name": "t",
            "url": HOOK_URL + "?token=abc",
            "events": EVENTS,
            "filters": {"issue-related-events-section": JQL},
        }
        assert (await http.post(LEGACY, json=body)).status_code == 201
    key = first_key(app, JQL)
    await mutate(app, {"op": "delete", "keys": [key]}, {"op": "create", "project": "PLAT"})
    events = {p["webhookEvent"]: p for p in receiver.payloads()}
    assert set(events) == {"jira:issue_deleted", "jira:issue_created"}
    assert events["jira:issue_deleted"]["issue"]["key"] == key  # matched on its last state
    assert all("X-Hub-Signature" not in r.headers for r in receiver.requests)
    assert all(str(r.url) == HOOK_URL + "?token=abc" for r in receiver.requests)


async def test_user_and_project_changes_are_delivered_without_a_filter() -> None:
    app = make_app()
    receiver = Receiver().install(app)
    await register(app, FILTERS="project = WEB")
    user = app.state.store.users[2]
    project = app.state.store.projects[0]
    await mutate(
        app,
        {"op": "set_user_active", "username": user.name, "active": False},
        {"op": "archive_project", "project": project.key},
    )
    events = {p["webhookEvent"]: p for p in receiver.payloads()}
    assert events["user_updated"]["user"]["key"] == user.key
    assert events["user_updated"]["user"]["active"] is False
    assert events["project_updated"]["project"]["key"] == project.key


async def test_duplicates_paused_and_excluded_bodies() -> None:
    app = make_app()
    receiver = Receiver().install(app)
    await register(app, FILTERS=JQL, EXCLUDE_BODY="true")
    app.webhooks.deliveries.settings.update({"duplicate": True})
    await mutate(app, {"op": "update", "keys": [first_key(app, JQL)]})
    assert [r.content for r in receiver.requests] == [b"", b""]
    app.webhooks.deliveries.settings.update({"paused": True})
    await mutate(app, {"op": "update", "keys": [first_key(app, JQL)]})
    assert len(receiver.requests) == 2


async def test_control_send_forges_alters_and_records() -> None:
    app = make_app()
    receiver = Receiver()
    receiver.status = 401
    receiver.install(app)
    created = await register(app, FILTERS=JQL, SECRET="shh")
    async with control(app) as http:
        sent = await http.post(
            "/_emulator/webhooks/send",
            json={
                "webhookId": created["id"],
                "payload": {"webhookEvent": "jira:issue_deleted", "issue": {"key": "PLAT-1"}},
            },
        )
        raw = await http.post(
            "/_emulator/webhooks/send",
            json={"url": HOOK_URL, "rawBody": "{not json", "signature": "sha256=00"},
        )
        await app.webhooks.deliveries.settle()
        records = (
            await http.get("/_emulator/webhooks/deliveries", params={"issue": "PLAT-1"})
        ).json()
    assert sent.status_code == 200 and raw.status_code == 200
    signed, forged = receiver.requests
    assert (
        signed.headers["X-Hub-Signature"]
        == "sha256=" + hmac.new(b"shh", signed.content, hashlib.sha256).hexdigest()
    )
    assert (forged.content, forged.headers["X-Hub-Signature"]) == (b"{not json", "sha256=00")
    [record] = records["deliveries"]
    assert (record["status"], record["source"], record["webhookEvent"]) == (
        401,
        "control",
        "jira:issue_deleted",
    )


async def test_settings_are_validated() -> None:
    app = make_app()
    async with control(app) as http:
        for bad in (
            {"duplicate": "yes"},
            {"filter_match": "sometimes"},
            {"nope": 1},
            {"non_admins": [1]},
        ):
            assert (await http.patch("/_emulator/webhooks/settings", json=bad)).status_code == 400
        ok = await http.patch("/_emulator/webhooks/settings", json={"timeout_seconds": 2})
    assert ok.json()["timeout_seconds"] == 2
