"""Action inputs (the run's execution properties), checked before any Jira call.

Every error names the input as ``.port/resources/actions.json`` passes it, so the run's
summary in Port says what to fix. Port renders an optional input the user left empty as
null (or leaves it out), so null, missing and blank all mean "not given".
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from jira_server.actions.errors import ActionInputError
from jira_server.blueprints import NAMESPACE_SEPARATOR, without_namespace

# Validated before a key goes into a URL path (it is URL-encoded as well).
ISSUE_KEY = re.compile(r"[A-Z][A-Z0-9_]*-[1-9][0-9]*")
PROJECT_KEY = re.compile(r"[A-Z][A-Z0-9_]*")
MAX_SUMMARY = 255
MAX_LABEL = 255
MAX_COMMENT = 32_767  # Jira's default jira.text.field.character.limit
# Fields create_issue sets from its own inputs; "fields" may not set them a second time.
NAMED_FIELDS = {
    "project": "projectKey",
    "issuetype": "issueType",
    "summary": "summary",
    "description": "description",
    "priority": "priority",
    "labels": "labels",
    "assignee": "assignee",
}

Properties = Mapping[str, Any]


# Inputs Port fills from an entity identifier (``{{ .entity.identifier }}``...).
IDENTIFIER_INPUTS = ("issueKey", "projectKey")


def of_this_instance(properties: Properties, namespace: str) -> dict[str, Any]:
    """The inputs with this instance's ``instanceNamespace`` taken off the identifiers: the
    rendered actions strip it themselves, actions created before the namespace was set do
    not. An identifier of another instance is refused, never sent to this Jira."""
    cleaned = dict(properties)
    if not namespace:
        return cleaned
    for name in IDENTIFIER_INPUTS:
        value = cleaned.get(name)
        if not isinstance(value, str) or NAMESPACE_SEPARATOR not in value:
            continue
        key = without_namespace(value.strip(), namespace)
        if key is None:
            raise ActionInputError(
                f"Input '{name}' is {value!r}, an entity of another Jira instance: this "
                f"installation serves instanceNamespace {namespace!r}"
            )
        cleaned[name] = key
    return cleaned


def reject_unknown(properties: Properties, allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(properties) - set(allowed))
    if unknown:
        raise ActionInputError(
            f"Unknown input(s) {', '.join(repr(u) for u in unknown)}; this action takes "
            + ", ".join(repr(a) for a in allowed)
        )


def text(properties: Properties, name: str) -> str | None:
    """An optional text input, stripped; None when not given."""
    value = properties.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise ActionInputError(f"Input '{name}' must be text, not {type(value).__name__}")
    return value.strip()


def required_text(properties: Properties, name: str) -> str:
    value = text(properties, name)
    if value is None:
        raise ActionInputError(f"Input '{name}' is required")
    return value


def issue_key(properties: Properties, name: str = "issueKey") -> str:
    given = required_text(properties, name)
    if not ISSUE_KEY.fullmatch(given.upper()):
        raise ActionInputError(
            f"Input '{name}' must be a Jira issue key such as PROJ-123, not {given!r}"
        )
    return given.upper()


def reference(value: str) -> dict[str, str]:
    """Jira's ``{"id"}`` for a numeric value, else ``{"name"}``."""
    return {"id": value} if value.isdigit() else {"name": value}


def _labels(properties: Properties) -> list[str]:
    value = properties.get("labels")
    if value is None:
        return []
    if isinstance(value, str):
        items: list[Any] = re.split(r"[\s,]+", value)
    elif isinstance(value, list):
        items = value
    else:
        raise ActionInputError("Input 'labels' must be a list of labels or comma-separated text")
    labels: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise ActionInputError("Input 'labels' must contain text only")
        label = item.strip()
        if not label:
            continue
        if any(c.isspace() for c in label):
            raise ActionInputError(f"Input 'labels': {label!r} contains spaces (Jira forbids it)")
        if len(label) > MAX_LABEL:
            raise ActionInputError(f"Input 'labels': a label exceeds {MAX_LABEL} characters")
        if label not in labels:
            labels.append(label)
    return labels


def _extra_fields(properties: Properties) -> dict[str, Any]:
    value = properties.get("fields")
    if value is None or (isinstance(value, str) and not value.strip()):
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise ActionInputError("Input 'fields' is not valid JSON") from None
    if not isinstance(value, dict):
        raise ActionInputError(
            "Input 'fields' must be a JSON object of Jira fields, e.g. {\"customfield_10106\": 3}"
        )
    for name in value:
        if not isinstance(name, str) or not name.strip():
            raise ActionInputError("Input 'fields' has an empty field name")
        if name in NAMED_FIELDS:
            raise ActionInputError(
                f"Input 'fields' sets {name!r}; use the input '{NAMED_FIELDS[name]}' instead"
            )
    return dict(value)


@dataclass(frozen=True)
class CreateIssueInput:
    INPUTS = (
        "projectKey",
        "issueType",
        "summary",
        "description",
        "priority",
        "labels",
        "assignee",
        "fields",
    )

    project_key: str
    issue_type: str
    summary: str
    description: str | None = None
    priority: str | None = None
    labels: list[str] = field(default_factory=list)
    assignee: str | None = None
    extra_fields: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def parse(cls, properties: Properties) -> CreateIssueInput:
        reject_unknown(properties, cls.INPUTS)
        given = required_text(properties, "projectKey")
        project = given.upper()
        if not PROJECT_KEY.fullmatch(project):
            raise ActionInputError(
                f"Input 'projectKey' must be a Jira project key such as PROJ, not {given!r}"
            )
        summary = required_text(properties, "summary")
        if len(summary) > MAX_SUMMARY:
            raise ActionInputError(f"Input 'summary' exceeds {MAX_SUMMARY} characters")
        if "\n" in summary or "\r" in summary:
            raise ActionInputError("Input 'summary' must be a single line")
        description = properties.get("description")
        if description is not None and not isinstance(description, str):
            raise ActionInputError("Input 'description' must be text")
        return cls(
            project_key=project,
            issue_type=required_text(properties, "issueType"),
            summary=summary,
            description=description or None,
            priority=text(properties, "priority"),
            labels=_labels(properties),
            assignee=text(properties, "assignee"),
            extra_fields=_extra_fields(properties),
        )

    def jira_fields(self) -> dict[str, Any]:
        """The ``fields`` object of ``POST /rest/api/2/issue`` (Server: users by name)."""
        fields: dict[str, Any] = {
            "project": {"key": self.project_key},
            "issuetype": reference(self.issue_type),
            "summary": self.summary,
        }
        if self.description:
            fields["description"] = self.description
        if self.priority:
            fields["priority"] = reference(self.priority)
        if self.labels:
            fields["labels"] = list(self.labels)
        if self.assignee:
            fields["assignee"] = {"name": self.assignee}
        return {**fields, **self.extra_fields}


@dataclass(frozen=True)
class AddCommentInput:
    INPUTS = ("issueKey", "body")

    issue_key: str
    body: str

    @classmethod
    def parse(cls, properties: Properties) -> AddCommentInput:
        reject_unknown(properties, cls.INPUTS)
        key = issue_key(properties)
        body = properties.get("body")
        if not isinstance(body, str) or not body.strip():
            raise ActionInputError("Input 'body' is required: the comment text")
        if len(body) > MAX_COMMENT:
            raise ActionInputError(f"Input 'body' exceeds Jira's {MAX_COMMENT} characters")
        return cls(key, body)


@dataclass(frozen=True)
class TransitionInput:
    INPUTS = ("issueKey", "transition")

    issue_key: str
    transition: str  # a transition id, a transition name or a target status name

    @classmethod
    def parse(cls, properties: Properties) -> TransitionInput:
        reject_unknown(properties, cls.INPUTS)
        key = issue_key(properties)
        return cls(key, required_text(properties, "transition"))
