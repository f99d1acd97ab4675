"""A small Jira Server v2 mock on the framework's ``InterceptTransport``: enough routing and
paging logic to check what the client sends and how it pages (unit/harness tests). The full
behavioural emulator lives in ``local_stack.jira_emulator``."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import httpx
from port_ocean.integration_testing import InterceptTransport

from tests.support import jira_shapes as shapes

_ID_AFTER = re.compile(r"\bid > (\d+)")
_ID_UP_TO = re.compile(r"\bid <= (\d+)")
_ID_IN = re.compile(r"\bid in \(([\d, ]+)\)")


SYSTEM_FIELDS = [
    {"id": name, "key": name, "name": label, "custom": False}
    for name, label in [
        ("summary", "Summary"),
        ("status", "Status"),
        ("issuetype", "Issue Type"),
        ("priority", "Priority"),
        ("labels", "Labels"),
        ("components", "Component/s"),
        ("created", "Created"),
        ("updated", "Updated"),
        ("resolutiondate", "Resolved"),
        ("assignee", "Assignee"),
        ("reporter", "Reporter"),
        ("project", "Project"),
        ("subtasks", "Sub-Tasks"),
        ("description", "Description"),
        ("fixVersions", "Fix Version/s"),
    ]
] + [
    {"id": "customfield_10002", "key": "customfield_10002", "name": "Story Points", "custom": True},
    {
        "id": shapes.SPRINT_FIELD,
        "key": shapes.SPRINT_FIELD,
        "name": "Sprint",
        "custom": True,
        "schema": {
            "type": "array",
            "items": "string",
            "custom": "com.pyxis.greenhopper.jira:gh-sprint",
            "customId": 10104,
        },
    },
]


@dataclass
class JiraMock:
    projects: list[dict[str, Any]] = field(default_factory=list)
    users: list[dict[str, Any]] = field(default_factory=list)
    issues: list[dict[str, Any]] = field(default_factory=list)
    version: tuple[int, int, int] = (9, 12, 15)
    has_user_list: bool = False
    search_cap: int = 1000
    user_search_cap: int = 1000
    user_list_page: int = 2000
    fields: list[dict[str, Any]] = field(default_factory=lambda: list(SYSTEM_FIELDS))
    boards: list[dict[str, Any]] = field(default_factory=list)
    sprints: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    versions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    components: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    agile_page: int = 50
    searches: list[dict[str, Any]] = field(default_factory=list)
    counts: list[dict[str, Any]] = field(default_factory=list)
    # Worklogs as /worklog/list returns them (``id``, ``issueId``, ``updated``...); the feeds
    # list them all on one page. Empty by default: the default mapping reads worklogs too.
    worklogs: list[dict[str, Any]] = field(default_factory=list)
    # Fault hooks: from the n-th page request (1-based) on, every page request answers 500
    # (retries included: an outage, not a blip); any JQL containing this text answers
    # Jira's 400; /myself answers 401.
    fail_page_request: int | None = None
    invalid_jql_marker: str | None = None
    reject_credentials: bool = False

    def transport(self) -> InterceptTransport:
        transport = InterceptTransport(strict=True)
        api = "/rest/api/2"
        transport.add_route("GET", f"{api}/myself", self._myself)
        transport.add_route("GET", f"{api}/serverInfo", self._server_info)
        transport.add_route("GET", re.compile(rf"{api}/project(\?|$)"), self._projects)
        transport.add_route(
            "GET", re.compile(rf"{api}/project/[^/]+/(versions|components)"), self._per_project
        )
        transport.add_route("GET", re.compile(r"/rest/agile/1.0/board/\d+/sprint"), self._sprints)
        transport.add_route("GET", re.compile(r"/rest/agile/1.0/board(\?|$)"), self._boards)
        transport.add_route("GET", f"{api}/user/list", self._user_list)
        transport.add_route("GET", f"{api}/user/search", self._user_search)
        transport.add_route("POST", f"{api}/search", self._search)
        transport.add_route("GET", f"{api}/field", {"json": self.fields})
        transport.add_route("GET", f"{api}/status", self._statuses)
        transport.add_route("GET", re.compile(rf"{api}/issue/[^/?]+"), self._issue)
        transport.add_route("GET", re.compile(r"/rest/agile/1.0/sprint/\d+"), self._sprint)
        transport.add_route("GET", f"{api}/worklog/updated", self._worklog_feed)
        transport.add_route("GET", f"{api}/worklog/deleted", {"json": _feed([])})
        transport.add_route("POST", f"{api}/worklog/list", self._worklog_list)
        return transport

    # -- routes -----------------------------------------------------------------------------

    def _myself(self, request: httpx.Request) -> dict[str, Any]:
        if self.reject_credentials:
            return {
                "status_code": 401,
                "json": {
                    "message": "Client must be authenticated to access this resource.",
                    "status-code": 401,
                },
            }
        return {"json": shapes.user("JIRAUSER10000", "sync-bot", "Sync Bot")}

    def _server_info(self, request: httpx.Request) -> dict[str, Any]:
        major, minor, patch = self.version
        return {
            "json": {
                "baseUrl": shapes.BASE,
                "version": f"{major}.{minor}.{patch}",
                "versionNumbers": [major, minor, patch],
                "deploymentType": "Server",
                "buildNumber": major * 1_000_000 + minor * 1000 + patch,
                "serverTitle": "Jira",
            }
        }

    def _projects(self, request: httpx.Request) -> dict[str, Any]:
        include_archived = request.url.params.get("includeArchived") == "true"
        expand = set(request.url.params.get("expand", "").split(","))
        bodies = []
        for project in self.projects:
            if project.get("archived") and not include_archived:
                continue
            body = {k: v for k, v in project.items() if k not in ("lead", "description")}
            for extra in ("lead", "description"):
                if extra in expand and extra in project:
                    body[extra] = project[extra]
            bodies.append(body)
        return {"json": bodies}

    def _per_project(self, request: httpx.Request) -> dict[str, Any]:
        _, key, what = request.url.path.rsplit("/", 2)
        table = self.versions if what == "versions" else self.components
        return {"json": table.get(key, [])}

    def _agile_page(self, request: httpx.Request, values: list[dict[str, Any]]) -> dict[str, Any]:
        start = int(request.url.params.get("startAt", 0))
        size = min(int(request.url.params.get("maxResults", 50)), self.agile_page)
        page = values[start : start + size]
        # Like Jira Software Server before JSWSERVER-21082: no "total".
        return {
            "json": {
                "maxResults": size,
                "startAt": start,
                "isLast": start + size >= len(values),
                "values": page,
            }
        }

    def _boards(self, request: httpx.Request) -> dict[str, Any]:
        board_type = request.url.params.get("type")
        chosen = [b for b in self.boards if board_type in (None, b["type"])]
        return self._agile_page(request, chosen)

    def _sprints(self, request: httpx.Request) -> dict[str, Any]:
        board_id = int(request.url.path.split("/")[-2])
        board = next(b for b in self.boards if b["id"] == board_id)
        if board["type"] != "scrum":
            return {
                "status_code": 400,
                "json": {"errorMessages": ["The board does not support sprints"], "errors": {}},
            }
        states = request.url.params.get("state", "").split(",")
        chosen = [
            s for s in self.sprints.get(board_id, []) if not states[0] or s["state"] in states
        ]
        return self._agile_page(request, chosen)

    def _user_list(self, request: httpx.Request) -> dict[str, Any]:
        if not self.has_user_list:
            return {
                "status_code": 404,
                "json": {"errorMessages": ["null for uri: /rest/api/2/user/list"], "errors": {}},
            }
        start = int(request.url.params.get("cursor", "0") or 0)
        size = min(int(request.url.params.get("maxResults", 2000)), self.user_list_page)
        values = self.users[start : start + size]
        last = start + size >= len(self.users)
        body: dict[str, Any] = {"values": values, "isLast": last}
        if not last:
            body["nextCursor"] = str(start + size)
        return {"json": body}

    def _user_search(self, request: httpx.Request) -> dict[str, Any]:
        params = request.url.params
        if "username" not in params:
            return {
                "status_code": 400,
                "json": {"errorMessages": ["The username query parameter was not provided"]},
            }
        include_inactive = params.get("includeInactive") == "true"
        matching = [u for u in self.users if u["active"] or include_inactive]
        start = int(params.get("startAt", 0))
        size = min(int(params.get("maxResults", 50)), self.user_search_cap)
        return {"json": matching[start : start + size]}

    def _search(self, request: httpx.Request) -> dict[str, Any]:
        body = json.loads(request.content)
        # maxResults=0 only counts (preflight JQL check); page requests are kept apart.
        (self.searches if body.get("maxResults") else self.counts).append(body)
        jql: str = body["jql"]
        if self.invalid_jql_marker and self.invalid_jql_marker in jql:
            return {
                "status_code": 400,
                "json": {
                    "errorMessages": [
                        f"Error in the JQL Query: The character '{self.invalid_jql_marker[0]}' "
                        "is a reserved JQL character."
                    ],
                    "errors": {},
                },
            }
        failing = (
            self.fail_page_request is not None and len(self.searches) >= self.fail_page_request
        )
        if body.get("maxResults") and failing:
            return {"status_code": 500, "json": {"errorMessages": ["Internal server error"]}}
        issues = sorted(self.issues, key=lambda i: int(i["id"]))
        if match := _ID_AFTER.search(jql):
            issues = [i for i in issues if int(i["id"]) > int(match.group(1))]
        if match := _ID_UP_TO.search(jql):
            issues = [i for i in issues if int(i["id"]) <= int(match.group(1))]
        if match := _ID_IN.search(jql):
            wanted = {int(n) for n in match.group(1).split(",")}
            issues = [i for i in issues if int(i["id"]) in wanted]
        if jql.rstrip().endswith("DESC"):
            issues.reverse()
        size = min(int(body.get("maxResults", 50)), self.search_cap)
        start = int(body.get("startAt", 0))
        expand = body.get("expand") or []
        page = [
            self._with_fields(i, body.get("fields"), expand) for i in issues[start : start + size]
        ]
        return {
            "json": {
                "expand": "schema,names",
                "startAt": start,
                "maxResults": size,
                "total": len(issues),
                "issues": page,
            }
        }

    def _issue(self, request: httpx.Request) -> dict[str, Any]:
        key = request.url.path.rsplit("/", 1)[-1]
        for issue in self.issues:
            if key in (issue["key"], issue["id"]):
                fields = request.url.params.get("fields")
                expand = request.url.params.get("expand", "").split(",")
                return {
                    "json": self._with_fields(issue, fields.split(",") if fields else None, expand)
                }
        return {
            "status_code": 404,
            "json": {"errorMessages": ["Issue Does Not Exist"], "errors": {}},
        }

    def _sprint(self, request: httpx.Request) -> dict[str, Any]:
        sprint_id = int(request.url.path.rsplit("/", 1)[-1])
        for sprints in self.sprints.values():
            for sprint in sprints:
                if sprint["id"] == sprint_id:
                    return {"json": sprint}
        return {"status_code": 404, "json": {"errorMessages": ["Sprint does not exist"]}}

    def _worklog_feed(self, request: httpx.Request) -> dict[str, Any]:
        return {"json": _feed([int(w["id"]) for w in self.worklogs])}

    def _worklog_list(self, request: httpx.Request) -> dict[str, Any]:
        wanted = {int(i) for i in json.loads(request.content).get("ids", [])}
        return {"json": [w for w in self.worklogs if int(w["id"]) in wanted]}

    def _statuses(self, request: httpx.Request) -> dict[str, Any]:
        """``/status``: the statuses the issues are in (a bare array, like Jira)."""
        found = {i["fields"]["status"]["name"]: i["fields"]["status"] for i in self.issues}
        return {"json": list(found.values())}

    @staticmethod
    def _with_fields(
        issue: dict[str, Any], fields: list[str] | None, expand: list[str] | None = None
    ) -> dict[str, Any]:
        if "changelog" in (expand or []):
            histories = issue.get("changelog", {}).get("histories", [])
            changelog = {"startAt": 0, "maxResults": len(histories), "total": len(histories)}
            issue = {**issue, "changelog": {**changelog, "histories": histories}}
        if not fields or "*all" in fields or "*navigable" in fields:
            return issue
        wanted = set(fields)
        return {**issue, "fields": {k: v for k, v in issue["fields"].items() if k in wanted}}


def _feed(ids: list[int]) -> dict[str, Any]:
    """One last page of ``/worklog/updated`` or ``/worklog/deleted``."""
    values = [{"worklogId": i, "updatedTime": 0} for i in ids]
    return {"values": values, "since": 0, "until": 0, "lastPage": True}


def sample_jira() -> JiraMock:
    """Three users (one legacy key, one inactive), two projects (one archived), a parent
    with two sub-tasks and enough issues to need several pages at a cap of 2."""
    alice = shapes.user("JIRAUSER10100", "alice", "Alice Liddell")
    bob = shapes.user("bob.legacy", "Bob.Legacy", "Bob Legacy", email=None)
    carol = shapes.user("JIRAUSER10102", "carol", "Carol Inactive", active=False)
    core = shapes.project(10000, "CORE", "Core Platform", lead=alice)
    old = shapes.project(10001, "OLD", "Old Stuff", lead=bob)
    old["archived"] = True

    parent = shapes.issue(
        10010,
        "CORE-1",
        "Build the thing",
        project_body=core,
        status="In Progress",
        category="indeterminate",
        issue_type="Story",
        priority="High",
        assignee=alice,
        reporter=bob,
        labels=["backend", "q3"],
        components=["api", "db"],
    )
    subtask_a = shapes.issue(
        10003,
        "CORE-2",
        "Part A",
        project_body=core,
        issue_type="Sub-task",
        priority=None,
        reporter=alice,
        parent=shapes.issue_ref(parent),
    )
    subtask_b = shapes.issue(
        10025,
        "CORE-3",
        "Part B",
        project_body=core,
        status="Done",
        category="done",
        issue_type="Sub-task",
        reporter=alice,
        assignee=bob,
        parent=shapes.issue_ref(parent),
        resolutiondate="2025-05-01T12:00:00.000-0700",
    )
    parent["fields"]["subtasks"] = [shapes.issue_ref(subtask_a), shapes.issue_ref(subtask_b)]
    others = [
        shapes.issue(10030 + n, f"OLD-{n}", f"Old issue {n}", project_body=old, reporter=bob)
        for n in range(1, 4)
    ]
    scrum = shapes.board(4, "CORE board", "scrum", core)
    kanban = shapes.board(5, "Support", "kanban", None)
    sprint_active = shapes.sprint(7, "Sprint 7, the big one", "active", 4)
    sprint_future = shapes.sprint(8, "Sprint 8", "future", 4)
    sprint_closed = shapes.sprint(6, "Sprint 6", "closed", 4)
    v1 = shapes.version(20001, "1.0", core, released=True)
    v2 = shapes.version(20002, "2.0", core)
    # Jira 9 writes the sprint field as Java toString text; newer servers as JSON objects.
    parent["fields"][shapes.SPRINT_FIELD] = [
        shapes.legacy_sprint_text(sprint_closed),
        shapes.legacy_sprint_text(sprint_active),
    ]
    subtask_b["fields"][shapes.SPRINT_FIELD] = [sprint_active]
    parent["fields"]["fixVersions"] = [v1, v2]
    return JiraMock(
        projects=[core, old],
        users=[alice, bob, carol],
        issues=[parent, subtask_a, subtask_b, *others],
        boards=[scrum, kanban],
        sprints={4: [sprint_closed, sprint_active, sprint_future]},
        versions={"CORE": [v1, v2], "OLD": []},
        components={"CORE": [shapes.component(30001, "api", core, lead=alice)], "OLD": []},
    )
