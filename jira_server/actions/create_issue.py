"""``create_issue``: a new issue from project, type, summary and optional fields."""

from __future__ import annotations

from typing import Any

from jira_server.actions.base import JiraActionExecutor, Log, Outcome
from jira_server.actions.create_meta import check_fields
from jira_server.actions.errors import jira_step
from jira_server.actions.inputs import CreateIssueInput
from jira_server.client.rest_client import JiraServerClient


async def create_checked(
    client: JiraServerClient, fields: dict[str, Any], wanted: CreateIssueInput, log: Log
) -> str:
    """Check ``fields`` against the create screen, then create the issue; its key."""
    screen = await check_fields(client, fields, wanted.project_key, wanted.issue_type)
    await log(f"The fields fit Jira's create screen for {screen.title}")
    # The type by the id Jira listed: a name may differ in case or be translated.
    fields = {**fields, "issuetype": {"id": str(screen.issue_type["id"])}}
    async with jira_step("Creating the issue", write=True):
        created = await client.create_issue(fields)
    key = str(created["key"])
    await log(f"Jira created {key}")
    return key


class CreateIssueExecutor(JiraActionExecutor):
    ACTION_NAME = "create_issue"

    async def perform(
        self, properties: dict[str, Any], client: JiraServerClient, log: Log
    ) -> Outcome:
        wanted = CreateIssueInput.parse(properties)
        await log(f"Creating a {wanted.issue_type} in {wanted.project_key}: {wanted.summary!r}")
        key = await create_checked(client, wanted.jira_fields(), wanted, log)
        return Outcome(key, f"Created {key}: {wanted.summary}")
