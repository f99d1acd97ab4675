"""Checks run at the start of every resync, before any kind is fetched or pushed.

A failure here fails the resync while the catalog is still untouched: bad credentials
(including Jira's silent anonymous fallback), invalid JQL in an issue selector, and issue
mappings that read fields this Jira does not have (Jira would silently return nothing for
them and every entity would lose that property).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from port_ocean.core.handlers.port_app_config.models import ResourceConfig

from client import JiraServerClient
from integration import IssueResourceConfig
from jira_server import outcome
from jira_server.errors import JiraSyncError


async def preflight(client: JiraServerClient, resources: Sequence[ResourceConfig]) -> None:
    try:
        await client.fetch_myself()
    except JiraSyncError as exc:
        outcome.record_failure("all kinds (credentials)", exc)
        raise
    # Matched by kind, not isinstance: Ocean loads integration.py as a module of its own, so
    # the config classes it parses with are not the ones imported here.
    for resource in (cast(IssueResourceConfig, r) for r in resources if r.kind == "issue"):
        try:
            await client.check_jql(resource.selector.jql)
            await client.check_fields(resource.jira_fields())
        except JiraSyncError as exc:
            outcome.record_failure(resource.kind, exc)
            raise
