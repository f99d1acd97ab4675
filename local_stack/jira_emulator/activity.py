"""Comments and worklogs as Jira holds them now: the generated ones (``derived``, a pure
function of the issue) plus those added through the API or the control API, minus those
deleted. Also the worklog change feeds (``/worklog/updated``, ``/worklog/deleted``).

Like Jira, adding or deleting a comment or worklog moves the issue's ``updated`` (without a
changelog entry), so a delta sync of issues sees the change.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from local_stack.jira_emulator import derived
from local_stack.jira_emulator.data import Issue
from local_stack.jira_emulator.store import MutationError

if TYPE_CHECKING:
    from local_stack.jira_emulator.store import Store

# Generated worklog ids are 10 * issue id + n (n < 10); added ones start above every one.
FIRST_ADDED_WORKLOG = 3_000_000_000
# What the updated feed leaves out: "worklogs updated during the last minute" (Jira's
# documentation), so that a writer still in flight is not half-seen.
FEED_QUIET_MS = 60_000


@dataclass(frozen=True)
class FeedEntry:
    worklog_id: int
    updated_ms: int


@dataclass
class Activity:
    store: Store
    deleted_comments: set[int] = field(default_factory=set)
    # Comment id -> (body, updated ms) for edits made through the control API.
    edited_comments: dict[int, tuple[str, int]] = field(default_factory=dict)
    added_worklogs: dict[int, list[derived.Worklog]] = field(default_factory=dict)
    deleted_worklogs: dict[int, int] = field(default_factory=dict)
    worklog_seq: int = FIRST_ADDED_WORKLOG
    # Rendered broken on purpose (the control API's corrupt ops): a body Jira's storage
    # lost, a worklog without its time.
    corrupt_comments: set[int] = field(default_factory=set)
    corrupt_worklogs: set[int] = field(default_factory=set)
    _feed: tuple[int, list[FeedEntry]] | None = None

    # ---- comments -----------------------------------------------------------------------

    def comments_of(self, issue: Issue) -> list[derived.Comment]:
        out = [
            c
            for c in derived.comments(issue, len(self.store.users))
            if c.id not in self.deleted_comments
        ]
        out += [
            derived.Comment(a.id, a.author, a.created_ms, a.created_ms, a.body)
            for a in self.store.comments.get(issue.id, [])
            if a.id not in self.deleted_comments
        ]
        for position, comment in enumerate(out):
            edit = self.edited_comments.get(comment.id)
            if edit is not None:
                out[position] = derived.Comment(
                    comment.id, comment.author, comment.created, edit[1], edit[0]
                )
        return out

    def _touch(self, p: int) -> Issue:
        issue = self.store.issues[p]
        if issue is None:
            raise MutationError(f"no issue at position {p}")
        issue.updated = max(self.store.now_ms(), issue.updated + 1)
        issue.rev += 1
        self.store._set_column(p, issue)
        return issue

    def _comment_of(self, p: int, comment_id: int) -> derived.Comment:
        issue = self.store.issues[p]
        if issue is None:
            raise MutationError(f"no issue at position {p}")
        for comment in self.comments_of(issue):
            if comment.id == comment_id:
                return comment
        raise MutationError(f"issue {issue.key} has no comment {comment_id}")

    def delete_comment(self, p: int, comment_id: int) -> None:
        self._comment_of(p, comment_id)
        self._touch(p)
        self.deleted_comments.add(comment_id)

    def edit_comment(self, p: int, comment_id: int, body: str) -> None:
        self._comment_of(p, comment_id)
        issue = self._touch(p)
        self.edited_comments[comment_id] = (body, issue.updated)

    # ---- worklogs -----------------------------------------------------------------------

    def worklogs_of(self, issue: Issue) -> list[derived.Worklog]:
        generated = derived.worklogs(issue, len(self.store.users))
        added = self.added_worklogs.get(issue.id, [])
        return [w for w in [*generated, *added] if w.id not in self.deleted_worklogs]

    def add_worklog(
        self, p: int, seconds: int, comment: str, *, author: int, started_ms: int | None = None
    ) -> derived.Worklog:
        if seconds <= 0:
            raise MutationError("a worklog needs timeSpentSeconds > 0")
        issue = self._touch(p)
        self.worklog_seq += 1
        worklog = derived.Worklog(
            id=self.worklog_seq,
            author=author,
            created=issue.updated,
            started=issue.updated - seconds * 1000 if started_ms is None else started_ms,
            seconds=seconds,
            comment=comment,
        )
        self.added_worklogs.setdefault(issue.id, []).append(worklog)
        return worklog

    def delete_worklog(self, p: int, worklog_id: int) -> None:
        issue = self.store.issues[p]
        if issue is None or worklog_id not in {w.id for w in self.worklogs_of(issue)}:
            raise MutationError(f"no worklog {worklog_id} on that issue")
        self._touch(p)
        self.deleted_worklogs[worklog_id] = self.store.now_ms()

    def forget_issue(self, issue: Issue) -> None:
        """An issue deleted: its worklogs are deleted with it (and listed as deleted)."""
        now = self.store.now_ms()
        for worklog in self.worklogs_of(issue):
            self.deleted_worklogs[worklog.id] = now

    def worklog(self, worklog_id: int) -> tuple[Issue, derived.Worklog] | None:
        if worklog_id in self.deleted_worklogs:
            return None
        if worklog_id > FIRST_ADDED_WORKLOG:
            for issue_id, worklogs in self.added_worklogs.items():
                for w in worklogs:
                    if w.id == worklog_id:
                        found = self.store.issue_by_key_or_id(str(issue_id))
                        return None if found is None else (found[1], w)
            return None
        found = self.store.issue_by_key_or_id(str(worklog_id // 10))
        if found is None:
            return None
        for w in self.worklogs_of(found[1]):
            if w.id == worklog_id:
                return found[1], w
        return None

    # ---- the feeds ----------------------------------------------------------------------

    def _updated_feed(self) -> list[FeedEntry]:
        """Every live worklog by (updated, id), rebuilt once per data version."""
        version = self.store.version
        if self._feed is None or self._feed[0] != version:
            entries = [
                FeedEntry(w.id, w.created)
                for _, issue in self.store.iter_alive()
                for w in self.worklogs_of(issue)
            ]
            entries.sort(key=lambda e: (e.updated_ms, e.worklog_id))
            self._feed = (version, entries)
        return self._feed[1]

    def updated_since(self, since_ms: int, limit: int) -> tuple[list[FeedEntry], bool]:
        """Worklogs updated at or after ``since_ms`` and before the quiet minute, oldest
        first: (page, last page?)."""
        return _page(self._updated_feed(), since_ms, self.store.now_ms() - FEED_QUIET_MS, limit)

    def deleted_since(self, since_ms: int, limit: int) -> tuple[list[FeedEntry], bool]:
        entries = sorted(
            (FeedEntry(i, at) for i, at in self.deleted_worklogs.items()),
            key=lambda e: (e.updated_ms, e.worklog_id),
        )
        return _page(entries, since_ms, self.store.now_ms() - FEED_QUIET_MS, limit)


def _page(
    entries: list[FeedEntry], since_ms: int, until_ms: int, limit: int
) -> tuple[list[FeedEntry], bool]:
    start = bisect.bisect_left(entries, since_ms, key=lambda e: e.updated_ms)
    end = bisect.bisect_left(entries, until_ms, key=lambda e: e.updated_ms)
    page = entries[start : min(end, start + limit)]
    return page, start + limit >= end
