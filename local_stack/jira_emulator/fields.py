"""The issue field catalogue: ids, display names, schemas, output order, and Jira's
``fields`` parameter semantics (``*all``, ``*navigable``, ``-name``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from local_stack.jira_emulator import catalog as cat

SYSTEM_NAMES = {
    "issuetype": "Issue Type",
    "components": "Component/s",
    "timespent": "Time Spent",
    "timeoriginalestimate": "Original Estimate",
    "description": "Description",
    "project": "Project",
    "fixVersions": "Fix Version/s",
    "aggregatetimespent": "Σ Time Spent",
    "resolution": "Resolution",
    "timetracking": "Time tracking",
    "attachment": "Attachment",
    "aggregatetimeestimate": "Σ Remaining Estimate",
    "resolutiondate": "Resolved",
    "workratio": "Work Ratio",
    "summary": "Summary",
    "lastViewed": "Last Viewed",
    "watches": "Watchers",
    "creator": "Creator",
    "subtasks": "Sub-Tasks",
    "created": "Created",
    "reporter": "Reporter",
    "aggregateprogress": "Σ Progress",
    "priority": "Priority",
    "labels": "Labels",
    "environment": "Environment",
    "timeestimate": "Remaining Estimate",
    "aggregatetimeoriginalestimate": "Σ Original Estimate",
    "versions": "Affects Version/s",
    "duedate": "Due Date",
    "progress": "Progress",
    "comment": "Comment",
    "issuelinks": "Linked Issues",
    "votes": "Votes",
    "worklog": "Log Work",
    "assignee": "Assignee",
    "updated": "Updated",
    "status": "Status",
    "parent": "Parent",
    "archiveddate": "Archived",
    "archivedby": "Archiver",
}
SYSTEM_SCHEMA: dict[str, dict[str, Any]] = {
    "issuetype": {"type": "issuetype"},
    "components": {"type": "array", "items": "component"},
    "timespent": {"type": "number"},
    "timeoriginalestimate": {"type": "number"},
    "description": {"type": "string"},
    "project": {"type": "project"},
    "fixVersions": {"type": "array", "items": "version"},
    "aggregatetimespent": {"type": "number"},
    "resolution": {"type": "resolution"},
    "timetracking": {"type": "timetracking"},
    "attachment": {"type": "array", "items": "attachment"},
    "aggregatetimeestimate": {"type": "number"},
    "resolutiondate": {"type": "datetime"},
    "workratio": {"type": "number"},
    "summary": {"type": "string"},
    "lastViewed": {"type": "datetime"},
    "watches": {"type": "watches"},
    "creator": {"type": "user"},
    "subtasks": {"type": "array", "items": "issuelinks"},
    "created": {"type": "datetime"},
    "reporter": {"type": "user"},
    "aggregateprogress": {"type": "progress"},
    "priority": {"type": "priority"},
    "labels": {"type": "array", "items": "string"},
    "environment": {"type": "string"},
    "timeestimate": {"type": "number"},
    "aggregatetimeoriginalestimate": {"type": "number"},
    "versions": {"type": "array", "items": "version"},
    "duedate": {"type": "date"},
    "progress": {"type": "progress"},
    "comment": {"type": "comments-page"},
    "issuelinks": {"type": "array", "items": "issuelinks"},
    "votes": {"type": "votes"},
    "worklog": {"type": "array", "items": "worklog"},
    "assignee": {"type": "user"},
    "updated": {"type": "datetime"},
    "status": {"type": "status"},
    "parent": {"type": "issuelink"},
    "archiveddate": {"type": "datetime"},
    "archivedby": {"type": "user"},
}
CUSTOM = {f.id: f for f in cat.CUSTOM_FIELDS}
# Output order as a real DC instance emits it (a HashMap order, stable per install).
FIELD_ORDER: tuple[str, ...] = (
    "parent",
    "issuetype",
    "components",
    "timespent",
    "timeoriginalestimate",
    "description",
    "project",
    "fixVersions",
    "customfield_10110",
    "customfield_10111",
    "aggregatetimespent",
    "resolution",
    "timetracking",
    "customfield_10104",
    "customfield_10105",
    "customfield_10106",
    "customfield_10107",
    "customfield_10108",
    "attachment",
    "customfield_10109",
    "aggregatetimeestimate",
    "resolutiondate",
    "workratio",
    "summary",
    "lastViewed",
    "watches",
    "creator",
    "subtasks",
    "created",
    "reporter",
    "customfield_10000",
    "aggregateprogress",
    "priority",
    "customfield_10100",
    "customfield_10101",
    "customfield_10102",
    "customfield_10103",
    "labels",
    "environment",
    "timeestimate",
    "aggregatetimeoriginalestimate",
    "versions",
    "duedate",
    "progress",
    "comment",
    "issuelinks",
    "votes",
    "worklog",
    "customfield_10112",
    "customfield_10113",
    "customfield_10114",
    "customfield_10115",
    "customfield_10116",
    "customfield_10117",
    "customfield_10118",
    "customfield_10119",
    "customfield_10120",
    "customfield_10121",
    "customfield_10122",
    "customfield_10123",
    "customfield_10124",
    "customfield_10125",
    "customfield_10126",
    "customfield_10127",
    "customfield_10128",
    "customfield_10129",
    "assignee",
    "archiveddate",
    "archivedby",
    "updated",
    "status",
)
ALL_FIELDS = frozenset(FIELD_ORDER)
# Not navigable: the issue navigator cannot show them as columns, so `*navigable` omits them.
NON_NAVIGABLE = frozenset({"comment", "worklog", "attachment", "timetracking"})
NAVIGABLE_FIELDS = ALL_FIELDS - NON_NAVIGABLE
_FIELD_BY_LOWER = {name.lower(): name for name in FIELD_ORDER}


def select_fields(requested: Iterable[str] | None, default: frozenset[str]) -> tuple[str, ...]:
    """Jira's ``fields`` parameter: ``*all``, ``*navigable``, names, ``-name`` exclusions.

    Unknown names are ignored silently; ``id`` and ``key`` are top-level anyway. A list
    of only exclusions starts from the endpoint's default set."""
    tokens = [t.strip() for t in (requested or []) if t and t.strip()]
    if not tokens:
        chosen = set(default)
    else:
        chosen = set()
        excluded: set[str] = set()
        positive = False
        for token in tokens:
            if token == "*all":
                chosen |= ALL_FIELDS
                positive = True
            elif token == "*navigable":
                chosen |= NAVIGABLE_FIELDS
                positive = True
            elif token.startswith("-"):
                name = _FIELD_BY_LOWER.get(token[1:].lower())
                if name:
                    excluded.add(name)
            else:
                positive = True
                name = _FIELD_BY_LOWER.get(token.lower())
                if name:
                    chosen.add(name)
        if not positive:
            chosen = set(default)
        chosen -= excluded
    return tuple(name for name in FIELD_ORDER if name in chosen)


def field_names(selected: Iterable[str]) -> dict[str, str]:
    return {f: CUSTOM[f].name if f in CUSTOM else SYSTEM_NAMES[f] for f in selected}


def field_schema(selected: Iterable[str]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for name in selected:
        if name in CUSTOM:
            field = CUSTOM[name]
            schema: dict[str, Any] = {"type": field.schema_type}
            if field.items:
                schema["items"] = field.items
            schema["custom"] = field.custom
            schema["customId"] = int(name.rsplit("_", 1)[1])
            out[name] = schema
        else:
            out[name] = {**SYSTEM_SCHEMA[name], "system": name}
    return out


@dataclass
class Selection:
    fields: tuple[str, ...]
    expand: frozenset[str]
