"""Check a new issue's fields against Jira's create metadata before writing anything.

The create screen depends on the project and the issue type, and so do required fields
(a field configuration may require components, a custom field ...) and allowed values
(the project's components and versions, priorities). Jira would refuse the same request,
but one field at a time for project/type and without the allowed values; checking first
gives the run one message naming every field to fix, and nothing is created.

Jira 8.4+ serves ``/issue/createmeta/{project}/issuetypes[/{typeId}]`` (paged); before 9.0
``/issue/createmeta?expand=projects.issuetypes.fields`` (removed in 9.0). The version in
``serverInfo`` picks the form.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jira_server.actions.errors import ActionInputError, jira_step
from jira_server.client.rest_client import JiraServerClient
from jira_server.errors import JiraResponseError

PAGED_SINCE = (8, 4)
MAX_LISTED = 15  # allowed values quoted in a message
# What identifies an allowed value: components and versions by id or name, options by
# value, projects by key, users by name.
_REFERENCE_KEYS = ("id", "name", "value", "key")


class FieldsRejected(ActionInputError):
    DEFAULT_STATUS_LABEL = "Invalid fields"


@dataclass(frozen=True)
class CreateScreen:
    project_key: str
    issue_type: dict[str, Any]  # id and name as Jira lists it
    fields: dict[str, dict[str, Any]]  # field id -> metadata

    @property
    def title(self) -> str:
        return f"{self.issue_type.get('name')} in {self.project_key}"


def _type_matches(issue_type: Mapping[str, Any], wanted: str) -> bool:
    return str(issue_type.get("id")) == wanted or (
        str(issue_type.get("name", "")).casefold() == wanted.casefold()
    )


def _pick_type(types: list[dict[str, Any]], wanted: str, project_key: str) -> dict[str, Any]:
    for issue_type in types:
        if _type_matches(issue_type, wanted):
            return issue_type
    if not types:
        raise ActionInputError(
            f"Jira offers no issue type in {project_key} to this user: it lacks the 'Create "
            "Issues' permission in that project",
            "No permission",
        )
    names = ", ".join(str(t.get("name")) for t in types)
    raise ActionInputError(
        f"Input 'issueType': {wanted!r} is not an issue type of {project_key}; available: {names}"
    )


def _unknown_project(project_key: str) -> ActionInputError:
    return ActionInputError(
        f"Input 'projectKey': Jira has no project {project_key} that this user can see and "
        "create issues in"
    )


async def load_screen(client: JiraServerClient, project_key: str, issue_type: str) -> CreateScreen:
    """The create screen of ``issue_type`` (a name or an id) in ``project_key``."""
    async with jira_step("Reading Jira's create metadata"):
        info = await client.fetch_server_info()
        if info.version_numbers[:2] >= PAGED_SINCE:
            try:
                types = await client.fetch_create_meta_types(project_key)
            except JiraResponseError as exc:
                if exc.status_code == 404:
                    raise _unknown_project(project_key) from None
                raise
            chosen = _pick_type(types, issue_type, project_key)
            listed = await client.fetch_create_meta_fields(project_key, str(chosen["id"]))
            fields = {str(f.get("fieldId") or f.get("key")): f for f in listed}
        else:
            types = await client.fetch_legacy_create_meta(project_key)
            if not types:
                # Unknown, hidden and "no permission" look the same in this form.
                raise ActionInputError(
                    f"Input 'projectKey': Jira has no project {project_key} that this user "
                    "can see and create issues in (or it lacks the 'Create Issues' permission)"
                )
            chosen = _pick_type(types, issue_type, project_key)
            raw = chosen.get("fields")
            fields = {str(k): v for k, v in (raw or {}).items() if isinstance(v, dict)}
    return CreateScreen(project_key, {"id": chosen.get("id"), "name": chosen.get("name")}, fields)


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _describe(reference: Any) -> str:
    if isinstance(reference, Mapping):
        for key in _REFERENCE_KEYS:
            if reference.get(key) is not None:
                return repr(str(reference[key]))
    return repr(reference)


def _allows(allowed: list[Any], reference: Any) -> bool:
    if not isinstance(reference, Mapping):
        return True  # not a reference (e.g. a plain value): Jira judges it
    given = {k: str(reference[k]) for k in _REFERENCE_KEYS if reference.get(k) is not None}
    if not given:
        return True
    for item in allowed:
        if not isinstance(item, Mapping):
            continue
        for key, value in given.items():
            known = item.get(key)
            if known is None:
                continue
            if str(known) == value or (key == "name" and str(known).casefold() == value.casefold()):
                return True
    return False


def _allowed_names(allowed: list[Any]) -> str:
    names = [
        str(item.get("name") or item.get("value") or item.get("key") or item.get("id"))
        for item in allowed
        if isinstance(item, Mapping)
    ]
    if not names:
        return "none"
    shown = ", ".join(names[:MAX_LISTED])
    return shown + (f" and {len(names) - MAX_LISTED} more" if len(names) > MAX_LISTED else "")


def field_errors(fields: Mapping[str, Any], screen: CreateScreen) -> dict[str, str]:
    """Jira-style field errors (field id -> message) for a ``POST /issue`` ``fields``."""
    errors: dict[str, str] = {}
    for name, value in fields.items():
        if name in ("project", "issuetype"):
            continue  # resolved when the screen was loaded
        meta = screen.fields.get(name)
        if meta is None:
            errors[name] = (
                f"Field '{name}' cannot be set. It is not on the appropriate screen, or unknown."
            )
            continue
        allowed = meta.get("allowedValues")
        if not isinstance(allowed, list) or _is_empty(value):
            continue
        label = meta.get("name") or name
        for reference in value if isinstance(value, list) else [value]:
            if not _allows(allowed, reference):
                errors[name] = (
                    f"{_describe(reference)} is not an allowed value of {label} "
                    f"(allowed: {_allowed_names(allowed)})"
                )
                break
    for name, meta in screen.fields.items():
        if name in ("project", "issuetype") or name in errors:
            continue
        if meta.get("required") and not meta.get("hasDefaultValue") and _is_empty(fields.get(name)):
            errors[name] = f"{meta.get('name') or name} is required."
    return errors


async def check_fields(
    client: JiraServerClient, fields: Mapping[str, Any], project_key: str, issue_type: str
) -> CreateScreen:
    """Raise ``FieldsRejected`` naming every field Jira's create screen would refuse."""
    screen = await load_screen(client, project_key, issue_type)
    errors = field_errors(fields, screen)
    if errors:
        listed = "; ".join(f"{name}: {message}" for name, message in errors.items())
        raise FieldsRejected(
            f"Jira's create screen for {screen.title} refuses the issue, nothing was created: "
            f"{listed}"
        )
    return screen
