"""Comments and worklogs: the reads behind the ``comment`` and ``worklog`` kinds.

Comments come with the issue search (``fields=comment`` embeds the first comments with the
``total``); only issues whose embedded list is truncated are paged through
``/issue/{key}/comment``. Worklogs come from Jira's change feeds: ``/worklog/updated?since``
lists ids (1000 per page, ``lastPage``/``nextPage``), ``/worklog/list`` returns their bodies
(at most 1000 ids per request), ``/worklog/deleted?since`` lists deletions. Servers without
the feeds (404) are read per issue (``fields=worklog``, then ``/issue/{key}/worklog`` where
the 20 embedded worklogs are not all).

Every raw item carries ``__issue`` (``id``, ``key``) so mappings can relate it to its issue.
A huge body is cut to ``MAX_TEXT`` characters (with a warning naming the item); a malformed
item is left out, the rest is yielded, and the read then fails naming it, so the run writes
everything else and deletes nothing.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from loguru import logger

from jira_server.client.jql import narrowed
from jira_server.errors import JiraResponseError

if TYPE_CHECKING:
    from jira_server.client.rest_client import JiraServerClient

Page = list[dict[str, Any]]
# Characters of a comment body or worklog comment kept in the catalog: Jira's default
# field limit is 32,767, but admins raise it and imports bypass it; Port limits entity size.
MAX_TEXT = 32_767
COMMENT_PAGE = 1000
WORKLOG_LIST_BATCH = 1000
# Feed pages followed at most in one read (a million worklogs): a server that keeps
# answering lastPage=false without moving on must not loop forever.
MAX_FEED_PAGES = 1000


_PERIOD = re.compile(r"^-?(\d+)([dwh])$")
_UNITS = {"d": "days", "w": "weeks", "h": "hours"}


def parse_since(value: str, now: datetime | None = None) -> datetime:
    """The selector's ``since``: a date, an ISO date and time, or a period back from now.
    Raises ValueError naming the setting and what it accepts."""
    text = value.strip()
    match = _PERIOD.match(text)
    if match:
        amount = timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
        return (now or datetime.now(UTC)) - amount
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"since {value!r} is neither a date (2025-01-31), an ISO date and time, nor a "
            "period back from now (-30d, -12w, -6h)"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def jql_day_before(moment: datetime) -> str:
    """A JQL date literal a day before ``moment``: Jira reads JQL dates in the sync user's
    time zone (unknown here), so the JQL only narrows coarsely and items are then compared
    with ``moment`` exactly."""
    return (moment - timedelta(days=1)).strftime('"%Y/%m/%d %H:%M"')


def epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _cut(text: str, what: str) -> str:
    if len(text) <= MAX_TEXT:
        return text
    logger.warning(
        f"{what} has {len(text):,} characters: only the first {MAX_TEXT:,} are synced "
        "(the rest is marked as cut)"
    )
    return text[:MAX_TEXT] + f"… [cut: {len(text) - MAX_TEXT:,} more characters]"


@dataclass
class Problems:
    """Items left out as malformed; the read fails with them once the rest is yielded."""

    kind: str
    items: list[str] = field(default_factory=list)

    def add(self, where: str) -> None:
        self.items.append(where)
        logger.error(f"Skipping a malformed {self.kind}: {where}")

    def raise_if_any(self) -> None:
        if self.items:
            shown = "; ".join(self.items[:5]) + (" ..." if len(self.items) > 5 else "")
            raise JiraResponseError(
                f"{len(self.items)} malformed {self.kind}s were left out (everything else was "
                f"synced; nothing is deleted this run): {shown}"
            )


def _issue_ref(issue: dict[str, Any]) -> dict[str, str]:
    return {"id": str(issue.get("id")), "key": str(issue.get("key"))}


class CommentReader:
    """Every comment of the issues a JQL selects, as one page per page of issues."""

    def __init__(
        self, client: JiraServerClient, *, rendered: bool = False, since: datetime | None = None
    ) -> None:
        self.client = client
        self.rendered = rendered
        self.since = since
        self.problems = Problems("comment")

    def _fields(self) -> tuple[list[str], list[str]]:
        return ["comment", "updated"], (["renderedFields"] if self.rendered else [])

    def scope_jql(self, jql: str) -> str:
        return narrowed(jql, f"updated >= {jql_day_before(self.since)}") if self.since else jql

    async def pages(self, jql: str) -> AsyncIterator[Page]:
        fields, expand = self._fields()
        async for issues in self.client.fetch_issues(
            self.scope_jql(jql), fields=fields, expand=expand
        ):
            yield await self.of_issues(issues)
        self.problems.raise_if_any()

    async def by_id(self, jql: str, ids: Sequence[int]) -> AsyncIterator[Page]:
        """Comments of the issues of ``ids`` that the JQL still selects."""
        fields, expand = self._fields()
        async for issues in self.client.fetch_issues_by_id(jql, ids, fields=fields, expand=expand):
            yield await self.of_issues(issues)
        self.problems.raise_if_any()

    async def of_issues(self, issues: Page) -> Page:
        truncated = [i for i in issues if self._truncated(i)]
        paged = dict(
            zip(
                (str(i.get("id")) for i in truncated),
                await asyncio.gather(*(self._all_of(i) for i in truncated)),
                strict=True,
            )
        )
        out: Page = []
        for issue in issues:
            comments = paged.get(str(issue.get("id")))
            if comments is None:
                comments = self._embedded(issue)
            out += self._prepared(issue, comments)
        return out

    @staticmethod
    def _block(issue: dict[str, Any]) -> dict[str, Any]:
        block = (issue.get("fields") or {}).get("comment")
        return block if isinstance(block, dict) else {}

    def _truncated(self, issue: dict[str, Any]) -> bool:
        block = self._block(issue)
        shown = block.get("comments")
        total = block.get("total")
        return isinstance(total, int) and total > len(shown if isinstance(shown, list) else [])

    def _embedded(self, issue: dict[str, Any]) -> list[Any]:
        comments = self._block(issue).get("comments")
        items = list(comments) if isinstance(comments, list) else []
        if self.rendered:
            html = ((issue.get("renderedFields") or {}).get("comment") or {}).get("comments")
            bodies = {
                str(c.get("id")): c.get("body")
                for c in (html if isinstance(html, list) else [])
                if isinstance(c, dict)
            }
            items = [
                {**c, "renderedBody": bodies.get(str(c.get("id")))} if isinstance(c, dict) else c
                for c in items
            ]
        return items

    async def _all_of(self, issue: dict[str, Any]) -> list[Any]:
        key = str(issue.get("key"))
        params: dict[str, Any] = {"maxResults": COMMENT_PAGE}
        if self.rendered:
            params["expand"] = "renderedBody"
        out: list[Any] = []
        start = 0
        while True:
            page = await self.client.request_json(
                "GET", f"/issue/{key}/comment", params={**params, "startAt": start}
            )
            comments = page.get("comments") if isinstance(page, dict) else None
            if not isinstance(comments, list):
                raise JiraResponseError(f"GET /issue/{key}/comment answered without comments")
            out += comments
            start += len(comments)
            if not comments or start >= int(page.get("total", 0)):
                return out

    def _prepared(self, issue: dict[str, Any], comments: list[Any]) -> Page:
        out: Page = []
        key = issue.get("key")
        for comment in comments:
            where = (
                f"issue {key}, comment {comment.get('id') if isinstance(comment, dict) else '?'}"
            )
            if (
                not isinstance(comment, dict)
                or not comment.get("id")
                or not isinstance(comment.get("body"), str)
                or not isinstance(comment.get("created"), str)
            ):
                self.problems.add(f"{where} (no id, body or created date)")
                continue
            if self.since and not _at_or_after(comment.get("updated"), self.since):
                continue
            item = {**comment, "body": _cut(comment["body"], f"The body of {where}")}
            if isinstance(item.get("renderedBody"), str):
                item["renderedBody"] = _cut(item["renderedBody"], f"The rendered body of {where}")
            item["__issue"] = _issue_ref(issue)
            out.append(item)
        return out


def _at_or_after(text: Any, moment: datetime) -> bool:
    try:
        return datetime.fromisoformat(str(text)) >= moment
    except ValueError:
        return True  # unknown: kept


@dataclass
class Feed:
    ids: list[int]
    until_ms: int | None


class WorklogReader:
    """Worklogs from the feeds, or per issue where the server has no feeds."""

    def __init__(self, client: JiraServerClient) -> None:
        self.client = client
        self.problems = Problems("worklog")

    async def feed(self, name: str, since_ms: int) -> Feed:
        """Every id of ``/worklog/{name}`` since ``since_ms`` (all pages)."""
        ids: list[int] = []
        since = since_ms
        until: int | None = None
        for _ in range(MAX_FEED_PAGES):
            page = await self.client.request_json(
                "GET", f"/worklog/{name}", params={"since": since}
            )
            values = page.get("values") if isinstance(page, dict) else None
            if not isinstance(values, list):
                raise JiraResponseError(f"GET /worklog/{name} answered without values")
            ids += [int(v["worklogId"]) for v in values if isinstance(v, dict) and "worklogId" in v]
            if isinstance(page.get("until"), int):
                until = page["until"]
            if page.get("lastPage", True) or not values:
                return Feed(list(dict.fromkeys(ids)), until)
            following = _since_of(page.get("nextPage")) or until
            if following is None or following < since:
                raise JiraResponseError(f"GET /worklog/{name} gave no next page to follow")
            if (
                following == since
                and len(values)
                and all(v.get("updatedTime") == since for v in values if isinstance(v, dict))
            ):
                following = since + 1  # a page of one instant: move past it
            since = following
        raise JiraResponseError(f"GET /worklog/{name} did not end after {MAX_FEED_PAGES} pages")

    async def bodies(self, jql: str, ids: Sequence[int]) -> AsyncIterator[Page]:
        """``/worklog/list`` in batches of ``WORKLOG_LIST_BATCH``, each a prepared page of
        the worklogs whose issue the JQL selects (one id search per batch gives the keys)."""
        batches = [
            list(ids[n : n + WORKLOG_LIST_BATCH]) for n in range(0, len(ids), WORKLOG_LIST_BATCH)
        ]
        step = max(1, self.client.settings.max_concurrent_requests)
        for first in range(0, len(batches), step):
            answers = await asyncio.gather(
                *(self._list(jql, b) for b in batches[first : first + step])
            )
            for answer in answers:
                yield answer
        self.problems.raise_if_any()

    async def _list(self, jql: str, ids: list[int]) -> Page:
        body = await self.client.request_json("POST", "/worklog/list", json={"ids": ids})
        if not isinstance(body, list):
            raise JiraResponseError("POST /worklog/list did not answer with a list")
        issue_ids = {
            int(w["issueId"])
            for w in body
            if isinstance(w, dict) and str(w.get("issueId", "")).isdigit()
        }
        issues: dict[str, dict[str, Any]] = {}
        async for page in self.client.fetch_issues_by_id(
            jql, sorted(issue_ids), fields=["id"], expand=None
        ):
            issues.update((str(i.get("id")), i) for i in page)
        out: Page = []
        for worklog in body:
            issue_id = str(worklog.get("issueId")) if isinstance(worklog, dict) else None
            if issue_id and issue_id.isdigit() and issue_id not in issues:
                continue  # an issue the JQL does not select
            out += self.prepared([worklog], issues.get(issue_id or ""))
        return out

    async def existing(self, ids: Sequence[int]) -> dict[int, int]:
        """Which of ``ids`` Jira still has, with their issue ids (for the deletion guard)."""
        found: dict[int, int] = {}
        for n in range(0, len(ids), WORKLOG_LIST_BATCH):
            body = await self.client.request_json(
                "POST", "/worklog/list", json={"ids": list(ids[n : n + WORKLOG_LIST_BATCH])}
            )
            for w in body if isinstance(body, list) else []:
                if isinstance(w, dict) and str(w.get("id", "")).isdigit():
                    issue = str(w.get("issueId", ""))
                    found[int(w["id"])] = int(issue) if issue.isdigit() else -1
        return found

    async def per_issue(self, jql: str) -> AsyncIterator[Page]:
        """The fallback: worklogs of every issue the JQL selects."""
        async for issues in self.client.fetch_issues(jql, fields=["worklog"]):
            out: Page = []
            for issue in issues:
                block = (issue.get("fields") or {}).get("worklog")
                block = block if isinstance(block, dict) else {}
                embedded = block.get("worklogs")
                shown: list[Any] = embedded if isinstance(embedded, list) else []
                if isinstance(block.get("total"), int) and block["total"] > len(shown):
                    page = await self.client.request_json(
                        "GET", f"/issue/{issue.get('key')}/worklog"
                    )
                    every = page.get("worklogs") if isinstance(page, dict) else None
                    if not isinstance(every, list):
                        raise JiraResponseError(
                            f"GET /issue/{issue.get('key')}/worklog answered without worklogs"
                        )
                    shown = every
                out += self.prepared(shown, issue)
            yield out
        self.problems.raise_if_any()

    def prepared(self, worklogs: list[Any], issue: dict[str, Any] | None) -> Page:
        out: Page = []
        for worklog in worklogs:
            ident = worklog.get("id") if isinstance(worklog, dict) else "?"
            where = f"worklog {ident}" + (f" of issue {issue.get('key')}" if issue else "")
            if not isinstance(worklog, dict) or not str(worklog.get("id", "")).isdigit():
                self.problems.add(f"{where} (no id)")
                continue
            seconds = worklog.get("timeSpentSeconds")
            started = worklog.get("started")
            if not isinstance(seconds, int) or isinstance(seconds, bool) or seconds < 0:
                self.problems.add(f"{where} (timeSpentSeconds is {seconds!r})")
                continue
            try:
                datetime.fromisoformat(str(started))
            except ValueError:
                self.problems.add(f"{where} (started is {started!r}, not a date)")
                continue
            item = dict(worklog)
            if isinstance(item.get("comment"), str):
                item["comment"] = _cut(item["comment"], f"The comment of {where}")
            if issue is None:
                self.problems.add(f"{where} (no issueId)")
                continue
            item["__issue"] = _issue_ref(issue)
            out.append(item)
        return out


def _since_of(url: Any) -> int | None:
    if not isinstance(url, str):
        return None
    values = parse_qs(urlsplit(url).query).get("since")
    try:
        return int(values[0]) if values else None
    except ValueError:
        return None
