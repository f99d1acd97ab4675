"""The three executors against the Jira emulator in-process: the change in Jira, the run's
summary and logs, Jira's own error messages on rejection, and the catalog upsert (with
the real issue mapping's fields and selector JQL; the framework's register is recorded)."""

from __future__ import annotations

from typing import Any

import pytest

from jira_server.actions.add_comment import AddCommentExecutor
from jira_server.actions.create_issue import CreateIssueExecutor
from jira_server.actions.transition_issue import TransitionIssueExecutor
from jira_server.client.rest_client import JiraServerClient
from local_stack.jira_emulator import EmulatorApp
from local_stack.jira_emulator import catalog as cat

from .support import TOKEN, Harness, jira_client, make_emulator, project_key


def open_issue(app: EmulatorApp) -> str:
    key: str = app.state.truth("statusCategory = 'To Do' ORDER BY id ASC")["keys"][0]
    return key


def status_of(app: EmulatorApp, key: str) -> str:
    found = app.state.store.issue_by_key_or_id(key)
    assert found is not None
    return cat.STATUSES[found[1].status].name


# ---- create_issue ----------------------------------------------------------------------


async def test_create_issue_creates_in_jira_and_upserts_into_the_catalog(
    app: EmulatorApp, jira: JiraServerClient
) -> None:
    harness = Harness(jira)
    project = project_key(app)
    before = app.state.health()["dataVersion"]
    existing = set(app.state.truth(f"project = {project}")["keys"])
    await harness.run(
        CreateIssueExecutor,
        projectKey=project.lower(),
        issueType="Bug",
        summary="  Checkout fails on Safari  ",
        description="Steps: open the cart",
        priority="High",
        labels=["frontend", "safari", "frontend"],
        assignee="admin",
        fields={"customfield_10106": 3},
    )

    success = harness.reporter.success
    assert success is not None
    [key] = set(app.state.truth(f"project = {project}")["keys"]) - existing
    assert success.summary.startswith(f"Created {key}: Checkout fails on Safari; upserted")
    assert success.link == f"http://jira.test/browse/{key}"
    assert success.output == {"issueKey": key, "url": success.link}
    assert app.state.health()["dataVersion"] > before

    issue = await jira.fetch_issue(key, fields=["summary", "priority", "labels", "assignee"])
    assert issue["fields"]["summary"] == "Checkout fails on Safari"
    assert issue["fields"]["priority"]["name"] == "High"
    assert issue["fields"]["labels"] == ["frontend", "safari"]
    assert issue["fields"]["assignee"]["name"] == "admin"

    # Refetched with the fields the default issue mapping reads, sprints added.
    [raw] = harness.register.raw
    assert raw["key"] == key
    assert {"summary", "status", "issuetype", "priority", "labels", "project"} <= set(raw["fields"])
    assert "description" not in raw["fields"]  # not mapped, so not fetched
    assert raw["__sprints"] == []
    assert any(f"Jira created {key}" in line for line in harness.reporter.logs)


async def test_create_issue_missing_summary_is_refused_before_jira(
    app: EmulatorApp, jira: JiraServerClient
) -> None:
    harness = Harness(jira)
    before = app.state.health()["dataVersion"]
    error = await harness.fail(
        CreateIssueExecutor, projectKey=project_key(app), issueType="Task", summary="   "
    )
    assert str(error) == "Input 'summary' is required"
    assert error.status_label == "Invalid input"
    assert app.state.health()["dataVersion"] == before
    assert "POST /rest/api/2/issue" not in app.state.stats.routes


async def test_create_issue_unknown_field_is_refused_by_the_create_screen_before_jira(
    app: EmulatorApp, jira: JiraServerClient
) -> None:
    harness = Harness(jira)
    error = await harness.fail(
        CreateIssueExecutor,
        projectKey=project_key(app),
        issueType="Task",
        summary="With a stray field",
        fields='{"customfield_99": "x"}',
    )
    assert str(error) == (
        f"Jira's create screen for Task in {project_key(app)} refuses the issue, nothing was "
        "created: customfield_99: Field 'customfield_99' cannot be set. It is not on the "
        "appropriate screen, or unknown."
    )
    assert error.status_label == "Invalid fields"
    assert "POST /rest/api/2/issue" not in app.state.stats.routes
    assert harness.register.raw == []


async def test_create_issue_jiras_own_field_errors_still_reach_the_run(
    app: EmulatorApp, jira: JiraServerClient
) -> None:
    # What the metadata cannot tell (a user that does not exist) Jira refuses on POST.
    error = await Harness(jira).fail(
        CreateIssueExecutor,
        projectKey=project_key(app),
        issueType="Task",
        summary="Assigned to nobody",
        assignee="ghost",
    )
    assert str(error).startswith("Creating the issue failed: Jira rejected POST /rest/api/2/issue")
    assert "assignee: User 'ghost' does not exist." in str(error)
    assert error.status_label == "Jira rejected"


async def test_create_issue_unknown_project_and_type_name_the_input(
    app: EmulatorApp, jira: JiraServerClient
) -> None:
    harness = Harness(jira)
    error = await harness.fail(
        CreateIssueExecutor, projectKey="NOPE", issueType="Saga", summary="Nowhere"
    )
    assert str(error) == (
        "Input 'projectKey': Jira has no project NOPE that this user can see and create issues in"
    )
    error = await harness.fail(
        CreateIssueExecutor, projectKey=project_key(app), issueType="Saga", summary="Nowhere"
    )
    assert str(error).startswith(
        f"Input 'issueType': 'Saga' is not an issue type of {project_key(app)}; available: Epic, "
        "Story, Task, Bug"
    )
    assert "POST /rest/api/2/issue" not in app.state.stats.routes


async def test_create_issue_without_create_permission_gets_no_metadata(
    app: EmulatorApp, jira: JiraServerClient
) -> None:
    app.writes.settings.update({"denied_permissions": ["CREATE_ISSUES"]})
    harness = Harness(jira)
    error = await harness.fail(
        CreateIssueExecutor, projectKey=project_key(app), issueType="Task", summary="Denied"
    )
    assert "lacks the 'Create Issues' permission" in str(error)
    assert error.status_label == "No permission"


async def test_create_issue_reports_every_required_field_and_allowed_value_at_once(
    app: EmulatorApp, jira: JiraServerClient
) -> None:
    app.writes.settings.update({"required_fields": ["components", "customfield_10113"]})
    harness = Harness(jira)
    project = project_key(app)
    error = await harness.fail(
        CreateIssueExecutor,
        projectKey=project,
        issueType="Bug",
        summary="Needs more",
        priority="Urgent",
    )
    message = str(error)
    assert message.startswith(f"Jira's create screen for Bug in {project} refuses the issue")
    assert (
        "priority: 'Urgent' is not an allowed value of Priority (allowed: Highest, High, "
        "Medium, Low, Lowest)" in message
    )
    assert "components: Component/s is required." in message
    assert "customfield_10113: Customer is required." in message
    assert error.status_label == "Invalid fields"
    assert "POST /rest/api/2/issue" not in app.state.stats.routes

    components = [
        app.state.store.data.components[c].name
        for c in app.state.store.find_project(project).components  # type: ignore[union-attr]
    ]
    error = await harness.fail(
        CreateIssueExecutor,
        projectKey=project,
        issueType="Bug",
        summary="Needs more",
        fields={"components": [{"name": "Nope"}], "customfield_10113": "ACME"},
    )
    assert (
        f"components: 'Nope' is not an allowed value of Component/s (allowed: {components[0]}"
        in str(error)
    )

    await harness.run(
        CreateIssueExecutor,
        projectKey=project,
        issueType="bug",
        summary="Complete",
        fields={"components": [{"name": components[0].upper()}], "customfield_10113": "ACME"},
    )
    assert harness.reporter.success is not None


async def test_create_issue_on_jira_8_uses_the_legacy_createmeta() -> None:
    app = make_emulator(version="8.2.0")  # before the paged createmeta (8.4)
    app.writes.settings.update({"required_fields": ["duedate"]})
    client = jira_client(app)
    try:
        harness = Harness(client)
        error = await harness.fail(
            CreateIssueExecutor, projectKey=project_key(app), issueType="Task", summary="Old"
        )
        assert "duedate: Due Date is required." in str(error)
        assert "GET /rest/api/2/issue/createmeta" in app.state.stats.routes
        error = await harness.fail(
            CreateIssueExecutor, projectKey="NOPE", issueType="Task", summary="Old"
        )
        assert str(error).startswith("Input 'projectKey': Jira has no project NOPE")
    finally:
        await client.aclose()


@pytest.mark.parametrize(
    ("properties", "message"),
    [
        ({"issueType": "Task", "summary": "x"}, "Input 'projectKey' is required"),
        ({"projectKey": "../x", "issueType": "Task", "summary": "x"}, "Input 'projectKey' must"),
        ({"projectKey": "PLAT", "summary": "x"}, "Input 'issueType' is required"),
        ({"projectKey": "PLAT", "issueType": "Task", "summary": "a\nb"}, "single line"),
        ({"projectKey": "PLAT", "issueType": "Task", "summary": "x" * 256}, "255 characters"),
        (
            {"projectKey": "PLAT", "issueType": "Task", "summary": "x", "labels": ["a b"]},
            "Input 'labels': 'a b' contains spaces",
        ),
        (
            {"projectKey": "PLAT", "issueType": "Task", "summary": "x", "fields": "[1]"},
            "Input 'fields' must be a JSON object",
        ),
        (
            {"projectKey": "PLAT", "issueType": "Task", "summary": "x", "fields": "{"},
            "Input 'fields' is not valid JSON",
        ),
        (
            {"projectKey": "PLAT", "issueType": "Task", "summary": "x", "fields": {"summary": 1}},
            "Input 'fields' sets 'summary'; use the input 'summary' instead",
        ),
        (
            {"projectKey": "PLAT", "issueType": "Task", "summary": "x", "sumary": "typo"},
            "Unknown input(s) 'sumary'",
        ),
        ({"projectKey": "PLAT", "issueType": 3, "summary": "x"}, "Input 'issueType' must be text"),
    ],
)
async def test_create_issue_input_errors_name_the_input(
    app: EmulatorApp, jira: JiraServerClient, properties: dict[str, Any], message: str
) -> None:
    error = await Harness(jira).fail(CreateIssueExecutor, **properties)
    assert message in str(error)
    assert error.status_label == "Invalid input"
    assert "POST /rest/api/2/issue" not in app.state.stats.routes


async def test_run_logs_and_summary_never_show_the_token(
    app: EmulatorApp, jira: JiraServerClient
) -> None:
    harness = Harness(jira)
    await harness.run(
        CreateIssueExecutor,
        projectKey=project_key(app),
        issueType="Task",
        summary=f"pasted by mistake {TOKEN}",
    )
    assert harness.reporter.success is not None
    assert TOKEN not in harness.reporter.text()
    assert "pasted by mistake ***" in harness.reporter.text()


# ---- add_comment -----------------------------------------------------------------------


async def test_add_comment_comments_and_refreshes_the_catalog(
    app: EmulatorApp, jira: JiraServerClient
) -> None:
    harness = Harness(jira)
    key = open_issue(app)
    await harness.run(AddCommentExecutor, issueKey=key.lower(), body="Looks *good* to me")
    success = harness.reporter.success
    assert success is not None
    assert success.summary.startswith(f"Commented on {key} (comment 2000000001); upserted")
    [comment] = app.state.store.comments[int(app.state.truth(f"key = {key}")["ids"][0])]
    assert comment.body == "Looks *good* to me"
    assert [raw["key"] for raw in harness.register.raw] == [key]


@pytest.mark.parametrize("bad", ["../x", "PLAT-0", "PLAT-1/../../x", "PLAT 1", "", "-1"])
async def test_add_comment_bad_key_never_reaches_jira(
    app: EmulatorApp, jira: JiraServerClient, bad: str
) -> None:
    error = await Harness(jira).fail(AddCommentExecutor, issueKey=bad, body="hello")
    assert "Input 'issueKey'" in str(error)
    assert app.state.stats.requests == 0


async def test_add_comment_empty_body_and_unknown_issue(
    app: EmulatorApp, jira: JiraServerClient
) -> None:
    empty = await Harness(jira).fail(AddCommentExecutor, issueKey=open_issue(app), body=" \n")
    assert str(empty) == "Input 'body' is required: the comment text"
    missing = await Harness(jira).fail(AddCommentExecutor, issueKey="ZZZ-999", body="hi")
    assert "Issue Does Not Exist" in str(missing)
    assert missing.status_label == "Not found"


async def test_a_namespaced_entity_identifier_is_this_instances_jira_key(
    app: EmulatorApp,
) -> None:
    """Under instanceNamespace, Port passes ``legacy:PROJ-1`` where an action was created
    before the namespace (the rendered actions strip it themselves): the key is PROJ-1; an
    identifier of another instance never reaches this Jira."""
    client = jira_client(app, instance_namespace="legacy")
    try:
        key = open_issue(app)
        harness = Harness(client)
        await harness.run(AddCommentExecutor, issueKey=f"legacy:{key}", body="namespaced")
        assert harness.reporter.success is not None
        assert [raw["key"] for raw in harness.register.raw] == [key]
        requests = app.state.stats.requests
        error = await Harness(client).fail(AddCommentExecutor, issueKey=f"dc:{key}", body="x")
        assert "another Jira instance" in str(error) and "'legacy'" in str(error)
        assert app.state.stats.requests == requests
    finally:
        await client.aclose()


async def test_add_comment_without_permission(app: EmulatorApp, jira: JiraServerClient) -> None:
    app.writes.settings.update({"denied_permissions": ["ADD_COMMENTS"]})
    error = await Harness(jira).fail(AddCommentExecutor, issueKey=open_issue(app), body="hi")
    assert "You do not have the permission to comment on this issue." in str(error)


# ---- transition_issue ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("transition", "target"),
    [("In Progress", "In Progress"), ("start progress", "In Progress"), ("31", "Done")],
    ids=["target-status", "transition-name", "transition-id"],
)
async def test_transition_by_status_name_or_id(
    app: EmulatorApp, jira: JiraServerClient, transition: str, target: str
) -> None:
    harness = Harness(jira)
    key = open_issue(app)
    start = status_of(app, key)
    await harness.run(TransitionIssueExecutor, issueKey=key, transition=transition)
    assert status_of(app, key) == target
    success = harness.reporter.success
    assert success is not None
    assert success.summary.startswith(f"Moved {key} from '{start}' to '{target}'")
    [raw] = harness.register.raw
    assert raw["fields"]["status"]["name"] == target


async def test_transition_to_the_current_status_is_a_harmless_no_op(
    app: EmulatorApp, jira: JiraServerClient
) -> None:
    harness = Harness(jira)
    key = open_issue(app)
    current = status_of(app, key)
    await harness.run(TransitionIssueExecutor, issueKey=key, transition=current.upper())
    assert harness.reporter.success is not None
    assert f"{key} is already in status '{current}': nothing to do" in (
        harness.reporter.success.summary
    )
    assert "POST /rest/api/2/issue/{issueIdOrKey}/transitions" not in app.state.stats.routes


async def test_unknown_transition_lists_what_jira_offers(
    app: EmulatorApp, jira: JiraServerClient
) -> None:
    key = open_issue(app)
    error = await Harness(jira).fail(TransitionIssueExecutor, issueKey=key, transition="Ship it")
    assert f"'Ship it' is neither a transition nor a target status available for {key}" in str(
        error
    )
    assert "'Start Progress' (id 21, to 'In Progress')" in str(error)
    assert error.status_label == "No transition"
    assert "POST /rest/api/2/issue/{issueIdOrKey}/transitions" not in app.state.stats.routes


async def test_transition_without_permission_explains_the_empty_list(
    app: EmulatorApp, jira: JiraServerClient
) -> None:
    app.writes.settings.update({"denied_permissions": ["TRANSITION_ISSUES"]})
    key = open_issue(app)
    error = await Harness(jira).fail(TransitionIssueExecutor, issueKey=key, transition="Done")
    assert "lacks the 'Transition Issues' permission" in str(error)


# ---- catalog selection -------------------------------------------------------------------


async def test_issue_outside_the_selector_jql_is_not_upserted(
    app: EmulatorApp, jira: JiraServerClient
) -> None:
    harness = Harness(jira, jql="statusCategory = Done")
    await harness.run(
        CreateIssueExecutor, projectKey=project_key(app), issueType="Task", summary="Fresh"
    )
    success = harness.reporter.success
    assert success is not None
    assert "is not selected by the issue selector's JQL, so it is not upserted" in success.summary
    assert harness.register.raw == []


async def test_catalog_failure_does_not_fail_the_done_change(
    app: EmulatorApp, jira: JiraServerClient
) -> None:
    harness = Harness(jira, jql="project = ")  # invalid JQL: the membership check fails
    await harness.run(
        CreateIssueExecutor, projectKey=project_key(app), issueType="Task", summary="Kept"
    )
    success = harness.reporter.success
    assert success is not None
    assert success.summary.startswith("Created ")
    assert "could not be upserted into the catalog now" in success.summary
    assert "the next resync will bring it" in success.summary


async def test_an_unexpected_error_is_a_clear_redacted_failure(jira: JiraServerClient) -> None:
    class Broken(CreateIssueExecutor):
        async def perform(self, *args: Any) -> Any:
            raise RuntimeError(f"boom with {TOKEN}")

    error = await Harness(jira).fail(Broken, summary="x")
    assert str(error) == "Unexpected error: RuntimeError: boom with ***"
