"""Keys the client adds to raw issues for the mappings, under a ``__`` prefix so they
never collide with Jira's own fields.

``__sprints``: the issue's sprints, parsed from the sprint custom field whatever its id and
form (JSON objects or the legacy ``Sprint@...[id=..]`` strings), e.g. for an issue → sprint
relation ``.__sprints | map(.id | tostring)``.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from jira_server.client.sprints import parse_sprint_value

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
