"""Action inputs (the run's execution properties), checked before any Jira call.

Every error names the input as ``.port/resources/actions.json`` passes it, so the run's
summary in Port says what to fix. Port renders an optional input the user left empty as
null (or leaves it out), so null, missing and blank all mean "not given".
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import quote

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

# Port's identifier rules: blueprints ^[A-Za-z0-9@_=\-]+$, entities ^[A-Za-z0-9@_.+:\/=-]+$
# (no spaces, so the reference fits in a Jira label).
BLUEPRINT_ID = re.compile(r"[A-Za-z0-9@_=\-]+")
ENTITY_ID = re.compile(r"[A-Za-z0-9@_.+:/=\-]+")
# The label that keeps the source entity in Jira, so every resync maps it again.
SOURCE_LABEL_PREFIX = "port-entity:"

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


@dataclass(frozen=True)
class EntityReference:
    """The catalog entity an issue is created from."""

    blueprint: str
    identifier: str
    title: str | None = None

    @property
    def label(self) -> str:
        """``port-entity:<blueprint>:<identifier>``: the issue mapping reads it back."""
        return f"{SOURCE_LABEL_PREFIX}{self.blueprint}:{self.identifier}"

    def page_url(self, port_app_url: str) -> str:
        """The entity's page in Port's app."""
        return f"{port_app_url}/{self.blueprint}Entity?identifier={quote(self.identifier, safe='')}"

    def describe(self) -> str:
        named = f" ({self.title})" if self.title and self.title != self.identifier else ""
        return f"{self.blueprint} {self.identifier}{named}"


@dataclass(frozen=True)
class CreateFromEntityInput:
    """``create_issue_from_entity``: ``create_issue``'s inputs plus the source entity."""

    ENTITY_INPUTS = ("entityBlueprint", "entityIdentifier", "entityTitle")
    INPUTS = ENTITY_INPUTS + CreateIssueInput.INPUTS

    entity: EntityReference
    issue: CreateIssueInput

    @classmethod
    def parse(cls, properties: Properties) -> CreateFromEntityInput:
        reject_unknown(properties, cls.INPUTS)
        blueprint = required_text(properties, "entityBlueprint")
        if not BLUEPRINT_ID.fullmatch(blueprint):
            raise ActionInputError(
                f"Input 'entityBlueprint' must be a Port blueprint identifier, not {blueprint!r}"
            )
        identifier = required_text(properties, "entityIdentifier")
        if not ENTITY_ID.fullmatch(identifier):
            raise ActionInputError(
                f"Input 'entityIdentifier' must be a Port entity identifier, not {identifier!r}"
            )
        entity = EntityReference(blueprint, identifier, text(properties, "entityTitle"))
        if len(entity.label) > MAX_LABEL:
            raise ActionInputError(
                f"Input 'entityIdentifier': the reference {entity.label!r} is longer than a "
                f"Jira label may be ({MAX_LABEL} characters)"
            )
        if text(properties, "projectKey") is None:
            # Port renders a property the entity lacks (e.g. .entity.properties.jiraProjectKey)
            # as null: say which entity and what to set.
            raise ActionInputError(
                f"Input 'projectKey' is empty: the entity {entity.describe()} has no Jira "
                "project key. Choose a project in the action's form, or set the entity "
                "property the action reads it from (jiraProjectKey in the default definition)",
                "Missing project",
            )
        issue_properties = {k: v for k, v in properties.items() if k not in cls.ENTITY_INPUTS}
        issue = CreateIssueInput.parse(issue_properties)
        labels = [*issue.labels, entity.label] if entity.label not in issue.labels else issue.labels
        return cls(entity, replace(issue, labels=labels))

    def jira_fields(self, port_app_url: str) -> dict[str, Any]:
        fields = self.issue.jira_fields()
        # Jira wiki markup: a title's brackets or pipe would end the link early.
        shown = re.sub(r"[\[\]|]", " ", self.entity.describe())
        link = f"[{shown}|{self.entity.page_url(port_app_url)}]"
        back = f"Created from Port for {link}."
        description = self.issue.description
        fields["description"] = f"{description.rstrip()}\n\n----\n{back}" if description else back
        return fields


@dataclass(frozen=True)
class AssignInput:
    """``assign_issue``: to ``assignee`` (a Jira username), or else to the Jira user whose
    e-mail address is the caller's (``callerEmail``, from Port's ``.trigger.by.user.email``)."""

    INPUTS = ("issueKey", "assignee", "callerEmail")

    issue_key: str
    assignee: str | None
    caller_email: str | None

    @classmethod
    def parse(cls, properties: Properties) -> AssignInput:
        reject_unknown(properties, cls.INPUTS)
        key = issue_key(properties)
        assignee = text(properties, "assignee")
        email = text(properties, "callerEmail")
        if assignee is None and email is None:
            raise ActionInputError(
                "Input 'assignee' is empty and the run has no caller e-mail (callerEmail): "
                "choose a Jira user to assign the issue to"
            )
        if email is not None and "@" not in email:
            raise ActionInputError(f"Input 'callerEmail' is not an e-mail address: {email!r}")
        return cls(key, assignee, email)
