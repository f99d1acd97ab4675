"""The integration class and its typed port app config (a selector per kind)."""

import sys
from typing import Any, Literal

from loguru import logger
from port_ocean.context.ocean import PortOceanContext
from port_ocean.core.handlers.port_app_config.api import APIPortAppConfig
from port_ocean.core.handlers.port_app_config.models import (
    PortAppConfig,
    ResourceConfig,
    Selector,
)
from port_ocean.core.integrations.base import BaseIntegration
from pydantic.v1 import Field

from jira_server import outcome
from jira_server.errors import SettingsError
from jira_server.fields import mapping_expressions, requested_fields
from jira_server.issue_enrichment import reads_sprints
from jira_server.settings import JiraSettings, load_settings

# What upstream Port users expect: open issues plus anything touched in the last week.
DEFAULT_ISSUE_JQL = "(statusCategory != Done) OR (created >= -1w) OR (updated >= -1w)"


class ProjectSelector(Selector):
    expand: str | None = Field(
        default=None,
        title="Expand",
        description="Comma-separated project expansions, e.g. description,lead,url",
    )
    include_archived: bool = Field(
        default=False,
        alias="includeArchived",
        title="Include archived",
        description="Also sync archived projects",
    )


class UserSelector(Selector):
    include_inactive: bool = Field(
        default=False,
        alias="includeInactive",
        title="Include inactive",
        description="Also sync deactivated users",
    )


class IssueSelector(Selector):
    jql: str = Field(
        default=DEFAULT_ISSUE_JQL,
        title="JQL",
        description="Which issues to sync. An ORDER BY is ignored: the sync pages by issue id",
    )
    fields: str | None = Field(
        default=None,
        title="Fields",
        description=(
            "Comma-separated Jira fields to fetch. Empty: the fields the mappings read "
            "(.fields.X); '*all' for everything"
        ),
    )
    expand: str | None = Field(
        default=None, title="Expand", description="Comma-separated expansions, e.g. changelog"
    )


class BoardSelector(Selector):
    board_type: str | None = Field(
        default=None,
        alias="boardType",
        title="Board type",
        description="Only boards of this type: scrum or kanban (default: all)",
    )


class SprintSelector(Selector):
    state: str = Field(
        default="active,future",
        title="States",
        description="Comma-separated sprint states to sync: active, future, closed",
    )


class VersionSelector(Selector):
    include_released: bool = Field(
        default=True, alias="includeReleased", title="Include released versions"
    )
    include_archived: bool = Field(
        default=False, alias="includeArchived", title="Include archived versions"
    )


class ProjectResourceConfig(ResourceConfig):
    kind: Literal["project"]
    selector: ProjectSelector


class UserResourceConfig(ResourceConfig):
    kind: Literal["user"]
    selector: UserSelector


class IssueResourceConfig(ResourceConfig):
    kind: Literal["issue"]
    selector: IssueSelector

    def jira_fields(self) -> list[str]:
        """The ``fields`` sent to Jira: the selector's, else those the mappings read."""
        return requested_fields(
            self.selector.fields,
            self.port.entity.mappings.dict(),
            self.selector.query,
            self.port.items_to_parse,
        )

    def reads_sprints(self) -> bool:
        return reads_sprints(mapping_expressions(self.port.entity.mappings.dict()))


class BoardResourceConfig(ResourceConfig):
    kind: Literal["board"]
    selector: BoardSelector


class SprintResourceConfig(ResourceConfig):
    kind: Literal["sprint"]
    selector: SprintSelector


class VersionResourceConfig(ResourceConfig):
    kind: Literal["version"]
    selector: VersionSelector


class ComponentResourceConfig(ResourceConfig):
    kind: Literal["component"]


JiraResourceConfig = (
    ProjectResourceConfig
    | UserResourceConfig
    | IssueResourceConfig
    | BoardResourceConfig
    | SprintResourceConfig
    | VersionResourceConfig
    | ComponentResourceConfig
)


class JiraServerPortAppConfig(PortAppConfig):
    resources: list[JiraResourceConfig] = Field(default_factory=list)  # type: ignore[assignment]


class JiraServerIntegration(BaseIntegration):
    class AppConfigHandlerClass(APIPortAppConfig):
        CONFIG_CLASS = JiraServerPortAppConfig

    def __init__(self, context: PortOceanContext) -> None:
        super().__init__(context)
        self.settings: JiraSettings = load_settings_or_exit(context.integration_config)
        if not self.settings.verify_ssl:
            logger.warning(
                "verifySsl is false: Jira's TLS certificate is NOT verified and the credentials "
                "can be intercepted. Prefer caBundle for an internal CA"
            )

    async def sync_raw_all(self, *args: Any, **kwargs: Any) -> bool:
        outcome.reset()
        succeeded = False
        try:
            succeeded = bool(await super().sync_raw_all(*args, **kwargs))
        finally:
            if not succeeded:
                logger.error(f"Resync failed, catalog left as it was: {outcome.summary()}")
                if self.context.config.event_listener.type == "ONCE":
                    outcome.exit_with_code_at_shutdown(outcome.EXIT_RESYNC_FAILED)
        return succeeded


def load_settings_or_exit(raw: dict[str, Any]) -> JiraSettings:
    """Stop before the framework touches the catalog, with a message naming the setting."""
    try:
        return load_settings(raw)
    except SettingsError as exc:
        message = f"Invalid jira-server-sync configuration: {exc}"
        logger.error(message)
        print(message, file=sys.stderr, flush=True)
        raise SystemExit(outcome.EXIT_BAD_SETTINGS) from None
