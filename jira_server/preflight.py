"""Checks run at the start of every run, full or delta, before anything is read or written.

A failure here fails the run while the catalog is still untouched: bad credentials
(including Jira's silent anonymous fallback), missing Browse permissions (Jira answers with
empty lists rather than 403, which would otherwise reach reconciliation as "everything was
deleted"), invalid JQL in an issue selector, and a ``fields`` selector entry Jira does not
know. A field that only a *mapping* reads and Jira does not have (a custom field id of
another instance, a deleted field) is a loud warning instead: its property maps to null and
the rest syncs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from loguru import logger

from jira_server.client.rest_client import JiraServerClient, no_projects_error, no_users_error
from jira_server.errors import JiraSyncError
from jira_server.mapping.fields import split_csv
from jira_server.resources import IssueResourceConfig
from jira_server.sync.outcome import Phase, RunOutcome

# Kinds read from projects the credentials may browse (boards follow their project).
PROJECT_KINDS = frozenset({"project", "issue", "board", "sprint", "version", "component"})


async def preflight(
    client: JiraServerClient, resources: Sequence[Any], outcome: RunOutcome
) -> bool:
    """True when the run may go on; every problem found is recorded in ``outcome``."""
    try:
        await client.fetch_myself()
    except JiraSyncError as exc:
        outcome.fail(Phase.PREFLIGHT, "all kinds (credentials)", str(exc))
        return False
    kinds = {str(r.kind) for r in resources}
    await _check_browse_permissions(client, kinds, outcome)
    for index, resource in enumerate(resources):
        if isinstance(resource, IssueResourceConfig):
            await _check_issue_resource(client, index, resource, outcome)
    return not outcome.failed


async def _check_issue_resource(
    client: JiraServerClient, index: int, resource: IssueResourceConfig, outcome: RunOutcome
) -> None:
    scope = f"issue (resource #{index})"
    try:
        await client.check_jql(resource.selector.jql)
        explicit = split_csv(resource.selector.fields)
        unknown = await client.unknown_fields(resource.jira_fields())
    except JiraSyncError as exc:
        outcome.fail(Phase.PREFLIGHT, scope, str(exc))
        return
    if not unknown:
        return
    if explicit:
        outcome.fail(
            Phase.PREFLIGHT,
            scope,
            "the selector's fields name fields this Jira does not have: "
            + "; ".join(unknown.values()),
        )
        return
    for description in unknown.values():
        logger.warning(
            f"The {scope} mapping reads {description}, which this Jira does not have: that "
            "property is null on every issue (check the field id on this instance)"
        )


async def _check_browse_permissions(
    client: JiraServerClient, kinds: set[str], outcome: RunOutcome
) -> None:
    affected = sorted(kinds & PROJECT_KINDS)
    try:
        if affected and await client.count_projects() == 0:
            raise no_projects_error()
    except JiraSyncError as exc:
        outcome.fail(Phase.PREFLIGHT, ", ".join(affected), str(exc))
    if "user" not in kinds:
        return
    try:
        if await client.probe_user_listing() == 0:
            raise no_users_error()
    except JiraSyncError as exc:
        outcome.fail(Phase.PREFLIGHT, "user", str(exc))
