"""Control-API mutation ops: change the data between (or during) a client's requests.

Ops (each a JSON object with ``op``); issue-selecting ops take ``keys`` (keys or ids) or
``jql`` (+ optional ``count`` and ``pick`` = first | last: lowest or highest ids first):

* ``create``: ``project``, ``count``, optional ``summary``, ``type``, ``status``,
  ``assignee``, ``parent``, ``priority``, ``labels``
* ``update``: optional ``summary``, ``status``, ``assignee`` (null unassigns), ``priority``,
  ``labels``; always bumps ``updated``
* ``transition``: ``status`` (sets or clears the resolution like a workflow would)
* ``comment``: ``body``; bumps ``updated`` (no changelog entry, as in Jira)
* ``delete_comment`` / ``edit_comment`` (``body``) / ``corrupt_comment``: ``id`` of a
  comment of the one selected issue; ``worklog``: ``seconds``, optional ``comment`` and
  ``started`` (epoch ms); ``delete_worklog`` / ``corrupt_worklog``: ``id`` (see activity.py;
  corrupt ones are rendered without body or time, as a broken storage would give them)
* ``set_history``: ``created`` (ISO 8601) and ``steps`` = [[ISO time, status], ...], optional
  ``resolution``: a known past (status, resolution and dates follow; see Store.set_history)
* ``delete`` (sub-tasks go with their parent), ``rerank`` with ``to`` = top | bottom
* ``set_hidden_projects``: ``projects``; ``archive_project``: ``project``, ``archived``
* ``set_user_active``: ``username``, ``active``

Each call bumps the data version once, which invalidates every cached query result.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import TYPE_CHECKING, Any

from local_stack.jira_emulator.query import Viewer
from local_stack.jira_emulator.store import MutationError

if TYPE_CHECKING:
    from local_stack.jira_emulator.state import EmulatorState

ISSUE_OPS = {
    "update",
    "transition",
    "delete",
    "rerank",
    "comment",
    "set_history",
    "delete_comment",
    "edit_comment",
    "corrupt_comment",
    "worklog",
    "delete_worklog",
    "corrupt_worklog",
}
# The ops on one comment or worklog (activity.py), as opposed to those on issues.
ACTIVITY_OPS = {
    "delete_comment",
    "edit_comment",
    "corrupt_comment",
    "delete_worklog",
    "corrupt_worklog",
}


def _select(state: EmulatorState, op: dict[str, Any]) -> list[int]:
    store = state.store
    if "keys" in op:
        keys = op["keys"]
        if not isinstance(keys, list):
            raise MutationError("'keys' must be a list")
        positions = []
        for key in keys:
            found = store.issue_by_key_or_id(str(key))
            if found is None:
                raise MutationError(f"no issue {key!r}")
            positions.append(found[0])
        return positions
    if "jql" in op:
        viewer = Viewer(0, frozenset(p.idx for p in store.projects))
        compiled = state.engine.compile(str(op["jql"]), viewer, state.clock, state.config.now_ms())
        compiled = dataclasses.replace(compiled, order=(("id", False),))
        _, positions = state.engine.page(compiled, viewer, 0, len(store.issues) + 1)
        count = op.get("count")
        if isinstance(count, int):
            positions = positions[-count:] if op.get("pick") == "last" else positions[:count]
        return positions
    raise MutationError(f"op {op.get('op')!r} needs 'keys' or 'jql'")


def _epoch_ms(text: Any) -> int:
    try:
        moment = datetime.fromisoformat(str(text))
    except ValueError:
        raise MutationError(f"not an ISO 8601 time with an offset: {text!r}") from None
    if moment.tzinfo is None:
        raise MutationError(f"not an ISO 8601 time with an offset: {text!r}")
    return int(moment.timestamp() * 1000)


def apply_ops(state: EmulatorState, ops: list[dict[str, Any]]) -> list[dict[str, Any]]:
    try:
        return _apply(state, ops)
    finally:
        # Even a failing batch may have changed something: cached results must go.
        state.store.bump()


def _apply(state: EmulatorState, ops: list[dict[str, Any]]) -> list[dict[str, Any]]:
    store = state.store
    results: list[dict[str, Any]] = []
    author = state.author()
    for op in ops:
        if not isinstance(op, dict):
            raise MutationError("each op must be an object")
        kind = op.get("op")
        if kind == "create":
            created = store.create_issues(
                str(op.get("project", "")),
                int(op.get("count", 1)),
                summary=op.get("summary"),
                type_name=op.get("type"),
                status_name=op.get("status"),
                assignee=op.get("assignee"),
                parent_key=op.get("parent"),
                priority_name=op.get("priority"),
                labels=op.get("labels"),
                author=author,
            )
            results.append(
                {"op": kind, "created": [{"id": str(c.id), "key": c.key} for c in created]}
            )
        elif kind in ("update", "transition"):
            if kind == "transition" and not op.get("status"):
                raise MutationError("transition needs 'status'")
            positions = _select(state, op)
            touched = store.update(
                positions,
                summary=op.get("summary"),
                status_name=op.get("status"),
                assignee=op.get("assignee", False),
                priority_name=op.get("priority"),
                labels=op.get("labels"),
                author=author,
            )
            results.append({"op": kind, "updated": touched})
        elif kind == "comment":
            body = op.get("body")
            if not isinstance(body, str) or not body.strip():
                raise MutationError("comment needs a non-empty 'body'")
            added = [store.add_comment(p, body, author=author) for p in _select(state, op)]
            results.append(
                {
                    "op": kind,
                    "comments": [{"key": c.issue_key, "id": str(c.id)} for c in added],
                }
            )
        elif kind == "worklog":
            seconds = op.get("seconds")
            if not isinstance(seconds, int) or isinstance(seconds, bool):
                raise MutationError("worklog needs an integer 'seconds'")
            logged = [
                state.activity.add_worklog(
                    p,
                    seconds,
                    str(op.get("comment", "")),
                    author=author,
                    started_ms=op.get("started"),
                )
                for p in _select(state, op)
            ]
            results.append({"op": kind, "worklogs": [str(w.id) for w in logged]})
        elif kind in ACTIVITY_OPS:
            results.append(_activity_op(state, kind, op))
        elif kind == "set_history":
            steps = op.get("steps")
            if not isinstance(steps, list) or not all(
                isinstance(x, list) and len(x) == 2 for x in steps
            ):
                raise MutationError("set_history needs 'steps' = [[time, status], ...]")
            keys = [
                store.set_history(
                    p,
                    _epoch_ms(op.get("created")),
                    [(_epoch_ms(at), str(name)) for at, name in steps],
                    resolution_name=op.get("resolution"),
                    author=author,
                )
                for p in _select(state, op)
            ]
            results.append({"op": kind, "updated": keys})
        elif kind == "delete":
            positions = _select(state, op)
            for issue in _with_subtasks(state, positions):
                state.activity.forget_issue(issue)
            results.append({"op": kind, "deleted": store.delete(positions)})
        elif kind == "rerank":
            moved = store.rerank(_select(state, op), str(op.get("to", "top")))
            results.append({"op": kind, "reranked": moved})
        elif kind == "set_hidden_projects":
            projects = op.get("projects", [])
            if not isinstance(projects, list):
                raise MutationError("'projects' must be a list")
            state.config.hidden_projects = [str(p) for p in projects]
            results.append({"op": kind, "hidden": state.config.hidden_projects})
        elif kind == "archive_project":
            store.set_archived(str(op.get("project", "")), bool(op.get("archived", True)))
            results.append({"op": kind, "project": op.get("project")})
        elif kind == "close_sprints":
            # A company-wide cadence: every sprint in these states closes at once.
            states = op.get("states", ["active"])
            if not isinstance(states, list) or not all(isinstance(x, str) for x in states):
                raise MutationError("'states' must be a list of sprint states")
            now = state.config.now_ms()
            closed = []
            for sprint in state.data.sprints.values():
                if sprint.state in states:
                    sprint.state, sprint.complete_ms = "closed", now
                    sprint.start_ms = sprint.start_ms or now
                    closed.append(sprint.id)
            results.append({"op": kind, "closed": closed})
        elif kind == "set_user_active":
            username = str(op.get("username", ""))
            store.set_user_active(username, bool(op.get("active", True)))
            state.forget_rendered_users()
            results.append({"op": kind, "username": username})
        else:
            raise MutationError(f"unknown op {kind!r}")
    return results


def _activity_op(state: EmulatorState, kind: str, op: dict[str, Any]) -> dict[str, Any]:
    """One change to one comment or worklog (by ``id``) of the one selected issue."""
    positions = _select(state, op)
    if len(positions) != 1:
        raise MutationError(f"{kind} needs exactly one issue")
    try:
        item_id = int(op["id"])
    except (KeyError, TypeError, ValueError):
        raise MutationError(f"{kind} needs the numeric 'id' of a comment or worklog") from None
    activity, p = state.activity, positions[0]
    if kind == "delete_comment":
        activity.delete_comment(p, item_id)
    elif kind == "edit_comment":
        body = op.get("body")
        if not isinstance(body, str):
            raise MutationError("edit_comment needs a 'body'")
        activity.edit_comment(p, item_id, body)
    elif kind == "corrupt_comment":
        activity._comment_of(p, item_id)
        activity.corrupt_comments.add(item_id)
    elif kind == "delete_worklog":
        activity.delete_worklog(p, item_id)
    else:
        if activity.worklog(item_id) is None:
            raise MutationError(f"no worklog {item_id}")
        activity.corrupt_worklogs.add(item_id)
    return {"op": kind, "id": str(item_id)}


def _with_subtasks(state: EmulatorState, positions: list[int]) -> list[Any]:
    """The issues a delete removes: the selected ones and, as Jira does, their sub-tasks."""
    store, out, pending = state.store, [], list(positions)
    while pending:
        issue = store.issues[pending.pop()]
        if issue is not None:
            out.append(issue)
            pending.extend(store.children.get(issue.id, []))
    return out
