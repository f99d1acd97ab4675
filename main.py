"""Resync handlers (each kind streams Jira's pages), live events and actions.

A run (jira_server/sync/run.py) calls these handlers through the framework's registry for
every resource it reads in full, then maps, compares and writes the pages itself.
"""

from __future__ import annotations

from typing import cast

from loguru import logger
from port_ocean.context.event import event
from port_ocean.context.ocean import ocean
from port_ocean.core.ocean_types import ASYNC_GENERATOR_RESYNC_TYPE

from client import current_settings, get_client
from jira_server import framework
from jira_server.actions import register_actions
from jira_server.connection_check import run_connection_check
from jira_server.kinds.activity import CommentPages, WorklogPages
from jira_server.kinds.issue import IssuePages
from jira_server.mapping.fields import split_csv
from jira_server.resources import (
    BoardResourceConfig,
    CommentResourceConfig,
    IssueResourceConfig,
    ProjectResourceConfig,
    SprintResourceConfig,
    UserResourceConfig,
    VersionResourceConfig,
    WorklogResourceConfig,
)
from jira_server.webhooks import lifecycle as webhook_lifecycle
from jira_server.webhooks.events import WEBHOOK_PATH
from jira_server.webhooks.middleware import WebhookGuard
from jira_server.webhooks.processors import PROCESSORS


@ocean.on_resync("project")
async def resync_projects(kind: str) -> ASYNC_GENERATOR_RESYNC_TYPE:
    selector = cast(ProjectResourceConfig, event.resource_config).selector
    async for page in get_client().fetch_projects(
        expand=selector.expand, include_archived=selector.include_archived
    ):
        yield page


@ocean.on_resync("user")
async def resync_users(kind: str) -> ASYNC_GENERATOR_RESYNC_TYPE:
    selector = cast(UserResourceConfig, event.resource_config).selector
    async for page in get_client().fetch_users(include_inactive=selector.include_inactive):
        yield page


@ocean.on_resync("issue")
async def resync_issues(kind: str) -> ASYNC_GENERATOR_RESYNC_TYPE:
    resource = cast(IssueResourceConfig, event.resource_config)
    async for page in IssuePages(resource, get_client()).all():
        yield page


@ocean.on_resync("board")
async def resync_boards(kind: str) -> ASYNC_GENERATOR_RESYNC_TYPE:
    selector = cast(BoardResourceConfig, event.resource_config).selector
    async for page in get_client().fetch_boards(board_type=selector.board_type):
        yield page


@ocean.on_resync("sprint")
async def resync_sprints(kind: str) -> ASYNC_GENERATOR_RESYNC_TYPE:
    selector = cast(SprintResourceConfig, event.resource_config).selector
    async for page in get_client().fetch_sprints(states=split_csv(selector.state)):
        yield page


@ocean.on_resync("version")
async def resync_versions(kind: str) -> ASYNC_GENERATOR_RESYNC_TYPE:
    selector = cast(VersionResourceConfig, event.resource_config).selector
    async for page in get_client().fetch_versions(
        include_released=selector.include_released, include_archived=selector.include_archived
    ):
        yield page


@ocean.on_resync("component")
async def resync_components(kind: str) -> ASYNC_GENERATOR_RESYNC_TYPE:
    async for page in get_client().fetch_components():
        yield page


@ocean.on_resync("comment")
async def resync_comments(kind: str) -> ASYNC_GENERATOR_RESYNC_TYPE:
    resource = cast(CommentResourceConfig, event.resource_config)
    async for page in CommentPages(resource, get_client()).all():
        yield page


@ocean.on_resync("worklog")
async def resync_worklogs(kind: str) -> ASYNC_GENERATOR_RESYNC_TYPE:
    resource = cast(WorklogResourceConfig, event.resource_config)
    async for page in WorklogPages(resource, get_client()).all():
        yield page


# Self-service actions (create_issue, add_comment, transition_issue; see jira_server/actions):
# Port's runs are claimed when OCEAN__ACTIONS_PROCESSOR__ENABLED=true.
register_actions()


@ocean.on_start()
async def check_connection() -> None:
    """Log the connection check at start so a wrong token or a missing permission shows up
    before (and independently of) the first resync. The client keeps the proof of the
    credentials for a minute, so a ONCE run logs in once for this and its first run."""
    report = await run_connection_check(get_client())
    log = logger.info if report.ok else logger.error
    for line in report.lines():
        log(line)


# ---- live events (webhooks): see jira_server/webhooks --------------------------------------

# Added before the server starts (Starlette refuses middleware afterwards). Outermost, so it
# runs before the framework's request logging and its always-200 webhook route.
ocean.app.fast_api_app.add_middleware(
    WebhookGuard,
    path=framework.webhook_route_path(ocean.app.route_prefix, WEBHOOK_PATH),
    secret=current_settings().webhook_secret,
)
for _processor in PROCESSORS:
    ocean.add_webhook_processor(WEBHOOK_PATH, _processor)


@ocean.on_start()
async def register_webhook() -> None:
    """Register (or update) our Jira webhook; warns loudly when webhookSecret is unset."""
    await webhook_lifecycle.on_start()


@ocean.on_resync_start()
async def refresh_webhook_filter() -> None:
    """The issue JQL may have changed with the mapping: keep Jira's filter in step."""
    await webhook_lifecycle.sync_registration(event.port_app_config.resources)
