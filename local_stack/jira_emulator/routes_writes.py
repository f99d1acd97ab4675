"""Jira REST v2 write routes: create an issue, comment on it, list and perform transitions.

* ``POST /rest/api/2/issue``: 201 ``{"id","key","self"}``; validation in ``issue_create.py``
  (unknown field: ``"Field 'x' cannot be set. It is not on the appropriate screen, or
  unknown."``; unknown project/type/priority/assignee: 400 field errors).
* ``POST /rest/api/2/issue/{key}/comment``: 201 with the comment; 400 for an empty body,
  404 for an issue that does not exist or cannot be browsed.
* ``GET /rest/api/2/issue/{key}/transitions``: the transitions of ``workflow.py`` offered
  in the issue's current status, each with its target status.
* ``POST /rest/api/2/issue/{key}/transitions`` ``{"transition":{"id"}}``: 204; 400 for an
  unknown id or one not offered now. ``fields`` may only carry ``resolution`` (the
  workflow sets it anyway); ``update`` is ignored.
* ``GET /rest/api/2/issue/createmeta`` (before 9.0) and, since 8.4,
  ``GET /rest/api/2/issue/createmeta/{projectIdOrKey}/issuetypes[/{issueTypeId}]``: the
  create screen's fields (``create_meta.py``).
* ``PUT /rest/api/2/issue/{key}/assignee`` ``{"name"}``: 204; ``{"name": null}``
  unassigns; 400 ``{"errors": {"assignee": ...}}`` for an unknown or inactive user.
* Control: ``GET|PATCH /_emulator/writes/settings`` (``denied_permissions``,
  ``required_fields``: field ids a field configuration makes required),
  ``GET /_emulator/truth/created?key=KEY`` (the fields a create request sent) and
  ``GET /_emulator/truth/comments?key=KEY`` (comments added through the API).

Every change is a mutation op applied through ``EmulatorState.mutate``, so searches,
``/_emulator/truth`` and the data version see it like any other mutation.

Missing permissions (``denied_permissions``) are answered as Jira does: ``CREATE_ISSUES``
403 with a field error on ``project``; ``ADD_COMMENTS`` 403; ``TRANSITION_ISSUES`` an
empty transition list, and a POST gets the 400 "It seems that you have tried to perform a
workflow operation ..." (Atlassian's TestWorkflowTransitionPermission func test).
Installed by :func:`install` from ``EmulatorApp.__init__``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from local_stack.jira_emulator import catalog as cat
from local_stack.jira_emulator import create_meta as meta
from local_stack.jira_emulator import workflow
from local_stack.jira_emulator.auth import Caller
from local_stack.jira_emulator.data import Issue, Project
from local_stack.jira_emulator.issue_create import (
    CREATE_SCREEN,
    Rejection,
    assignee_error,
    not_settable,
    plan_create,
)
from local_stack.jira_emulator.routes_jira import API, NOT_AUTHENTICATED, Handler, route
from local_stack.jira_emulator.state import EmulatorState
from local_stack.jira_emulator.store import MutationError
from local_stack.jira_emulator.wire import (
    BadRequest,
    Request,
    Response,
    error_collection,
    json_response,
    unknown_resource,
)

if TYPE_CHECKING:
    from local_stack.jira_emulator.app import EmulatorApp

PERMISSIONS = ("CREATE_ISSUES", "ADD_COMMENTS", "TRANSITION_ISSUES", "ASSIGN_ISSUES")
NO_ASSIGN_PERMISSION = "You do not have permission to assign issues."
NO_COMMENT_PERMISSION = "You do not have the permission to comment on this issue."
MAX_COMMENT = 32_767  # jira.text.field.character.limit
ISSUE = f"{API}/issue/{{issueIdOrKey}}"


@dataclass
class WriteSettings:
    """Runtime knobs of these routes (``PATCH /_emulator/writes/settings``)."""

    denied_permissions: list[str] = field(default_factory=list)
    required_fields: list[str] = field(default_factory=list)

    def update(self, changes: dict[str, Any]) -> None:
        for name, value in changes.items():
            if name == "required_fields":
                if not isinstance(value, list) or not all(v in CREATE_SCREEN for v in value):
                    raise ValueError("required_fields must be a list of create screen field ids")
                continue
            if name != "denied_permissions":
                raise ValueError(f"unknown writes setting {name!r}")
            if not isinstance(value, list) or not all(v in PERMISSIONS for v in value):
                raise ValueError(f"denied_permissions must be a list of {PERMISSIONS}")
        for name, value in changes.items():
            setattr(self, name, list(value))

    def denies(self, permission: str) -> bool:
        return permission in self.denied_permissions


class WriteApi:
    def __init__(self, state: EmulatorState, settings: WriteSettings | None = None) -> None:
        self.state = state
        self.settings = settings or WriteSettings()
        # The fields of each create request as received, by key: the model drops some
        # (description), and tests check what the client sent.
        self.created_fields: dict[str, dict[str, Any]] = {}

    def routes(self) -> list[tuple[str, str, Handler]]:
        return [
            ("POST", f"{API}/issue", self.create_issue),
            ("POST", f"{ISSUE}/comment", self.add_comment),
            ("GET", f"{ISSUE}/transitions", self.transitions),
            ("POST", f"{ISSUE}/transitions", self.transition),
            ("PUT", f"{ISSUE}/assignee", self.assign),
        ]

    def create_meta_routes(self) -> list[tuple[str, str, Handler]]:
        """Matched before ``/issue/{issueIdOrKey}``, as Jira's own resource is."""
        return [
            ("GET", f"{API}/issue/createmeta", self.legacy_create_meta),
            ("GET", f"{API}/issue/createmeta/{{projectIdOrKey}}/issuetypes", self.meta_types),
            (
                "GET",
                f"{API}/issue/createmeta/{{projectIdOrKey}}/issuetypes/{{issueTypeId}}",
                self.meta_fields,
            ),
        ]

    def control_routes(self) -> dict[tuple[str, str], Callable[[Request], Response]]:
        return {
            ("GET", "/writes/settings"): lambda req: json_response(asdict(self.settings)),
            ("PATCH", "/writes/settings"): self._patch_settings,
            ("GET", "/truth/comments"): self._comments_truth,
            ("GET", "/truth/created"): self._created_truth,
        }

    # ---- routes -------------------------------------------------------------------------

    def create_issue(self, req: Request, caller: Caller) -> Response:
        if caller.user is None:
            return error_collection(401, NOT_AUTHENTICATED)
        visible = self.state.viewer(caller).projects
        plan = plan_create(
            req.json_object(),
            self.state.store,
            visible,
            self.settings.denied_permissions,
            self.settings.required_fields,
        )
        if isinstance(plan, Rejection):
            return error_collection(plan.status, *plan.messages, errors=plan.errors)
        results = self._mutate([plan])
        created = results[0]["created"][0]
        self.created_fields[created["key"]] = req.json_object()["fields"]
        body = {
            "id": created["id"],
            "key": created["key"],
            "self": f"{req.base}{API}/issue/{created['id']}",
        }
        return json_response(body, 201)

    def add_comment(self, req: Request, caller: Caller) -> Response:
        found = self._issue(req, caller)
        if isinstance(found, Response):
            return found
        if self.settings.denies("ADD_COMMENTS"):
            return error_collection(403, NO_COMMENT_PERMISSION)
        text = req.json_object().get("body")
        if not isinstance(text, str) or not text.strip():
            return error_collection(400, errors={"comment": "Comment body can not be empty!"})
        if len(text) > MAX_COMMENT:
            limit = f"{MAX_COMMENT:,}"
            message = (
                f"The entered text is too long. It exceeds the allowed limit of {limit} characters."
            )
            return error_collection(400, errors={"comment": message})
        self._mutate([{"op": "comment", "keys": [found.key], "body": text}])
        comment = self.state.store.comments[found.id][-1]
        renderer = self.state.renderer(req.base)
        author = json.loads(renderer.user_ref(comment.author))
        when = self.state.clock.format(comment.created_ms)
        body = {
            "self": f"{req.base}{API}/issue/{found.id}/comment/{comment.id}",
            "id": str(comment.id),
            "author": author,
            "body": comment.body,
            "updateAuthor": author,
            "created": when,
            "updated": when,
        }
        return json_response(body, 201)

    def transitions(self, req: Request, caller: Caller) -> Response:
        found = self._issue(req, caller)
        if isinstance(found, Response):
            return found
        offered = (
            [] if self.settings.denies("TRANSITION_ISSUES") else workflow.available(found.status)
        )
        api = f"{req.base}{API}"
        return json_response(
            {
                "expand": "transitions",
                "transitions": [
                    {
                        "id": t.id,
                        "name": t.name,
                        "to": _status_object(api, req.base, cat.STATUSES[t.to]),
                        "hasScreen": False,
                        "isGlobal": True,
                        "isInitial": False,
                        "isConditional": False,
                    }
                    for t in offered
                ],
            }
        )

    def transition(self, req: Request, caller: Caller) -> Response:
        found = self._issue(req, caller)
        if isinstance(found, Response):
            return found
        body = req.json_object()
        requested = body.get("transition")
        transition_id = requested.get("id") if isinstance(requested, dict) else None
        if transition_id is None:
            return error_collection(400, "Missing 'transition' identifier")
        fields = body.get("fields") or {}
        if not isinstance(fields, dict):
            raise BadRequest("data was not an object")
        extra = {name: not_settable(name) for name in fields if name != "resolution"}
        if extra:
            return error_collection(400, errors=extra)
        chosen = workflow.by_id(str(transition_id))
        if chosen is None:
            return error_collection(
                400, f"Transition id '{transition_id}' is not valid for this issue."
            )
        offered = workflow.available(found.status)
        if self.settings.denies("TRANSITION_ISSUES") or chosen not in offered:
            return error_collection(
                400,
                f"It seems that you have tried to perform a workflow operation ({chosen.name}) "
                f"that is not valid for the current state of this issue ({found.key}). The "
                "likely cause is that somebody has changed the issue recently, please look at "
                "the issue history for details.",
            )
        target = cat.STATUSES[chosen.to]
        self._mutate([{"op": "transition", "keys": [found.key], "status": target.id}])
        return Response(204, b"")

    def assign(self, req: Request, caller: Caller) -> Response:
        found = self._issue(req, caller)
        if isinstance(found, Response):
            return found
        if self.settings.denies("ASSIGN_ISSUES"):
            return error_collection(403, NO_ASSIGN_PERMISSION)
        body = req.json_object()
        username = body.get("name", body.get("key", False))
        if username is False:
            return error_collection(400, errors={"assignee": "data was not an object"})
        if username is not None and username != "-1":
            error = assignee_error(str(username), self.state.store)
            if error:
                return error_collection(400, errors={"assignee": error})
        else:
            username = None
        self._mutate([{"op": "update", "keys": [found.key], "assignee": username}])
        return Response(204, b"")

    # ---- create metadata ----------------------------------------------------------------

    def _meta_project(self, req: Request, caller: Caller) -> Project | Response:
        if caller.user is None:
            return error_collection(401, NOT_AUTHENTICATED)
        if self.state.config.version_numbers[:2] < (8, 4):
            return unknown_resource(req)
        wanted = req.path_params["projectIdOrKey"]
        project = self.state.store.find_project(wanted)
        if (
            project is None
            or project.archived
            or project.idx not in self.state.viewer(caller).projects
        ):
            return error_collection(404, f"No project could be found with key '{wanted}'.")
        return project

    def _page(self, req: Request, items: list[Any]) -> Response:
        try:
            start = max(0, int(req.param("startAt") or 0))
            size = min(meta.MAX_PAGE, max(1, int(req.param("maxResults") or meta.DEFAULT_PAGE)))
        except ValueError:
            return error_collection(400, "startAt and maxResults must be numbers")
        return json_response(meta.page(items, start, size))

    def meta_types(self, req: Request, caller: Caller) -> Response:
        project = self._meta_project(req, caller)
        if isinstance(project, Response):
            return project
        if self.settings.denies("CREATE_ISSUES"):
            return self._page(req, [])
        return self._page(req, self.state.renderer(req.base).issuetype_objects())

    def meta_fields(self, req: Request, caller: Caller) -> Response:
        project = self._meta_project(req, caller)
        if isinstance(project, Response):
            return project
        wanted = req.path_params["issueTypeId"]
        issue_type = next((t for t in cat.ISSUE_TYPES if t.id == wanted), None)
        if issue_type is None or self.settings.denies("CREATE_ISSUES"):
            return error_collection(404, f"Issue type with id '{wanted}' does not exist.")
        fields = meta.fields_of(
            project,
            issue_type,
            self.state.renderer(req.base),
            self.state.store,
            self.settings.required_fields,
        )
        values = [
            {**{k: v for k, v in f.items() if k != "key"}, "fieldId": f["key"]} for f in fields
        ]
        return self._page(req, values)

    def legacy_create_meta(self, req: Request, caller: Caller) -> Response:
        if caller.user is None:
            return error_collection(401, NOT_AUTHENTICATED)
        if self.state.config.version_numbers[0] >= 9:
            # Removed in 9.0: the path is read as an issue key.
            return error_collection(404, "Issue Does Not Exist")
        visible = self.state.viewer(caller).projects
        wanted = req.params("projectKeys") + req.params("projectIds")
        projects = [
            p
            for p in self.state.store.projects
            if p.idx in visible
            and not p.archived
            and (not wanted or p.key in wanted or str(p.id) in wanted)
        ]
        if self.settings.denies("CREATE_ISSUES"):
            projects = []
        types = req.params("issuetypeIds") + req.params("issuetypeNames")
        expand = "projects.issuetypes.fields" in req.params("expand")
        renderer = self.state.renderer(req.base)
        return json_response(
            meta.legacy_projects(
                projects, types, expand, renderer, self.state.store, self.settings.required_fields
            )
        )

    # ---- helpers ------------------------------------------------------------------------

    def _issue(self, req: Request, caller: Caller) -> Issue | Response:
        if caller.user is None:
            return error_collection(401, NOT_AUTHENTICATED)
        found = self.state.store.issue_by_key_or_id(req.path_params["issueIdOrKey"])
        if found is None or found[1].project not in self.state.viewer(caller).projects:
            return error_collection(404, "Issue Does Not Exist")
        return found[1]

    def _mutate(self, ops: list[dict[str, Any]]) -> list[dict[str, Any]]:
        try:
            results: list[dict[str, Any]] = self.state.mutate(ops)["results"]
        except MutationError as exc:  # validated above: a bug in the emulator, not input
            raise BadRequest(str(exc)) from exc
        return results

    def _patch_settings(self, req: Request) -> Response:
        self.settings.update(req.json_object())
        return json_response(asdict(self.settings))

    def _created_truth(self, req: Request) -> Response:
        key = req.param("key") or ""
        if key not in self.created_fields:
            raise BadRequest(f"no issue {key!r} was created through the API")
        return json_response({"key": key, "fields": self.created_fields[key]})

    def _comments_truth(self, req: Request) -> Response:
        found = self.state.store.issue_by_key_or_id(req.param("key") or "")
        if found is None:
            raise BadRequest(f"no issue {req.param('key')!r}")
        comments = self.state.store.comments.get(found[1].id, [])
        return json_response(
            {
                "key": found[1].key,
                "comments": [
                    {
                        "id": str(c.id),
                        "body": c.body,
                        "author": self.state.store.users[c.author].name,
                    }
                    for c in comments
                ],
            }
        )


def _status_object(api: str, base: str, status: cat.Status) -> dict[str, Any]:
    category = status.category
    return {
        "self": f"{api}/status/{status.id}",
        "description": status.description,
        "iconUrl": base + status.icon,
        "name": status.name,
        "id": status.id,
        "statusCategory": {
            "self": f"{api}/statuscategory/{category.id}",
            "id": category.id,
            "key": category.key,
            "colorName": category.color,
            "name": category.name,
        },
    }


def install(app: EmulatorApp, settings: WriteSettings | None = None) -> WriteApi:
    """Register the routes on ``app`` (Jira pipeline) and its control API."""
    api = WriteApi(app.state, settings)
    for method, template, handler in api.routes():
        app.add_route(method, template, handler)
    for position, (method, template, handler) in enumerate(api.create_meta_routes()):
        app.routes.insert(position, route(method, template, handler))
    app.control.routes.update(api.control_routes())
    return api


__all__ = ["PERMISSIONS", "WriteApi", "WriteSettings", "install"]
