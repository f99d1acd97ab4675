"""What the sync needs to know of a kind beyond reading it: whether an empty answer is
suspicious, and how to ask Jira whether entities that left the catalog's read are really
gone (the deletion guard's confirmation, see jira_server/sync/guard.py).

A confirmation looks an entity up in Jira by the natural key its identifier was made of.
``IdentifierShape`` finds that key from the mapping itself: the identifier expression is run
on two probe items, and when it gives "a constant prefix + one natural field" both times the
identifier can be turned back into that field; otherwise the kind cannot confirm (the guard
then falls back to the share of deletions).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import jq

from jira_server.client.rest_client import JiraServerClient
from jira_server.errors import JiraResponseError
from jira_server.framework import format_jq_filter
from jira_server.sync.guard import Confirmation, Verdict


@dataclass(frozen=True)
class IdentifierShape:
    field: str
    prefix: str

    def natural(self, identifier: str) -> str | None:
        return identifier[len(self.prefix) :] if identifier.startswith(self.prefix) else None

    @classmethod
    def of(
        cls, expression: Any, probes: Sequence[dict[str, Any]], fields: Sequence[str]
    ) -> IdentifierShape | None:
        if not isinstance(expression, str) or len(probes) < 2:
            return None
        try:
            program = jq.compile(format_jq_filter(expression))
            results = [program.input_value(probe).first() for probe in probes]
        except Exception:
            return None
        for name in fields:
            prefixes = set()
            for probe, result in zip(probes, results, strict=True):
                value = str(probe.get(name))
                if not isinstance(result, str) or not result.endswith(value):
                    break
                prefixes.add(result[: len(result) - len(value)])
            else:
                if len(prefixes) == 1:
                    return cls(name, prefixes.pop())
        return None


async def lookup_all(
    lookup: Callable[[str], Awaitable[dict[str, Any]]], values: Sequence[str], limit: int
) -> list[dict[str, Any] | None]:
    """``lookup`` of every value, ``limit`` at a time; None where Jira answers 404."""
    slots = asyncio.Semaphore(limit)

    async def one(value: str) -> dict[str, Any] | None:
        async with slots:
            try:
                return await lookup(value)
            except JiraResponseError as exc:
                if exc.status_code == 404:
                    return None
                raise

    return list(await asyncio.gather(*(one(v) for v in values)))


class KindSupport:
    """One resource of one kind, as the deletion guard sees it."""

    kind: ClassVar[str]
    # Raw-item keys an identifier may be made of, in the order they are tried.
    natural_fields: ClassVar[tuple[str, ...]] = ("id",)
    # An empty read is a sign of trouble (a JQL that suddenly matches nothing), not of life.
    empty_is_suspicious: ClassVar[bool] = False

    def __init__(self, resource: Any, client: JiraServerClient) -> None:
        self.resource = resource
        self.client = client
        self.shape = IdentifierShape.of(
            resource.port.entity.mappings.identifier, self.probes(), self.natural_fields
        )

    @classmethod
    def probes(cls) -> list[dict[str, Any]]:
        return [
            {"id": "910001", "key": "PROBE-910001", "name": "probe.one", "fields": {}},
            {"id": "920002", "key": "PRBB-920002", "name": "probe.two", "fields": {}},
        ]

    async def confirm(self, identifiers: Sequence[str]) -> dict[str, Confirmation]:
        if self.shape is None:
            return {
                i: Confirmation(
                    Verdict.UNCHECKABLE,
                    "the identifier mapping cannot be turned back into a Jira key or id",
                )
                for i in identifiers
            }
        naturals = {i: self.shape.natural(i) for i in identifiers}
        known = {i: n for i, n in naturals.items() if n}
        answers = await self.confirm_natural(known)
        unknown = Confirmation(Verdict.GONE, "its identifier is not one this mapping produces")
        return {i: answers.get(i, unknown) for i in identifiers}

    async def confirm_natural(self, naturals: dict[str, str]) -> dict[str, Confirmation]:
        """identifier -> what Jira says of the object with that natural key or id."""
        raise NotImplementedError
