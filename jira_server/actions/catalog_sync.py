"""Upsert the issue an action created or changed into the catalog right away.

The issue is refetched with the fields the issue mapping reads (the same request a resync
makes, sprints included) and registered through the framework (``register_raw``), so the
JQ mapping, the selector's ``query`` and the usual upsert apply.

Only an issue that an issue selector's JQL selects is upserted: the catalog keeps
mirroring the selectors. An action never deletes: an issue an action moved out of the
selection (e.g. to Done under ``statusCategory != Done``) keeps its entity until the next
resync reconciles. With several issue resources, an issue any of them selects is
registered through all issue mappings (the framework registers per kind).

A failure here never fails the run: the change is already made in Jira, and the next
resync brings the catalog up to date.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, cast

from loguru import logger
from port_ocean.clients.port.types import UserAgentType
from port_ocean.context.ocean import ocean
from port_ocean.core.handlers.port_app_config.models import PortAppConfig
from port_ocean.core.models import Entity

from jira_server.client.rest_client import JiraServerClient
from jira_server.mapping.enrichment import IssueEnrichment
from jira_server.mapping.fields import split_csv
from jira_server.resources import IssueResourceConfig

ConfigProvider = Callable[[], Awaitable[PortAppConfig]]
Register = Callable[[list[dict[str, Any]]], Awaitable[list[Entity]]]


@dataclass(frozen=True)
class CatalogSync:
    upserted: bool
    message: str


class IssueCatalog(Protocol):
    async def sync_issue(self, client: JiraServerClient, key: str) -> CatalogSync: ...


async def _current_config() -> PortAppConfig:
    return await ocean.integration.port_app_config_handler.get_port_app_config()


async def _register_issue(raw: list[dict[str, Any]]) -> list[Entity]:
    return await ocean.integration.register_raw("issue", raw, UserAgentType.exporter)


async def fetch_for_mapping(
    client: JiraServerClient, resources: Sequence[IssueResourceConfig], key: str
) -> dict[str, Any]:
    """The issue as a resync of these resources would see it."""
    fields: list[str] = []
    expand: list[str] = []
    expressions: list[str] = []
    for resource in resources:
        fields += [f for f in resource.jira_fields() if f not in fields]
        expand += [e for e in split_csv(resource.selector.expand) if e not in expand]
        expressions += resource.expressions()
    enrichment = await IssueEnrichment.load(expressions, client)
    issue = await client.fetch_issue(
        key, fields=enrichment.request_fields(fields), expand=enrichment.request_expand(expand)
    )
    await enrichment.apply([issue])
    return issue


class OceanIssueCatalog:
    """The framework's current mapping and catalog (replaceable for tests)."""

    def __init__(
        self, config: ConfigProvider = _current_config, register: Register = _register_issue
    ) -> None:
        self._config = config
        self._register = register

    async def sync_issue(self, client: JiraServerClient, key: str) -> CatalogSync:
        try:
            return await self._sync(client, key)
        except Exception as exc:
            logger.exception(f"Upserting {key} into the catalog failed")
            return CatalogSync(
                False,
                f"{key} could not be upserted into the catalog now "
                f"({client.redact(str(exc))}); the next resync will bring it",
            )

    async def _sync(self, client: JiraServerClient, key: str) -> CatalogSync:
        config = await self._config()
        # By kind, not isinstance: Ocean loads integration.py as a module of its own.
        resources = [cast(IssueResourceConfig, r) for r in config.resources if r.kind == "issue"]
        if not resources:
            return CatalogSync(False, "the mapping has no issue kind: the catalog is unchanged")
        selected = [r for r in resources if await client.issue_matches(r.selector.jql, key=key)]
        if not selected:
            return CatalogSync(
                False,
                f"{key} is not selected by the issue selector's JQL, so it is not upserted "
                "into the catalog",
            )
        issue = await fetch_for_mapping(client, selected, key)
        entities = await self._register([issue])
        if not entities:
            return CatalogSync(
                False,
                f"the issue mapping produced no entity for {key} (its selector query "
                "excluded it, or the catalog refused it: see the integration's log)",
            )
        upserted = ", ".join(f"{e.blueprint} {e.identifier}" for e in entities)
        return CatalogSync(True, f"upserted into the catalog ({upserted})")
