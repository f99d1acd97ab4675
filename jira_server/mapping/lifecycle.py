"""Lifecycle metrics of an issue, computed from its changelog: ``__lifecycle``.

    leadTimeHours          created -> resolutiondate (null while unresolved)
    cycleTimeHours         first move into an "In Progress"-category status -> resolutiondate
    timeInStatusHours      {status name: hours} of the completed stays in each status
    timeInCategoryHours    {category name: hours}, the same by status category
    reopenings             moves from a Done-category status to any other category
    statusChanges          how many status changes the history holds
    firstTransitionAt      the first status change (Jira's timestamp text), else null
    lastStatusChangeAt     the last status change, else null
    currentStatus          the status the issue is in now (by the changelog, else the field)

The current stay is *not* counted in the time-in-status maps: it grows every second, so
counting it would rewrite every open issue's entity on every sync. It runs from
``lastStatusChangeAt`` (or ``created``) on, which a mapping can use as it likes.

Statuses are named as Jira's ``/rest/api/2/status`` names them today (a renamed status is
counted under its current name); a status the changelog names but Jira no longer has (it was
deleted) is counted under the name the changelog gives, in the category ``Unknown``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

LIFECYCLE_KEY = "__lifecycle"
IN_PROGRESS_CATEGORY = "indeterminate"
DONE_CATEGORY = "done"
UNKNOWN_CATEGORY = "Unknown"
# What the metrics need of every issue, whatever the mapping asks for.
LIFECYCLE_FIELDS = ("created", "resolutiondate", "status")


@dataclass(frozen=True)
class StatusInfo:
    name: str
    category_key: str
    category_name: str


class StatusCatalog:
    """Jira's statuses by id (``/rest/api/2/status``), with their categories."""

    def __init__(self, statuses: Iterable[dict[str, Any]]) -> None:
        self.by_id: dict[str, StatusInfo] = {}
        for status in statuses:
            category = status.get("statusCategory") or {}
            self.by_id[str(status.get("id"))] = StatusInfo(
                str(status.get("name")),
                str(category.get("key") or ""),
                str(category.get("name") or UNKNOWN_CATEGORY),
            )

    def find(self, status_id: Any) -> StatusInfo | None:
        return self.by_id.get(str(status_id))


@dataclass(frozen=True)
class StatusChange:
    at: datetime
    at_text: str
    from_id: str | None
    from_name: str | None
    to_id: str | None
    to_name: str | None


def parse_time(text: Any) -> datetime | None:
    """Jira's ``2024-01-02T10:11:12.000+0000`` (or with a colon in the offset), else None."""
    if not isinstance(text, str) or not text:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _hours(start: datetime, end: datetime) -> float:
    return round((end - start).total_seconds() / 3600, 2)


def status_changes(histories: Iterable[Any]) -> list[StatusChange]:
    """The status changes of a changelog, oldest first (Jira lists histories oldest first,
    but a re-read page may not: sorted by time, then history id)."""
    found: list[tuple[datetime, int, StatusChange]] = []
    for history in histories:
        if not isinstance(history, dict):
            continue
        at = parse_time(history.get("created"))
        if at is None:
            continue
        try:
            order = int(history.get("id") or 0)
        except (TypeError, ValueError):
            order = 0
        for item in history.get("items") or ():
            if not isinstance(item, dict) or item.get("field") != "status":
                continue
            if item.get("fieldtype", "jira") != "jira":
                continue  # a custom field that happens to be named "status"
            change = StatusChange(
                at,
                str(history["created"]),
                _text(item.get("from")),
                _text(item.get("fromString")),
                _text(item.get("to")),
                _text(item.get("toString")),
            )
            found.append((at, order, change))
    found.sort(key=lambda entry: (entry[0], entry[1]))
    return [change for _, _, change in found]


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def lifecycle(
    issue: dict[str, Any],
    statuses: StatusCatalog,
    on_unknown: Callable[[str | None, str | None], None] = lambda status_id, name: None,
) -> dict[str, Any]:
    """The ``__lifecycle`` object of an issue with its complete changelog."""
    fields = issue.get("fields") or {}
    created = parse_time(fields.get("created"))
    resolved = parse_time(fields.get("resolutiondate"))
    changelog = issue.get("changelog") or {}
    changes = status_changes(changelog.get("histories") or ())

    def resolve(status_id: str | None, name: str | None) -> StatusInfo:
        known = statuses.find(status_id)
        if known is not None:
            return known
        on_unknown(status_id, name)
        return StatusInfo(name or f"status {status_id}", "", UNKNOWN_CATEGORY)

    status_field = fields.get("status")
    current_field: dict[str, Any] = status_field if isinstance(status_field, dict) else {}
    if changes:
        first = changes[0]
        state = resolve(first.from_id, first.from_name)
        current = resolve(changes[-1].to_id, changes[-1].to_name)
    else:
        state = current = resolve(current_field.get("id"), current_field.get("name"))

    in_status: dict[str, float] = {}
    in_category: dict[str, float] = {}
    since = created
    reopenings = 0
    # Created straight into an In Progress status (a workflow, an import): work started then.
    started = created if state.category_key == IN_PROGRESS_CATEGORY else None
    for change in changes:
        target = resolve(change.to_id, change.to_name)
        if since is not None and change.at >= since:
            spent = (change.at - since).total_seconds() / 3600
            in_status[state.name] = in_status.get(state.name, 0.0) + spent
            in_category[state.category_name] = in_category.get(state.category_name, 0.0) + spent
        if state.category_key == DONE_CATEGORY and target.category_key != DONE_CATEGORY:
            reopenings += 1
        if started is None and target.category_key == IN_PROGRESS_CATEGORY:
            started = change.at
        state, since = target, change.at

    return {
        "leadTimeHours": _hours(created, resolved) if resolved and created else None,
        "cycleTimeHours": _hours(started, resolved) if resolved and started else None,
        "timeInStatusHours": {name: round(h, 2) for name, h in in_status.items()},
        "timeInCategoryHours": {name: round(h, 2) for name, h in in_category.items()},
        "reopenings": reopenings,
        "statusChanges": len(changes),
        "firstTransitionAt": changes[0].at_text if changes else None,
        "lastStatusChangeAt": changes[-1].at_text if changes else None,
        "currentStatus": current.name,
    }


def changelog_is_complete(issue: dict[str, Any]) -> bool:
    """Whether the issue's embedded changelog holds every history Jira counts (search
    results truncate it beyond its ``maxResults``)."""
    changelog = issue.get("changelog")
    if not isinstance(changelog, dict):
        return False
    histories = changelog.get("histories")
    if not isinstance(histories, list):
        return False
    total = changelog.get("total")
    return not isinstance(total, int) or len(histories) >= total
