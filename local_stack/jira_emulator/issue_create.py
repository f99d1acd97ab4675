"""``POST /rest/api/2/issue`` validation as Jira Server does it, turned into a create op.

Jira first resolves the project and the issue type (the create screen depends on both) and
answers with just those errors if either is missing or unknown; then it checks the create
permission (403, a *field* error on ``project``, as ``ProjectSystemField`` reports it with
Reason.FORBIDDEN), then every other field, collecting all field errors into one 400
ErrorCollection. Fields on the create screen that the emulator's model does not hold
(description, components, versions, due date, environment, custom fields) are validated
for shape only and then dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from local_stack.jira_emulator import catalog as cat
from local_stack.jira_emulator.create_meta import ON_SCREEN_CUSTOM, field_name
from local_stack.jira_emulator.data import Issue, Project, User
from local_stack.jira_emulator.store import Store

CREATE_ISSUES = "CREATE_ISSUES"
NO_CREATE_PERMISSION = "You do not have permission to create issues in this project."
MAX_SUMMARY = 255
MAX_LABEL = 255

# Jira Software's default create screen; Rank and Development are never on a screen.
_SYSTEM_FIELDS = frozenset(
    {
        "project",
        "issuetype",
        "summary",
        "description",
        "priority",
        "labels",
        "assignee",
        "reporter",
        "components",
        "fixVersions",
        "versions",
        "duedate",
        "environment",
        "parent",
    }
)
CREATE_SCREEN = _SYSTEM_FIELDS | {f.id for f in ON_SCREEN_CUSTOM}


@dataclass(frozen=True)
class Rejection:
    """An ErrorCollection answer: ``status``, field ``errors`` and ``messages``."""

    status: int
    errors: dict[str, str] = field(default_factory=dict)
    messages: tuple[str, ...] = ()


def not_settable(name: str) -> str:
    return f"Field '{name}' cannot be set. It is not on the appropriate screen, or unknown."


def plan_create(
    body: Any,
    store: Store,
    visible: frozenset[int],
    denied: Sequence[str],
    required: Sequence[str] = (),
) -> dict[str, Any] | Rejection:
    """The mutation op creating the issue, or how Jira would refuse the request."""
    fields = body.get("fields") if isinstance(body, dict) else None
    if not isinstance(fields, dict):
        fields = {}
    errors: dict[str, str] = {}
    project = _project(fields.get("project"), store, visible, errors)
    type_index = _issue_type(fields.get("issuetype"), errors)
    if project is None or type_index is None:
        return Rejection(400, errors)
    if CREATE_ISSUES in denied:
        return Rejection(403, {"project": NO_CREATE_PERMISSION})
    subtask = cat.ISSUE_TYPES[type_index].subtask
    for name in fields:
        if name not in CREATE_SCREEN or (name == "parent" and not subtask):
            errors[name] = not_settable(name)
    summary = _summary(fields.get("summary"), errors)
    _optional_string(fields, "description", errors)
    _optional_string(fields, "environment", errors)
    priority = _reference(fields.get("priority"), cat.PRIORITIES, "priority", errors)
    assignee = _user(fields.get("assignee"), "assignee", store, errors)
    _user(fields.get("reporter"), "reporter", store, errors)
    labels = _labels(fields.get("labels"), errors)
    parent = _parent(fields, type_index, project, store, visible, errors)
    _components(fields.get("components"), project, store, errors)
    for name in required:
        value = fields.get(name)
        if name not in errors and (value is None or value == "" or value == []):
            # Jira's message for a field its field configuration makes required.
            errors[name] = f"{field_name(name)} is required."
    if errors or summary is None:
        return Rejection(400, errors)
    return {
        "op": "create",
        "project": project.key,
        "count": 1,
        "summary": summary,
        "type": cat.ISSUE_TYPES[type_index].id,
        "assignee": assignee.name if assignee else None,
        "priority": cat.PRIORITIES[priority].id if priority is not None else None,
        "labels": labels,
        "parent": parent.key if parent else None,
    }


def _find(items: Sequence[cat.Named], ref: dict[str, Any]) -> int | None:
    wanted_id, wanted_name = ref.get("id"), ref.get("name")
    for index, item in enumerate(items):
        if wanted_id is not None and str(wanted_id) == item.id:
            return index
        if isinstance(wanted_name, str) and wanted_name.lower() == item.name.lower():
            return index
    return None


def _project(
    value: Any, store: Store, visible: frozenset[int], errors: dict[str, str]
) -> Project | None:
    if value is None:
        errors["project"] = "project is required"
        return None
    if not isinstance(value, dict):
        errors["project"] = "data was not an object"
        return None
    ref = value.get("key") or value.get("id")
    if ref is None:
        errors["project"] = "Could not find valid 'id' or 'key' in the project object."
        return None
    project = store.find_project(str(ref))
    # Hidden and archived projects are as unknown to the caller as missing ones.
    if project is None or project.idx not in visible or project.archived:
        errors["project"] = "valid project is required"
        return None
    return project


def _issue_type(value: Any, errors: dict[str, str]) -> int | None:
    if value is None:
        errors["issuetype"] = "issue type is required"
        return None
    if not isinstance(value, dict):
        errors["issuetype"] = "data was not an object"
        return None
    found = _find(cat.ISSUE_TYPES, value)
    if found is None:
        errors["issuetype"] = "valid issue type is required"
    return found


def _summary(value: Any, errors: dict[str, str]) -> str | None:
    if value is not None and not isinstance(value, str):
        errors["summary"] = "data was not a string"
        return None
    text = (value or "").strip()
    if not text:
        errors["summary"] = "You must specify a summary of the issue."
    elif len(text) > MAX_SUMMARY:
        errors["summary"] = f"Summary must be less than {MAX_SUMMARY} characters."
    elif "\n" in text or "\r" in text:
        errors["summary"] = "The summary is invalid because it contains newline characters."
    else:
        return text
    return None


def _optional_string(fields: dict[str, Any], name: str, errors: dict[str, str]) -> None:
    value = fields.get(name)
    if value is not None and not isinstance(value, str):
        errors[name] = "data was not a string"


def _reference(
    value: Any, items: Sequence[cat.Named], name: str, errors: dict[str, str]
) -> int | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        errors[name] = "data was not an object"
        return None
    found = _find(items, value)
    if found is None:
        if value.get("id") is not None:
            errors[name] = f"Invalid {name} id '{value['id']}'"
        else:
            errors[name] = f"{name.capitalize()} name '{value.get('name')}' is not valid"
    return found


def _components(value: Any, project: Project, store: Store, errors: dict[str, str]) -> None:
    if value is None:
        return
    if not isinstance(value, list):
        errors["components"] = "data was not an array"
        return
    names = {store.data.components[c].name.lower(): str(c) for c in project.components}
    for item in value:
        if not isinstance(item, dict):
            errors["components"] = "data was not an object"
            return
        if item.get("id") is not None and str(item["id"]) not in names.values():
            errors["components"] = f"Component with id '{item['id']}' does not exist."
            return
        name = item.get("name")
        if item.get("id") is None and (not isinstance(name, str) or name.lower() not in names):
            errors["components"] = f"Component name '{name}' is not valid"
            return


def assignee_error(username: str, store: Store) -> str | None:
    """Why Jira refuses ``username`` as an assignee, or None."""
    user = store.find_user(username)
    if user is None or user.deleted:
        return f"User '{username}' does not exist."
    if not user.active:
        return f"User '{username}' cannot be assigned issues."
    return None


def _user(value: Any, name: str, store: Store, errors: dict[str, str]) -> User | None:
    """Server identifies users by ``name`` (``key`` is accepted too); null unassigns."""
    if value is None:
        return None
    if not isinstance(value, dict):
        errors[name] = "data was not an object"
        return None
    username = value.get("name") or value.get("key")
    if username is None or username == "-1":  # "-1": automatic assignee
        return None
    user = store.find_user(str(username))
    if user is None or user.deleted:
        errors[name] = f"User '{username}' does not exist."
        return None
    if not user.active:
        errors[name] = f"User '{username}' cannot be assigned issues."
        return None
    return user


def _labels(value: Any, errors: dict[str, str]) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        errors["labels"] = "data was not an array"
        return []
    for label in value:
        if not isinstance(label, str):
            errors["labels"] = "data was not a string"
        elif not label or any(c.isspace() for c in label):
            errors["labels"] = f"The label '{label}' contains spaces which is invalid."
        elif len(label) > MAX_LABEL:
            errors["labels"] = f"The label '{label}' exceeds {MAX_LABEL} characters."
        else:
            continue
        return []
    return list(value)


def _parent(
    fields: dict[str, Any],
    type_index: int,
    project: Project,
    store: Store,
    visible: frozenset[int],
    errors: dict[str, str],
) -> Issue | None:
    value = fields.get("parent")
    if not cat.ISSUE_TYPES[type_index].subtask:
        return None  # a "parent" here was already reported as not on the screen
    if not isinstance(value, dict) or not (value.get("key") or value.get("id")):
        errors["parent"] = "Issue type is a sub-task but parent issue key or id not specified."
        return None
    found = store.issue_by_key_or_id(str(value.get("key") or value.get("id")))
    if found is None or found[1].project not in visible:
        errors["parent"] = "Could not find issue by id or key."
        return None
    parent = found[1]
    if parent.project != project.idx:
        errors["project"] = "The sub-task's project must be the same as its parent's."
        return None
    if cat.ISSUE_TYPES[parent.type].subtask:
        errors["parent"] = "A sub-task cannot be the parent of another sub-task."
        return None
    return parent
