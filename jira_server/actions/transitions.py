"""Pick the transition a user meant from what Jira offers for the issue right now.

The input may be a transition id ("31"), a transition name ("Start Progress") or the
target status ("In Progress"); names compare case-insensitively. Jira lists only the
transitions the credentials may perform from the current status, so "not offered" covers
both a workflow without that path and a missing Transition Issues permission.
"""

from __future__ import annotations

from typing import Any

from jira_server.actions.errors import ActionInputError


def _target(transition: dict[str, Any]) -> str:
    to = transition.get("to")
    return str(to.get("name", "")) if isinstance(to, dict) else ""


def describe(transition: dict[str, Any]) -> str:
    return f"'{transition.get('name')}' (id {transition.get('id')}, to '{_target(transition)}')"


def resolve(
    offered: list[dict[str, Any]], wanted: str, issue_key: str, current_status: str
) -> dict[str, Any]:
    for transition in offered:
        if str(transition.get("id")) == wanted:
            return transition
    folded = wanted.casefold()
    by_name = [t for t in offered if str(t.get("name", "")).casefold() == folded]
    if by_name:
        return by_name[0]
    by_target = [t for t in offered if _target(t).casefold() == folded]
    if len(by_target) == 1:
        return by_target[0]
    if by_target:
        raise ActionInputError(
            f"Several transitions of {issue_key} lead to '{wanted}': "
            + ", ".join(describe(t) for t in by_target)
            + "; give the transition's name or id in the input 'transition'",
            "Ambiguous transition",
        )
    if not offered:
        raise ActionInputError(
            f"Jira offers no transition for {issue_key} in status '{current_status}' to this "
            "user: the workflow has none from there, or the user lacks the 'Transition "
            "Issues' permission",
            "No transition",
        )
    raise ActionInputError(
        f"Input 'transition': {wanted!r} is neither a transition nor a target status "
        f"available for {issue_key} in status '{current_status}'. Available: "
        + ", ".join(describe(t) for t in offered),
        "No transition",
    )
