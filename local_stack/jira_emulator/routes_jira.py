"""Jira REST v2 read routes: serverInfo, myself, project, search, issue, user.

Stage-2 routes (agile boards and sprints, versions, components, transitions, webhooks)
plug in through :meth:`JiraApi.routes` / ``EmulatorApp.add_route`` with the same handler
signature; the data they need (boards, sprints, versions, components) is already generated.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from local_stack.jira_emulator.auth import Caller
from local_stack.jira_emulator.config import USER_SEARCH_DC10_CAP
from local_stack.jira_emulator.data import User
from local_stack.jira_emulator.fields import (
    ALL_FIELDS,
    NAVIGABLE_FIELDS,
    Selection,
    field_names,
    field_schema,
    select_fields,
)
from local_stack.jira_emulator.jql import JqlError
from local_stack.jira_emulator.state import EmulatorState
from local_stack.jira_emulator.wire import (
    BadRequest,
    Request,
    Response,
    error_collection,
    js,
    json_response,
    unknown_resource,
)

Handler = Callable[[Request, Caller], Response | Awaitable[Response]]
API = "/rest/api/2"
NOT_AUTHENTICATED = "You are not authenticated. Authentication required to perform this operation."
# `username` values that list every user instead of matching a prefix (DC behaviour).
MATCH_ALL = {".", "''", '""', "%", "_"}
EXPANDABLE = {
    "changelog",
    "names",
    "schema",
    "renderedFields",
    "operations",
    "editmeta",
    "transitions",
    "versionedRepresentations",
}


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    name: str  # the stats label, e.g. "GET /rest/api/2/issue/{issueIdOrKey}"


def route(method: str, template: str, handler: Handler) -> Route:
    regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template)
    return Route(method, re.compile(f"^{regex}$"), handler, f"{method} {template}")


def _tokens(values: Any) -> list[str]:
    if values is None:
        return []
    if isinstance(values, str):
        return [v for v in values.split(",") if v.strip()]
    if isinstance(values, list):
        out: list[str] = []
        for value in values:
            out.extend(_tokens(str(value)))
        return out
    raise BadRequest("Expected a list of strings.")


def _int(value: Any, name: str, default: int) -> int:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        raise BadRequest(f"Invalid value for '{name}'.")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise BadRequest(f"Invalid value '{value}' for parameter '{name}'.") from None


class JiraApi:
    def __init__(self, state: EmulatorState) -> None:
        self.state = state

    def routes(self) -> list[Route]:
        return [
            route("GET", f"{API}/serverInfo", self.server_info),
            route("GET", f"{API}/myself", self.myself),
            route("GET", f"{API}/project", self.projects),
            route("GET", f"{API}/project/{{projectIdOrKey}}", self.project),
            route("GET", f"{API}/search", self.search),
            route("POST", f"{API}/search", self.search),
            route("GET", f"{API}/issue/{{issueIdOrKey}}", self.issue),
            route("GET", f"{API}/status", self.statuses),
            route("GET", f"{API}/user/search", self.user_search),
            route("GET", f"{API}/user/list", self.user_list),
            route("GET", f"{API}/user", self.user),
        ]

    # ---- server -------------------------------------------------------------------------

    def server_info(self, req: Request, caller: Caller) -> Response:
        config = self.state.config
        clock = self.state.clock
        body: dict[str, Any] = {
            "baseUrl": req.base,
            "version": config.version,
            "versionNumbers": list(config.version_numbers),
            "deploymentType": "Server",  # also on Data Center
            "buildNumber": config.build_number,
            "buildDate": clock.format(clock.local_ms(2024, 11, 6)),
            "databaseBuildNumber": config.build_number,
        }
        if caller.user is not None:
            body["serverTime"] = clock.format(config.now_ms())
        body["scmInfo"] = hashlib.sha1(config.version.encode()).hexdigest()
        body["serverTitle"] = config.server_title
        return json_response(body)

    def myself(self, req: Request, caller: Caller) -> Response:
        if caller.user is None:
            return error_collection(401, NOT_AUTHENTICATED)
        body = self.state.renderer(req.base).user_resource(caller.user, full=True)
        body["timeZone"] = self.state.config.time_zone
        return json_response(body)

    # ---- projects -----------------------------------------------------------------------

    def projects(self, req: Request, caller: Caller) -> Response:
        viewer = self.state.viewer(caller)
        include_archived = req.bool_param("includeArchived", False)
        expand = frozenset(req.params("expand"))
        renderer = self.state.renderer(req.base)
        visible = [
            self.state.store.projects[p]
            for p in viewer.projects
            if include_archived or not self.state.store.projects[p].archived
        ]
        visible.sort(key=lambda p: p.name.lower())
        recent = req.param("recent")
        if recent and recent.isdigit():
            visible = visible[: int(recent)]
        return json_response([renderer.project_list_item(p, expand) for p in visible])

    def project(self, req: Request, caller: Caller) -> Response:
        key = req.path_params["projectIdOrKey"]
        viewer = self.state.viewer(caller)
        project = self.state.store.find_project(key)
        if project is None or project.idx not in viewer.projects:
            what = "id" if key.isdigit() else "key"
            return error_collection(404, f"No project could be found with {what} '{key}'.")
        return json_response(self.state.renderer(req.base).project_full(project))

    # ---- issues -------------------------------------------------------------------------

    def search(self, req: Request, caller: Caller) -> Response:
        state = self.state
        config = state.config
        if req.method == "POST":
            body = req.json_object()
            jql = str(body.get("jql") or "")
            start_at = _int(body.get("startAt"), "startAt", 0)
            requested = _int(body.get("maxResults"), "maxResults", config.default_max_results)
            fields = _tokens(body.get("fields")) if "fields" in body else None
            expand = _tokens(body.get("expand"))
            validate = body.get("validateQuery", True)
        else:
            jql = req.param("jql") or ""
            start_at = req.int_param("startAt", 0)
            requested = req.int_param("maxResults", config.default_max_results)
            fields = req.params("fields") if "fields" in req.query else None
            expand = req.params("expand")
            validate = req.param("validateQuery") or True
        validating = str(validate).lower() not in ("false", "none", "warn")
        start_at = max(0, start_at)
        if requested < 0:
            requested = config.default_max_results
        effective = min(requested, config.max_results_cap)
        entry: dict[str, Any] = {
            "method": req.method,
            "jql": jql,
            "startAt": start_at,
            "maxResults": requested,
            "effectiveMaxResults": effective,
            "user": caller.name,
            "expand": sorted(set(expand)),
            "fields": fields,  # which kinds search (issues, comments, worklogs) tells apart
        }
        state.stats.log_search(entry)
        req.after.extend(state.faults.after_search())
        if config.deep_offset_refused and start_at + effective > config.deep_offset_limit:
            entry["status"] = 500
            return error_collection(
                500,
                f"Search limit exceeded. The sum of startAt and maxResults ({start_at + effective}) "
                f"exceeds jira.search.platform.max.result.window ({config.deep_offset_limit}); "
                "narrow the query, for example by id ranges.",
            )
        viewer = state.viewer(caller)
        try:
            compiled = state.engine.compile(
                jql, viewer, state.clock, config.now_ms(), validate=validating
            )
        except JqlError as exc:
            entry["status"] = 400
            return error_collection(400, *exc.messages)
        tie_rng = state.faults.tie_rng if state.faults.config.shuffle_ties else None
        total, positions = state.engine.page(compiled, viewer, start_at, effective, tie_rng)
        selection = Selection(
            select_fields(fields, NAVIGABLE_FIELDS), frozenset(e for e in expand if e in EXPANDABLE)
        )
        renderer = state.renderer(req.base)
        issues = state.store.issues
        head = (
            f'{{"expand":"schema,names","startAt":{start_at},"maxResults":{effective},'
            f'"total":{total},"issues":['
        )
        parts = [head]
        positions, malformed = state.faults.damage_page(list(positions))
        for p in positions:
            issue = issues[p]
            if issue is None:
                continue
            if p in malformed:
                parts.append(
                    js(
                        {
                            "id": str(issue.id),
                            "key": issue.key,
                            "self": f"{req.base}{API}/issue/{issue.id}",
                        }
                    )
                )
            else:
                parts.append(
                    renderer.issue(issue, selection, changelog_limit=config.changelog_search_limit)
                )
            parts.append(",")
        if len(parts) > 1:
            parts.pop()
        parts.append("]")
        if "names" in selection.expand:
            parts.append(f',"names":{js(field_names(selection.fields))}')
        if "schema" in selection.expand:
            parts.append(f',"schema":{js(field_schema(selection.fields))}')
        parts.append("}")
        entry.update(status=200, total=total, returned=len(positions))
        return Response(200, "".join(parts).encode("utf-8"))

    def statuses(self, req: Request, caller: Caller) -> Response:
        return Response(200, self.state.renderer(req.base).statuses().encode("utf-8"))

    def issue(self, req: Request, caller: Caller) -> Response:
        key = req.path_params["issueIdOrKey"]
        if caller.user is None:
            return error_collection(
                401, "You do not have the permission to see the specified issue.", "Login Required"
            )
        viewer = self.state.viewer(caller)
        found = self.state.store.issue_by_key_or_id(key)
        if found is None or found[1].project not in viewer.projects:
            return error_collection(404, "Issue Does Not Exist")
        fields = req.params("fields") if "fields" in req.query else None
        selection = Selection(
            select_fields(fields, ALL_FIELDS),
            frozenset(e for e in req.params("expand") if e in EXPANDABLE),
        )
        return json_response(self.state.renderer(req.base).issue(found[1], selection, names=True))

    # ---- users --------------------------------------------------------------------------

    def _users_forbidden(self) -> Response | None:
        mode = self.state.config.browse_users
        if mode == "forbidden":
            return error_collection(
                403, "You do not have permission to browse users (Browse Users global permission)."
            )
        return None

    def _listable(self) -> list[User]:
        return [u for u in self.state.store.users if not u.deleted]

    def user_search(self, req: Request, caller: Caller) -> Response:
        config = self.state.config
        username = req.param("username")
        if username is None:
            return error_collection(400, "The username query parameter was not provided")
        if caller.user is None or config.browse_users == "empty":
            return json_response([])
        forbidden = self._users_forbidden()
        if forbidden:
            return forbidden
        query = username.strip().lower()
        if not query:
            return json_response([])
        include_active = req.bool_param("includeActive", True)
        include_inactive = req.bool_param("includeInactive", False)
        start_at = max(0, req.int_param("startAt", 0))
        max_results = max(0, req.int_param("maxResults", 50))

        def matches(user: User) -> bool:
            if query in MATCH_ALL:
                return True
            words = [
                user.name.lower(),
                (user.email or "").lower(),
                *user.display_name.lower().split(),
            ]
            return any(
                word.startswith(query) for word in words
            ) or user.display_name.lower().startswith(query)

        found = [
            u
            for u in self._listable()
            if ((u.active and include_active) or (not u.active and include_inactive)) and matches(u)
        ]
        found.sort(key=lambda u: (u.display_name.lower(), u.name.lower()))
        if config.user_search_capped:
            # JRASERVER-78520: only the first 100 matches are reachable, whatever the paging.
            found = found[:USER_SEARCH_DC10_CAP]
            max_results = min(max_results, USER_SEARCH_DC10_CAP)
        else:
            max_results = min(max_results, config.user_search_max)
        renderer = self.state.renderer(req.base)
        page = found[start_at : start_at + max_results]
        return json_response([renderer.user_resource(u) for u in page])

    def user_list(self, req: Request, caller: Caller) -> Response:
        config = self.state.config
        if not config.user_list_available:
            return unknown_resource(req)
        if caller.user is None or config.browse_users == "empty":
            return json_response({"values": [], "isLast": True})
        forbidden = self._users_forbidden()
        if forbidden:
            return forbidden
        max_results = req.int_param("maxResults", config.user_list_page)
        if max_results <= 0:
            max_results = config.user_list_page
        start = 0
        cursor = req.param("cursor")
        if cursor:
            try:
                start = int(
                    base64.urlsafe_b64decode(cursor.encode() + b"==").decode().removeprefix("u:")
                )
            except (binascii.Error, ValueError, UnicodeDecodeError):
                return error_collection(400, f"Invalid cursor: {cursor}")
        users = self._listable()
        page = users[start : start + max_results]
        renderer = self.state.renderer(req.base)
        body: dict[str, Any] = {"values": [renderer.user_resource(u) for u in page]}
        end = start + len(page)
        body["isLast"] = end >= len(users)
        if end < len(users):
            body["nextCursor"] = base64.urlsafe_b64encode(f"u:{end}".encode()).decode().rstrip("=")
        return json_response(body)

    def user(self, req: Request, caller: Caller) -> Response:
        username, key = req.param("username"), req.param("key")
        if username is None and key is None:
            return error_collection(
                400, "Either the 'username' or the 'key' query parameters need to be provided"
            )
        if caller.user is None:
            return error_collection(401, NOT_AUTHENTICATED)
        store = self.state.store
        if username is not None:
            user = store.user_by_name.get(username.lower())
            missing = f"The user named '{username}' does not exist"
        else:
            user = store.user_by_key.get((key or "").lower())
            missing = f"The user with the key '{key}' does not exist"
        if user is None or user.deleted:
            return error_collection(404, missing)
        return json_response(self.state.renderer(req.base).user_resource(user, full=True))
