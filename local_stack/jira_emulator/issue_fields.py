"""Per-field JSON producers for issues: system fields, time tracking, comments, worklogs and
the ~30 custom fields (Rank, Sprint, Epic Link, Story Points, dev summary ...)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING

from local_stack.jira_emulator import catalog as cat
from local_stack.jira_emulator import derived
from local_stack.jira_emulator.data import Issue, mix
from local_stack.jira_emulator.wire import js

if TYPE_CHECKING:
    from local_stack.jira_emulator.render import Renderer

NULL = "null"
EMBEDDED_WORKLOGS = 20


def comment_json(
    self: Renderer, issue: Issue, c: derived.Comment, *, rendered: bool = False
) -> str:
    """One comment as Jira writes it, in an issue's ``comment`` field or a comment page."""
    fmt = self.clock.format
    author = self.user_ref(c.author)
    head = f'{{"self":"{self.api}/issue/{issue.id}/comment/{c.id}","id":"{c.id}"'
    if c.id in self.store.activity.corrupt_comments:
        return head + ',"author":null,"body":null}'
    html = f',"renderedBody":{js("<p>" + c.body + "</p>")}' if rendered else ""
    return (
        f'{head},"author":{author},"body":{self.string(c.body)}{html},"updateAuthor":{author},'
        f'"created":"{fmt(c.created)}","updated":"{fmt(c.updated)}"}}'
    )


def worklog_json(self: Renderer, issue: Issue, w: derived.Worklog) -> str:
    """One worklog as Jira writes it (issue field, per-issue list, ``/worklog/list``)."""
    fmt = self.clock.format
    author = self.user_ref(w.author)
    head = f'{{"self":"{self.api}/issue/{issue.id}/worklog/{w.id}"'
    tail = f'"id":"{w.id}","issueId":"{issue.id}"}}'
    if w.id in self.store.activity.corrupt_worklogs:
        return f'{head},"author":{author},"started":"yesterday",{tail}'
    return (
        f'{head},"author":{author},"updateAuthor":{author},"comment":{self.string(w.comment)},'
        f'"created":"{fmt(w.created)}","updated":"{fmt(w.created)}",'
        f'"started":"{fmt(w.started)}","timeSpent":"{_duration(w.seconds)}",'
        f'"timeSpentSeconds":{w.seconds},{tail}'
    )


def field_renderers(self: Renderer) -> dict[str, Callable[[Issue], str]]:
    """One JSON-text producer per field id, closing over the renderer's caches."""
    fmt = self.clock.format
    api = self.api
    store = self.store
    n_users = len(store.users)

    def date(ms: int) -> str:
        return NULL if ms < 0 else f'"{fmt(ms)}"'

    def number(value: int | float | None) -> str:
        return NULL if value is None else str(value)

    tracking: dict[int, tuple[int, int | None]] = {}

    def spent_and_estimate(issue: Issue) -> tuple[int, int | None]:
        # Several fields derive from the same worklogs: compute them once per issue.
        key = issue.id * 8 + issue.n_worklogs
        cached = tracking.get(key)
        if cached is None:
            if len(tracking) > 200_000:
                tracking.clear()
            cached = (derived.time_spent(issue), derived.original_estimate(issue))
            tracking[key] = cached
        return cached

    def remaining(issue: Issue) -> int | None:
        done, estimate = spent_and_estimate(issue)
        if estimate is None:
            return None
        if cat.STATUSES[issue.status].category is cat.DONE:
            return 0
        return max(0, estimate - done)

    def spent(issue: Issue) -> int | None:
        return spent_and_estimate(issue)[0] or None

    def estimate(issue: Issue) -> int | None:
        return spent_and_estimate(issue)[1]

    def progress(issue: Issue) -> str:
        done = spent_and_estimate(issue)[0]
        left = remaining(issue) or 0
        total = done + left
        if total == 0:
            return '{"progress":0,"total":0}'
        return f'{{"progress":{done},"total":{total},"percent":{done * 100 // total}}}'

    def timetracking(issue: Issue) -> str:
        done, original = spent_and_estimate(issue)
        left = remaining(issue) or 0
        parts = []
        if original is not None:
            parts.append(
                f'"originalEstimate":"{_duration(original)}","remainingEstimate":"{_duration(left)}"'
            )
        if done:
            parts.append(f'"timeSpent":"{_duration(done)}"')
        if original is not None:
            parts.append(f'"originalEstimateSeconds":{original},"remainingEstimateSeconds":{left}')
        if done:
            parts.append(f'"timeSpentSeconds":{done}')
        return "{" + ",".join(parts) + "}"

    def workratio(issue: Issue) -> str:
        done, original = spent_and_estimate(issue)
        return "-1" if not original else str(done * 100 // original)

    def comment(issue: Issue) -> str:
        # Jira embeds the first comments only; ``total`` says how many there are.
        every = store.activity.comments_of(issue)
        shown = every[: self.config.embedded_comment_limit]
        items = [comment_json(self, issue, c) for c in shown]
        return (
            f'{{"comments":[{",".join(items)}],"maxResults":{len(shown)},'
            f'"total":{len(every)},"startAt":0}}'
        )

    def worklog(issue: Issue) -> str:
        # Jira embeds at most 20 worklogs; the rest are read from /issue/{key}/worklog.
        every = store.activity.worklogs_of(issue)
        items = [worklog_json(self, issue, w) for w in every[:EMBEDDED_WORKLOGS]]
        return (
            f'{{"startAt":0,"maxResults":{EMBEDDED_WORKLOGS},"total":{len(every)},'
            f'"worklogs":[{",".join(items)}]}}'
        )

    def subtasks(issue: Issue) -> str:
        refs = []
        for p in store.subtask_positions(issue):
            child = store.issues[p]
            if child is not None:
                refs.append(self.issue_ref(child))
        return f"[{','.join(refs)}]"

    def by_id(issue_id: int) -> Issue | None:
        p = store.pos_by_id.get(issue_id)
        return None if p is None else store.issues[p]

    def parent(issue: Issue) -> str:
        found = by_id(issue.parent)
        return NULL if found is None else self.issue_ref(found)

    def epic_link(issue: Issue) -> str:
        found = by_id(issue.epic) if issue.epic else None
        return NULL if found is None else js(found.key)

    def option_json(oid: int, value: str) -> str:
        return (
            f'{{"self":"{api}/customFieldOption/{oid}","value":{js(value)},'
            f'"id":"{oid}","disabled":false}}'
        )

    def option(
        values: tuple[str, ...], salt: int, share: int, base_id: int
    ) -> Callable[[Issue], str]:
        def render(issue: Issue) -> str:
            n = derived.extra(issue, salt, len(values), share)
            return NULL if n < 0 else option_json(base_id + n, values[n])

        return render

    def text_value(salt: int, share: int, choices: tuple[str, ...]) -> Callable[[Issue], str]:
        def render(issue: Issue) -> str:
            n = derived.extra(issue, salt, len(choices), share)
            return NULL if n < 0 else js(choices[n])

        return render

    dev_templates = {
        (prs, merged): _dev_summary_segments(prs, merged)
        for prs in range(3)
        for merged in (False, True)
    }

    def dev_summary(issue: Issue) -> str:
        # The JSON-escaped template is split at the object hashes, which need no escaping.
        prs = mix(issue.id, 5) % 3 if issue.status >= cat.STATUS_IN_PROGRESS else 0
        merged = cat.STATUSES[issue.status].category is cat.DONE
        segments = dev_templates[(prs, merged)]
        out = [segments[0]]
        for k in range(1, len(segments)):
            out.append(f"{mix(issue.id, k, 99):x}")
            out.append(segments[k])
        return "".join(out)

    def sprint(issue: Issue) -> str:
        if not issue.sprints:
            return NULL
        return f"[{','.join(self.sprint_value(s) for s in issue.sprints)}]"

    def epic_status(issue: Issue) -> str:
        if issue.type != cat.TYPE_EPIC:
            return NULL
        category = cat.STATUSES[issue.status].category
        value, oid = {"new": ("To Do", 10000), "indeterminate": ("In Progress", 10001)}.get(
            category.key, ("Done", 10002)
        )
        return option_json(oid, value)

    def epic_name(issue: Issue) -> str:
        return js(issue.summary.removeprefix("Epic: ")) if issue.type == cat.TYPE_EPIC else NULL

    def epic_colour(issue: Issue) -> str:
        return f'"ghx-label-{1 + mix(issue.id, 51) % 9}"' if issue.type == cat.TYPE_EPIC else NULL

    def dated(salt: int, share: int, offset_days: int) -> Callable[[Issue], str]:
        def render(issue: Issue) -> str:
            if derived.extra(issue, salt, 2, share) < 0:
                return NULL
            return f'"{self.clock.format_date(issue.created + offset_days * 86_400_000)}"'

        return render

    def reviewer(issue: Issue) -> str:
        n = derived.extra(issue, 61, n_users, 4)
        return NULL if n < 0 else self.user_ref(n)

    def approvers(issue: Issue) -> str:
        n = derived.extra(issue, 63, n_users, 10)
        if n < 0:
            return NULL
        return f"[{self.user_ref(n)},{self.user_ref((n + 1) % n_users)}]"

    def platforms(issue: Issue) -> str:
        n = derived.extra(issue, 65, len(cat.PLATFORMS), 5)
        if n < 0:
            return NULL
        chosen = sorted({n, (n + 2) % len(cat.PLATFORMS)})
        return f"[{','.join(option_json(10300 + k, cat.PLATFORMS[k]) for k in chosen)}]"

    def branch(issue: Issue) -> str:
        if issue.status not in (cat.STATUS_IN_PROGRESS, cat.STATUS_IN_REVIEW):
            return NULL
        slug = "-".join(issue.summary.lower().split()[:4])
        return js(f"feature/{issue.key}-{slug}")

    def bugs_only(render: Callable[[Issue], str]) -> Callable[[Issue], str]:
        return lambda issue: render(issue) if issue.type == cat.TYPE_BUG else NULL

    return {
        "issuetype": lambda i: self._types[i.type],
        "components": lambda i: self.components(i.components),
        "timespent": lambda i: number(spent(i)),
        "timeoriginalestimate": lambda i: number(estimate(i)),
        "description": lambda i: NULL if i.n_desc == 0 else js(derived.description(i)),
        "project": lambda i: self.project_ref(i.project),
        "fixVersions": lambda i: self.versions(i.fix_versions),
        "aggregatetimespent": lambda i: number(spent(i)),
        "resolution": lambda i: NULL if i.resolution < 0 else self._resolutions[i.resolution],
        "timetracking": timetracking,
        "attachment": lambda i: "[]",
        "aggregatetimeestimate": lambda i: number(remaining(i)),
        "resolutiondate": lambda i: date(i.resolved),
        "workratio": workratio,
        "summary": lambda i: self.string(i.summary),
        "lastViewed": lambda i: NULL,
        "watches": lambda i: (
            f'{{"self":"{api}/issue/{i.key}/watchers","watchCount":{1 + mix(i.id, 41) % 5},'
            '"isWatching":false}'
        ),
        "creator": lambda i: self.user_ref(i.creator),
        "subtasks": subtasks,
        "created": lambda i: date(i.created),
        "reporter": lambda i: self.user_ref(i.reporter),
        "aggregateprogress": progress,
        "priority": lambda i: self._priorities[i.priority],
        "labels": lambda i: self.labels(i.labels),
        "environment": lambda i: NULL if i.environment < 0 else js(derived.environment(i)),
        "timeestimate": lambda i: number(remaining(i)),
        "aggregatetimeoriginalestimate": lambda i: number(estimate(i)),
        "versions": lambda i: self.versions(i.versions),
        "duedate": lambda i: NULL if i.due < 0 else f'"{self.clock.format_date(i.due)}"',
        "progress": progress,
        "comment": comment,
        "issuelinks": lambda i: "[]",
        "votes": lambda i: (
            f'{{"self":"{api}/issue/{i.key}/votes","votes":{mix(i.id, 43) % 4 // 3},'
            '"hasVoted":false}'
        ),
        "worklog": worklog,
        "assignee": lambda i: self.user_ref(i.assignee),
        "updated": lambda i: date(i.updated),
        "status": lambda i: self._status[i.status],
        "parent": parent,
        "archiveddate": lambda i: NULL,
        "archivedby": lambda i: NULL,
        "customfield_10000": dev_summary,
        "customfield_10100": lambda i: f'"0|{_base36(i.rank)}:"',
        "customfield_10101": sprint,
        "customfield_10102": epic_link,
        "customfield_10103": epic_status,
        "customfield_10104": epic_name,
        "customfield_10105": epic_colour,
        "customfield_10106": lambda i: number(i.story_points),
        "customfield_10107": option(("Impediment",), 53, 20, 10019),
        "customfield_10108": option(cat.TEAMS, 55, 2, 10100),
        "customfield_10109": dated(57, 4, 0),
        "customfield_10110": dated(57, 4, 14),
        "customfield_10111": lambda i: NULL if (n := derived.extra(i, 59, 100, 5)) < 0 else str(n),
        "customfield_10112": bugs_only(option(cat.SEVERITIES, 67, 1, 10200)),
        "customfield_10113": text_value(
            69, 6, ("Müller GmbH", "ACME Corp", "Globex", "Initech", "Umbrella")
        ),
        "customfield_10114": lambda i: (
            js(cat.PARAGRAPHS[3]) if i.type == cat.TYPE_STORY and mix(i.id, 71) % 3 == 0 else NULL
        ),
        "customfield_10115": lambda i: (
            js(f"Fixed: {i.summary}") if i.resolution >= 0 and mix(i.id, 73) % 5 == 0 else NULL
        ),
        "customfield_10116": lambda i: (
            NULL if mix(i.id, 75) % 4 else f'"EXT-{mix(i.id, 76) % 90000 + 10000}"'
        ),
        "customfield_10117": approvers,
        "customfield_10118": reviewer,
        "customfield_10119": platforms,
        "customfield_10120": lambda i: NULL,
        "customfield_10121": bugs_only(
            lambda i: NULL if i.resolution < 0 or mix(i.id, 79) % 3 else js(cat.PARAGRAPHS[7])
        ),
        "customfield_10122": branch,
        "customfield_10123": lambda i: NULL,
        "customfield_10124": bugs_only(option(("Yes", "No"), 81, 2, 10400)),
        "customfield_10125": lambda i: number(i.story_points if mix(i.id, 83) % 2 else None),
        "customfield_10126": lambda i: (
            NULL if mix(i.id, 85) % 3 else f'"CC-{1000 + mix(i.id, 86) % 9000}"'
        ),
        "customfield_10127": bugs_only(lambda i: number(mix(i.id, 87) % 40)),
        "customfield_10128": lambda i: NULL,
        "customfield_10129": lambda i: NULL,
    }


def _duration(seconds: int) -> str:
    """Jira's pretty duration with 8h days and 5d weeks: ``1w 2d 3h 15m``."""
    parts = []
    for unit, size in (("w", 144000), ("d", 28800), ("h", 3600), ("m", 60)):
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return " ".join(parts) or "0m"


def _dev_summary_segments(prs: int, merged: bool) -> list[str]:
    """The dev-status plugin's Java toString (as in the fixtures, sections in their order),
    JSON-escaped once and split where the per-issue object hashes go. ``prs`` pull requests,
    open or merged; two builds (one failed while open) and three commits per pull request."""
    bean = "com.atlassian.jira.plugin.devstatus"
    state = "MERGED" if merged else "OPEN"
    opened, done = (0, prs) if merged else (prs, 0)
    builds, failed = 2 * prs, 0 if merged else min(prs, 1)
    commits, branches = 3 * prs, 0 if merged else prs
    item = f"{bean}.rest.SummaryItemBean@\0[byInstanceType={{}},overall="
    never = "lastUpdated=<null>,lastUpdatedTimestamp=<null>"
    raw = (
        f"{{summaryBean={bean}.rest.SummaryBean@\0[summary={{pullrequest={item}"
        f"PullRequestOverallBean{{stateCount={prs}, state='{state}', "
        f"details=PullRequestOverallDetails{{openCount={opened}, mergedCount={done}, "
        f"declinedCount=0}}}}], build={item}{bean}.summary.beans.BuildOverallBean@\0["
        f"failedBuildCount={failed},successfulBuildCount={builds - failed},unknownBuildCount=0,"
        f"count={builds},{never}]], review={item}{bean}.summary.beans.ReviewsOverallBean@\0["
        f"dueDate=<null>,overDue=false,state=<null>,stateCount=0,count=0,{never}]], "
        f"deployment-environment={item}{bean}.summary.beans.DeploymentOverallBean@\0["
        f"showProjects=false,successfulCount=0,topEnvironments=[],count=0,{never}]], "
        f"repository={item}{bean}.summary.beans.CommitOverallBean@\0[count={commits},{never}]], "
        f"branch={item}{bean}.summary.beans.BranchOverallBean@\0[count={branches},{never}]]}},"
        "configErrors=[],errors=[]], devSummaryJson="
    )
    summary = {
        "pullrequest": {
            "overall": {
                "count": prs,
                "lastUpdated": None,
                "stateCount": prs,
                "state": state,
                "details": {
                    "openCount": opened,
                    "mergedCount": done,
                    "declinedCount": 0,
                    "total": prs,
                },
                "open": not merged,
            },
            "byInstanceType": {},
        },
        "build": {
            "overall": {
                "count": builds,
                "lastUpdated": None,
                "failedBuildCount": failed,
                "successfulBuildCount": builds - failed,
                "unknownBuildCount": 0,
            },
            "byInstanceType": {},
        },
        "review": {
            "overall": {
                "count": 0,
                "lastUpdated": None,
                "stateCount": 0,
                "state": None,
                "dueDate": None,
                "overDue": False,
                "completed": False,
            },
            "byInstanceType": {},
        },
        "deployment-environment": {
            "overall": {
                "count": 0,
                "lastUpdated": None,
                "topEnvironments": [],
                "showProjects": False,
                "successfulCount": 0,
            },
            "byInstanceType": {},
        },
        "repository": {"overall": {"count": commits, "lastUpdated": None}, "byInstanceType": {}},
        "branch": {"overall": {"count": branches, "lastUpdated": None}, "byInstanceType": {}},
    }
    cached = {"cachedValue": {"errors": [], "configErrors": [], "summary": summary}}
    # isStale closes the devSummaryJson object, the last brace the whole value.
    raw += json.dumps(cached, separators=(",", ":"))[:-1] + ',"isStale":false}}'

    return js(raw).split("\\u0000")


_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def _base36(value: int, width: int = 6) -> str:
    out = []
    value = max(0, value)
    while value:
        value, r = divmod(value, 36)
        out.append(_DIGITS[r])
    return "".join(reversed(out)).rjust(width, "0")
