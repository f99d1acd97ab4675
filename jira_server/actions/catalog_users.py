"""Who the caller of a run is in Jira, as the catalog knows it: the user entities
(``jiraServerSyncUser``, or the configured ``blueprintPrefix``; synced by this integration)
whose ``emailAddress`` is the caller's e-mail."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from port_ocean.clients.port.types import UserAgentType
from port_ocean.context.ocean import ocean

from jira_server.blueprints import DEFAULT_PREFIX, blueprint


@dataclass(frozen=True)
class CatalogUser:
    identifier: str  # the Jira user key
    username: str | None
    active: bool


class UserDirectory(Protocol):
    async def by_email(self, email: str) -> list[CatalogUser]: ...

    def blueprint(self) -> str: ...


class OceanUserDirectory:
    """Searches the catalog through the framework's Port client (this integration's own
    entities only: the framework adds its datasource rules). ``prefix`` is the installation's
    ``blueprintPrefix``."""

    def __init__(self, prefix: str = DEFAULT_PREFIX) -> None:
        self._blueprint = blueprint("user", prefix)

    def blueprint(self) -> str:
        return self._blueprint

    async def by_email(self, email: str) -> list[CatalogUser]:
        entities = await ocean.port_client.search_entities(
            UserAgentType.exporter,
            query={
                "combinator": "and",
                "rules": [
                    {"property": "$blueprint", "operator": "=", "value": self._blueprint},
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
