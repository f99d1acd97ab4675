"""Checks run at the start of every resync, before any kind is fetched or pushed.

A failure here fails the resync while the catalog is still untouched: bad credentials
(including Jira's silent anonymous fallback), missing Browse permissions (Jira answers with
empty lists rather than 403, which would otherwise reach reconciliation as "everything was
deleted"), invalid JQL in an issue selector, and issue mappings that read fields this Jira
does not have (Jira would silently return nothing for them and every entity would lose that
property).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from port_ocean.core.handlers.port_app_config.models import ResourceConfig

from jira_server import outcome
from jira_server.client.rest_client import JiraServerClient, no_projects_error, no_users_error
from jira_server.errors import JiraSyncError
from jira_server.resources import IssueResourceConfig

# Kinds read from projects the credentials may browse (boards follow their project).
PROJECT_KINDS = frozenset({"project", "issue", "board", "sprint", "version", "component"})


async def preflight(client: JiraServerClient, resources: Sequence[ResourceConfig]) -> None:
    try:
        await client.fetch_myself()
    except JiraSyncError as exc:
        outcome.record_failure("all kinds (credentials)", exc)
        raise
    kinds = {r.kind for r in resources}
    await _check_browse_permissions(client, kinds)
    # Matched by kind, not isinstance: Ocean loads integration.py as a module of its own, so
    # the config classes it parses with are not the ones imported here.
    for resource in (cast(IssueResourceConfig, r) for r in resources if r.kind == "issue"):
        try:
            await client.check_jql(resource.selector.jql)
            await client.check_fields(resource.jira_fields())
        except JiraSyncError as exc:
            outcome.record_failure(resource.kind, exc)
            raise


async def _check_browse_permissions(client: JiraServerClient, kinds: set[str]) -> None:
    affected = sorted(kinds & PROJECT_KINDS)
    try:
        if affected and await client.count_projects() == 0:
            raise no_projects_error()
    except JiraSyncError as exc:
        outcome.record_failure(", ".join(affected), exc)
        raise
    if "user" not in kinds:
        return
    try:
        if await client.probe_user_listing() == 0:
            raise no_users_error()
    except JiraSyncError as exc:
        outcome.record_failure("user", exc)
        raise
