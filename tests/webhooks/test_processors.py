"""The processors against the in-process emulator: payloads only name objects; what is
upserted or removed follows Jira's answer to a refetch."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, cast

import pytest
import yaml
from port_ocean.core.handlers.port_app_config.models import ResourceConfig
from port_ocean.core.handlers.webhook.webhook_event import WebhookEvent, WebhookEventRawResults

from jira_server.client.rest_client import JiraServerClient
from jira_server.errors import JiraSyncError
from jira_server.resources import JiraServerPortAppConfig, UserResourceConfig
from jira_server.settings import load_settings
from jira_server.webhooks import processors
from jira_server.webhooks.middleware import Verified, marker
from jira_server.webhooks.processors import (
    IssueWebhookProcessor,
    JiraWebhookProcessor,
    ProjectWebhookProcessor,
    UserWebhookProcessor,
)
from local_stack.jira_emulator import EmulatorApp
from local_stack.stack import REPO_ROOT
from tests.webhooks.inprocess import SECRET, jira_client, make_app
from tests.webhooks.payloads import issue_event, project_event, user_event

JQL = "statusCategory != Done"


def resources(jql: str = JQL) -> dict[str, ResourceConfig]:
    raw = yaml.safe_load((REPO_ROOT / ".port/resources/port-app-config.yml").read_text())
    for resource in raw["resources"]:
        if resource["kind"] == "issue":
            resource["selector"]["jql"] = jql
    config = JiraServerPortAppConfig.parse_obj(raw)
    return {r.kind: r for r in config.resources}


def headers(mode: Verified | None = Verified.SIGNED) -> dict[str, str]:
    if mode is None:
        return {}
    name, value = marker(mode)
    return {name.decode(): value.decode()}


@pytest.fixture
def app() -> EmulatorApp:
    return make_app("10.3.0")


@pytest.fixture
async def client(
    app: EmulatorApp, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[JiraServerClient]:
    jira = jira_client(app)
    monkeypatch.setattr(processors, "get_client", lambda: jira)
    monkeypatch.setattr(processors, "current_settings", lambda: jira.settings)
    yield jira
    await jira.aclose()


async def run(
    processor_class: type[JiraWebhookProcessor],
    payload: dict[str, Any],
    resource: ResourceConfig,
    mode: Verified | None = Verified.SIGNED,
) -> WebhookEventRawResults:
    event = WebhookEvent("trace", payload, headers(mode))
    processor = processor_class(event)
    assert await processor.should_process_event(event)
    assert await processor.get_matching_kinds(event) == [resource.kind]
    assert await processor.authenticate(payload, event.headers)
    assert await processor.validate_payload(payload)
    return await processor.handle_event(payload, resource)


def truth(app: EmulatorApp, jql: str) -> list[tuple[str, str]]:
    found = app.state.truth(jql)
    return list(zip(found["ids"], found["keys"], strict=True))


async def test_update_upserts_what_jira_says_not_what_the_payload_says(
    app: EmulatorApp, client: JiraServerClient
) -> None:
    issue_id, key = truth(app, JQL)[0]
    payload = issue_event(
        "jira:issue_updated", issue_id, key, summary="EVIL", status={"name": "Done"}
    )
    result = await run(IssueWebhookProcessor, payload, resources()["issue"])
    [issue] = result.updated_raw_results
    assert result.deleted_raw_results == []
    assert issue["key"] == key and issue["fields"]["summary"] != "EVIL"
    assert issue["fields"]["summary"] == app.state.store.issue_by_key_or_id(key)[1].summary  # type: ignore[index]


async def test_issue_no_longer_matching_the_jql_is_removed(
    app: EmulatorApp, client: JiraServerClient
) -> None:
    issue_id, key = truth(app, "statusCategory = Done")[0]
    result = await run(
        IssueWebhookProcessor,
        issue_event("jira:issue_updated", issue_id, key),
        resources()["issue"],
    )
    assert result.updated_raw_results == []
    [removed] = result.deleted_raw_results
    assert removed["key"] == key and removed["fields"]["status"]["statusCategory"]["key"] == "done"


async def test_delete_event_for_an_issue_jira_still_has_is_an_upsert(
    app: EmulatorApp, client: JiraServerClient
) -> None:
    issue_id, key = truth(app, JQL)[0]
    result = await run(
        IssueWebhookProcessor,
        issue_event("jira:issue_deleted", issue_id, key),
        resources()["issue"],
    )
    assert [i["key"] for i in result.updated_raw_results] == [key]
    assert result.deleted_raw_results == []


@pytest.mark.parametrize(
    "mode, kept_fields",
    [(Verified.SIGNED, True), (Verified.TOKEN, True), (Verified.UNVERIFIED, False)],
)
async def test_gone_issue_is_removed_by_its_validated_id_and_key(
    app: EmulatorApp,
    client: JiraServerClient,
    monkeypatch: pytest.MonkeyPatch,
    mode: Verified,
    kept_fields: bool,
) -> None:
    if mode is Verified.UNVERIFIED:  # only acceptable without a secret
        no_secret = load_settings({"jira_server_host": "http://jira.test", "token": "x"})
        monkeypatch.setattr(processors, "current_settings", lambda: no_secret)
    issue_id, key = truth(app, JQL)[0]
    app.state.mutate([{"op": "delete", "keys": [key]}])
    payload = issue_event("jira:issue_deleted", issue_id, key, project={"key": "PLAT"})
    payload["issue"]["self"] = "http://evil.example/x"
    result = await run(IssueWebhookProcessor, payload, resources()["issue"], mode)
    [tombstone] = result.deleted_raw_results
    assert (tombstone["id"], tombstone["key"]) == (issue_id, key)
    assert tombstone["self"] == f"http://jira.test/rest/api/2/issue/{issue_id}"
    assert ("project" in tombstone["fields"]) is kept_fields


async def test_jira_errors_other_than_404_propagate_and_delete_nothing(
    app: EmulatorApp, client: JiraServerClient
) -> None:
    issue_id, key = truth(app, JQL)[0]
    app.state.set_faults(
        {"error_next": 1, "error_statuses": [500], "paths": ["/rest/api/2/issue/"]}
    )
    with pytest.raises(JiraSyncError):
        await run(
            IssueWebhookProcessor,
            issue_event("jira:issue_deleted", issue_id, key),
            resources()["issue"],
        )


async def test_project_archived_removed_and_gone_removed(
    app: EmulatorApp, client: JiraServerClient
) -> None:
    project = app.state.store.projects[0]
    resource = resources()["project"]
    result = await run(
        ProjectWebhookProcessor, project_event("project_updated", project.id, project.key), resource
    )
    assert [p["key"] for p in result.updated_raw_results] == [project.key]
    app.state.mutate([{"op": "archive_project", "project": project.key}])
    result = await run(
        ProjectWebhookProcessor, project_event("project_updated", project.id, project.key), resource
    )
    assert [p["key"] for p in result.deleted_raw_results] == [project.key]
    result = await run(
        ProjectWebhookProcessor, project_event("project_deleted", 99999, "GONE"), resource
    )
    assert result.deleted_raw_results[0]["key"] == "GONE"


async def test_user_inactive_removed_active_upserted_unknown_removed(
    app: EmulatorApp, client: JiraServerClient
) -> None:
    user = app.state.store.users[3]
    resource = cast(UserResourceConfig, resources()["user"])
    resource.selector.include_inactive = False  # the default (true) keeps people who left
    result = await run(
        UserWebhookProcessor, user_event("user_updated", user.key, user.name), resource
    )
    assert [u["key"] for u in result.updated_raw_results] == [user.key]
    app.state.mutate([{"op": "set_user_active", "username": user.name, "active": False}])
    result = await run(
        UserWebhookProcessor, user_event("user_updated", user.key, user.name), resource
    )
    assert [u["key"] for u in result.deleted_raw_results] == [user.key]
    result = await run(
        UserWebhookProcessor, user_event("user_deleted", "JIRAUSER99999", "ghost"), resource
    )
    assert result.deleted_raw_results[0]["key"] == "JIRAUSER99999"


async def test_authenticate_requires_the_guards_marker(client: JiraServerClient) -> None:
    payload = issue_event("jira:issue_updated", "10001", "PLAT-1")
    processor = IssueWebhookProcessor(WebhookEvent("t", payload, {}))
    assert not await processor.authenticate(payload, {})
    forged = {"x-jira-server-sync-auth": "0" * 32 + " signed"}
    assert not await processor.authenticate(payload, forged)
    assert await processor.authenticate(payload, headers(Verified.SIGNED))
    assert await processor.authenticate(payload, headers(Verified.TOKEN))
    # "unverified" only passes the guard without a secret; with one it is refused here too.
    assert client.settings.webhook_secret == SECRET
    assert not await processor.authenticate(payload, headers(Verified.UNVERIFIED))


@pytest.mark.parametrize(
    "payload",
    [
        issue_event("jira:issue_updated", "10001", "../../admin"),
        issue_event("jira:issue_updated", "10001/../1", "PLAT-1"),
        {"webhookEvent": "jira:issue_updated", "issue": "PLAT-1"},
        {"webhookEvent": "jira:issue_updated"},
    ],
)
async def test_malformed_references_fail_validation(payload: dict[str, Any]) -> None:
    processor = IssueWebhookProcessor(WebhookEvent("t", payload, headers()))
    assert not await processor.validate_payload(payload)


async def test_each_processor_takes_only_its_events() -> None:
    cases: dict[type[JiraWebhookProcessor], str] = {
        IssueWebhookProcessor: "jira:issue_created",
        ProjectWebhookProcessor: "project_deleted",
        UserWebhookProcessor: "user_created",
    }
    for processor_class, name in cases.items():
        for other_class, other in cases.items():
            event = WebhookEvent("t", {"webhookEvent": other}, {})
            assert await processor_class(event).should_process_event(event) is (
                other_class is processor_class
            )
        comment = WebhookEvent("t", {"webhookEvent": "comment_created"}, {})
        assert not await processor_class(comment).should_process_event(comment)
        assert name in processor_class.events


@pytest.mark.parametrize("mode", [Verified.SIGNED, Verified.UNVERIFIED])
async def test_a_delete_naming_an_unknown_id_and_a_live_key_removes_nothing(
    app: EmulatorApp,
    client: JiraServerClient,
    monkeypatch: pytest.MonkeyPatch,
    mode: Verified,
) -> None:
    # The entity removed would be named by the key: only Jira confirming the key gone counts,
    # with a secret (a signed but inconsistent delivery) or without one (anyone can post).
    if mode is Verified.UNVERIFIED:
        no_secret = load_settings({"jira_server_host": "http://jira.test", "token": "x"})
        monkeypatch.setattr(processors, "current_settings", lambda: no_secret)
    _, key = truth(app, JQL)[0]
    forged = issue_event("jira:issue_deleted", "999999", key)
    result = await run(IssueWebhookProcessor, forged, resources()["issue"], mode)
    assert result.deleted_raw_results == []
    assert [i["key"] for i in result.updated_raw_results] == [key]


async def test_a_delete_naming_an_unknown_id_and_a_live_project_key_removes_nothing(
    app: EmulatorApp, client: JiraServerClient
) -> None:
    project = app.state.store.projects[0]
    forged = project_event("project_deleted", 99999, project.key)
    result = await run(ProjectWebhookProcessor, forged, resources()["project"])
    assert result.deleted_raw_results == []
    assert [p["key"] for p in result.updated_raw_results] == [project.key]


async def test_a_delete_naming_an_unknown_user_key_and_a_live_name_removes_nothing(
    app: EmulatorApp, client: JiraServerClient
) -> None:
    user = app.state.store.users[3]
    forged = user_event("user_deleted", "JIRAUSER99999", user.name)
    result = await run(UserWebhookProcessor, forged, resources()["user"])
    assert result.deleted_raw_results == []
    assert [u["key"] for u in result.updated_raw_results] == [user.key]


async def test_a_namespace_the_mapping_ignores_changes_nothing_live(
    app: EmulatorApp, client: JiraServerClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """instanceNamespace set, the mapping plain: the delivery is dropped before Jira is read
    (its entity would overwrite another instance's); the namespaced mapping is served."""
    from dataclasses import replace

    from jira_server import blueprints

    namespaced_settings = replace(client.settings, instance_namespace="legacy")
    monkeypatch.setattr(processors, "current_settings", lambda: namespaced_settings)
    issue_id, key = truth(app, JQL)[0]
    payload = issue_event("jira:issue_updated", issue_id, key)
    requests = app.state.stats.requests
    dropped = await run(IssueWebhookProcessor, payload, resources()["issue"])
    assert dropped.updated_raw_results == [] and dropped.deleted_raw_results == []
    assert app.state.stats.requests == requests

    raw = yaml.safe_load((REPO_ROOT / ".port/resources/port-app-config.yml").read_text())
    config = JiraServerPortAppConfig.parse_obj(blueprints.namespaced_mapping(raw, "legacy"))
    issue_resource = next(r for r in config.resources if r.kind == "issue")
    served = await run(IssueWebhookProcessor, payload, issue_resource)
    assert [i["key"] for i in served.updated_raw_results] == [key]


async def test_a_live_event_carries_the_computed_fields_the_default_mapping_reads(
    app: EmulatorApp, client: JiraServerClient
) -> None:
    # The same __lifecycle and __development as a resync, or the entity would lose its lead
    # time on every live event.
    _, key = truth(app, JQL)[0]
    app.state.mutate(
        [
            {
                "op": "set_history",
                "keys": [key],
                "created": "2024-06-01T00:00:00+00:00",
                "steps": [
                    ["2024-06-01T06:00:00+00:00", "In Progress"],
                    ["2024-06-02T00:00:00+00:00", "Done"],
                    ["2024-06-02T03:00:00+00:00", "Reopened"],
                ],
            }
        ]
    )
    issue_id = str(app.state.store.issue_by_key_or_id(key)[1].id)  # type: ignore[index]
    payload = issue_event("jira:issue_updated", issue_id, key)
    result = await run(IssueWebhookProcessor, payload, resources()["issue"])
    [issue] = result.updated_raw_results
    lifecycle = issue["__lifecycle"]
    assert lifecycle["reopenings"] == 1 and lifecycle["leadTimeHours"] is None
    assert lifecycle["timeInStatusHours"] == {"To Do": 6.0, "In Progress": 18.0, "Done": 3.0}
    assert lifecycle["currentStatus"] == "Reopened"
    assert set(issue["__development"]) >= {"pullRequests", "builds", "commits"}
