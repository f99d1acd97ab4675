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


# One issue in LONG_HISTORY_SHARE has a long history (a busy epic, a bot that re-ranks):
# more histories than search results embed, so clients must re-read it.
LONG_HISTORY_SHARE = 97
LONG_HISTORY_EDITS = (110, 180)


def _status_path(issue: Issue) -> tuple[list[int], bool]:
    """The statuses an issue went through after its first one (To Do), ending in its current
    status, and whether it was resolved (so reopened) before its final resolution."""
    final = issue.status
    category = cat.STATUSES[final].category
    rounds = 1 if mix(issue.id, 43) % 4 == 0 else 0  # review sent back to work
    work = [cat.STATUS_IN_PROGRESS]
    for _ in range(rounds):
        work += [cat.STATUS_IN_REVIEW, cat.STATUS_IN_PROGRESS]
    if final == cat.STATUS_REOPENED:
        return [*work, cat.STATUS_RESOLVED, cat.STATUS_REOPENED], True
    if category is cat.NEW:
        return [], False
    if category is cat.IN_PROGRESS:
        return (work if final == cat.STATUS_IN_PROGRESS else [*work, final]), False
    reopened = mix(issue.id, 47) % 6 == 0
    path = [*work, cat.STATUS_IN_REVIEW, final]
    if reopened:
        path += [cat.STATUS_REOPENED, cat.STATUS_IN_PROGRESS, final]
    return path, reopened


def changelog(issue: Issue, users: list[User]) -> list[Change]:
    """A plausible history ending in the issue's current state: the assignment, the walk
    through the workflow (review rounds, a reopening now and then, the resolution set and
    cleared with the status), and rank edits in between; once a mutation touched the issue,
    its materialised history (see Store.update) is authoritative."""
    if issue.history is not None:
        return [Change(e.id, e.author, e.created_ms, e.items) for e in issue.history]
    timed: list[tuple[int, int, tuple[Item, ...]]] = []  # (at, author, items)
    span = max(1, issue.updated - issue.created)
    author = issue.assignee if issue.assignee >= 0 else issue.reporter
    if issue.assignee >= 0:
        assignee = users[issue.assignee]
        timed.append(
            (
                issue.created + span // 10,
                issue.reporter,
                (("assignee", None, None, assignee.key, assignee.display_name),),
            )
        )
    path, _ = _status_path(issue)
    if path:
        end = issue.resolved if issue.resolved >= 0 else issue.created + span * 8 // 10
        begin = max(issue.created + 1, min(issue.created + span * 2 // 10, end - len(path)))
        res = cat.RESOLUTIONS[issue.resolution] if issue.resolution >= 0 else cat.RESOLUTIONS[0]
        previous = cat.STATUS_TODO
        for step, target in enumerate(path):
            at = begin + (end - begin) * step // (len(path) - 1) if len(path) > 1 else end
            old, new = cat.STATUSES[previous], cat.STATUSES[target]
            items: list[Item] = [("status", old.id, old.name, new.id, new.name)]
            if new.category is cat.DONE and old.category is not cat.DONE:
                items.append(("resolution", None, None, res.id, res.name))
            elif old.category is cat.DONE and new.category is not cat.DONE:
                items.append(("resolution", res.id, res.name, None, None))
            timed.append((at, author, tuple(items)))
            previous = target
    edits = mix(issue.id, 41) % 5
    if mix(issue.id, 45) % LONG_HISTORY_SHARE == 0:
        low, high = LONG_HISTORY_EDITS
        edits = low + mix(issue.id, 46) % (high - low)
    for j in range(edits):
        at = issue.created + 1 + (span - 2) * (j + 1) // (edits + 1)
        direction = "higher" if mix(issue.id, j, 49) % 2 else "lower"
        timed.append(
            (
                at,
                mix(issue.id, j, 5) % len(users),
                (("Rank", None, None, None, f"Ranked {direction}"),),
            )
        )
    timed.sort(key=lambda entry: entry[0])
    base = 100_000_000 + issue.id * 200
    return [Change(base + n, who, at, items) for n, (at, who, items) in enumerate(timed)]


def extra(issue: Issue, salt: int, modulo: int, share: int) -> int:
    """A value index in ``range(modulo)`` for ``1/share`` of the issues, else -1."""
    if mix(issue.id, salt) % share:
        return -1
    return mix(issue.id, salt, 1) % modulo
