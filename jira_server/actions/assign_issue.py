"""``assign_issue``: assign an issue to a Jira user by username, or to the caller.

"The caller" is the Jira user whose e-mail address is the one Port gives for the user who
ran the action (``callerEmail`` = ``{{ .trigger.by.user.email }}``), looked up among the
user entities (``jiraServerSyncUser``) in the catalog. Jira Server assigns by username (``name``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from jira_server.actions.base import JiraActionExecutor, Log, Outcome
from jira_server.actions.catalog_sync import IssueCatalog
from jira_server.actions.catalog_users import (
    OceanUserDirectory,
    UserDirectory,
)
from jira_server.actions.errors import ActionInputError, jira_step
from jira_server.actions.inputs import AssignInput
from jira_server.actions.reporting import RunReporter
from jira_server.client.provider import get_client
from jira_server.client.rest_client import JiraServerClient


class AssignIssueExecutor(JiraActionExecutor):
    ACTION_NAME = "assign_issue"

    def __init__(
        self,
        *,
        client: Callable[[], JiraServerClient] = get_client,
        reporter: RunReporter | None = None,
        catalog: IssueCatalog | None = None,
        users: UserDirectory | None = None,
    ) -> None:
        super().__init__(client=client, reporter=reporter, catalog=catalog)
        self._users = users

    async def _caller(self, email: str, log: Log, users: UserDirectory) -> str:
        try:
            found = await users.by_email(email)
        except Exception as exc:
            raise ActionInputError(
                f"Could not look up the Jira user of {email} in the catalog ({exc}); choose "
                "the assignee in the action's form",
                "Catalog unavailable",
            ) from None
        active = [u for u in found if u.active and u.username]
        if not found:
            raise ActionInputError(
                f"No Jira user with the e-mail address {email} is in the catalog "
                f"({users.blueprint()} entities): choose the assignee in the action's form, or "
                "check that the user kind is synced and the addresses match",
                "Unknown user",
            )
        if not active:
            raise ActionInputError(
                f"The Jira user(s) with the e-mail address {email} in the catalog ("
                + ", ".join(u.identifier for u in found)
                + ") are inactive or have no username: choose the assignee in the form",
                "Unknown user",
            )
        if len(active) > 1:
            raise ActionInputError(
                f"Several Jira users have the e-mail address {email}: "
                + ", ".join(str(u.username) for u in active)
                + "; choose the assignee in the action's form",
                "Ambiguous user",
            )
        await log(f"{email} is the Jira user {active[0].username} ({active[0].identifier})")
        return str(active[0].username)

    async def perform(
        self, properties: dict[str, Any], client: JiraServerClient, log: Log
    ) -> Outcome:
        wanted = AssignInput.parse(properties)
        key = wanted.issue_key
        username = wanted.assignee
        if username is None and wanted.caller_email is not None:
            users = self._users or OceanUserDirectory(client.settings.blueprint_prefix)
            username = await self._caller(wanted.caller_email, log, users)
        if username is None:  # AssignInput.parse refuses a run with neither
            raise ActionInputError("Input 'assignee' is required")
        await log(f"Assigning {key} to {username}")
        async with jira_step(f"Assigning {key} to {username}", write=True):
            await client.assign_issue(key, username)
        return Outcome(key, f"Assigned {key} to {username}")
