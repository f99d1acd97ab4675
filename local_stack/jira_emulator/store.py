"""The mutable model: the generated dataset plus bitmask indices and a data version.

An issue's *position* is its index in ``issues``; positions grow with ids (issues are only
ever appended with a new, higher id), so a set of positions in ascending order is also in
ascending id order. Sets of issues are Python ints used as bitmasks: AND/OR/NOT of whole
clauses over 100k issues then cost microseconds.
"""

from __future__ import annotations

import bisect
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from local_stack.jira_emulator import catalog as cat
from local_stack.jira_emulator import derived
from local_stack.jira_emulator.data import (
    RANK_STEP,
    Dataset,
    History,
    Issue,
    Project,
    User,
    mix,
)

# Index name -> (Issue attribute, kind). Kinds: "id" a plain value; "opt" -1 means EMPTY;
# "ref" 0 means EMPTY; "multi" a tuple of values, () means EMPTY. EMPTY is keyed as None.
INDEXES: dict[str, tuple[str, str]] = {
    "project": ("project", "id"),
    "status": ("status", "id"),
    "type": ("type", "id"),
    "priority": ("priority", "id"),
    "resolution": ("resolution", "opt"),
    "assignee": ("assignee", "opt"),
    "reporter": ("reporter", "opt"),
    "creator": ("creator", "opt"),
    "labels": ("labels", "multi"),
    "component": ("components", "multi"),
    "fixVersion": ("fix_versions", "multi"),
    "affectedVersion": ("versions", "multi"),
    "sprint": ("sprints", "multi"),
    "parent": ("parent", "ref"),
    "epic": ("epic", "ref"),
}


def index_values(issue: Issue, attr: str, kind: str) -> tuple[object, ...]:
    value = getattr(issue, attr)
    if kind == "multi":
        return tuple(value) or (None,)
    if (kind == "opt" and value < 0) or (kind == "ref" and value == 0):
        return (None,)
    return (value,)


SPARSE_INDEXES = frozenset({"assignee", "reporter", "creator", "sprint", "parent", "epic"})
DATE_COLUMNS = ("created", "updated", "resolved", "due")

_BIT_POSITIONS = tuple(tuple(j for j in range(8) if b >> j & 1) for b in range(256))
_NONZERO = re.compile(b"[^\x00]")


def mask_from_positions(positions: Iterable[int], size: int) -> int:
    buffer = bytearray((size >> 3) + 1)
    for p in positions:
        buffer[p >> 3] |= 1 << (p & 7)
    return int.from_bytes(buffer, "little")


def positions_from_mask(mask: int) -> list[int]:
    """Set bits in ascending order; zero bytes are skipped by the regex engine in C."""
    if mask <= 0:
        return []
    data = mask.to_bytes((mask.bit_length() + 7) >> 3, "little")
    out: list[int] = []
    extend = out.extend
    for match in _NONZERO.finditer(data):
        base = match.start() << 3
        extend([base + j for j in _BIT_POSITIONS[data[base >> 3]]])
    return out


def range_mask(lo: int, hi: int) -> int:
    """Positions lo <= p < hi."""
    if hi <= lo:
        return 0
    return ((1 << hi) - 1) ^ ((1 << lo) - 1)


class MutationError(ValueError):
    """A control-API mutation that cannot be applied (unknown key, status, user ...)."""


@dataclass
class Created:
    id: int
    key: str


@dataclass(frozen=True)
class AddedComment:
    """A comment added through the API (generated comments are derived, not stored)."""

    id: int
    issue_id: int
    issue_key: str
    author: int
    body: str
    created_ms: int


class Store:
    def __init__(self, data: Dataset, now_ms: Callable[[], int]) -> None:
        self.data = data
        self.now_ms = now_ms
        self.users: list[User] = data.users
        self.projects: list[Project] = data.projects
        self.issues: list[Issue | None] = list(data.issues)
        for generated in data.issues:
            generated.content_end = generated.updated
        self.ids: list[int] = [issue.id for issue in data.issues]
        self.pos_by_id: dict[int, int] = {issue.id: p for p, issue in enumerate(data.issues)}
        self.pos_by_key: dict[str, int] = {issue.key: p for p, issue in enumerate(data.issues)}
        self.columns: dict[str, list[int]] = {
            "created": [i.created for i in data.issues],
            "updated": [i.updated for i in data.issues],
            "resolved": [i.resolved for i in data.issues],
            "due": [i.due for i in data.issues],
        }
        self.alive = (1 << len(self.issues)) - 1
        # Dense indexes map a value to a bitmask; sparse ones (many values with few issues
        # each) to a set of positions, as a full-width bitmask per value would cost 12 KB
        # per value at 100k issues.
        self.index: dict[str, dict[object, int]] = {}
        self.sparse: dict[str, dict[object, set[int]]] = {}
        self.children: dict[int, list[int]] = {}
        self.min_rank = min((i.rank for i in data.issues), default=0)
        self.max_rank = max((i.rank for i in data.issues), default=0)
        self.version = 1
        self._build_indexes()
        self.user_by_name = {u.name.lower(): u for u in self.users}
        self.user_by_key = {u.key.lower(): u for u in self.users}
        self.project_by_key = {p.key.upper(): p for p in self.projects}
        self.project_by_id = {p.id: p for p in self.projects}
        # Above every generated changelog id (100_000_000 + 200 * issue id + n).
        self.history_seq = 1_000_000_000
        # Above every generated comment id (10 * issue id + n).
        self.comment_seq = 2_000_000_000
        self.comments: dict[int, list[AddedComment]] = {}
        # Comments and worklogs as they are now (set by EmulatorState; see activity.py).
        self.activity: Any = None

    # ---- indexes ------------------------------------------------------------------------

    def _build_indexes(self) -> None:
        size = len(self.issues)
        alive: list[tuple[int, Issue]] = [
            (p, i) for p, i in enumerate(self.issues) if i is not None
        ]
        for name, (attr, kind) in INDEXES.items():
            groups: dict[object, list[int]] = defaultdict(list)
            get = attrgetter(attr)
            if kind == "multi":
                for p, issue in alive:
                    for value in get(issue) or (None,):
                        groups[value].append(p)
            else:
                empty = -1 if kind == "opt" else (0 if kind == "ref" else None)
                for p, issue in alive:
                    value = get(issue)
                    groups[None if value == empty else value].append(p)
            if name in SPARSE_INDEXES:
                self.sparse[name] = {v: set(ps) for v, ps in groups.items()}
            else:
                self.index[name] = {v: mask_from_positions(ps, size) for v, ps in groups.items()}
        for p, issue in alive:
            if issue.parent:
                self.children.setdefault(issue.parent, []).append(p)

    def _index(self, p: int, issue: Issue) -> None:
        bit = 1 << p
        for name, (attr, kind) in INDEXES.items():
            if name in SPARSE_INDEXES:
                positions = self.sparse[name]
                for value in index_values(issue, attr, kind):
                    positions.setdefault(value, set()).add(p)
                continue
            table = self.index[name]
            for value in index_values(issue, attr, kind):
                table[value] = table.get(value, 0) | bit

    def _unindex(self, p: int, issue: Issue) -> None:
        clear = ~(1 << p)
        for name, (attr, kind) in INDEXES.items():
            if name in SPARSE_INDEXES:
                positions = self.sparse[name]
                for value in index_values(issue, attr, kind):
                    positions.get(value, set()).discard(p)
                continue
            table = self.index[name]
            for value in index_values(issue, attr, kind):
                table[value] = table.get(value, 0) & clear

    def mask(self, index: str, value: object) -> int:
        return self.mask_any(index, (value,))

    def mask_any(self, index: str, values: Iterable[object]) -> int:
        if index in SPARSE_INDEXES:
            table = self.sparse[index]
            hits: set[int] = set()
            for value in values:
                hits.update(table.get(value, ()))
            return mask_from_positions(hits, len(self.issues)) if hits else 0
        out = 0
        dense = self.index[index]
        for value in values:
            out |= dense.get(value, 0)
        return out

    def id_bounds(self, lo_id: int | None, hi_id: int | None) -> tuple[int, int]:
        """The positions [lo, hi) whose id is in [lo_id, hi_id] (inclusive, either side open)."""
        lo = 0 if lo_id is None else bisect.bisect_left(self.ids, lo_id)
        hi = len(self.ids) if hi_id is None else bisect.bisect_right(self.ids, hi_id)
        return lo, hi

    def id_range_mask(self, lo_id: int | None, hi_id: int | None) -> int:
        """Positions whose id is in [lo_id, hi_id] (inclusive, either side open)."""
        return range_mask(*self.id_bounds(lo_id, hi_id))

    def date_mask(self, column: str, test: Callable[[int], bool]) -> int:
        values = self.columns[column]
        return mask_from_positions(
            (p for p, v in enumerate(values) if v >= 0 and test(v)), len(values)
        )

    def iter_alive(self) -> Iterator[tuple[int, Issue]]:
        for p, issue in enumerate(self.issues):
            if issue is not None:
                yield p, issue

    # ---- lookups ------------------------------------------------------------------------

    def issue_by_key_or_id(self, key_or_id: str) -> tuple[int, Issue] | None:
        p = (
            self.pos_by_id.get(int(key_or_id))
            if key_or_id.isdigit()
            else self.pos_by_key.get(key_or_id.upper())
        )
        if p is None:
            return None
        issue = self.issues[p]
        return None if issue is None else (p, issue)

    def find_user(self, value: str) -> User | None:
        return self.user_by_name.get(value.lower()) or self.user_by_key.get(value.lower())

    def find_project(self, key_or_id: str) -> Project | None:
        if key_or_id.isdigit():
            return self.project_by_id.get(int(key_or_id))
        return self.project_by_key.get(key_or_id.upper())

    def subtask_positions(self, issue: Issue) -> list[int]:
        return self.children.get(issue.id, [])

    # ---- mutations ----------------------------------------------------------------------

    def bump(self) -> int:
        self.version += 1
        return self.version

    def _set_column(self, p: int, issue: Issue) -> None:
        self.columns["created"][p] = issue.created
        self.columns["updated"][p] = issue.updated
        self.columns["resolved"][p] = issue.resolved
        self.columns["due"][p] = issue.due

    def _record(self, issue: Issue, author: int, items: list[derived.Item]) -> None:
        self.history_seq += 1
        if issue.history is None:
            issue.history = []
        issue.history.append(History(self.history_seq, author, issue.updated, tuple(items)))

    def create_issues(
        self,
        project_key: str,
        count: int,
        *,
        summary: str | None = None,
        type_name: str | None = None,
        status_name: str | None = None,
        assignee: str | None = None,
        parent_key: str | None = None,
        priority_name: str | None = None,
        labels: Sequence[str] | None = None,
        author: int = 0,
    ) -> list[Created]:
        project = self._require_project(project_key)
        type_ = (
            _lookup_name(cat.ISSUE_TYPES, type_name, "issue type") if type_name else cat.TYPE_TASK
        )
        status = (
            _lookup_name(cat.STATUSES, status_name, "status") if status_name else cat.STATUS_TODO
        )
        assignee_idx = self._require_user(assignee).idx if assignee else -1
        priority = (
            _lookup_name(cat.PRIORITIES, priority_name, "priority")
            if priority_name
            else cat.PRIORITY_MEDIUM
        )
        label_values = tuple(sorted(set(labels or ())))
        parent_id = 0
        if parent_key:
            found = self.issue_by_key_or_id(parent_key)
            if found is None:
                raise MutationError(f"no issue {parent_key!r}")
            parent_id = found[1].id
            if not cat.ISSUE_TYPES[type_].subtask:
                type_ = cat.TYPE_SUBTASK
        created: list[Created] = []
        for _ in range(count):
            now = self.now_ms()
            issue_id = (self.ids[-1] if self.ids else self.data.spec.first_issue_id - 1) + 1
            self.max_rank += RANK_STEP
            done = cat.STATUSES[status].category is cat.DONE
            issue = Issue(
                id=issue_id,
                key=f"{project.key}-{project.next_num}",
                project=project.idx,
                num=project.next_num,
                type=type_,
                status=status,
                priority=priority,
                resolution=4 if done else -1,
                summary=summary or f"Created by the emulator #{issue_id}",
                created=now,
                updated=now,
                resolved=now if done else -1,
                due=-1,
                assignee=assignee_idx,
                reporter=author,
                creator=author,
                labels=label_values,
                components=(),
                fix_versions=(),
                versions=(),
                sprints=(),
                parent=parent_id,
                epic=0,
                rank=self.max_rank,
                story_points=None,
                n_desc=1 + mix(issue_id) % 3,
                n_comments=0,
                n_worklogs=0,
                environment=-1,
            )
            project.next_num += 1
            p = len(self.issues)
            self.issues.append(issue)
            self.ids.append(issue.id)
            for column in DATE_COLUMNS:
                self.columns[column].append(-1)
            self._set_column(p, issue)
            self.pos_by_id[issue.id] = p
            self.pos_by_key[issue.key] = p
            self.alive |= 1 << p
            self._index(p, issue)
            if parent_id:
                self.children.setdefault(parent_id, []).append(p)
            created.append(Created(issue.id, issue.key))
        return created

    def delete(self, positions: Iterable[int]) -> list[str]:
        deleted: list[str] = []
        pending = list(positions)
        while pending:
            p = pending.pop()
            issue = self.issues[p]
            if issue is None:
                continue
            # Jira deletes sub-tasks together with their parent.
            pending.extend(self.children.pop(issue.id, []))
            self._unindex(p, issue)
            self.alive &= ~(1 << p)
            self.issues[p] = None
            self.pos_by_id.pop(issue.id, None)
            self.pos_by_key.pop(issue.key, None)
            if issue.parent and issue.parent in self.children:
                siblings = self.children[issue.parent]
                if p in siblings:
                    siblings.remove(p)
            deleted.append(issue.key)
        return deleted

    def update(
        self,
        positions: Iterable[int],
        *,
        summary: str | None = None,
        status_name: str | None = None,
        assignee: str | bool | None = False,
        priority_name: str | None = None,
        labels: list[str] | None = None,
        author: int = 0,
    ) -> list[str]:
        """Apply field changes (``assignee=None`` unassigns; False leaves it) and bump
        ``updated``, recording a changelog entry like Jira does."""
        status = _lookup_name(cat.STATUSES, status_name, "status") if status_name else None
        priority = (
            _lookup_name(cat.PRIORITIES, priority_name, "priority") if priority_name else None
        )
        new_assignee = -2
        if assignee is None:
            new_assignee = -1
        elif isinstance(assignee, str):
            new_assignee = self._require_user(assignee).idx
        touched: list[str] = []
        for p in positions:
            issue = self.issues[p]
            if issue is None:
                continue
            if issue.history is None:
                issue.history = [
                    History(c.id, c.author, c.created, c.items)
                    for c in derived.changelog(issue, self.users)
                ]
            self._unindex(p, issue)
            items: list[derived.Item] = []
            if summary is not None and summary != issue.summary:
                items.append(("summary", None, issue.summary, None, summary))
                issue.summary = summary
            if status is not None and status != issue.status:
                old = cat.STATUSES[issue.status]
                new = cat.STATUSES[status]
                items.append(("status", old.id, old.name, new.id, new.name))
                issue.status = status
                if new.category is cat.DONE and issue.resolution < 0:
                    issue.resolution = 4
                    items.append(("resolution", None, None, cat.RESOLUTIONS[4].id, "Done"))
                elif new.category is not cat.DONE and issue.resolution >= 0:
                    res = cat.RESOLUTIONS[issue.resolution]
                    items.append(("resolution", res.id, res.name, None, None))
                    issue.resolution = -1
            if new_assignee != -2 and new_assignee != issue.assignee:
                items.append(("assignee", *self._user_change(issue.assignee, new_assignee)))
                issue.assignee = new_assignee
            if priority is not None and priority != issue.priority:
                old_p, new_p = cat.PRIORITIES[issue.priority], cat.PRIORITIES[priority]
                items.append(("priority", old_p.id, old_p.name, new_p.id, new_p.name))
                issue.priority = priority
            if labels is not None and tuple(sorted(labels)) != issue.labels:
                items.append(
                    ("labels", None, " ".join(issue.labels), None, " ".join(sorted(labels)))
                )
                issue.labels = tuple(sorted(labels))
            if not items:
                # A bare "touch" still changes something visible, like an edit would.
                new_summary = issue.summary.rstrip(" *") + " *"
                items.append(("summary", None, issue.summary, None, new_summary))
                issue.summary = new_summary
            issue.updated = max(self.now_ms(), issue.updated + 1)
            if cat.STATUSES[issue.status].category is cat.DONE:
                if issue.resolved < 0 or status is not None:
                    issue.resolved = issue.updated
            else:
                issue.resolved = -1
            issue.rev += 1
            self._record(issue, author, items)
            self._set_column(p, issue)
            self._index(p, issue)
            touched.append(issue.key)
        return touched

    def set_history(
        self,
        p: int,
        created_ms: int,
        steps: Sequence[tuple[int, str]],
        *,
        resolution_name: str | None = None,
        author: int = 0,
    ) -> str:
        """Give an issue a known past: created at ``created_ms``, then each (time, status)
        step as a status change (the resolution set on entering a Done status, cleared on
        leaving one). Its current status, resolution, ``resolutiondate`` and ``updated``
        follow from the last step; the changelog holds these changes only."""
        issue = self.issues[p]
        if issue is None:
            raise MutationError(f"no issue at position {p}")
        resolution = (
            _lookup_name(cat.RESOLUTIONS, resolution_name, "resolution") if resolution_name else 4
        )
        res = cat.RESOLUTIONS[resolution]
        self._unindex(p, issue)
        history: list[History] = []
        current, at_ms, resolved = cat.STATUS_TODO, created_ms, -1
        for at_ms_step, status_name in steps:
            if at_ms_step < at_ms:
                raise MutationError("history steps must be in time order, after 'created'")
            target = _lookup_name(cat.STATUSES, status_name, "status")
            old, new = cat.STATUSES[current], cat.STATUSES[target]
            items: list[derived.Item] = [("status", old.id, old.name, new.id, new.name)]
            if new.category is cat.DONE and old.category is not cat.DONE:
                items.append(("resolution", None, None, res.id, res.name))
                resolved = at_ms_step
            elif old.category is cat.DONE and new.category is not cat.DONE:
                items.append(("resolution", res.id, res.name, None, None))
                resolved = -1
            self.history_seq += 1
            history.append(History(self.history_seq, author, at_ms_step, tuple(items)))
            current, at_ms = target, at_ms_step
        done = cat.STATUSES[current].category is cat.DONE
        issue.created, issue.updated, issue.status = created_ms, at_ms, current
        issue.resolution = resolution if done else -1
        issue.resolved = resolved if done else -1
        issue.history = history
        issue.rev += 1
        self._set_column(p, issue)
        self._index(p, issue)
        return issue.key

    def add_comment(self, p: int, body: str, *, author: int = 0) -> AddedComment:
        """Like Jira, a comment moves the issue's ``updated`` without a changelog entry."""
        issue = self.issues[p]
        if issue is None:
            raise MutationError(f"no issue at position {p}")
        issue.updated = max(self.now_ms(), issue.updated + 1)
        issue.rev += 1
        self._set_column(p, issue)
        self.comment_seq += 1
        comment = AddedComment(self.comment_seq, issue.id, issue.key, author, body, issue.updated)
        self.comments.setdefault(issue.id, []).append(comment)
        return comment

    def rerank(self, positions: Iterable[int], to: str) -> list[str]:
        moved: list[str] = []
        for p in positions:
            issue = self.issues[p]
            if issue is None:
                continue
            if to == "top":
                self.min_rank -= RANK_STEP
                issue.rank = self.min_rank
            elif to == "bottom":
                self.max_rank += RANK_STEP
                issue.rank = self.max_rank
            else:
                raise MutationError(f"rerank 'to' must be 'top' or 'bottom', not {to!r}")
            issue.rev += 1
            moved.append(issue.key)
        return moved

    def set_archived(self, project_key: str, archived: bool) -> None:
        self._require_project(project_key).archived = archived

    def set_user_active(self, username: str, active: bool) -> None:
        self._require_user(username).active = active

    def _require_project(self, key_or_id: str) -> Project:
        project = self.find_project(key_or_id)
        if project is None:
            raise MutationError(f"no project {key_or_id!r}")
        return project

    def _require_user(self, name: str) -> User:
        user = self.find_user(name)
        if user is None:
            raise MutationError(f"no user {name!r}")
        return user

    def _user_change(
        self, old: int, new: int
    ) -> tuple[str | None, str | None, str | None, str | None]:
        def describe(idx: int) -> tuple[str | None, str | None]:
            if idx < 0:
                return None, None
            user = self.users[idx]
            return user.key, user.display_name

        return (*describe(old), *describe(new))


def _lookup_name(items: Sequence[cat.Named], name: str | None, what: str) -> int:
    """Index of the catalog entry with this name (case-insensitive) or id."""
    for n, item in enumerate(items):
        if name is not None and (item.name.lower() == name.lower() or item.id == name):
            return n
    raise MutationError(f"no {what} {name!r}")
