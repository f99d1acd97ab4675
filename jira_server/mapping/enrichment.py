"""Keys the client adds to raw issues for the mappings, under a ``__`` prefix so they
never collide with Jira's own fields.

``__sprints``: the issue's sprints, parsed from the sprint custom field whatever its id and
form (JSON objects or the legacy ``Sprint@...[id=..]`` strings), e.g. for an issue → sprint
relation ``.__sprints | map(.id | tostring)``.

``__lifecycle``: lead and cycle time, time in each status and category, reopenings (see
lifecycle.py); the changelog is asked of Jira only when a mapping reads it.

``__development``: the Development panel's summary (pull requests, builds, commits; see
development.py), parsed from a field search results carry anyway.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from loguru import logger

from jira_server.client.development import DEVELOPMENT_KEY, parse_dev_summary
from jira_server.client.sprints import parse_sprint_value
from jira_server.mapping.lifecycle import (
    LIFECYCLE_FIELDS,
    LIFECYCLE_KEY,
    UNKNOWN_CATEGORY,
    StatusCatalog,
    changelog_is_complete,
    lifecycle,
)

SPRINTS_KEY = "__sprints"
_READS_SPRINTS = re.compile(r"\.__sprints\b")


def reads_sprints(expressions: Iterable[str]) -> bool:
    return any(_READS_SPRINTS.search(expression) for expression in expressions)


def add_sprints(issues: list[dict[str, Any]], sprint_fields: list[str]) -> None:
    for issue in issues:
        fields = issue.get("fields") or {}
        issue[SPRINTS_KEY] = [
            sprint for field in sprint_fields for sprint in parse_sprint_value(fields.get(field))
        ]


@dataclass(frozen=True)
class SprintEnrichment:
    """What reading ``__sprints`` takes, the same for a resync, a live event and an action:
    the sprint fields asked of Jira (unless ``*all``) and ``__sprints`` set on every issue."""

    sprint_fields: list[str] | None  # None: no mapping reads __sprints

    @classmethod
    async def load(
        cls, reads: bool, sprint_field_ids: Callable[[], Awaitable[list[str]]]
    ) -> SprintEnrichment:
        return cls(await sprint_field_ids() if reads else None)

    def request_fields(self, fields: list[str]) -> list[str]:
        if not self.sprint_fields or "*all" in fields:
            return fields
        return [*fields, *(f for f in self.sprint_fields if f not in fields)]

    def apply(self, issues: list[dict[str, Any]]) -> None:
        if self.sprint_fields is not None:
            add_sprints(issues, self.sprint_fields)


# ---- lifecycle metrics and development links -------------------------------------------

_READS_LIFECYCLE = re.compile(r"\.__lifecycle\b")
_READS_DEVELOPMENT = re.compile(r"\.__development\b")


def reads_lifecycle(expressions: Iterable[str]) -> bool:
    return any(_READS_LIFECYCLE.search(expression) for expression in expressions)


def reads_development(expressions: Iterable[str]) -> bool:
    return any(_READS_DEVELOPMENT.search(expression) for expression in expressions)


class EnrichmentSource(Protocol):
    """What the enrichments ask of Jira (the REST client)."""

    async def sprint_field_ids(self) -> list[str]: ...

    async def dev_summary_field_ids(self) -> list[str]: ...

    async def fetch_statuses(self) -> list[dict[str, Any]]: ...

    async def fetch_changelog(self, key: str) -> dict[str, Any]: ...


class LifecycleEnrichment:
    """``__lifecycle`` on every issue: the changelog asked with the issues
    (``expand=changelog``), re-read in full for the issues whose embedded changelog Jira
    truncated, and the status categories from ``/rest/api/2/status``."""

    def __init__(self, statuses: StatusCatalog, source: EnrichmentSource) -> None:
        self.statuses = statuses
        self.source = source
        self._warned: set[str] = set()

    def _unknown(self, status_id: str | None, name: str | None) -> None:
        if str(status_id) in self._warned:
            return
        self._warned.add(str(status_id))
        logger.warning(
            f"The changelog names status {status_id} ({name!r}), which Jira no longer has "
            "(deleted?): its time is counted under that name, in the category "
            f"{UNKNOWN_CATEGORY!r}"
        )

    async def apply(self, issues: list[dict[str, Any]]) -> None:
        truncated = [issue for issue in issues if not changelog_is_complete(issue)]
        full = await asyncio.gather(
            *(self.source.fetch_changelog(str(issue["key"])) for issue in truncated)
        )
        if truncated:
            logger.debug(f"Re-read {len(truncated)} changelogs that search results truncated")
        for issue, changelog in zip(truncated, full, strict=True):
            issue["changelog"] = changelog
        for issue in issues:
            issue[LIFECYCLE_KEY] = lifecycle(issue, self.statuses, self._unknown)


@dataclass(frozen=True)
class IssueEnrichment:
    """Every computed key of an issue (``__sprints``, ``__lifecycle``, ``__development``),
    loaded from what the mappings read: the same for a resync, a live event and an action.
    A mapping that reads none of them asks Jira for nothing more."""

    sprints: SprintEnrichment
    lifecycle: LifecycleEnrichment | None
    dev_summary_fields: list[str] | None  # None: no mapping reads __development

    @classmethod
    async def load(cls, expressions: list[str], source: EnrichmentSource) -> IssueEnrichment:
        sprints = await SprintEnrichment.load(reads_sprints(expressions), source.sprint_field_ids)
        lifecycle_enrichment = None
        if reads_lifecycle(expressions):
            statuses = StatusCatalog(await source.fetch_statuses())
            lifecycle_enrichment = LifecycleEnrichment(statuses, source)
        dev = await source.dev_summary_field_ids() if reads_development(expressions) else None
        return cls(sprints, lifecycle_enrichment, dev)

    def request_fields(self, fields: list[str]) -> list[str]:
        fields = self.sprints.request_fields(fields)
        if "*all" in fields:
            return fields
        extra = [*(LIFECYCLE_FIELDS if self.lifecycle else ()), *(self.dev_summary_fields or ())]
        return [*fields, *(f for f in dict.fromkeys(extra) if f not in fields)]

    def request_expand(self, expand: list[str]) -> list[str]:
        if self.lifecycle is None or "changelog" in expand:
            return expand
        return [*expand, "changelog"]

    async def apply(self, issues: list[dict[str, Any]]) -> None:
        self.sprints.apply(issues)
        if self.lifecycle is not None:
            await self.lifecycle.apply(issues)
        if self.dev_summary_fields is not None:
            for issue in issues:
                fields = issue.get("fields") or {}
                values = [fields.get(f) for f in self.dev_summary_fields if fields.get(f)]
                issue[DEVELOPMENT_KEY] = parse_dev_summary(values[0] if values else None)
