"""The Jira actions this integration serves, registered with the framework.

Each executor's ``ACTION_NAME`` is the ``integrationActionType`` of its action in
``.port/resources/actions.json``. Port hands a run to the installation named by the
action's ``installationId``; a mismatch with this integration's identifier means its runs
never arrive here, which is worth a warning at start.
"""

from __future__ import annotations

import json
from pathlib import Path

from loguru import logger
from port_ocean.context.ocean import ocean

from jira_server import framework
from jira_server.actions.add_comment import AddCommentExecutor
from jira_server.actions.assign_issue import AssignIssueExecutor
from jira_server.actions.base import JiraActionExecutor
from jira_server.actions.create_from_entity import CreateIssueFromEntityExecutor
from jira_server.actions.create_issue import CreateIssueExecutor
from jira_server.actions.transition_issue import TransitionIssueExecutor

ACTIONS_FILE = Path(__file__).resolve().parents[2] / ".port" / "resources" / "actions.json"


def executors() -> list[JiraActionExecutor]:
    return [
        CreateIssueExecutor(),
        CreateIssueFromEntityExecutor(),
        AddCommentExecutor(),
        TransitionIssueExecutor(),
        AssignIssueExecutor(),
    ]


def foreign_definitions(identifier: str, path: Path = ACTIONS_FILE) -> list[str]:
    """Actions of ``path`` that invoke another installation than ``identifier``."""
    try:
        actions = json.loads(path.read_text())
    except (OSError, ValueError):
        return []
    return [
        str(action.get("identifier"))
        for action in actions
        if isinstance(action, dict)
        and action.get("invocationMethod", {}).get("installationId") != identifier
    ]


def register_actions() -> None:
    for executor in executors():
        ocean.register_action_executor(executor)
    if not ocean.config.actions_processor.enabled:
        return
    identifier = ocean.config.integration.identifier
    # The defaults the framework installs: a rendered copy under a prefix or namespace.
    foreign = foreign_definitions(
        identifier, framework.resources_dir(ocean.config) / ACTIONS_FILE.name
    )
    if foreign:
        logger.warning(
            f"The default actions {', '.join(foreign)} invoke another installation than this "
            f"one ({identifier!r}): in Port, set their backend's installationId to "
            f"{identifier!r}, or their runs never reach this integration"
        )
