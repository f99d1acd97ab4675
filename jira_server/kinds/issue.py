"""The issue kind: its pages (full and by id), its delta scope, and its confirmations.

A delta run lists the JQL's scope cheaply (id, key, ``updated`` and whatever the identifier,
blueprint and selector query read), keeps every issue of it, and re-reads in full only the
issues Jira changed since the last successful run and those the catalog does not hold; what
left the scope is deleted through the deletion guard like in a full run.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import jq
from loguru import logger

from jira_server.blueprints import namespaced, split_namespaced
from jira_server.client.rest_client import JiraServerClient, project_of_key
from jira_server.framework import format_jq_filter
from jira_server.kinds.base import KindSupport, lookup_all
from jira_server.mapping.enrichment import IssueEnrichment
from jira_server.mapping.fields import fields_read_by, split_csv
from jira_server.mapping.slimming import PayloadSlimmer
from jira_server.resources import IssueResourceConfig
from jira_server.sync.guard import Confirmation, Verdict

Page = list[dict[str, Any]]
# Top-level keys every issue has: an expression reading only these (and named fields) can be
# evaluated on the scope listing.
SCOPE_TOP_LEVEL = frozenset({"id", "key", "self", "fields"})


def _literal(expression: str) -> str | None:
    """The text of a JQ string literal such as ``"jiraServerIssue"``, else None."""
    try:
        value = json.loads(expression)
    except ValueError:
        return None
    return value if isinstance(value, str) else None


def _always_true(query: str | None) -> bool:
    return (query or "true").strip() == "true"


class IssuePages:
    """What the issue mapping reads, asked of Jira and prepared for mapping: the mapped
    fields (plus what the computed ``__sprints``, ``__lifecycle`` and ``__development`` need
    when read), those keys set, and payloads slimmed to what the mapping expressions read."""

    def __init__(self, resource: IssueResourceConfig, client: JiraServerClient) -> None:
        self.resource = resource
        self.client = client
        self._enrichment: IssueEnrichment | None = None
        self.slimmer = (
            PayloadSlimmer.for_expressions(resource.expressions())
            if resource.selector.slim_payload
            else None
        )

    async def enrichment(self) -> IssueEnrichment:
        if self._enrichment is None:
            self._enrichment = await IssueEnrichment.load(self.resource.expressions(), self.client)
        return self._enrichment

    async def fields(self) -> list[str]:
        return (await self.enrichment()).request_fields(self.resource.jira_fields())

    async def expand(self) -> list[str]:
        return (await self.enrichment()).request_expand(split_csv(self.resource.selector.expand))

    async def enrich(self, page: Page) -> None:
        """The computed keys the mapping reads, on every issue of the page."""
        await (await self.enrichment()).apply(page)

    async def _prepared(self, pages: AsyncIterator[Page]) -> AsyncIterator[Page]:
        async for page in pages:
            await self.enrich(page)
            yield [self.slimmer.slim(item) for item in page] if self.slimmer else page

    async def all(self, jql: str | None = None) -> AsyncIterator[Page]:
        jql = self.resource.selector.jql if jql is None else jql
        fields = await self.fields()
        logger.info(f"Issue resync: jql={jql!r} fields={fields}")
        pages = self.client.fetch_issues(jql, fields=fields, expand=await self.expand())
        async for page in self._prepared(pages):
            yield page

    async def by_id(self, ids: Sequence[int]) -> AsyncIterator[Page]:
        """The issues of ``ids`` that the JQL still selects, in full."""
        pages = self.client.fetch_issues_by_id(
            self.resource.selector.jql, ids, fields=await self.fields(), expand=await self.expand()
        )
        async for page in self._prepared(pages):
            yield page


@dataclass(frozen=True)
class ScopeItem:
    id: int
    identifier: str | None
    blueprint: str | None
    selected: bool
    updated: datetime | None


NATURAL = (".key", ".id")


def _with_namespace(value: Any, namespace: str) -> str | None:
    return None if value is None else namespaced(str(value), namespace)


class IssueScope:
    """The delta run's listing of what the JQL selects now, with the keys the mapping would
    give each issue (selector query, blueprint and identifier run on the listed fields)."""

    def __init__(self, resource: IssueResourceConfig, client: JiraServerClient) -> None:
        self.resource = resource
        self.client = client
        mappings = resource.port.entity.mappings
        self._expressions = [
            resource.selector.query or "true",
            mappings.blueprint,
            mappings.identifier,
        ]
        self.fields = ["updated", *(fields_read_by(self._text()) or [])]

    def _text(self) -> list[str]:
        return [e for e in self._expressions if isinstance(e, str)]

    @staticmethod
    def unsupported(resource: IssueResourceConfig) -> str | None:
        """Why this resource cannot run as a delta, or None."""
        mappings = resource.port.entity.mappings
        expressions = [resource.selector.query or "true", mappings.blueprint, mappings.identifier]
        texts = [e for e in expressions if isinstance(e, str)]
        if len(texts) < len(expressions):
            return "the identifier is a search query"
        if resource.port.items_to_parse:
            return "the mapping uses itemsToParse"
        if fields_read_by(texts) is None:
            return "the identifier, blueprint or selector query reads .fields as a whole"
        reads = PayloadSlimmer.for_expressions(texts)
        if reads is None or not reads.top_level_keys() <= SCOPE_TOP_LEVEL:
            return (
                "the identifier, blueprint or selector query reads more than the issue's id, key "
                "and fields"
            )
        return None

    async def pages(self) -> AsyncIterator[list[ScopeItem]]:
        keys = self._keys()
        async for page in self.client.fetch_issues(
            self.resource.selector.jql, fields=self.fields, expand=None
        ):
            yield [self._item(keys, issue) for issue in page]

    def _keys(self) -> Callable[[dict[str, Any]], tuple[Any, Any, Any]]:
        """(selector verdict, blueprint, identifier) of a listed issue. The usual mapping
        (query 'true', a literal blueprint, ``.key`` or ``.id``) is read directly: tens of
        thousands of issues are listed per run; anything else runs through jq."""
        query, blueprint, identifier = (e.strip() for e in self._text())
        literal = _literal(blueprint)
        if query == "true" and literal is not None and identifier in (".key", ".id"):
            name = identifier[1:]
            return lambda issue: (True, literal, issue.get(name))
        split = split_namespaced(identifier)  # instanceNamespace's rendering of .key/.id
        if query == "true" and literal is not None and split and split[1] in NATURAL:
            namespace, name = split[0], split[1][1:]
            return lambda issue: (True, literal, _with_namespace(issue.get(name), namespace))
        program = jq.compile(
            "[" + ", ".join(f"([first(({format_jq_filter(e)}\n))][0])" for e in self._text()) + "]"
        )
        return lambda issue: tuple(program.input_value(issue).first())

    @staticmethod
    def _item(
        keys: Callable[[dict[str, Any]], tuple[Any, Any, Any]], issue: dict[str, Any]
    ) -> ScopeItem:
        selected, blueprint, identifier = keys(issue)
        updated_text = (issue.get("fields") or {}).get("updated")
        try:
            updated = datetime.fromisoformat(str(updated_text))
        except ValueError:
            updated = None  # unknown: treated as changed
        return ScopeItem(
            id=int(issue["id"]),
            identifier=None if identifier is None else str(identifier),
            blueprint=None if blueprint is None else str(blueprint),
            selected=selected is True,
            updated=updated,
        )


class IssueSupport(KindSupport):
    kind = "issue"
    natural_fields = ("key", "id")
    empty_is_suspicious = True

    resource: IssueResourceConfig

    async def confirm_natural(self, naturals: dict[str, str]) -> dict[str, Confirmation]:
        client = self.client
        identifiers = list(naturals)

        async def fetch(natural: str) -> dict[str, Any]:
            return await client.fetch_issue(natural, fields=["project"])

        found = await lookup_all(
            fetch, [naturals[i] for i in identifiers], client.settings.max_concurrent_requests
        )
        verdicts: dict[str, Confirmation] = {}
        still_there: dict[str, int] = {}
        visible: set[str] | None = None
        for identifier, issue in zip(identifiers, found, strict=True):
            natural = naturals[identifier]
            if issue is None:
                key = natural if self.shape and self.shape.field == "key" else None
                if key is None:
                    verdicts[identifier] = Confirmation(
                        Verdict.UNCHECKABLE, "Jira answers 404 and the issue's project is unknown"
                    )
                    continue
                if visible is None:
                    visible = set(await client.visible_project_keys())
                project = project_of_key(key)
                if project in visible:
                    verdicts[identifier] = Confirmation(Verdict.GONE, "deleted in Jira")
                else:
                    verdicts[identifier] = Confirmation(
                        Verdict.UNCONFIRMED,
                        f"Jira answers 404 and its project {project} is not visible any more "
                        "(deleted, or the Browse Projects permission was removed)",
                    )
            elif self.shape and self.shape.field == "key" and str(issue.get("key")) != natural:
                verdicts[identifier] = Confirmation(
                    Verdict.GONE, f"the issue is now {issue.get('key')}"
                )
            else:
                still_there[identifier] = int(issue["id"])
        if still_there:
            selected = await client.selected_issue_ids(
                self.resource.selector.jql, list(still_there.values())
            )
            for identifier, issue_id in still_there.items():
                if issue_id not in selected:
                    verdicts[identifier] = Confirmation(Verdict.GONE, "no longer matches the JQL")
                elif not _always_true(self.resource.selector.query):
                    verdicts[identifier] = Confirmation(
                        Verdict.UNCHECKABLE, "the JQL selects it; the selector query may not"
                    )
                else:
                    verdicts[identifier] = Confirmation(
                        Verdict.SELECTED, "Jira still selects it, but the read did not return it"
                    )
        return verdicts
