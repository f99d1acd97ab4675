"""``transition_issue``: move an issue through its workflow by transition or target status.

The input is resolved against ``GET /issue/{key}/transitions``, which lists only what the
credentials may do from the current status. Asking for the status the issue is already in
succeeds without a change, so a repeated run is harmless.
"""

from __future__ import annotations

from typing import Any

from jira_server.actions.base import JiraActionExecutor, Log, Outcome
from jira_server.actions.errors import jira_step
from jira_server.actions.inputs import TransitionInput
from jira_server.actions.transitions import describe, resolve
from jira_server.client.rest_client import JiraServerClient


def _status_name(issue: dict[str, Any]) -> str:
    status = (issue.get("fields") or {}).get("status")
    return str(status.get("name", "?")) if isinstance(status, dict) else "?"


class TransitionIssueExecutor(JiraActionExecutor):
    ACTION_NAME = "transition_issue"

    async def perform(
        self, properties: dict[str, Any], client: JiraServerClient, log: Log
    ) -> Outcome:
        wanted = TransitionInput.parse(properties)
        key = wanted.issue_key
        async with jira_step(f"Reading {key}"):
            current = _status_name(await client.fetch_issue(key, fields=["status"]))
        if wanted.transition.casefold() == current.casefold():
            return Outcome(key, f"{key} is already in status '{current}': nothing to do")
        async with jira_step(f"Listing the transitions of {key}"):
            offered = await client.fetch_transitions(key)
        chosen = resolve(offered, wanted.transition, key, current)
        await log(f"Transitioning {key} from '{current}' with {describe(chosen)}")
        async with jira_step(f"Transitioning {key}", write=True):
            await client.transition_issue(key, str(chosen["id"]))
        target = (chosen.get("to") or {}).get("name", "?")
        return Outcome(key, f"Moved {key} from '{current}' to '{target}' ({chosen.get('name')})")
