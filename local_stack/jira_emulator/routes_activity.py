"""Comment and worklog read routes (REST v2), on the data of ``activity.py``.

* ``GET /rest/api/2/issue/{key}/comment`` (``startAt``, ``maxResults`` default 50, capped
  like searches; ``expand=renderedBody``): ``{startAt, maxResults, total, comments}``.
* ``GET /rest/api/2/issue/{key}/worklog``: every worklog of the issue,
  ``{startAt: 0, maxResults: total, total, worklogs}``.
* ``GET /rest/api/2/worklog/updated?since=<ms>`` and ``/worklog/deleted?since=<ms>``: up to
  ``worklog_feed_page`` (1000) ``{worklogId, updatedTime, properties}`` oldest first, with
  ``since``, ``until`` (the last value's time), ``self``, ``lastPage`` and, when more
  follow, ``nextPage`` (``since`` = ``until``); worklogs of the last minute are left out.
* ``POST /rest/api/2/worklog/list`` ``{"ids": [...]}``: the worklogs that exist and can be
  seen, as a bare array; more than 1000 ids answer 400.

With ``worklog_feeds: false`` the three ``/worklog`` routes answer Jersey's 404, as servers
before the feeds existed do.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from local_stack.jira_emulator.auth import Caller
from local_stack.jira_emulator.data import Issue
from local_stack.jira_emulator.issue_fields import comment_json, worklog_json
from local_stack.jira_emulator.routes_jira import API, NOT_AUTHENTICATED, Handler
from local_stack.jira_emulator.state import EmulatorState
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

ISSUE = f"{API}/issue/{{issueIdOrKey}}"
MAX_LIST_IDS = 1000
DEFAULT_COMMENT_PAGE = 50


class ActivityApi:
    def __init__(self, state: EmulatorState) -> None:
        self.state = state

    def routes(self) -> list[tuple[str, str, Handler]]:
        return [
            ("GET", f"{ISSUE}/comment", self.comments),
            ("GET", f"{ISSUE}/worklog", self.issue_worklogs),
            ("GET", f"{API}/worklog/updated", self.updated),
            ("GET", f"{API}/worklog/deleted", self.deleted),
            ("POST", f"{API}/worklog/list", self.list),
        ]

    def truth(self, req: Request) -> Response:
        """Control: every comment and worklog of the issues ``jql`` selects now (the oracle
        of the end-to-end tests), by issue key; times in epoch ms, authors by user key."""
        keys = self.state.truth(req.param("jql") or "")["keys"]
        store, activity = self.state.store, self.state.activity
        comments, worklogs = {}, {}
        for key in keys:
            found = store.issue_by_key_or_id(key)
            if found is None:
                continue
            issue = found[1]
            comments[key] = [
                {
                    "id": str(c.id),
                    "author": store.users[c.author].key,
                    "body": c.body,
                    "created": c.created,
                    "updated": c.updated,
                }
                for c in activity.comments_of(issue)
            ]
            worklogs[key] = [
                {
                    "id": str(w.id),
                    "author": store.users[w.author].key,
                    "seconds": w.seconds,
                    "started": w.started,
                    "comment": w.comment,
                }
                for w in activity.worklogs_of(issue)
            ]
        return json_response({"comments": comments, "worklogs": worklogs})

    def _issue(self, req: Request, caller: Caller) -> Issue | Response:
        if caller.user is None:
            return error_collection(401, NOT_AUTHENTICATED)
        found = self.state.store.issue_by_key_or_id(req.path_params["issueIdOrKey"])
        if found is None or found[1].project not in self.state.viewer(caller).projects:
            return error_collection(404, "Issue Does Not Exist")
        return found[1]

    def comments(self, req: Request, caller: Caller) -> Response:
        issue = self._issue(req, caller)
        if isinstance(issue, Response):
            return issue
        start = _int(req.param("startAt"), "startAt", 0)
        wanted = _int(req.param("maxResults"), "maxResults", DEFAULT_COMMENT_PAGE)
        size = max(0, min(wanted, self.state.config.max_results_cap))
        rendered = "renderedBody" in ",".join(req.params("expand"))
        every = self.state.activity.comments_of(issue)
        page = every[start : start + size]
        renderer = self.state.renderer(req.base)
        items = ",".join(comment_json(renderer, issue, c, rendered=rendered) for c in page)
        body = (
            f'{{"startAt":{start},"maxResults":{size},"total":{len(every)},"comments":[{items}]}}'
        )
        return Response(200, body.encode("utf-8"))

    def issue_worklogs(self, req: Request, caller: Caller) -> Response:
        issue = self._issue(req, caller)
        if isinstance(issue, Response):
            return issue
        every = self.state.activity.worklogs_of(issue)
        renderer = self.state.renderer(req.base)
        items = ",".join(worklog_json(renderer, issue, w) for w in every)
        n = len(every)
        body = f'{{"startAt":0,"maxResults":{n},"total":{n},"worklogs":[{items}]}}'
        return Response(200, body.encode("utf-8"))

    def _feeds_missing(self, req: Request) -> Response | None:
        if self.state.config.worklog_feeds is False:
            return unknown_resource(req)
        return None

    def updated(self, req: Request, caller: Caller) -> Response:
        return self._feed(req, caller, deleted=False)

    def deleted(self, req: Request, caller: Caller) -> Response:
        return self._feed(req, caller, deleted=True)

    def _feed(self, req: Request, caller: Caller, *, deleted: bool) -> Response:
        missing = self._feeds_missing(req)
        if missing is not None:
            return missing
        if caller.user is None:
            return error_collection(401, NOT_AUTHENTICATED)
        since = _int(req.param("since"), "since", 0)
        activity = self.state.activity
        limit = max(1, self.state.config.worklog_feed_page)
        feed = activity.deleted_since if deleted else activity.updated_since
        page, last = feed(since, limit)
        if not deleted:
            visible = self.state.viewer(caller).projects
            page = [e for e in page if _visible(activity.worklog(e.worklog_id), visible)]
        until = page[-1].updated_ms if page else since
        path = f"{req.base}{API}/worklog/{'deleted' if deleted else 'updated'}"
        body: dict[str, object] = {
            "values": [
                {"worklogId": e.worklog_id, "updatedTime": e.updated_ms, "properties": []}
                for e in page
            ],
            "since": since,
            "until": until,
            "self": f"{path}?since={since}",
            "lastPage": last,
        }
        if not last:
            body["nextPage"] = f"{path}?since={until}"
        return json_response(body)

    def list(self, req: Request, caller: Caller) -> Response:
        missing = self._feeds_missing(req)
        if missing is not None:
            return missing
        if caller.user is None:
            return error_collection(401, NOT_AUTHENTICATED)
        ids = req.json_object().get("ids")
        if not isinstance(ids, list) or not all(isinstance(i, int | str) for i in ids):
            return error_collection(400, "ids must be a list of worklog ids")
        if len(ids) > MAX_LIST_IDS:
            return error_collection(
                400, f"The number of worklog ids exceeds the limit of {MAX_LIST_IDS}."
            )
        visible = self.state.viewer(caller).projects
        renderer = self.state.renderer(req.base)
        items = []
        for raw in ids:
            try:
                found = self.state.activity.worklog(int(raw))
            except ValueError:
                continue
            if found is not None and found[0].project in visible:
                items.append(worklog_json(renderer, found[0], found[1]))
        return Response(200, f"[{','.join(items)}]".encode())


def _visible(found: object, projects: frozenset[int]) -> bool:
    return isinstance(found, tuple) and found[0].project in projects


def _int(value: str | None, name: str, default: int) -> int:
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise BadRequest(f"{name} must be a number: {json.dumps(value)}") from None


def install(app: EmulatorApp) -> ActivityApi:
    api = ActivityApi(app.state)
    for method, template, handler in api.routes():
        app.add_route(method, template, handler)
    app.control.routes[("GET", "/truth/activity")] = api.truth
    return api
