"""Read Jira Server's sprint custom field, whatever form it takes.

Jira Software 8.x/9.x write each sprint as a Java ``toString``::

    com.atlassian.greenhopper.service.sprint.Sprint@1a2b[id=7,rapidViewId=3,state=CLOSED,
    name=Sprint 7,startDate=2024-01-01T10:00:00.000+01:00,endDate=<null>,goal=Ship, then rest,...]

where names and goals may contain commas and nulls are ``<null>``; newer servers (and the
agile API) give JSON objects with lower-case states. Both become
``{"id": int, "name": str, "state": "active"|"closed"|"future", "boardId": int | None, ...}``.
"""

from __future__ import annotations

import re
from typing import Any

SPRINT_FIELD_SCHEMA = "com.pyxis.greenhopper.jira:gh-sprint"

# The keys Jira writes, in any order; a value runs until the next ",<known key>=".
_KNOWN_KEYS = (
    "id",
    "rapidViewId",
    "state",
    "name",
    "goal",
    "startDate",
    "endDate",
    "completeDate",
    "activatedDate",
    "sequence",
    "autoStartStop",
    "synced",
    "incompleteIssuesDestinationId",
)
_KEY_AT = re.compile(r"(?:^|,)(" + "|".join(_KNOWN_KEYS) + r")=")
_BODY = re.compile(r"^[\w.$]+@[0-9a-fA-F]+\[(?P<body>.*)\]$", re.DOTALL)


def parse_legacy_sprint(text: str) -> dict[str, Any] | None:
    match = _BODY.match(text.strip())
    if not match:
        return None
    body = match.group("body")
    marks = list(_KEY_AT.finditer(body))
    raw: dict[str, str | None] = {}
    for index, mark in enumerate(marks):
        end = marks[index + 1].start() if index + 1 < len(marks) else len(body)
        value = body[mark.end() : end]
        raw[mark.group(1)] = None if value == "<null>" else value
    if raw.get("id") is None:
        return None
    return _normalised(
        {
            "id": raw.get("id"),
            "name": raw.get("name"),
            "state": raw.get("state"),
            "boardId": raw.get("rapidViewId"),
            "goal": raw.get("goal"),
            "startDate": raw.get("startDate"),
            "endDate": raw.get("endDate"),
            "completeDate": raw.get("completeDate"),
        }
    )


def _normalised(sprint: dict[str, Any]) -> dict[str, Any]:
    def as_int(value: Any) -> int | None:
        try:
            return int(value)
        except (TypeError, ValueError):
            return None

    state = sprint.get("state")
    return {
        **sprint,
        "id": as_int(sprint.get("id")),
        "boardId": as_int(sprint.get("boardId")),
        "state": state.lower() if isinstance(state, str) else None,
        "goal": sprint.get("goal") or None,
    }


def parse_sprint_value(value: Any) -> list[dict[str, Any]]:
    """Every sprint in a sprint-field value (a list, a single item, or null); unparseable
    items are dropped rather than guessed."""
    items = value if isinstance(value, list) else [] if value is None else [value]
    sprints: list[dict[str, Any]] = []
    for item in items:
        if isinstance(item, str):
            parsed = parse_legacy_sprint(item)
        elif isinstance(item, dict) and item.get("id") is not None:
            parsed = _normalised(
                {
                    "id": item.get("id"),
                    "name": item.get("name"),
                    "state": item.get("state"),
                    # Agile API objects say originBoardId, the 10.x field's objects boardId.
                    "boardId": item.get(
                        "originBoardId", item.get("boardId", item.get("rapidViewId"))
                    ),
                    "goal": item.get("goal"),
                    "startDate": item.get("startDate"),
                    "endDate": item.get("endDate"),
                    "completeDate": item.get("completeDate"),
                }
            )
        else:
            parsed = None
        if parsed is not None and parsed["id"] is not None:
            sprints.append(parsed)
    return sprints


def sprint_field_ids(fields: list[dict[str, Any]]) -> list[str]:
    """Ids of the sprint custom field(s) in ``/rest/api/2/field`` (usually exactly one)."""
    return [
        str(f["id"])
        for f in fields
        if isinstance(f.get("schema"), dict) and f["schema"].get("custom") == SPRINT_FIELD_SCHEMA
    ]
