"""Resync handlers: each kind streams Jira's pages to the framework, which maps and pushes."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any, cast

from loguru import logger
from port_ocean.context.event import event
from port_ocean.context.ocean import ocean
from port_ocean.core.incremental.cursor_context import active_incremental_cursor
from port_ocean.core.ocean_types import ASYNC_GENERATOR_RESYNC_TYPE

from jira_server import outcome
from jira_server.actions import register_actions
from jira_server.client.provider import current_settings, get_client
from jira_server.connection_check import run_connection_check
from jira_server.mapping.enrichment import SprintEnrichment
from jira_server.mapping.fields import split_csv
from jira_server.mapping.slimming import PayloadSlimmer, slim_pages
from jira_server.preflight import preflight
from jira_server.resources import (
    BoardResourceConfig,
    IssueResourceConfig,
    ProjectResourceConfig,
    SprintResourceConfig,
    UserResourceConfig,
    VersionResourceConfig,
)
from jira_server.sync_mode import incremental_jql
from jira_server.webhooks import lifecycle as webhook_lifecycle
from jira_server.webhooks.events import WEBHOOK_PATH, route_path
from jira_server.webhooks.middleware import WebhookGuard
from jira_server.webhooks.processors import PROCESSORS


async def _guarded(
    kind: str, pages: AsyncIterator[list[dict[str, Any]]]
) -> AsyncIterator[list[dict[str, Any]]]:
    """Record which kind failed and why (then re-raise so the framework skips deletion),
    and how long the framework waited on Jira for this kind's pages."""
    started = time.monotonic()
    waited, items, count = 0.0, 0, 0
    try:
        while True:
            asked = time.monotonic()
            try:
                page = await anext(pages)
            except StopAsyncIteration:
                break
            waited += time.monotonic() - asked
            items, count = items + len(page), count + 1
            yield page
    except Exception as exc:
        outcome.record_failure(kind, exc)
        raise
    logger.info(
        f"Fetched kind {kind}: {items} items in {count} pages; the sync waited {waited:.2f}s "
        f"on Jira over {time.monotonic() - started:.2f}s"
    )


@ocean.on_resync_start()
async def check_before_resync() -> None:
    """Credentials, JQL and mapped fields are checked before any kind is fetched: a failure
    here stops the resync before the catalog changes at all."""
    await preflight(get_client(), event.port_app_config.resources)


@ocean.on_resync("project")
async def resync_projects(kind: str) -> ASYNC_GENERATOR_RESYNC_TYPE:
    selector = cast(ProjectResourceConfig, event.resource_config).selector
    pages = get_client().fetch_projects(
        expand=selector.expand, include_archived=selector.include_archived
    )
    async for page in _guarded(kind, pages):
        yield page


@ocean.on_resync("user")
async def resync_users(kind: str) -> ASYNC_GENERATOR_RESYNC_TYPE:
    selector = cast(UserResourceConfig, event.resource_config).selector
    pages = get_client().fetch_users(include_inactive=selector.include_inactive)
    async for page in _guarded(kind, pages):
        yield page


async def _issue_pages(kind: str, jql: str) -> ASYNC_GENERATOR_RESYNC_TYPE:
    resource = cast(IssueResourceConfig, event.resource_config)
    client = get_client()
    sprints = await SprintEnrichment.load(resource.reads_sprints(), client.sprint_field_ids)
    fields = sprints.request_fields(resource.jira_fields())
    logger.info(f"Issue resync: jql={jql!r} fields={fields}")
    pages = client.fetch_issues(jql, fields=fields, expand=split_csv(resource.selector.expand))

    async def enriched() -> ASYNC_GENERATOR_RESYNC_TYPE:
        async for page in pages:
            sprints.apply(page)
            yield page

    slimmer = PayloadSlimmer(resource.expressions()) if resource.selector.slim_payload else None
    async for page in _guarded(kind, slim_pages(enriched(), slimmer)):
        yield page


@ocean.on_resync("issue")
async def resync_issues(kind: str) -> ASYNC_GENERATOR_RESYNC_TYPE:
    resource = cast(IssueResourceConfig, event.resource_config)
    async for page in _issue_pages(kind, resource.selector.jql):
        yield page


async def resync_issues_incremental(kind: str) -> ASYNC_GENERATOR_RESYNC_TYPE:
    """Only issues updated since the last successful sync (minus the overlap), in the Jira
    user's time zone; used by incremental runs (see jira_server.sync_mode)."""
    resource = cast(IssueResourceConfig, event.resource_config)
    since = active_incremental_cursor()
    if since is None:  # never the case under our policy; fall back to everything
        jql = resource.selector.jql
    else:
        overlap = timedelta(minutes=resource.selector.incremental_overlap_minutes)
        tz = await get_client().user_time_zone()
        jql = incremental_jql(resource.selector.jql, since, overlap, tz)
    async for page in _issue_pages(kind, jql):
        yield page


# Registered whatever OCEAN__INTEGRATION__INCREMENTAL_SYNC_ENABLED says (ocean.on_incremental_
# resync would skip it): the integration decides per run, per selector, when to use it.
ocean.integration.on_incremental_resync(resync_issues_incremental, "issue")


@ocean.on_resync("board")
async def resync_boards(kind: str) -> ASYNC_GENERATOR_RESYNC_TYPE:
    selector = cast(BoardResourceConfig, event.resource_config).selector
    async for page in _guarded(kind, get_client().fetch_boards(board_type=selector.board_type)):
        yield page


@ocean.on_resync("sprint")
async def resync_sprints(kind: str) -> ASYNC_GENERATOR_RESYNC_TYPE:
    selector = cast(SprintResourceConfig, event.resource_config).selector
    pages = get_client().fetch_sprints(states=split_csv(selector.state))
    async for page in _guarded(kind, pages):
        yield page


@ocean.on_resync("version")
async def resync_versions(kind: str) -> ASYNC_GENERATOR_RESYNC_TYPE:
    selector = cast(VersionResourceConfig, event.resource_config).selector
    pages = get_client().fetch_versions(
        include_released=selector.include_released, include_archived=selector.include_archived
    )
    async for page in _guarded(kind, pages):
        yield page


@ocean.on_resync("component")
async def resync_components(kind: str) -> ASYNC_GENERATOR_RESYNC_TYPE:
    async for page in _guarded(kind, get_client().fetch_components()):
        yield page


# Self-service actions (create_issue, add_comment, transition_issue; see jira_server/actions):
# Port's runs are claimed when OCEAN__ACTIONS_PROCESSOR__ENABLED=true.
register_actions()


@ocean.on_start()
async def check_connection() -> None:
    """Log the connection check at start so a wrong token or a missing permission shows up
    before (and independently of) the first resync."""
    report = await run_connection_check(get_client())
    log = logger.info if report.ok else logger.error
    for line in report.lines():
        log(line)


# ---- live events (webhooks): see jira_server/webhooks --------------------------------------

# Added before the server starts (Starlette refuses middleware afterwards). Outermost, so it
# runs before the framework's request logging and its always-200 webhook route.
ocean.app.fast_api_app.add_middleware(
    WebhookGuard,
    path=route_path(ocean.app.route_prefix),
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
