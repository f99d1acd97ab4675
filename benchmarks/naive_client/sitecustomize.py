"""Loaded at interpreter start (``PYTHONPATH`` points here) by the benchmark's baseline run:
the integration unchanged, except that issues are fetched the way simple scripts and the
upstream integration do it: one request at a time, ``startAt`` pages of 50, every field,
project by project (a single JQL over everything stops at Data Center's 10,000 window), and
mapped by Ocean's stock JQ processor (one jq run per expression and item), as upstream does."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

from port_ocean.core.handlers.entity_processor.jq_entity_processor import JQEntityProcessor

from jira_server.client import rest_client as client
from jira_server.client.jql import strip_order_by
from jira_server.mapping.entity_processor import JointProgramEntityProcessor

PAGE = 50


async def fetch_issues_naively(
    self: client.JiraServerClient,
    jql: str,
    *,
    fields: Sequence[str] | None = None,
    expand: Sequence[str] | None = None,
    report_total: bool = True,
) -> AsyncIterator[list[dict[str, Any]]]:
    projects = await self.request_json("GET", "/project")
    where = strip_order_by(jql)
    for project in sorted(p["key"] for p in projects):
        scoped = f"project = {project}" + (f" AND ({where})" if where else "")
        start = 0
        while True:
            body = await self.request_json(
                "GET",
                "/search",
                params={
                    "jql": f"{scoped} ORDER BY key",
                    "startAt": start,
                    "maxResults": PAGE,
                    "fields": "*all",
                },
            )
            issues: list[dict[str, Any]] = body["issues"]
            if issues:
                yield issues
            start += len(issues)
            if len(issues) < PAGE:
                break


client.JiraServerClient.fetch_issues = fetch_issues_naively  # type: ignore[method-assign]
JointProgramEntityProcessor.parse_items_sync = JQEntityProcessor.parse_items_sync  # type: ignore[method-assign]
