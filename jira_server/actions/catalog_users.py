"""Who the caller of a run is in Jira, as the catalog knows it: the ``jiraServerUser``
entities (synced by this integration) whose ``emailAddress`` is the caller's e-mail."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from port_ocean.clients.port.types import UserAgentType
from port_ocean.context.ocean import ocean

USER_BLUEPRINT = "jiraServerUser"


@dataclass(frozen=True)
class CatalogUser:
    identifier: str  # the Jira user key
    username: str | None
    active: bool


class UserDirectory(Protocol):
    async def by_email(self, email: str) -> list[CatalogUser]: ...


class OceanUserDirectory:
    """Searches the catalog through the framework's Port client (this integration's own
    entities only: the framework adds its datasource rules)."""

    async def by_email(self, email: str) -> list[CatalogUser]:
        entities = await ocean.port_client.search_entities(
            UserAgentType.exporter,
            query={
                "combinator": "and",
                "rules": [
                    {"property": "$blueprint", "operator": "=", "value": USER_BLUEPRINT},
                    {"property": "emailAddress", "operator": "=", "value": email},
                ],
            },
            parameters_to_include=["identifier", "properties"],
        )
        users = []
        for entity in entities:
            properties = entity.properties or {}
            username = properties.get("username")
            users.append(
                CatalogUser(
                    entity.identifier,
                    str(username) if username else None,
                    properties.get("active") is not False,
                )
            )
        return users
