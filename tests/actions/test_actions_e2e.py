"""The real thing: ``ocean sail`` (POLLING, actions processor on) against the local catalog
and the Jira emulator as processes. Runs are enqueued in the catalog, claimed by the
framework's execution manager and executed by our executors; we read each run's status,
summary and logs back, and the catalog entity of the issue the actions touched."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from jira_server import blueprints
from local_stack.catalog.testing import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    CatalogClient,
    spawn_ocean_sail,
    start_catalog,
)
from local_stack.process import RunningServer, start_server
from tests.support.processes import stop_sail

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
IDENTIFIER = "jira-server-sync"  # the installationId of .port/resources/actions.json
JIRA_TOKEN = "e2e-actions-pat-7d41c9"
DEADLINE_SECONDS = 45.0
TERMINAL = ("SUCCESS", "FAILURE")


@dataclass
class Stack:
    jira: RunningServer
    catalog: RunningServer
    sail: subprocess.Popen[bytes]
    sail_log: Path

    @property
    def client(self) -> CatalogClient:
        return CatalogClient(self.catalog.url)

    def emulator(self, method: str, path: str, **kwargs: Any) -> Any:
        response = httpx.request(method, f"{self.jira.url}/_emulator{path}", timeout=30, **kwargs)
        response.raise_for_status()
        return response.json()

    def check_alive(self) -> None:
        assert self.sail.poll() is None, self.sail_log.read_text()[-4000:]

    def wait_until_synced(self, deadline: float) -> None:
        while time.monotonic() < deadline:
            self.check_alive()
            records = self.client.integrations()
            if records and (records[0].get("resyncState") or {}).get("status") == "completed":
                return
            time.sleep(0.2)
        raise AssertionError(f"no completed resync in time:\n{self.sail_log.read_text()[-4000:]}")

    def run_all(self, deadline: float, *runs: tuple[str, dict[str, Any]]) -> list[dict[str, Any]]:
        """Enqueue runs (action type, properties) and wait until every one finished."""
        ids = [
            self.client.enqueue_action_run(f"jira_server_{kind}", kind, properties)["id"]
            for kind, properties in runs
        ]
        while time.monotonic() < deadline:
            self.check_alive()
            stored = {r["id"]: r for r in self.client._get("/_catalog/action-runs")["runs"]}
            if all(stored[i]["status"] in TERMINAL for i in ids):
                return [stored[i] for i in ids]
            time.sleep(0.2)
        raise AssertionError(f"runs did not finish in time:\n{self.sail_log.read_text()[-4000:]}")


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    jira_args = ["--projects", "2", "--users", "12", "--issues", "40", "--seed", "5"]
    jira_args += ["--username", "sync-bot", "--token", JIRA_TOKEN]
    with (
        start_server(
            "jira",
            "local_stack.jira_emulator",
            jira_args,
            log_dir=tmp_path,
            health_path="/_emulator/health",
        ) as jira,
        start_catalog(tmp_path, ":memory:", ["--keep-updated-at-on-noop"]) as catalog,
    ):
        log = tmp_path / "sail.log"
        sail = spawn_ocean_sail(
            ROOT,
            catalog.url,
            identifier=IDENTIFIER,
            integration_type="jira-server-sync",
            log_path=log,
            extra_env={
                "OCEAN__EVENT_LISTENER": '{"type": "POLLING", "resync_on_start": true}',
                "OCEAN__ACTIONS_PROCESSOR__ENABLED": "true",
                "OCEAN__ACTIONS_PROCESSOR__POLL_CHECK_INTERVAL_SECONDS": "1",
                "OCEAN__INTEGRATION__CONFIG__JIRA_SERVER_HOST": jira.url,
                "OCEAN__INTEGRATION__CONFIG__TOKEN": JIRA_TOKEN,
            },
        )
        try:
            yield Stack(jira, catalog, sail, log)
        finally:
            stop_sail(sail)


def test_actions_run_through_ocean_sail(stack: Stack) -> None:
    deadline = time.monotonic() + DEADLINE_SECONDS
    stack.wait_until_synced(deadline)
    assert stack.client.stats()["requests"].get("POST /v1/actions") == 5  # actions.json
    project = stack.emulator("GET", "/truth")["projects"][0]

    created, unknown_field, no_summary, bad_key = stack.run_all(
        deadline,
        (
            "create_issue",
            {
                "projectKey": project,
                "issueType": "Bug",
                "summary": "Created from Port",
                "description": None,
                "priority": "High",
                "labels": ["from-port"],
                "assignee": None,
                "fields": None,
            },
        ),
        (
            "create_issue",
            {
                "projectKey": project,
                "issueType": "Task",
                "summary": "Stray field",
                "fields": {"customfield_99": "x"},
            },
        ),
        ("create_issue", {"projectKey": project, "issueType": "Task", "summary": ""}),
        ("add_comment", {"issueKey": "../x", "body": "never sent"}),
    )

    assert created["status"] == "SUCCESS", created
    key = created["summary"].split(":")[0].removeprefix("Created ")
    assert created["summary"] == (
        f"Created {key}: Created from Port; upserted into the catalog (jiraServerSyncIssue {key})"
    )
    assert created["link"] == f"{stack.jira.url}/browse/{key}"
    assert any(f"Jira created {key}" in log["message"] for log in created["logs"])
    entity = _entity(stack.client, key)
    assert entity["title"] == "Created from Port"
    assert entity["properties"]["priority"] == "High"
    assert entity["properties"]["labels"] == ["from-port"]
    assert entity["relations"]["project"] == project

    jira_message = (
        "customfield_99: Field 'customfield_99' cannot be set. It is not on the appropriate "
        "screen, or unknown."
    )
    assert unknown_field["status"] == "FAILURE"
    assert jira_message in unknown_field["summary"]  # refused by the create metadata
    assert unknown_field["statusLabel"] == "Invalid fields"
    assert any(jira_message in log["message"] for log in unknown_field["logs"])

    assert no_summary["status"] == "FAILURE"
    assert no_summary["summary"] == "Input 'summary' is required"
    assert bad_key["status"] == "FAILURE"
    assert bad_key["summary"].startswith("Input 'issueKey' must be a Jira issue key")

    commented, moved, unknown_transition = stack.run_all(
        deadline,
        ("add_comment", {"issueKey": key, "body": "Triaged in Port"}),
        ("transition_issue", {"issueKey": key, "transition": "Done"}),
        ("transition_issue", {"issueKey": key, "transition": "Ship it"}),
    )
    assert commented["status"] == "SUCCESS", commented
    assert commented["summary"].startswith(f"Commented on {key}")
    comments = stack.emulator("GET", "/truth/comments", params={"key": key})["comments"]
    assert [c["body"] for c in comments] == ["Triaged in Port"]

    assert moved["status"] == "SUCCESS", moved
    assert moved["summary"].startswith(f"Moved {key} from 'To Do' to 'Done' (Done)")
    assert _entity(stack.client, key)["properties"]["status"] == "Done"

    assert unknown_transition["status"] == "FAILURE"
    assert "'Ship it' is neither a transition nor a target status" in unknown_transition["summary"]

    stats = stack.client.stats()
    assert stats["unknownRoutes"] == [], stats["unknownRoutes"]
    runs = stack.client._get("/_catalog/action-runs")["runs"]
    assert JIRA_TOKEN not in str(runs)


def _port_api(stack: Stack, method: str, path: str, body: dict[str, Any]) -> Any:
    """Port's public API of the local catalog, as another integration or a user would call it."""
    token = httpx.post(
        f"{stack.catalog.url}/v1/auth/access_token",
        json={"clientId": DEFAULT_CLIENT_ID, "clientSecret": DEFAULT_CLIENT_SECRET},
        timeout=30,
    ).json()["accessToken"]
    response = httpx.request(
        method,
        f"{stack.catalog.url}{path}",
        json=body,
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert response.status_code < 300, response.text
    return response.json()


def _rendered_from_service(service: dict[str, Any], **inputs: Any) -> dict[str, Any]:
    """What Port renders for the README's per-blueprint variant of the action on a service
    page: the entity's identifier, title and jiraProjectKey property (null when missing)."""
    return {
        "entityBlueprint": "service",
        "entityIdentifier": service["identifier"],
        "entityTitle": service["title"],
        "projectKey": service["properties"].get("jiraProjectKey"),
        **inputs,
    }


def test_actions_from_a_service_and_assign_to_the_caller(stack: Stack) -> None:
    deadline = time.monotonic() + DEADLINE_SECONDS
    stack.wait_until_synced(deadline)
    project = stack.emulator("GET", "/truth")["projects"][0]
    _port_api(
        stack,
        "POST",
        "/v1/blueprints",
        {
            "identifier": "service",
            "title": "Service",
            "schema": {"properties": {"jiraProjectKey": {"type": "string"}}, "required": []},
        },
    )
    services = [
        {"identifier": "payments", "title": "Payments", "properties": {"jiraProjectKey": project}},
        {"identifier": "billing", "title": "Billing", "properties": {}},
    ]
    for service in services:
        _port_api(stack, "POST", "/v1/blueprints/service/entities", service)
    payments, billing = services

    user = next(
        u
        for u in stack.client.entities(blueprints.USER)
        if u["properties"].get("active") and u["properties"].get("emailAddress")
    )
    email = user["properties"]["emailAddress"]

    created, no_project = stack.run_all(
        deadline,
        (
            "create_issue_from_entity",
            _rendered_from_service(
                payments,
                issueType="Bug",
                summary="Error budget burnt",
                description="p99 above 2s",
                priority=None,
                labels=None,
                fields=None,
            ),
        ),
        (
            "create_issue_from_entity",
            _rendered_from_service(billing, issueType="Task", summary="Never created"),
        ),
    )
    assert created["status"] == "SUCCESS", created
    key = created["summary"].split(":")[0].removeprefix("Created ").split(" ")[0]
    assert created["summary"] == (
        f"Created {key} for service payments: Error budget burnt; upserted into the catalog "
        f"({blueprints.ISSUE} {key})"
    )
    entity = _entity(stack.client, key)
    assert entity["properties"]["sourceEntityBlueprint"] == "service"
    assert entity["properties"]["sourceEntityIdentifier"] == "payments"
    assert entity["relations"]["project"] == project
    sent = stack.emulator("GET", "/truth/created", params={"key": key})["fields"]
    assert sent["labels"] == ["port-entity:service:payments"]
    assert sent["description"] == (
        "p99 above 2s\n\n----\nCreated from Port for [service payments (Payments)|"
        "https://app.getport.io/serviceEntity?identifier=payments]."
    )

    assert no_project["status"] == "FAILURE"
    assert no_project["statusLabel"] == "Missing project"
    assert no_project["summary"].startswith(
        "Input 'projectKey' is empty: the entity service billing (Billing) has no Jira project key"
    )

    mine, stranger = stack.run_all(
        deadline,
        ("assign_issue", {"issueKey": key, "assignee": None, "callerEmail": email}),
        ("assign_issue", {"issueKey": key, "assignee": None, "callerEmail": "who@nowhere.test"}),
    )
    assert mine["status"] == "SUCCESS", mine
    assert mine["summary"].startswith(f"Assigned {key} to {user['properties']['username']}")
    assert _entity(stack.client, key)["relations"]["assignee"] == user["identifier"]
    assert stranger["status"] == "FAILURE"
    assert stranger["statusLabel"] == "Unknown user"
    assert "No Jira user with the e-mail address who@nowhere.test" in stranger["summary"]

    assert stack.client.stats()["unknownRoutes"] == []


def _entity(client: CatalogClient, key: str) -> dict[str, Any]:
    found = [e for e in client.entities(blueprints.ISSUE) if e["identifier"] == key]
    assert len(found) == 1, key
    return found[0]
