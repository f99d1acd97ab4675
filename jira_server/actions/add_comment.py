"""``add_comment``: a comment on an existing issue."""

from __future__ import annotations

from typing import Any

from jira_server.actions.base import JiraActionExecutor, Log, Outcome
from jira_server.actions.errors import jira_step
from jira_server.actions.inputs import AddCommentInput
from jira_server.client.rest_client import JiraServerClient


class AddCommentExecutor(JiraActionExecutor):
    ACTION_NAME = "add_comment"

    async def perform(
        self, properties: dict[str, Any], client: JiraServerClient, log: Log
    ) -> Outcome:
        wanted = AddCommentInput.parse(properties)
        await log(f"Adding a comment to {wanted.issue_key} ({len(wanted.body)} characters)")
        async with jira_step(f"Commenting on {wanted.issue_key}", write=True):
            comment = await client.add_comment(wanted.issue_key, wanted.body)
        return Outcome(
            wanted.issue_key, f"Commented on {wanted.issue_key} (comment {comment.get('id')})"
        )
