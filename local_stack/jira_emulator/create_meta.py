"""Jira's create metadata: which fields the create screen of a project and issue type has,
which are required and which values they allow.

Two forms, as Jira versions serve them:

* ``GET /rest/api/2/issue/createmeta?projectKeys=&issuetypeIds=&issuetypeNames=&expand=
  projects.issuetypes.fields``: every visible project with its issue types, their fields as
  an object keyed by field id. Deprecated in 8.4 and removed in 9.0: there the path falls
  through to ``/issue/{issueIdOrKey}`` and answers 404 "Issue Does Not Exist".
* Since 8.4: ``GET /rest/api/2/issue/createmeta/{projectIdOrKey}/issuetypes`` and
  ``.../issuetypes/{issueTypeId}``, paged (``startAt``, ``maxResults`` default 50,
  ``total``, ``isLast``, ``values``), fields as a list with a ``fieldId``.

A user without the Create Issues permission gets no metadata: an empty project list in
the old form, 403 in the new one. ``required_fields`` (``WriteSettings``) makes more fields
required, as a field configuration does; ``plan_create`` enforces the same rule on POST.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from local_stack.jira_emulator import catalog as cat
from local_stack.jira_emulator.data import Project
from local_stack.jira_emulator.render import Renderer
from local_stack.jira_emulator.store import Store

DEFAULT_PAGE = 50
MAX_PAGE = 1000

# Names as the create screen shows them; Jira's "X is required." errors use them.
SYSTEM_FIELD_NAMES = {
    "summary": "Summary",
    "issuetype": "Issue Type",
    "project": "Project",
    "description": "Description",
    "priority": "Priority",
    "labels": "Labels",
    "assignee": "Assignee",
    "reporter": "Reporter",
    "components": "Component/s",
    "fixVersions": "Fix Version/s",
    "versions": "Affects Version/s",
    "duedate": "Due Date",
    "environment": "Environment",
    "parent": "Parent",
}
_SCHEMAS: dict[str, dict[str, Any]] = {
    "summary": {"type": "string", "system": "summary"},
    "issuetype": {"type": "issuetype", "system": "issuetype"},
    "project": {"type": "project", "system": "project"},
    "description": {"type": "string", "system": "description"},
    "priority": {"type": "priority", "system": "priority"},
    "labels": {"type": "array", "items": "string", "system": "labels"},
    "assignee": {"type": "user", "system": "assignee"},
    "reporter": {"type": "user", "system": "reporter"},
    "components": {"type": "array", "items": "component", "system": "components"},
    "fixVersions": {"type": "array", "items": "version", "system": "fixVersions"},
    "versions": {"type": "array", "items": "version", "system": "versions"},
    "duedate": {"type": "date", "system": "duedate"},
    "environment": {"type": "string", "system": "environment"},
    "parent": {"type": "issuelink", "system": "parent"},
}
_OFF_SCREEN_CUSTOM = frozenset({"customfield_10000", "customfield_10100"})
ON_SCREEN_CUSTOM = tuple(f for f in cat.CUSTOM_FIELDS if f.id not in _OFF_SCREEN_CUSTOM)
ALWAYS_REQUIRED = frozenset({"project", "issuetype", "summary"})


def field_name(field_id: str) -> str:
    for custom in cat.CUSTOM_FIELDS:
        if custom.id == field_id:
            return custom.name
    return SYSTEM_FIELD_NAMES.get(field_id, field_id)


def screen_fields(issue_type: cat.IssueType) -> list[str]:
    """The create screen's field ids, in screen order."""
    system = [f for f in SYSTEM_FIELD_NAMES if f != "parent" or issue_type.subtask]
    return system + [f.id for f in ON_SCREEN_CUSTOM]


def is_required(field_id: str, issue_type: cat.IssueType, required: Sequence[str]) -> bool:
    return (
        field_id in ALWAYS_REQUIRED
        or field_id in required
        or (field_id == "parent" and issue_type.subtask)
    )


def _field(
    field_id: str,
    project: Project,
    issue_type: cat.IssueType,
    renderer: Renderer,
    store: Store,
    required: Sequence[str],
) -> dict[str, Any]:
    schema: dict[str, Any]
    custom = next((f for f in cat.CUSTOM_FIELDS if f.id == field_id), None)
    if custom is not None:
        schema = {"type": custom.schema_type, "custom": custom.custom}
        if custom.items:
            schema["items"] = custom.items
        schema["customId"] = int(field_id.removeprefix("customfield_"))
    else:
        schema = dict(_SCHEMAS[field_id])
    meta: dict[str, Any] = {
        # Jira marks the reporter required, with the current user as its default.
        "required": is_required(field_id, issue_type, required) or field_id == "reporter",
        "schema": schema,
        "name": field_name(field_id),
        "key": field_id,
        "hasDefaultValue": field_id in ("priority", "reporter"),
        "operations": ["set"] if schema["type"] != "array" else ["add", "set", "remove"],
    }
    allowed: list[Any] | None = None
    if field_id == "project":
        allowed = [json.loads(renderer.project_ref(project.idx))]
    elif field_id == "issuetype":
        allowed = [_type_object(renderer, issue_type)]
    elif field_id == "priority":
        allowed = renderer.priority_objects()
        meta["defaultValue"] = allowed[2]  # Medium
    elif field_id == "components":
        allowed = [json.loads(renderer.component_ref(c)) for c in project.components]
    elif field_id in ("fixVersions", "versions"):
        allowed = [json.loads(renderer.version_ref(v)) for v in project.versions]
    elif field_id in ("assignee", "reporter", "labels"):
        kind = "labels" if field_id == "labels" else "user"
        meta["autoCompleteUrl"] = (
            f"{renderer.base}/rest/api/1.0/labels/suggest?query="
            if kind == "labels"
            else f"{renderer.api}/user/search?username="
        )
    if allowed is not None:
        meta["allowedValues"] = allowed
    return meta


def _type_object(renderer: Renderer, issue_type: cat.IssueType) -> dict[str, Any]:
    index = cat.ISSUE_TYPES.index(issue_type)
    body: dict[str, Any] = renderer.issuetype_objects()[index]
    return body


def fields_of(
    project: Project,
    issue_type: cat.IssueType,
    renderer: Renderer,
    store: Store,
    required: Sequence[str],
) -> list[dict[str, Any]]:
    return [
        _field(f, project, issue_type, renderer, store, required) for f in screen_fields(issue_type)
    ]


def find_type(value: str) -> cat.IssueType | None:
    for issue_type in cat.ISSUE_TYPES:
        if value == issue_type.id or value.casefold() == issue_type.name.casefold():
            return issue_type
    return None


def page(items: list[Any], start_at: int, max_results: int) -> dict[str, Any]:
    chunk = items[start_at : start_at + max_results]
    return {
        "maxResults": max_results,
        "startAt": start_at,
        "total": len(items),
        "isLast": start_at + len(chunk) >= len(items),
        "values": chunk,
    }


def legacy_projects(
    projects: list[Project],
    type_filter: list[str],
    expand_fields: bool,
    renderer: Renderer,
    store: Store,
    required: Sequence[str],
) -> dict[str, Any]:
    """The body of the pre-9 ``GET /issue/createmeta``."""
    body: list[dict[str, Any]] = []
    for project in projects:
        ref = json.loads(renderer.project_ref(project.idx))
        types = []
        for issue_type in cat.ISSUE_TYPES:
            if type_filter and not any(v in (issue_type.id, issue_type.name) for v in type_filter):
                continue
            item = _type_object(renderer, issue_type)
            if expand_fields:
                item["expand"] = "fields"
                item["fields"] = {
                    meta["key"]: meta
                    for meta in fields_of(project, issue_type, renderer, store, required)
                }
            types.append(item)
        body.append({**ref, "issuetypes": types})
    return {"expand": "projects", "projects": body}


__all__ = [
    "DEFAULT_PAGE",
    "MAX_PAGE",
    "field_name",
    "fields_of",
    "find_type",
    "is_required",
    "legacy_projects",
    "page",
    "screen_fields",
]
