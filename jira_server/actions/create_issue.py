"""``create_issue``: a new issue from project, type, summary and optional fields."""

from __future__ import annotations

from typing import Any

from jira_server.actions.base import JiraActionExecutor, Log, Outcome
from jira_server.actions.errors import jira_step
from jira_server.actions.inputs import CreateIssueInput
from jira_server.client.rest_client import JiraServerClient


class CreateIssueExecutor(JiraActionExecutor):
    ACTION_NAME = "create_issue"

    async def perform(
        self, properties: dict[str, Any], client: JiraServerClient, log: Log
    ) -> Outcome:
        wanted = CreateIssueInput.parse(properties)
        await log(f"Creating a {wanted.issue_type} in {wanted.project_key}: {wanted.summary!r}")
        async with jira_step("Creating the issue", write=True):
            created = await client.create_issue(wanted.jira_fields())
        key = str(created["key"])
        await log(f"Jira created {key}")
        return Outcome(key, f"Created {key}: {wanted.summary}")
