"""Jira Software and project-metadata routes: the field list, the agile board and sprint
API, project versions and components, and the matching truth oracle.

* ``GET /rest/api/2/field``: every field an issue can carry (system and custom), with
  Jira's ``schema``; the sprint field is ``com.pyxis.greenhopper.jira:gh-sprint``.
* ``GET /rest/agile/1.0/board`` (``startAt``, ``maxResults`` capped at 50, ``type``,
  ``projectKeyOrId``, ``name``), ``GET /board/{id}``, ``GET /board/{id}/sprint``
  (``state``). Pages are ``{maxResults, startAt, isLast, values}`` without ``total``, as
  Jira Software Server answers before JSWSERVER-21082 (``agile_total`` adds it).
* ``GET /rest/api/2/project/{keyOrId}/versions`` and ``/components``: bare arrays;
  ``GET /rest/api/2/version/{id}``, ``/component/{id}`` and ``/rest/agile/1.0/sprint/{id}``
  (404 when their project or board is not visible).
* Control: ``GET /_emulator/truth/software[?jql=&as=]`` and
  ``GET|PATCH /_emulator/software/settings``.

A board is visible when its project is browsable and not archived; its sprints go with it.
Installed by :func:`install` from ``EmulatorApp.__init__``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from local_stack.jira_emulator import catalog as cat
from local_stack.jira_emulator.auth import Caller
from local_stack.jira_emulator.control import NOT_AN_OBJECT
from local_stack.jira_emulator.data import Board, Component, Project, Sprint, Version
from local_stack.jira_emulator.fields import (
    CUSTOM,
    FIELD_ORDER,
    NON_NAVIGABLE,
    SYSTEM_NAMES,
    field_schema,
)
from local_stack.jira_emulator.render import Renderer
from local_stack.jira_emulator.state import EmulatorState
from local_stack.jira_emulator.wire import (
    Request,
    Response,
    error_collection,
    js,
    json_response,
)

if TYPE_CHECKING:
    from local_stack.jira_emulator.app import EmulatorApp
    from local_stack.jira_emulator.routes_jira import Handler

API = "/rest/api/2"
AGILE = "/rest/agile/1.0"
SPRINT_STATES = ("future", "active", "closed")
BOARD_TYPES = ("scrum", "kanban")
BOARD_NOT_FOUND = "Board does not exist or you do not have permission to see it."
NO_SPRINTS = "The board does not support sprints"
SPRINT_FIELD = next(f.id for f in cat.CUSTOM_FIELDS if f.custom.endswith(":gh-sprint"))

# JQL clause names of the system fields (empty: not searchable), as /rest/api/2/field lists.
SYSTEM_CLAUSES: dict[str, tuple[str, ...]] = {
    "issuetype": ("issuetype", "type"),
    "components": ("component",),
    "timespent": ("timespent",),
    "timeoriginalestimate": ("originalEstimate", "timeoriginalestimate"),
    "description": ("description",),
    "project": ("project",),
    "fixVersions": ("fixVersion",),
    "resolution": ("resolution",),
    "attachment": ("attachments",),
    "resolutiondate": ("resolutiondate", "resolved"),
    "workratio": ("workratio",),
    "summary": ("summary",),
    "lastViewed": ("lastViewed",),
    "watches": ("watchers",),
    "creator": ("creator",),
    "subtasks": ("subtasks",),
    "created": ("created", "createdDate"),
    "reporter": ("reporter",),
    "priority": ("priority",),
    "labels": ("labels",),
    "environment": ("environment",),
    "timeestimate": ("remainingEstimate", "timeestimate"),
    "versions": ("affectedVersion",),
    "duedate": ("due", "duedate"),
    "progress": ("progress",),
    "comment": ("comment",),
    "issuelinks": ("issueLink",),
    "votes": ("votes",),
    "assignee": ("assignee",),
    "updated": ("updated", "updatedDate"),
    "status": ("status",),
    "parent": ("parent",),
    "archiveddate": ("archiveddate",),
    "archivedby": ("archivedby",),
}
# Fields that appear on edit screens (the rest are computed or set by Jira itself).
ORDERABLE = frozenset(
    {
        "issuetype",
        "components",
        "description",
        "project",
        "fixVersions",
        "resolution",
        "timetracking",
        "attachment",
        "summary",
        "reporter",
        "priority",
        "labels",
        "environment",
        "versions",
        "duedate",
        "comment",
        "issuelinks",
        "worklog",
        "assignee",
    }
)


@dataclass
class SoftwareSettings:
    """Runtime knobs of these routes (``PATCH /_emulator/software/settings``)."""

    # Jira Software Server answers agile pages without "total" before JSWSERVER-21082.
    agile_total: bool = False
    agile_max_results: int = 50  # the server cap for boards and sprints

    def update(self, changes: dict[str, Any]) -> None:
        known: dict[str, type] = {"agile_total": bool, "agile_max_results": int}
        for name, value in changes.items():
            expected = known.get(name)
            if expected is None:
                raise ValueError(f"unknown software setting {name!r}")
            if type(value) is not expected:
                raise ValueError(f"{name} must be of type {expected.__name__}")
            if name == "agile_max_results" and isinstance(value, int) and value < 1:
                raise ValueError("agile_max_results must be at least 1")
        for name, value in changes.items():
            setattr(self, name, value)


def field_list() -> list[dict[str, Any]]:
    """``/rest/api/2/field``: every id an issue's ``fields`` may hold, plus the
    schema-less ``issuekey`` and ``thumbnail`` that real Jira lists too."""
    schemas = field_schema(FIELD_ORDER)
    out: list[dict[str, Any]] = []
    for fid in FIELD_ORDER:
        body: dict[str, Any] = {"id": fid, "key": fid}
        custom = CUSTOM.get(fid)
        if custom is not None:
            number = fid.rsplit("_", 1)[1]
            body.update(
                name=custom.name,
                custom=True,
                orderable=True,
                navigable=True,
                searchable=True,
                clauseNames=[f"cf[{number}]", custom.name],
            )
        else:
            clauses = SYSTEM_CLAUSES.get(fid, ())
            body.update(
                name=SYSTEM_NAMES[fid],
                custom=False,
                orderable=fid in ORDERABLE,
                navigable=fid not in NON_NAVIGABLE,
                searchable=bool(clauses),
                clauseNames=list(clauses),
            )
        body["schema"] = schemas[fid]
        out.append(body)
    extras: tuple[tuple[str, str, list[str]], ...] = (
        ("issuekey", "Key", ["id", "issue", "issuekey", "key"]),
        ("thumbnail", "Images", []),
    )
    for fid, name, names in extras:
        out.append(
            {
                "id": fid,
                "key": fid,
                "name": name,
                "custom": False,
                "orderable": False,
                "navigable": True,
                "searchable": bool(names),
                "clauseNames": names,
            }
        )
    return out


class SoftwareApi:
    def __init__(self, state: EmulatorState, settings: SoftwareSettings | None = None) -> None:
        self.state = state
        self.settings = settings or SoftwareSettings()
        self._fields = js(field_list())

    def routes(self) -> list[tuple[str, str, Handler]]:
        return [
            ("GET", f"{API}/field", self.fields),
            ("GET", f"{API}/project/{{projectIdOrKey}}/versions", self.versions),
            ("GET", f"{API}/project/{{projectIdOrKey}}/components", self.components),
            ("GET", f"{AGILE}/board", self.boards),
            ("GET", f"{AGILE}/board/{{boardId}}", self.board),
            ("GET", f"{AGILE}/board/{{boardId}}/sprint", self.sprints),
            ("GET", f"{AGILE}/sprint/{{sprintId}}", self.sprint),
            ("GET", f"{API}/version/{{id}}", self.version),
            ("GET", f"{API}/component/{{id}}", self.component),
        ]

    def control_routes(self) -> dict[tuple[str, str], Callable[[Request], Response]]:
        return {
            ("GET", "/truth/software"): lambda req: json_response(
                self.truth(req.param("jql") or "", req.param("as"), base=req.base)
            ),
            ("GET", "/software/settings"): lambda req: json_response(asdict(self.settings)),
            ("PATCH", "/software/settings"): self._patch_settings,
        }

    def _patch_settings(self, req: Request) -> Response:
        self.settings.update(req.json_object(NOT_AN_OBJECT))
        return json_response(asdict(self.settings))

    # ---- visibility ---------------------------------------------------------------------

    def _visible_projects(self, caller: Caller) -> frozenset[int]:
        return self.state.viewer(caller).projects

    def _project(self, key: str, caller: Caller) -> Project | None:
        project = self.state.store.find_project(key)
        if project is None or project.idx not in self._visible_projects(caller):
            return None
        return project

    def visible_boards(self, caller: Caller) -> list[Board]:
        """Boards of browsable, unarchived projects, by id."""
        visible = self._visible_projects(caller)
        projects = self.state.store.projects
        return [
            b
            for _, b in sorted(self.state.data.boards.items())
            if b.project in visible and not projects[b.project].archived
        ]

    def _board(self, req: Request, caller: Caller) -> Board | Response:
        raw = req.path_params["boardId"]
        board = self.state.data.boards.get(int(raw)) if raw.isdigit() else None
        if board is None or board not in self.visible_boards(caller):
            return error_collection(404, BOARD_NOT_FOUND)
        return board

    # ---- rendering ----------------------------------------------------------------------

    def board_object(self, board: Board, base: str) -> dict[str, Any]:
        project = self.state.store.projects[board.project]
        display = f"{project.name} ({project.key})"
        return {
            "id": board.id,
            "self": f"{base}{AGILE}/board/{board.id}",
            "name": board.name,
            "type": board.type,
            "location": {
                "projectId": project.id,
                "displayName": display,
                "projectName": project.name,
                "projectKey": project.key,
                "projectTypeKey": project.type_key,
                "avatarURI": (
                    f"/secure/projectavatar?size=small&pid={project.id}"
                    f"&avatarId={project.avatar_id}"
                ),
                "name": display,
            },
        }

    def sprint_object(self, sprint: Sprint, base: str) -> dict[str, Any]:
        fmt = self.state.clock.format_colon
        body: dict[str, Any] = {
            "id": sprint.id,
            "self": f"{base}{AGILE}/sprint/{sprint.id}",
            "state": sprint.state,
            "name": sprint.name,
        }
        for key, ms in (
            ("startDate", sprint.start_ms),
            ("endDate", sprint.end_ms),
            ("completeDate", sprint.complete_ms),
            ("activatedDate", sprint.activated_ms),
        ):
            if ms is not None:
                body[key] = fmt(ms)
        body["originBoardId"] = sprint.board
        body["goal"] = sprint.goal
        return body

    def version_object(self, version: Version, base: str) -> dict[str, Any]:
        clock = self.state.clock
        body: dict[str, Any] = {"self": f"{base}{API}/version/{version.id}", "id": str(version.id)}
        if version.description:
            body["description"] = version.description
        body["name"] = version.name
        body["archived"] = version.archived
        body["released"] = version.released
        if version.start_ms is not None:
            body["startDate"] = clock.format_date(version.start_ms)
        if version.release_ms is not None:
            body["releaseDate"] = clock.format_date(version.release_ms)
            if not version.released:
                today = clock.format_date(self.state.config.now_ms())
                body["overdue"] = body["releaseDate"] < today
        if version.start_ms is not None:
            body["userStartDate"] = clock.format_user_date(version.start_ms)
        if version.release_ms is not None:
            body["userReleaseDate"] = clock.format_user_date(version.release_ms)
        body["projectId"] = self.state.store.projects[version.project].id
        return body

    def component_object(self, component: Component, renderer: Renderer) -> dict[str, Any]:
        """As in ``/project/{key}`` (``Renderer.component_full``). The default assignee is
        the project default, which is "unassigned": Jira then omits assignee and
        realAssignee (null users are not serialised)."""
        return renderer.component_full(component)

    def _sorted_versions(self, project: Project) -> list[Version]:
        versions = self.state.data.versions
        return [versions[v] for v in project.versions]

    def _sorted_components(self, project: Project) -> list[Component]:
        components = [self.state.data.components[c] for c in project.components]
        return sorted(components, key=lambda c: (c.name.lower(), c.id))

    # ---- /rest/api/2 --------------------------------------------------------------------

    def fields(self, req: Request, caller: Caller) -> Response:
        return json_response(self._fields)

    def _missing_project(self, key: str) -> Response:
        what = "id" if key.isdigit() else "key"
        return error_collection(404, f"No project could be found with {what} '{key}'.")

    def versions(self, req: Request, caller: Caller) -> Response:
        key = req.path_params["projectIdOrKey"]
        project = self._project(key, caller)
        if project is None:
            return self._missing_project(key)
        return json_response(
            [self.version_object(v, req.base) for v in self._sorted_versions(project)]
        )

    def components(self, req: Request, caller: Caller) -> Response:
        key = req.path_params["projectIdOrKey"]
        project = self._project(key, caller)
        if project is None:
            return self._missing_project(key)
        renderer = self.state.renderer(req.base)
        return json_response(
            [self.component_object(c, renderer) for c in self._sorted_components(project)]
        )

    # ---- /rest/agile/1.0 ----------------------------------------------------------------

    def _paging(self, req: Request) -> tuple[int, int]:
        cap = self.settings.agile_max_results
        start_at = max(0, req.int_param("startAt", 0))
        requested = req.int_param("maxResults", cap)
        return start_at, cap if requested <= 0 else min(requested, cap)

    def _page(self, values: list[dict[str, Any]], start_at: int, max_results: int) -> Response:
        chosen = values[start_at : start_at + max_results]
        body: dict[str, Any] = {"maxResults": max_results, "startAt": start_at}
        if self.settings.agile_total:
            body["total"] = len(values)
        body["isLast"] = start_at + len(chosen) >= len(values)
        body["values"] = chosen
        return json_response(body)

    def boards(self, req: Request, caller: Caller) -> Response:
        start_at, max_results = self._paging(req)
        types = {t.strip().lower() for t in req.params("type")}
        unknown = sorted(types - set(BOARD_TYPES))
        if unknown:
            return error_collection(
                400, f"Invalid board type '{unknown[0]}'. Valid types are: scrum, kanban."
            )
        boards = self.visible_boards(caller)
        if types:
            boards = [b for b in boards if b.type in types]
        wanted = req.param("projectKeyOrId")
        if wanted:
            project = self._project(wanted, caller)
            if project is None:
                what = "id" if wanted.isdigit() else "key"
                return error_collection(400, f"No project could be found with {what} '{wanted}'.")
            boards = [b for b in boards if b.project == project.idx]
        name = (req.param("name") or "").strip().lower()
        if name:
            boards = [b for b in boards if name in b.name.lower()]
        values = [self.board_object(b, req.base) for b in boards]
        return self._page(values, start_at, max_results)

    def board(self, req: Request, caller: Caller) -> Response:
        found = self._board(req, caller)
        if isinstance(found, Response):
            return found
        return json_response(self.board_object(found, req.base))

    def sprints(self, req: Request, caller: Caller) -> Response:
        found = self._board(req, caller)
        if isinstance(found, Response):
            return found
        if found.type != "scrum":
            return error_collection(400, NO_SPRINTS)
        start_at, max_results = self._paging(req)
        states = {s.strip().lower() for s in req.params("state")}
        unknown = sorted(states - set(SPRINT_STATES))
        if unknown:
            return error_collection(
                400,
                f"The sprint state '{unknown[0]}' is invalid. Valid states are: "
                f"{', '.join(SPRINT_STATES)}.",
            )
        sprints = self.board_sprints(found)
        if states:
            sprints = [s for s in sprints if s.state in states]
        values = [self.sprint_object(s, req.base) for s in sprints]
        return self._page(values, start_at, max_results)

    def sprint(self, req: Request, caller: Caller) -> Response:
        """``GET /sprint/{id}``: 404 unless its board is visible (Jira Software's rule)."""
        raw = req.path_params["sprintId"]
        sprint = self.state.data.sprints.get(int(raw)) if raw.isdigit() else None
        boards = {b.id for b in self.visible_boards(caller)}
        if sprint is None or sprint.board not in boards:
            return error_collection(
                404, f"Sprint with id {raw} does not exist or you do not have permission to see it."
            )
        return json_response(self.sprint_object(sprint, req.base))

    def version(self, req: Request, caller: Caller) -> Response:
        raw = req.path_params["id"]
        version = self.state.data.versions.get(int(raw)) if raw.isdigit() else None
        if version is None or version.project not in self._visible_projects(caller):
            return error_collection(404, f"Could not find version for id '{raw}'")
        return json_response(self.version_object(version, req.base))

    def component(self, req: Request, caller: Caller) -> Response:
        raw = req.path_params["id"]
        component = self.state.data.components.get(int(raw)) if raw.isdigit() else None
        if component is None or component.project not in self._visible_projects(caller):
            return error_collection(404, f"The component with id {raw} does not exist.")
        return json_response(self.component_object(component, self.state.renderer(req.base)))

    def board_sprints(self, board: Board) -> list[Sprint]:
        """A board's sprints in Jira's order: by sequence (closed, active, then future)."""
        found = [s for s in self.state.data.sprints.values() if s.board == board.id]
        return sorted(found, key=lambda s: (s.sequence, s.id))

    # ---- truth --------------------------------------------------------------------------

    def truth(
        self, jql: str = "", as_user: str | None = None, *, base: str = "http://jira.test"
    ) -> dict[str, Any]:
        """What a perfect client sees now: visible boards, their sprints, the versions and
        components of every listed (unarchived, browsable) project, and per issue matching
        ``jql`` (as in ``/_emulator/truth``) its sprint, version and component ids. Objects
        are the endpoints' bodies without ``self``."""
        state = self.state
        caller = state.caller_for(as_user)
        renderer = state.renderer(base)
        boards = self.visible_boards(caller)
        visible = self._visible_projects(caller)
        projects = [p for p in state.store.projects if p.idx in visible and not p.archived]

        def bare(body: dict[str, Any]) -> dict[str, Any]:
            return {k: v for k, v in body.items() if k != "self"}

        issues: dict[str, dict[str, Any]] = {}
        for key in state.truth(jql, as_user)["keys"]:
            found = state.store.issue_by_key_or_id(key)
            if found is None:
                continue
            issue = found[1]
            issues[key] = {
                "id": str(issue.id),
                "project": state.store.projects[issue.project].key,
                "sprints": list(issue.sprints),
                "fixVersions": [str(v) for v in issue.fix_versions],
                "versions": [str(v) for v in issue.versions],
                "components": [str(c) for c in issue.components],
            }
        return {
            "dataVersion": state.store.version,
            "jql": jql,
            "sprintField": SPRINT_FIELD,
            "sprintFieldForm": "legacy" if state.config.legacy_sprint_field else "json",
            "agileTotal": self.settings.agile_total,
            "boards": [bare(self.board_object(b, base)) for b in boards],
            "sprints": [
                bare(self.sprint_object(s, base))
                for b in boards
                if b.type == "scrum"
                for s in self.board_sprints(b)
            ],
            "versions": {
                p.key: [bare(self.version_object(v, base)) for v in self._sorted_versions(p)]
                for p in projects
            },
            "components": {
                p.key: [
                    bare(self.component_object(c, renderer)) for c in self._sorted_components(p)
                ]
                for p in projects
            },
            "issues": issues,
        }


def install(app: EmulatorApp, settings: SoftwareSettings | None = None) -> SoftwareApi:
    """Register the routes on ``app`` (Jira pipeline) and its control API."""
    api = SoftwareApi(app.state, settings)
    for method, template, handler in api.routes():
        app.add_route(method, template, handler)
    app.control.routes.update(api.control_routes())
    return api


__all__ = ["SPRINT_FIELD", "SoftwareApi", "SoftwareSettings", "field_list", "install"]
