"""The integration booted in-process by port-ocean's test harness (Port mocked, the Jira
emulator behind the client): main.py registers the three executors with the framework,
and a run's issue goes through the real JQ mapping into the (mocked) catalog."""

from __future__ import annotations

from typing import Any

from port_ocean.context.event import EventType, event_context
from port_ocean.context.ocean import ocean

from jira_server import blueprints
from jira_server.actions.create_from_entity import CreateIssueFromEntityExecutor
from jira_server.actions.create_issue import CreateIssueExecutor
from jira_server.actions.transition_issue import TransitionIssueExecutor
from local_stack.jira_emulator.inprocess import DEFAULT_BASE_URL, EmulatorTransport
from tests.support.harness import booted, integration_config

from .support import TOKEN, RecordingReporter, action_run, make_emulator


async def test_executors_are_registered_and_the_mapping_applies_to_the_new_issue() -> None:
    app = make_emulator()
    project = app.state.truth()["projects"][0]
    config = integration_config(jira_server_host=DEFAULT_BASE_URL, token=TOKEN)
    async with booted(EmulatorTransport(app), config=config) as harness:
        registered = ocean.app.execution_manager._actions_executors
        assert set(registered) == {
            "create_issue",
            "create_issue_from_entity",
            "add_comment",
            "transition_issue",
            "assign_issue",
        }

        reporter = RecordingReporter()
        create = CreateIssueExecutor(reporter=reporter)
        run = action_run(
            "create_issue",
            {
                "projectKey": project,
                "issueType": "Bug",
                "summary": "Mapped right away",
                "priority": "High",
                "labels": "ui, regression",
                "assignee": None,
                "fields": None,
            },
        )
        async with event_context(EventType.ACTION_RUN, trigger_type="machine"):
            await create.execute(run)
        assert reporter.success is not None, reporter.text()
        key = reporter.success.output["issueKey"]
        entity = _entity(harness.port_mock.upserted_entities, key)
        assert entity["blueprint"] == blueprints.ISSUE
        assert entity["title"] == "Mapped right away"
        assert {
            "url": f"{DEFAULT_BASE_URL}/browse/{key}",
            "status": "To Do",
            "statusCategory": "To Do",
            "issueType": "Bug",
            "priority": "High",
            "labels": ["regression", "ui"],
        }.items() <= entity["properties"].items()
        assert entity["relations"]["project"] == project
        assert entity["properties"]["sourceEntityBlueprint"] is None
        assert (
            "upserted into the catalog (jiraServerSyncIssue " + key + ")"
            in reporter.success.summary
        )

        # From a service: the framework's JQ mapping turns the label into the source entity.
        harness.port_mock.upserted_entities.clear()
        related = CreateIssueFromEntityExecutor(reporter=(from_entity := RecordingReporter()))
        async with event_context(EventType.ACTION_RUN, trigger_type="machine"):
            await related.execute(
                action_run(
                    "create_issue_from_entity",
                    {
                        "entityBlueprint": "service",
                        "entityIdentifier": "payments:eu",
                        "projectKey": project,
                        "issueType": "Task",
                        "summary": "From the service page",
                    },
                )
            )
        assert from_entity.success is not None, from_entity.text()
        new_key = from_entity.success.output["issueKey"]
        mapped = _entity(harness.port_mock.upserted_entities, new_key)
        assert mapped["properties"]["sourceEntityBlueprint"] == "service"
        assert mapped["properties"]["sourceEntityIdentifier"] == "payments:eu"
        assert mapped["properties"]["labels"] == ["port-entity:service:payments:eu"]

        harness.port_mock.upserted_entities.clear()
        move = TransitionIssueExecutor(reporter=(moved := RecordingReporter()))
        async with event_context(EventType.ACTION_RUN, trigger_type="machine"):
            await move.execute(
                action_run("transition_issue", {"issueKey": key, "transition": "Done"})
            )
        assert moved.success is not None, moved.text()
        done = _entity(harness.port_mock.upserted_entities, key)
        assert done["properties"]["status"] == "Done"
        assert done["properties"]["statusCategory"] == "Done"
        assert done["properties"]["resolutionDate"] is not None


def _entity(upserted: list[dict[str, Any]], key: str) -> dict[str, Any]:
    found = [e for e in upserted if e["identifier"] == key]
    assert len(found) == 1, [e["identifier"] for e in upserted]
    return found[0]
