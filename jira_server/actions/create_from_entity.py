"""``create_issue_from_entity``: a Jira issue about any catalog entity (a service, an
incident ...), related back to it.

Port relations point at one target blueprint, so a relation to "any blueprint" cannot be
expressed; the issue keeps its source in Jira instead, as the label
``port-entity:<blueprint>:<identifier>``, which the default issue mapping turns into the
``sourceEntityBlueprint`` and ``sourceEntityIdentifier`` properties on every sync (a mapping
may add a real relation for a blueprint it knows). The description ends with a link to the
entity's page in Port (``portAppUrl``).
"""

from __future__ import annotations

from typing import Any

from jira_server.actions.base import JiraActionExecutor, Log, Outcome
from jira_server.actions.create_issue import create_checked
from jira_server.actions.inputs import CreateFromEntityInput
from jira_server.client.rest_client import JiraServerClient


class CreateIssueFromEntityExecutor(JiraActionExecutor):
    ACTION_NAME = "create_issue_from_entity"

    async def perform(
        self, properties: dict[str, Any], client: JiraServerClient, log: Log
    ) -> Outcome:
        wanted = CreateFromEntityInput.parse(properties)
        issue, entity = wanted.issue, wanted.entity
        await log(
            f"Creating a {issue.issue_type} in {issue.project_key} for {entity.describe()}: "
            f"{issue.summary!r}"
        )
        fields = wanted.jira_fields(client.settings.port_app_url)
        key = await create_checked(client, fields, issue, log)
        return Outcome(
            key, f"Created {key} for {entity.blueprint} {entity.identifier}: {issue.summary}"
        )
