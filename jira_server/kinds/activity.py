"""The comment and worklog kinds: their full reads, their delta reads, and worklog
confirmations for the deletion guard.

Delta runs (``incremental: true``, the default), keyed on the same recorded state as issues:

- comments: the JQL's issues are listed cheaply (id, key, ``updated``); the comments of
  issues Jira changed since the last successful run are re-read (adding, editing or deleting
  a comment moves the issue's ``updated``); the catalog's comments whose ``issue`` relation
  points at an unchanged issue are kept, so a delta run never deletes a comment of an issue
  it did not re-read;
- worklogs: ``/worklog/updated?since`` gives what changed (re-read), ``/worklog/deleted?since``
  what was deleted (left to the guard, which confirms with ``/worklog/list``); the other
  worklogs of the catalog are kept while their ``issue`` relation points at an issue the JQL
  still selects (the same cheap listing), so the worklogs of a deleted issue go with it even
  before the deleted feed lists them (it leaves out the last minute).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from loguru import logger

from jira_server.blueprints import namespaced, split_namespaced
from jira_server.client.activity import (
    CommentReader,
    WorklogReader,
    epoch_ms,
    parse_since,
)
from jira_server.client.rest_client import JiraServerClient
from jira_server.errors import JiraResponseError
from jira_server.kinds.base import IdentifierShape, KindSupport
from jira_server.resources import CommentResourceConfig, WorklogResourceConfig
from jira_server.sync.guard import Confirmation, Verdict

Page = list[dict[str, Any]]
ISSUE_RELATION = "issue"


def _since(resource: Any) -> datetime | None:
    text = resource.selector.since
    return parse_since(text) if text else None


def _literal_blueprint(resource: Any) -> bool:
    text = resource.port.entity.mappings.blueprint
    return isinstance(text, str) and text.strip()[:1] in "\"'" and len(text.strip()) > 2


def _later(a: datetime | None, b: datetime | None) -> datetime | None:
    return max(a, b) if a and b else a or b


class CommentPages:
    def __init__(self, resource: CommentResourceConfig, client: JiraServerClient) -> None:
        self.resource = resource
        self.client = client

    def reader(self, since: datetime | None = None) -> CommentReader:
        return CommentReader(
            self.client,
            rendered=self.resource.selector.rendered_body,
            since=_later(_since(self.resource), since),
        )

    def all(self) -> AsyncIterator[Page]:
        return self.reader().pages(self.resource.selector.jql)


@dataclass(frozen=True)
class ListedIssue:
    id: int
    key: str
    changed: bool


async def list_issues(
    client: JiraServerClient, jql: str, since: datetime
) -> AsyncIterator[list[ListedIssue]]:
    """The JQL's issues, cheaply (id, key, ``updated``), each marked changed when Jira
    updated it at or after ``since``."""
    async for page in client.fetch_issues(jql, fields=["updated"], expand=None):
        yield [_listed(issue, since) for issue in page]


def _listed(issue: dict[str, Any], since: datetime) -> ListedIssue:
    text = (issue.get("fields") or {}).get("updated")
    try:
        changed = datetime.fromisoformat(str(text)) >= since
    except ValueError:
        changed = True  # unknown: re-read
    return ListedIssue(int(issue["id"]), str(issue.get("key")), changed)


class CommentDelta:
    """The delta read of comments: which issues changed, and their comments."""

    def __init__(
        self, resource: CommentResourceConfig, client: JiraServerClient, since: datetime
    ) -> None:
        self.pages = CommentPages(resource, client)
        self.resource = resource
        self.client = client
        self.since = since

    def listing(self) -> AsyncIterator[list[ListedIssue]]:
        return list_issues(self.client, self.resource.selector.jql, self.since)

    def comments_of(self, ids: Sequence[int]) -> AsyncIterator[Page]:
        return self.pages.reader().by_id(self.resource.selector.jql, ids)


def issue_relation_values(resource: Any, namespace: str) -> Callable[[ListedIssue], set[str]]:
    """What the catalog's ``issue`` relation of a comment or worklog may hold for a listed
    issue: its key or id, or (``instanceNamespace`` renders the relation so) ``<ns>:`` + either.
    Both forms are wanted: entities written before the namespace was set still point at raw
    keys, and only this integration's own entities are compared."""
    relation = (resource.port.entity.mappings.relations or {}).get(ISSUE_RELATION)
    split = split_namespaced(relation) if isinstance(relation, str) else None
    namespaces = {n for n in (namespace, split[0] if split else "") if n}

    def values(issue: ListedIssue) -> set[str]:
        raw = {issue.key, str(issue.id)}
        return raw | {namespaced(v, n) for v in raw for n in namespaces}

    return values


def comment_delta_unsupported(resource: Any) -> str | None:
    """Why this comment resource cannot run as a delta, or None."""
    if not _literal_blueprint(resource):
        return "the blueprint is not a string literal"
    relations = resource.port.entity.mappings.relations or {}
    if ISSUE_RELATION not in relations:
        return f"the mapping has no '{ISSUE_RELATION}' relation to tell whose comments to keep"
    return None


class WorklogPages:
    def __init__(self, resource: WorklogResourceConfig, client: JiraServerClient) -> None:
        self.resource = resource
        self.client = client
        self.reader = WorklogReader(client)

    async def all(self) -> AsyncIterator[Page]:
        since = _since(self.resource)
        jql = self.resource.selector.jql
        try:
            feed = await self.reader.feed("updated", epoch_ms(since) if since else 0)
        except JiraResponseError as exc:
            if exc.status_code != 404:
                raise
            async for page in self._per_issue(jql, since):
                yield page
            return
        async for page in self.reader.bodies(jql, feed.ids):
            yield page

    async def _per_issue(self, jql: str, since: datetime | None) -> AsyncIterator[Page]:
        logger.warning(
            "Jira has no /rest/api/2/worklog/updated (a server before the worklog feeds): "
            "reading worklogs per issue"
        )
        async for page in self.reader.per_issue(jql):
            yield [w for w in page if since is None or _updated_since(w, since)]

    async def changed_since(self, since: datetime) -> tuple[AsyncIterator[Page], set[str]]:
        """Delta: the pages of worklogs updated since ``since`` and the ids deleted since."""
        bound = _later(_since(self.resource), since)
        assert bound is not None
        moment = epoch_ms(bound)
        updated = await self.reader.feed("updated", moment)
        deleted = await self.reader.feed("deleted", epoch_ms(since))
        return self.reader.bodies(self.resource.selector.jql, updated.ids), {
            str(i) for i in deleted.ids
        }


def _updated_since(worklog: dict[str, Any], since: datetime) -> bool:
    try:
        return datetime.fromisoformat(str(worklog.get("updated"))) >= since
    except ValueError:
        return True


def worklog_shape(resource: Any) -> IdentifierShape | None:
    """How a worklog identifier turns back into its id (None: it cannot)."""
    return IdentifierShape.of(
        resource.port.entity.mappings.identifier, KindSupport.probes(), ("id",)
    )


def worklog_delta_unsupported(resource: Any) -> str | None:
    if not _literal_blueprint(resource):
        return "the blueprint is not a string literal"
    if worklog_shape(resource) is None:
        return "the identifier mapping cannot be turned back into a worklog id"
    relations = resource.port.entity.mappings.relations or {}
    if ISSUE_RELATION not in relations:
        return f"the mapping has no '{ISSUE_RELATION}' relation to tell whose worklogs to keep"
    return None


class WorklogSupport(KindSupport):
    """A worklog left the read: gone when ``/worklog/list`` no longer returns it."""

    kind = "worklog"
    natural_fields = ("id",)

    async def confirm_natural(self, naturals: dict[str, str]) -> dict[str, Confirmation]:
        numeric = {i: int(n) for i, n in naturals.items() if n.isdigit()}
        try:
            existing = await WorklogReader(self.client).existing(sorted(set(numeric.values())))
        except JiraResponseError as exc:
            if exc.status_code != 404:
                raise
            reason = "this Jira has no /worklog/list to look worklogs up"
            return {i: Confirmation(Verdict.UNCHECKABLE, reason) for i in naturals}
        selected = await self.client.selected_issue_ids(
            self.resource.selector.jql, sorted({i for i in existing.values() if i >= 0})
        )
        verdicts = {}
        for identifier in naturals:
            worklog_id = numeric.get(identifier)
            if worklog_id is None:
                verdicts[identifier] = Confirmation(Verdict.GONE, "not a worklog id")
            elif worklog_id not in existing:
                verdicts[identifier] = Confirmation(Verdict.GONE, "deleted in Jira")
            elif existing[worklog_id] not in selected:
                verdicts[identifier] = Confirmation(Verdict.GONE, "its issue left the JQL")
            else:
                verdicts[identifier] = Confirmation(
                    Verdict.SELECTED, "Jira still has it, but the read did not return it"
                )
        return verdicts
