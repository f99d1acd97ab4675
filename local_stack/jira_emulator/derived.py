"""Bulky, read-only issue content derived from the issue id instead of being stored.

Description, comments, worklogs, the generated part of the changelog and the "extra" custom
field values are pure functions of the issue record, so they cost no memory and are the
same in every run.
"""

from __future__ import annotations

from dataclasses import dataclass

from local_stack.jira_emulator import catalog as cat
from local_stack.jira_emulator.data import Issue, User, mix

# (field, from, fromString, to, toString)
Item = tuple[str, str | None, str | None, str | None, str | None]


@dataclass(frozen=True)
class Comment:
    id: int
    author: int
    created: int
    updated: int
    body: str


@dataclass(frozen=True)
class Worklog:
    id: int
    author: int
    created: int
    started: int
    seconds: int
    comment: str


@dataclass(frozen=True)
class Change:
    id: int
    author: int
    created: int
    items: tuple[Item, ...]


def paragraph_ids(issue: Issue) -> list[int]:
    return [mix(issue.id, j, 3) % len(cat.PARAGRAPHS) for j in range(issue.n_desc)]


def description(issue: Issue) -> str | None:
    if issue.n_desc == 0:
        return None
    return "\r\n\r\n".join(cat.PARAGRAPHS[i] for i in paragraph_ids(issue))


def environment(issue: Issue) -> str | None:
    return None if issue.environment < 0 else cat.ENVIRONMENTS[issue.environment]


def comment_sentence_ids(issue: Issue, j: int) -> list[int]:
    count = 1 + mix(issue.id, j, 11) % 3
    return [mix(issue.id, j, k, 13) % len(cat.COMMENT_SENTENCES) for k in range(count)]


def _content_span(issue: Issue) -> int:
    end = issue.content_end if issue.content_end >= 0 else issue.updated
    return max(1, end - issue.created)


def comments(issue: Issue, n_users: int) -> list[Comment]:
    out: list[Comment] = []
    span = _content_span(issue)
    for j in range(issue.n_comments):
        created = issue.created + span * (j + 1) // (issue.n_comments + 1)
        edited = mix(issue.id, j, 17) % 4 == 0
        out.append(
            Comment(
                id=issue.id * 10 + j,
                author=mix(issue.id, j, 5) % n_users,
                created=created,
                updated=created + (3_600_000 if edited else 0),
                body=" ".join(cat.COMMENT_SENTENCES[i] for i in comment_sentence_ids(issue, j)),
            )
        )
    return out


def worklogs(issue: Issue, n_users: int) -> list[Worklog]:
    out: list[Worklog] = []
    span = _content_span(issue)
    for j in range(issue.n_worklogs):
        started = issue.created + span * (j + 1) // (issue.n_worklogs + 2)
        out.append(
            Worklog(
                id=issue.id * 10 + j,
                author=issue.assignee if issue.assignee >= 0 else mix(issue.id, j, 19) % n_users,
                created=started + 1_800_000,
                started=started,
                seconds=900 * (1 + mix(issue.id, j, 23) % 16),
                comment="" if j % 2 else "Investigation and fix",
            )
        )
    return out


def time_spent(issue: Issue) -> int:
    return sum(900 * (1 + mix(issue.id, j, 23) % 16) for j in range(issue.n_worklogs))


def original_estimate(issue: Issue) -> int | None:
    if issue.n_worklogs == 0 and mix(issue.id, 29) % 3:
        return None
    return 3600 * (1 + mix(issue.id, 31) % 16)


def changelog(issue: Issue, users: list[User]) -> list[Change]:
    """A plausible history ending in the issue's current state; once a mutation touched the
    issue, its materialised history (see Store.update) is authoritative."""
    if issue.history is not None:
        return [Change(e.id, e.author, e.created_ms, e.items) for e in issue.history]
    changes: list[Change] = []
    base = 100_000 + issue.id * 8
    span = max(1, issue.updated - issue.created)
    status = cat.STATUSES[issue.status]
    author = issue.assignee if issue.assignee >= 0 else issue.reporter
    if issue.assignee >= 0:
        assignee = users[issue.assignee]
        changes.append(
            Change(
                base,
                issue.reporter,
                issue.created + span // 10,
                (("assignee", None, None, assignee.key, assignee.display_name),),
            )
        )
    if status.category is not cat.NEW:
        todo, doing = cat.STATUSES[cat.STATUS_TODO], cat.STATUSES[cat.STATUS_IN_PROGRESS]
        changes.append(
            Change(
                base + 1,
                author,
                issue.created + span * 3 // 10,
                (("status", todo.id, todo.name, doing.id, doing.name),),
            )
        )
        if status is not doing:
            items: list[Item] = [("status", doing.id, doing.name, status.id, status.name)]
            if issue.resolution >= 0:
                res = cat.RESOLUTIONS[issue.resolution]
                items.append(("resolution", None, None, res.id, res.name))
            changes.append(
                Change(
                    base + 2,
                    author,
                    issue.resolved if issue.resolved >= 0 else issue.created + span * 8 // 10,
                    tuple(items),
                )
            )
    return changes


def extra(issue: Issue, salt: int, modulo: int, share: int) -> int:
    """A value index in ``range(modulo)`` for ``1/share`` of the issues, else -1."""
    if mix(issue.id, salt) % share:
        return -1
    return mix(issue.id, salt, 1) % modulo
