"""``create_issue_from_entity`` and ``assign_issue`` against the Jira emulator in-process:
the issue Jira receives (label and link back), the source entity in the mapped catalog
entity, the caller found by e-mail, and clear failures that change nothing."""

from __future__ import annotations

import pytest

from jira_server import blueprints
from jira_server.actions.assign_issue import AssignIssueExecutor
from jira_server.actions.catalog_users import CatalogUser, OceanUserDirectory
from jira_server.actions.create_from_entity import CreateIssueFromEntityExecutor
from jira_server.client.rest_client import JiraServerClient
from jira_server.settings import load_settings
from local_stack.jira_emulator import EmulatorApp
from local_stack.jira_emulator.inprocess import DEFAULT_BASE_URL, EmulatorTransport

from .support import TOKEN, Harness, project_key


def assignee_of(app: EmulatorApp, key: str) -> str | None:
    found = app.state.store.issue_by_key_or_id(key)
    assert found is not None
    index = found[1].assignee
    return None if index < 0 else app.state.store.users[index].name


async def test_issue_from_a_service_is_labelled_linked_back_and_mapped_to_it(
    app: EmulatorApp, jira: JiraServerClient
) -> None:
    harness = Harness(jira)
    project = project_key(app)
    await harness.run(
        CreateIssueFromEntityExecutor,
        entityBlueprint="service",
        entityIdentifier="payments-api",
        entityTitle="Payments API",
        projectKey=project,
        issueType="Bug",
        summary="Error budget burnt",
        description="See the dashboard",
        priority="High",
        labels=None,
        fields=None,
    )
    success = harness.reporter.success
    assert success is not None
    key = success.output["issueKey"]
    assert success.summary.startswith(
        f"Created {key} for service payments-api: Error budget burnt; upserted"
    )
    sent = app.writes.created_fields[key]
    assert sent["labels"] == ["port-entity:service:payments-api"]
    assert sent["description"] == (
        "See the dashboard\n\n----\nCreated from Port for [service payments-api (Payments API)|"
        "https://app.getport.io/serviceEntity?identifier=payments-api]."
    )
    # The catalog upsert reads the label back through the default mapping's fields.
    [raw] = harness.register.raw
    assert raw["fields"]["labels"] == ["port-entity:service:payments-api"]


async def test_port_app_url_setting_is_used_for_the_link(app: EmulatorApp) -> None:
    settings = load_settings(
        {
            "jira_server_host": DEFAULT_BASE_URL,
            "token": TOKEN,
            "port_app_url": "https://app.us.port.io/",
        }
    )
    client = JiraServerClient(settings, transport=EmulatorTransport(app))
    try:
        harness = Harness(client)
        await harness.run(
            CreateIssueFromEntityExecutor,
            entityBlueprint="incident",
            entityIdentifier="INC-42",
            projectKey=project_key(app),
            issueType="Task",
            summary="Postmortem",
        )
        assert harness.reporter.success is not None
        key = harness.reporter.success.output["issueKey"]
        assert app.writes.created_fields[key]["description"] == (
            "Created from Port for [incident INC-42|"
            "https://app.us.port.io/incidentEntity?identifier=INC-42]."
        )
    finally:
        await client.aclose()


async def test_entity_without_a_project_key_fails_clearly_and_creates_nothing(
    app: EmulatorApp, jira: JiraServerClient
) -> None:
    before = app.state.health()["dataVersion"]
    error = await Harness(jira).fail(
        CreateIssueFromEntityExecutor,
        entityBlueprint="service",
        entityIdentifier="billing",
        projectKey=None,  # Port renders .entity.properties.jiraProjectKey of an entity without it
        issueType="Task",
        summary="Anything",
    )
    assert str(error).startswith(
        "Input 'projectKey' is empty: the entity service billing has no Jira project key"
    )
    assert error.status_label == "Missing project"
    assert app.state.stats.requests == 0
    assert app.state.health()["dataVersion"] == before


async def test_issue_from_an_entity_is_validated_against_the_create_screen(
    app: EmulatorApp, jira: JiraServerClient
) -> None:
    app.writes.settings.update({"required_fields": ["components"]})
    error = await Harness(jira).fail(
        CreateIssueFromEntityExecutor,
        entityBlueprint="service",
        entityIdentifier="billing",
        projectKey=project_key(app),
        issueType="Story",
        summary="Needs a component",
    )
    assert "components: Component/s is required." in str(error)
    assert error.status_label == "Invalid fields"
    assert "POST /rest/api/2/issue" not in app.state.stats.routes


# ---- assign_issue ------------------------------------------------------------------------


def some_issue(app: EmulatorApp) -> str:
    key: str = app.state.truth("ORDER BY id ASC")["keys"][0]
    return key


def some_user(app: EmulatorApp) -> tuple[str, str, str]:
    """(key, name, email) of an active user other than the API account."""
    user = next(
        u for u in app.state.store.users if u.active and not u.deleted and u.email and u.idx > 0
    )
    assert user.email is not None
    return user.key, user.name, user.email


async def test_assign_by_username(app: EmulatorApp, jira: JiraServerClient) -> None:
    harness = Harness(jira)
    key = some_issue(app)
    _, name, _ = some_user(app)
    await harness.run(AssignIssueExecutor, issueKey=key, assignee=name, callerEmail="x@y.io")
    assert harness.reporter.success is not None
    assert harness.reporter.success.summary.startswith(f"Assigned {key} to {name}; upserted")
    assert assignee_of(app, key) == name
    assert harness.users.searched == []  # an explicit assignee wins over the caller


async def test_assign_to_the_caller_found_by_email_in_the_catalog(
    app: EmulatorApp, jira: JiraServerClient
) -> None:
    harness = Harness(jira)
    key = some_issue(app)
    user_key, name, email = some_user(app)
    harness.users.users[email] = [CatalogUser(user_key, name, True)]
    await harness.run(AssignIssueExecutor, issueKey=key, assignee=None, callerEmail=email)
    assert harness.reporter.success is not None
    assert assignee_of(app, key) == name
    assert f"{email} is the Jira user {name} ({user_key})" in harness.reporter.logs


@pytest.mark.parametrize(
    ("catalog", "message", "label"),
    [
        ([], "No Jira user with the e-mail address dev@corp.io is in the catalog", "Unknown user"),
        (
            [CatalogUser("JIRAUSER1", "old", False)],
            "are inactive or have no username",
            "Unknown user",
        ),
        (
            [CatalogUser("JIRAUSER1", "a", True), CatalogUser("JIRAUSER2", "b", True)],
            "Several Jira users have the e-mail address dev@corp.io: a, b",
            "Ambiguous user",
        ),
    ],
)
async def test_unknown_or_ambiguous_caller_is_a_clear_failure(
    app: EmulatorApp,
    jira: JiraServerClient,
    catalog: list[CatalogUser],
    message: str,
    label: str,
) -> None:
    harness = Harness(jira)
    harness.users.users["dev@corp.io"] = catalog
    key = some_issue(app)
    before = assignee_of(app, key)
    error = await harness.fail(AssignIssueExecutor, issueKey=key, callerEmail="dev@corp.io")
    assert message in str(error)
    assert error.status_label == label
    assert assignee_of(app, key) == before
    assert "PUT /rest/api/2/issue/{issueIdOrKey}/assignee" not in app.state.stats.routes


async def test_jiras_refusal_of_an_assignee_reaches_the_run(
    app: EmulatorApp, jira: JiraServerClient
) -> None:
    error = await Harness(jira).fail(
        AssignIssueExecutor, issueKey=some_issue(app), assignee="ghost"
    )
    assert "assignee: User 'ghost' does not exist." in str(error)
    assert error.status_label == "Jira rejected"


def test_the_caller_is_looked_up_in_the_user_blueprint_of_the_installations_prefix() -> None:
    assert OceanUserDirectory().blueprint() == blueprints.USER
    assert OceanUserDirectory("acmeJira").blueprint() == "acmeJiraUser"
