"""Deterministic dataset generator: compact records, no JSON.

Records hold only what queries and mutations need; bulky, read-only parts of an issue
(description paragraphs, comments, worklogs, changelog) are derived on demand from the issue
id with :func:`mix`, so 100k issues stay in memory cheaply and build in about a second.
"""

from __future__ import annotations

import bisect
import hashlib
import random
import time
import unicodedata
from dataclasses import dataclass, field

from local_stack.jira_emulator import catalog as cat

DAY_MS = 86_400_000
WEEK_MS = 7 * DAY_MS
# Lexorank: "0|" + 6 base-36 digits + ":"; Jira gives the first issue of a board "hzzzzz".
RANK_FIRST = 18 * 36**5 - 1
RANK_STEP = 64


def mix(*values: int) -> int:
    """A stable 32-bit hash (Python's hash() is salted per process): FNV-style folding of
    the values, then one avalanche finaliser."""
    h = 0x811C9DC5
    for value in values:
        h = ((h ^ value) * 0x01000193) & 0xFFFFFFFF
    h ^= h >> 15
    h = (h * 0x2C1B3C6D) & 0xFFFFFFFF
    h ^= h >> 12
    h = (h * 0x297A2D39) & 0xFFFFFFFF
    return h ^ (h >> 15)


@dataclass(frozen=True)
class DatasetSpec:
    """What to generate. Equal specs (with an explicit ``anchor``) give identical data."""

    projects: int = 5
    users: int = 50
    issues: int = 500
    seed: int = 1
    # Epoch seconds the data is generated relative to ("now" for created/updated dates);
    # None means the wall clock at generation, truncated to the second.
    anchor: float | None = None
    history_days: int = 730
    # Share of issues created in the last 7 days, and share of older issues touched then.
    recent_share: float = 0.1
    recently_updated_share: float = 0.12
    archived_projects: int | None = None
    # Usernames that must exist (the emulator's login accounts), created first.
    accounts: tuple[str, ...] = ("admin",)
    first_issue_id: int = 10000
    # Ids in two clusters (a bulk import, a project moved in from another instance): after
    # ``id_gap_at`` of the issues, the next id jumps by ``id_gap`` (0: no gap).
    id_gap: int = 0
    id_gap_at: float = 0.5


@dataclass(slots=True)
class User:
    idx: int
    key: str
    name: str
    display_name: str
    email: str | None
    active: bool
    deleted: bool
    time_zone: str
    locale: str
    # "g<md5>" for a gravatar, or "a<avatarId>" for a Jira-hosted avatar.
    avatar: str


@dataclass(slots=True)
class Component:
    id: int
    project: int
    name: str
    description: str
    lead: int


@dataclass(slots=True)
class Version:
    id: int
    project: int
    name: str
    description: str
    released: bool
    archived: bool
    start_ms: int | None
    release_ms: int | None


@dataclass(slots=True)
class Sprint:
    id: int
    board: int
    name: str
    state: str  # "closed" | "active" | "future" (agile API case; the legacy field upper-cases)
    start_ms: int | None
    end_ms: int | None
    complete_ms: int | None
    activated_ms: int | None
    goal: str
    sequence: int


@dataclass(slots=True)
class Board:
    id: int
    name: str
    type: str
    project: int


@dataclass(slots=True)
class Project:
    idx: int
    id: int
    key: str
    name: str
    type_key: str
    lead: int
    description: str
    archived: bool
    url: str | None
    avatar_id: int
    category: str | None
    created_ms: int
    components: list[int] = field(default_factory=list)
    versions: list[int] = field(default_factory=list)
    boards: list[int] = field(default_factory=list)
    next_num: int = 1


@dataclass(slots=True)
class History:
    """A changelog entry added by a mutation (generated ones are derived, not stored)."""

    id: int
    author: int
    created_ms: int
    items: tuple[tuple[str, str | None, str | None, str | None, str | None], ...]


@dataclass(slots=True)
class Issue:
    id: int
    key: str
    project: int
    num: int
    type: int
    status: int
    priority: int
    resolution: int  # -1: unresolved
    summary: str
    created: int  # epoch ms
    updated: int
    resolved: int  # -1: not resolved
    due: int  # -1: no due date
    assignee: int  # -1: unassigned
    reporter: int
    creator: int
    labels: tuple[str, ...]
    components: tuple[int, ...]
    fix_versions: tuple[int, ...]
    versions: tuple[int, ...]
    sprints: tuple[int, ...]
    parent: int  # issue id, 0: none
    epic: int  # issue id of the epic (Epic Link), 0: none
    rank: int
    story_points: float | None
    n_desc: int
    n_comments: int
    n_worklogs: int
    environment: int  # index into catalog.ENVIRONMENTS, -1: none
    rev: int = 0
    history: list[History] | None = None
    # ``updated`` as generated: generated comments and worklogs are spread up to it, so a
    # later change of the issue does not move them (-1: same as ``updated``).
    content_end: int = -1


@dataclass
class Dataset:
    spec: DatasetSpec
    anchor_ms: int
    users: list[User]
    projects: list[Project]
    components: dict[int, Component]
    versions: dict[int, Version]
    boards: dict[int, Board]
    sprints: dict[int, Sprint]
    issues: list[Issue]


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in folded if c.isalnum())


def _users(spec: DatasetSpec, rng: random.Random) -> list[User]:
    users: list[User] = []
    taken: set[str] = set()
    key_number = 10000

    def next_key() -> str:
        nonlocal key_number
        key = f"JIRAUSER{key_number}"
        # Jira allocates user keys in steps of 1 with gaps after cluster restarts.
        key_number += 100 if rng.random() < 0.05 else 1
        return key

    for idx, name in enumerate(spec.accounts):
        taken.add(name.lower())
        users.append(
            User(
                idx,
                next_key(),
                name,
                name.replace(".", " ").title() if name != "admin" else "Jira Administrator",
                f"{name}@example.com",
                True,
                False,
                "Etc/UTC",
                "en_US",
                "a10341",
            )
        )
    for idx in range(len(users), max(spec.users, len(users))):
        first, last = rng.choice(cat.FIRST_NAMES), rng.choice(cat.LAST_NAMES)
        legacy = rng.random() < 0.25
        if legacy:
            # Pre-8.x accounts: key is the lower-cased name, and names were often mixed case.
            base = rng.choice(
                (
                    _ascii(first)[0].upper() + _ascii(last),
                    (_ascii(first)[0] + _ascii(last)[:2]).upper() + str(rng.randrange(10)),
                    _ascii(first).lower() + _ascii(last)[0].lower(),
                )
            )
        else:
            base = rng.choice(
                (
                    f"{_ascii(first)}.{_ascii(last)}".lower(),
                    (_ascii(first)[0] + _ascii(last)).lower(),
                    _ascii(first).lower(),
                )
            )
        name, suffix = base, 1
        while name.lower() in taken:
            suffix += 1
            name = f"{base}{suffix}"
        taken.add(name.lower())
        email = None if rng.random() < 0.05 else f"{name.lower()}@example.com"
        deleted = rng.random() < 0.01
        active = not deleted and rng.random() >= 0.08
        if email is not None and rng.random() < 0.5:
            avatar = "g" + hashlib.md5(email.encode()).hexdigest()
        else:
            avatar = f"a{10341 + rng.randrange(12)}"
        users.append(
            User(
                idx,
                name.lower() if legacy else next_key(),
                name,
                f"{first} {last}",
                email,
                active,
                deleted,
                rng.choice(cat.TIME_ZONES),
                rng.choice(cat.LOCALES),
                avatar,
            )
        )
    return users


def _created_offsets(spec: DatasetSpec, rng: random.Random) -> list[int]:
    """Milliseconds before the anchor, oldest first: a long tail plus a busy last week."""
    horizon = spec.history_days * DAY_MS
    offsets: list[int] = []
    for _ in range(spec.issues):
        draw = rng.random()
        if draw < spec.recent_share:
            offsets.append(rng.randrange(1000, WEEK_MS))
        elif draw < spec.recent_share + 0.15:
            offsets.append(rng.randrange(WEEK_MS, 60 * DAY_MS))
        else:
            offsets.append(rng.randrange(60 * DAY_MS, horizon))
    offsets.sort(reverse=True)
    return offsets


@dataclass
class _ProjectPlan:
    team: list[int]
    epics: list[int] = field(default_factory=list)
    parents: list[int] = field(default_factory=list)
    sprints: list[int] = field(default_factory=list)
    sprint_starts: list[int] = field(default_factory=list)


def generate(spec: DatasetSpec) -> Dataset:
    rng = random.Random(spec.seed)
    anchor_s = spec.anchor if spec.anchor is not None else float(int(time.time()))
    anchor = int(anchor_s * 1000)
    users = _users(spec, rng)
    active_users = [u.idx for u in users if u.active] or [0]
    n_projects = max(1, spec.projects)
    n_archived = (
        spec.archived_projects
        if spec.archived_projects is not None
        else (max(1, n_projects // 8) if n_projects >= 4 else 0)
    )
    projects: list[Project] = []
    components: dict[int, Component] = {}
    versions: dict[int, Version] = {}
    boards: dict[int, Board] = {}
    sprints: dict[int, Sprint] = {}
    plans: list[_ProjectPlan] = []
    project_id = 10000
    horizon = spec.history_days * DAY_MS
    for idx in range(n_projects):
        if idx < len(cat.PROJECT_WORDS):
            key, name = cat.PROJECT_WORDS[idx]
        else:
            key, name = f"P{idx}", f"Project {idx}"
        archived = idx >= n_projects - n_archived
        type_key = (
            "software"
            if idx % 7 not in (3, 6)
            else ("business" if idx % 7 == 3 else "service_desk")
        )
        project = Project(
            idx=idx,
            id=project_id,
            key=key,
            name=name,
            type_key=type_key,
            lead=rng.choice(active_users),
            description=f"{name}: everything the {name.lower()} team builds and runs."
            if idx % 5
            else "",
            archived=archived,
            url=f"https://wiki.example.com/{key.lower()}" if idx % 3 == 0 else None,
            avatar_id=10324 + idx % 10,
            category=("Engineering" if type_key == "software" else "Business") if idx % 2 else None,
            created_ms=anchor - horizon - DAY_MS * (n_projects - idx),
        )
        project_id += 100 if rng.random() < 0.3 else 1
        projects.append(project)
        team = rng.sample(active_users, min(len(active_users), rng.randint(8, 30)))
        plan = _ProjectPlan(team=team)
        plans.append(plan)
        for c in rng.sample(range(len(cat.COMPONENT_NAMES)), rng.randint(2, 6)):
            cid = 10000 + len(components)
            components[cid] = Component(
                cid,
                idx,
                cat.COMPONENT_NAMES[c],
                f"{cat.COMPONENT_NAMES[c]} of {name}",
                rng.choice(team) if rng.random() < 0.5 else -1,
            )
            project.components.append(cid)
        # Quarterly releases over the history, plus two upcoming ones.
        quarters = spec.history_days // 90
        for q in range(quarters + 2):
            vid = 10000 + len(versions)
            release = anchor - horizon + (q + 1) * 90 * DAY_MS
            released = release < anchor
            versions[vid] = Version(
                vid,
                idx,
                f"{1 + q // 4}.{q % 4}",
                f"Release {1 + q // 4}.{q % 4}" if q % 2 else "",
                released,
                released and release < anchor - 365 * DAY_MS and q % 2 == 0,
                release - 90 * DAY_MS,
                release,
            )
            project.versions.append(vid)
        board_id = len(boards) + 1
        scrum = type_key == "software" and idx % 4 != 2
        boards[board_id] = Board(board_id, f"{key} board", "scrum" if scrum else "kanban", idx)
        project.boards.append(board_id)
        if scrum:
            start = anchor - horizon
            sequence = 0
            while start < anchor + 2 * WEEK_MS * 2:
                sequence += 1
                sid = len(sprints) + 1
                end = start + 2 * WEEK_MS
                state = "closed" if end <= anchor else ("active" if start <= anchor else "future")
                sprints[sid] = Sprint(
                    sid,
                    board_id,
                    # Every 5th name has a comma: the legacy toString leaves it unescaped.
                    f"{key} Sprint {sequence}" + (", hardening" if sequence % 5 == 0 else ""),
                    state,
                    start if state != "future" else None,
                    end if state != "future" else None,
                    end + 3_600_000 if state == "closed" else None,
                    start if state != "future" else None,
                    "" if sequence % 3 else f"Ship {key.lower()} features, fix bugs, and more",
                    sequence,
                )
                plan.sprints.append(sid)
                plan.sprint_starts.append(start)
                start = end
    issues = _issues(spec, rng, anchor, users, projects, plans, versions)
    return Dataset(spec, anchor, users, projects, components, versions, boards, sprints, issues)


def _issues(
    spec: DatasetSpec,
    rng: random.Random,
    anchor: int,
    users: list[User],
    projects: list[Project],
    plans: list[_ProjectPlan],
    versions: dict[int, Version],
) -> list[Issue]:
    weights = [1.0 / (i + 1) ** 0.8 for i in range(len(projects))]
    for i, project in enumerate(projects):
        if project.archived:
            weights[i] *= 0.3
    project_choices = rng.choices(range(len(projects)), weights=weights, k=spec.issues)
    type_weights = (3, 35, 22, 25, 5, 7, 3)
    type_choices = rng.choices(range(len(cat.ISSUE_TYPES)), weights=type_weights, k=spec.issues)
    priority_choices = rng.choices(range(5), weights=(4, 15, 55, 20, 6), k=spec.issues)
    issues: list[Issue] = []
    # Summaries and label sets repeat across issues: share one object per distinct value.
    shared_summaries: dict[str, str] = {}
    shared_labels: dict[tuple[str, ...], tuple[str, ...]] = {}
    issue_id = spec.first_issue_id
    rank = RANK_FIRST
    all_users = len(users)
    for n, offset in enumerate(_created_offsets(spec, rng)):
        p = project_choices[n]
        project, plan = projects[p], plans[p]
        created = anchor - offset
        type_ = type_choices[n]
        parent = 0
        if cat.ISSUE_TYPES[type_].subtask:
            if plan.parents:
                parent = issues[rng.choice(plan.parents[-60:])].id
            else:
                type_ = cat.TYPE_TASK
        # Status follows age: old issues are mostly done, new ones mostly open.
        age = offset
        done_p = 0.85 if age > 90 * DAY_MS else (0.5 if age > WEEK_MS else 0.15)
        draw = rng.random()
        if draw < done_p:
            status = rng.choice(
                (cat.STATUS_DONE, cat.STATUS_DONE, cat.STATUS_CLOSED, cat.STATUS_RESOLVED)
            )
        elif draw < done_p + (1 - done_p) * 0.4:
            status = rng.choice(
                (cat.STATUS_IN_PROGRESS, cat.STATUS_IN_PROGRESS, cat.STATUS_IN_REVIEW)
            )
        else:
            status = rng.choice(
                (cat.STATUS_TODO, cat.STATUS_TODO, cat.STATUS_OPEN, cat.STATUS_REOPENED)
            )
        done = cat.STATUSES[status].category is cat.DONE
        if age <= WEEK_MS:
            updated = created + rng.randrange(0, max(1, offset))
        elif rng.random() < spec.recently_updated_share:
            updated = anchor - rng.randrange(1000, WEEK_MS)
        else:
            updated = created + int(rng.expovariate(1 / (10 * DAY_MS)))
            if updated >= anchor - 1000:
                # Spread over the issue's life, not clamped to one second before "now": a
                # clamp put ~3% of the recent issues into the last second before generation.
                updated = created + rng.randrange(0, max(1, anchor - 1000 - created))
        updated = max(updated, created)
        resolved = -1
        resolution = -1
        if done:
            resolved = updated - rng.randrange(0, max(1, min(updated - created, 2 * DAY_MS)))
            resolution = rng.choices(range(5), weights=(50, 8, 7, 5, 30))[0]
        assignee = -1
        if rng.random() >= (0.25 if status < cat.STATUS_IN_PROGRESS else 0.04):
            assignee = rng.choice(plan.team)
        reporter = rng.choice(plan.team) if rng.random() < 0.8 else rng.randrange(all_users)
        labels: tuple[str, ...] = ()
        if rng.random() < 0.55:
            labels = tuple(sorted(set(rng.sample(cat.LABELS, rng.randint(1, 3)))))
        comps: tuple[int, ...] = ()
        if rng.random() < 0.6:
            comps = tuple(
                sorted(
                    rng.sample(project.components, min(len(project.components), rng.randint(1, 2)))
                )
            )
        fix_versions: tuple[int, ...] = ()
        affects: tuple[int, ...] = ()
        when = resolved if done else anchor
        upcoming = [v for v in project.versions if (versions[v].release_ms or anchor + 1) >= when]
        if upcoming and ((done and rng.random() < 0.6) or (not done and rng.random() < 0.3)):
            fix_versions = (upcoming[0],)
        if type_ == cat.TYPE_BUG and rng.random() < 0.5:
            past = [
                v
                for v in project.versions
                if versions[v].released and (versions[v].release_ms or 0) < created
            ]
            if past:
                affects = (past[-1],)
        issue_sprints: tuple[int, ...] = ()
        if plan.sprints and type_ != cat.TYPE_EPIC and not cat.ISSUE_TYPES[type_].subtask:
            moment = resolved if done else (updated if status >= cat.STATUS_IN_PROGRESS else -1)
            if moment > 0 or rng.random() < 0.3:
                target = moment if moment > 0 else anchor + WEEK_MS * 2
                at = max(0, bisect.bisect_right(plan.sprint_starts, target) - 1)
                # Some issues were carried over from the previous sprint.
                first = at - 1 if at > 0 and rng.random() < 0.2 else at
                issue_sprints = tuple(plan.sprints[first : at + 1])
        epic = 0
        if (
            type_ in (cat.TYPE_STORY, cat.TYPE_TASK, cat.TYPE_BUG)
            and plan.epics
            and rng.random() < 0.4
        ):
            epic = issues[rng.choice(plan.epics[-20:])].id
        story_points = None
        if type_ == cat.TYPE_STORY and rng.random() < 0.7:
            story_points = float(rng.choice((1, 2, 3, 5, 8, 13)))
        summary = (
            f"{rng.choice(cat.SUMMARY_VERBS)} {rng.choice(cat.SUMMARY_OBJECTS)}"
            f"{rng.choice(cat.SUMMARY_TAILS)}"
        )
        if type_ == cat.TYPE_EPIC:
            summary = f"Epic: {rng.choice(cat.SUMMARY_OBJECTS)} overhaul"
        summary = shared_summaries.setdefault(summary, summary)
        labels = shared_labels.setdefault(labels, labels)
        key = f"{project.key}-{project.next_num}"
        issue = Issue(
            id=issue_id,
            key=key,
            project=p,
            num=project.next_num,
            type=type_,
            status=status,
            priority=priority_choices[n],
            resolution=resolution,
            summary=summary,
            created=created,
            updated=updated,
            resolved=resolved,
            due=(created + rng.randrange(7, 60) * DAY_MS) // DAY_MS * DAY_MS
            if not done and rng.random() < 0.2
            else -1,
            assignee=assignee,
            reporter=reporter,
            creator=reporter,
            labels=labels,
            components=comps,
            fix_versions=fix_versions,
            versions=affects,
            sprints=issue_sprints,
            parent=parent,
            epic=epic,
            rank=rank,
            story_points=story_points,
            n_desc=rng.choice((0, 1, 2, 2, 3, 3, 4)),
            n_comments=rng.choice((0, 0, 1, 1, 2, 2, 3, 4)),
            n_worklogs=rng.choice((0, 0, 0, 1, 2)),
            environment=rng.randrange(len(cat.ENVIRONMENTS))
            if type_ == cat.TYPE_BUG and rng.random() < 0.4
            else -1,
        )
        project.next_num += 1
        rank += RANK_STEP
        position = len(issues)
        issues.append(issue)
        if type_ == cat.TYPE_EPIC:
            plan.epics.append(position)
        elif not cat.ISSUE_TYPES[type_].subtask:
            plan.parents.append(position)
        # Deleted issues leave gaps in the id sequence.
        issue_id += 1 if rng.random() >= 0.03 else rng.randint(2, 8)
        if spec.id_gap and n + 1 == int(spec.issues * spec.id_gap_at):
            issue_id += spec.id_gap
    return issues
