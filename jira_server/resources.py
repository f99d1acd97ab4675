"""The typed port app config: a selector and resource config per kind, and the mapping-level
settings. The framework parses the mapping into these classes (integration.py names them as
its CONFIG_CLASS); everything else imports them from here, so ``isinstance`` works."""

from __future__ import annotations

from typing import Literal

from port_ocean.core.handlers.port_app_config.models import (
    PortAppConfig,
    ResourceConfig,
    Selector,
)
from pydantic.v1 import Field, validator

from jira_server.client.activity import parse_since
from jira_server.mapping.enrichment import reads_sprints
from jira_server.mapping.fields import mapping_expressions, requested_fields
from jira_server.sync.guard import DEFAULT_MAX_DELETION_FRACTION

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
        default=True,
        alias="includeInactive",
        title="Include inactive",
        description=(
            "Also sync deactivated users (issues still name people who left: without them the "
            "relations point at empty placeholders)"
        ),
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
    slim_payload: bool = Field(
        default=True,
        alias="slimPayload",
        title="Slim payloads",
        description=(
            "Drop the keys of raw issues that no mapping expression can read before mapping "
            "(decided from the expressions; off by itself for expressions it cannot bound)"
        ),
    )
    incremental: bool = Field(
        default=True,
        title="Delta sync",
        description=(
            "Between full syncs, list the JQL's scope cheaply and re-read only issues Jira "
            "changed since the last successful sync (and those the catalog lacks); deletions "
            "and issues that left the JQL are reconciled in every run"
        ),
    )
    full_sync_every: int = Field(
        default=24,
        alias="fullSyncEvery",
        ge=1,
        title="Full sync every N runs",
        description="With delta sync: every Nth run re-reads everything (a safety net)",
    )
    incremental_overlap_minutes: int = Field(
        default=10,
        alias="incrementalOverlapMinutes",
        ge=0,
        title="Overlap (minutes)",
        description=(
            "How far before the last successful sync's start a delta run looks for changes "
            "(Jira's clock; covers writes that were still in flight)"
        ),
    )


class _ActivitySelector(Selector):
    """Comments and worklogs: of the issues a JQL selects, bounded in time, with delta runs."""

    jql: str = Field(
        default=DEFAULT_ISSUE_JQL,
        title="JQL",
        description="Whose issues' items to sync (default: the issue kind's default JQL)",
    )
    since: str | None = Field(
        default=None,
        title="Since",
        description=(
            "Only items created or updated since then: a date (2025-01-31), a date and time "
            "with offset, or a period back from now (-30d, -12w, -6h)"
        ),
    )
    incremental: bool = Field(
        default=True,
        title="Delta sync",
        description=(
            "Between full syncs, re-read only what Jira changed since the last successful "
            "sync; a full sync every fullSyncEvery runs reconciles the rest"
        ),
    )
    full_sync_every: int = Field(
        default=24,
        alias="fullSyncEvery",
        ge=1,
        title="Full sync every N runs",
        description="With delta sync: every Nth run re-reads everything (a safety net)",
    )
    incremental_overlap_minutes: int = Field(
        default=10,
        alias="incrementalOverlapMinutes",
        ge=0,
        title="Overlap (minutes)",
        description="How far before the last successful sync's start a delta run looks back",
    )

    @validator("since")
    def _valid_since(cls, value: str | None) -> str | None:
        if value is not None:
            parse_since(value)  # raises ValueError naming the setting
        return value


class CommentSelector(_ActivitySelector):
    rendered_body: bool = Field(
        default=False,
        alias="renderedBody",
        title="Rendered body",
        description="Also fetch each comment's HTML as renderedBody (costs a rendering in Jira)",
    )


class WorklogSelector(_ActivitySelector):
    pass


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
        return requested_fields(self.selector.fields, self.expressions())

    def expressions(self) -> list[str]:
        """Every JQ expression applied to a raw issue: mappings, selector query, itemsToParse."""
        extra = [self.selector.query, self.port.items_to_parse]
        return [*mapping_expressions(self.port.entity.mappings.dict()), *(e for e in extra if e)]

    def reads_sprints(self) -> bool:
        return reads_sprints(self.expressions())


class CommentResourceConfig(ResourceConfig):
    kind: Literal["comment"]
    selector: CommentSelector


class WorklogResourceConfig(ResourceConfig):
    kind: Literal["worklog"]
    selector: WorklogSelector


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
    | CommentResourceConfig
    | WorklogResourceConfig
)


class JiraServerPortAppConfig(PortAppConfig):
    resources: list[JiraResourceConfig] = Field(default_factory=list)  # type: ignore[assignment]
    max_deletion_fraction: float = Field(
        default=DEFAULT_MAX_DELETION_FRACTION,
        alias="maxDeletionFraction",
        ge=0,
        le=1,
        title="Max deletion fraction",
        description=(
            "Where deletions cannot be confirmed in Jira (a custom identifier mapping), a run "
            "that would delete more than this share of a blueprint deletes nothing and fails; "
            "1 lets every deletion through for one run (see the README, Failure behaviour)"
        ),
    )
