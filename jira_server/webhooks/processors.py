"""Webhook processors: a delivery only *names* an issue, project or user; its content is
never trusted. Each processor refetches the object from Jira and decides from Jira's
answer alone:

* found and selected (JQL, archived/inactive filters) -> upsert;
* found but no longer selected -> remove its entity (named by Jira's own answer);
* 404 -> removed only when Jira confirms it gone under every key and id the delivery
  names: a delivery whose id is unknown but whose key still names a live issue removes
  nothing (the entity removed is named by the key, so the key is what must be gone).

Deliveries on Data Center 10+ are asynchronous (out of order, sometimes twice); reading the
current state makes every handler idempotent and order-independent.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Awaitable
from typing import Any, ClassVar, cast

from loguru import logger
from port_ocean.core.handlers.port_app_config.models import ResourceConfig
from port_ocean.core.handlers.webhook.abstract_webhook_processor import AbstractWebhookProcessor
from port_ocean.core.handlers.webhook.webhook_event import (
    EventHeaders,
    EventPayload,
    WebhookEvent,
    WebhookEventRawResults,
)

from jira_server.blueprints import namespace_missing
from jira_server.client.provider import current_settings, get_client
from jira_server.errors import JiraResponseError
from jira_server.mapping.enrichment import IssueEnrichment
from jira_server.mapping.fields import split_csv
from jira_server.resources import IssueResourceConfig, ProjectResourceConfig, UserResourceConfig
from jira_server.webhooks.events import ISSUE_EVENTS, PROJECT_EVENTS, USER_EVENTS
from jira_server.webhooks.middleware import Verified, verification
from jira_server.webhooks.validation import (
    InvalidReference,
    IssueRef,
    ProjectRef,
    UserRef,
    issue_ref,
    project_ref,
    user_ref,
)

Raw = dict[str, Any]


def _upsert(item: Raw) -> WebhookEventRawResults:
    return WebhookEventRawResults(updated_raw_results=[item], deleted_raw_results=[])


def _remove(item: Raw) -> WebhookEventRawResults:
    return WebhookEventRawResults(updated_raw_results=[], deleted_raw_results=[item])


async def _refetch(fetch: Awaitable[Raw]) -> Raw | None:
    """Jira's current object, or None when Jira answers 404 (it no longer exists, or the
    credentials may no longer see it: either way it leaves the catalog, as a resync would)."""
    try:
        return await fetch
    except JiraResponseError as exc:
        if exc.status_code == 404:
            return None
        raise


class JiraWebhookProcessor(AbstractWebhookProcessor):
    events: ClassVar[frozenset[str]]
    kind: ClassVar[str]

    @staticmethod
    def event_name(payload: EventPayload) -> str:
        name = payload.get("webhookEvent") if isinstance(payload, dict) else None
        return name if isinstance(name, str) else ""

    async def should_process_event(self, event: WebhookEvent) -> bool:
        return self.event_name(event.payload) in self.events

    async def get_matching_kinds(self, event: WebhookEvent) -> list[str]:
        return [self.kind]

    async def authenticate(self, payload: EventPayload, headers: EventHeaders) -> bool:
        """The guard middleware already answered 401 to anything unauthenticated; this
        checks that the request really passed through it."""
        mode = verification(headers)
        if mode is None:
            logger.warning("Dropped a webhook event that did not pass the webhook guard")
            return False
        # "unverified" is only acceptable when no secret is configured at all.
        return mode is not Verified.UNVERIFIED or not current_settings().webhook_secret

    async def validate_payload(self, payload: EventPayload) -> bool:
        try:
            self.reference(payload)
        except InvalidReference as exc:
            logger.warning(f"Ignored a '{self.event_name(payload)}' delivery: {exc}")
            return False
        return True

    async def handle_event(
        self, payload: EventPayload, resource: ResourceConfig
    ) -> WebhookEventRawResults:
        """``handle``, unless the mapping's identifier ignores instanceNamespace: its entities
        would overwrite another instance's (the resync fails for the same reason)."""
        problem = namespace_missing(
            str(resource.kind),
            None,
            resource.port.entity.mappings.identifier,
            current_settings().instance_namespace,
        )
        if problem:
            logger.error(f"Ignored a '{self.event_name(payload)}' delivery: {problem}")
            return WebhookEventRawResults(updated_raw_results=[], deleted_raw_results=[])
        return await self.handle(payload, resource)

    @abstractmethod
    async def handle(
        self, payload: EventPayload, resource: ResourceConfig
    ) -> WebhookEventRawResults:
        """The raw results of one authenticated, validated delivery."""

    @abstractmethod
    def reference(self, payload: EventPayload) -> object:
        """The validated key/id the delivery names; raises InvalidReference."""

    def describe(self, payload: EventPayload, ref: object) -> str:
        return f"'{self.event_name(payload)}' for {self.kind} {ref}"

    def last_state(self, payload: EventPayload, name: str) -> Raw:
        """The payload's copy of an object Jira says is gone, to map its entity for the
        delete: only from an authenticated delivery (Jira wrote it). Without a secret the
        payload could come from anyone, so nothing of it is used and the caller keeps only
        the validated key and id (the default mappings need no more)."""
        if verification(self.event.headers) not in (Verified.SIGNED, Verified.TOKEN):
            return {}
        found = payload.get(name)
        return dict(found) if isinstance(found, dict) else {}


class IssueWebhookProcessor(JiraWebhookProcessor):
    events = ISSUE_EVENTS
    kind = "issue"

    def reference(self, payload: EventPayload) -> IssueRef:
        return issue_ref(payload)

    async def handle(
        self, payload: EventPayload, resource: ResourceConfig
    ) -> WebhookEventRawResults:
        ref = self.reference(payload)
        config = cast(IssueResourceConfig, resource)
        client = get_client()
        what = self.describe(payload, ref.key or ref.id)
        enrichment = await IssueEnrichment.load(config.expressions(), client)
        fields = enrichment.request_fields(config.jira_fields())
        expand = enrichment.request_expand(split_csv(config.selector.expand))
        issue = await _refetch(client.fetch_issue(ref.lookup, fields=fields, expand=expand))
        if issue is None and ref.id and ref.key:
            # Gone by id; the entity is named by the key, so the key must be gone too.
            issue = await _refetch(client.fetch_issue(ref.key, fields=fields, expand=expand))
            if issue is not None and str(issue.get("key")) == ref.key:
                logger.warning(
                    f"Live event {what}: Jira knows no issue {ref.id}, but {ref.key} exists; "
                    "an inconsistent delivery removes nothing: re-reading the issue instead"
                )
            elif issue is not None:
                issue = None  # the key now redirects to another issue: it names nothing
        if issue is None:
            logger.info(f"Live event {what}: Jira answers 404, removing the entity")
            return _remove(
                _issue_tombstone(ref, client.settings.host, self.last_state(payload, "issue"))
            )
        if not await client.issue_matches(config.selector.jql, issue_id=str(issue["id"])):
            logger.info(f"Live event {what}: no longer matches the selector JQL, removing it")
            return _remove(issue)
        await enrichment.apply([issue])
        logger.info(f"Live event {what}: upserting the current issue")
        return _upsert(issue)


def _issue_tombstone(ref: IssueRef, host: str, last_state: Raw) -> Raw:
    """What the mapping sees for a deleted issue: the validated id and key always win."""
    fields = last_state.get("fields")
    item: Raw = {**last_state, "id": ref.id, "key": ref.key}
    item["fields"] = fields if isinstance(fields, dict) else {}
    item["self"] = f"{host}/rest/api/2/issue/{ref.id}" if ref.id else None
    return item


class ProjectWebhookProcessor(JiraWebhookProcessor):
    events = PROJECT_EVENTS
    kind = "project"

    def reference(self, payload: EventPayload) -> ProjectRef:
        return project_ref(payload)

    async def handle(
        self, payload: EventPayload, resource: ResourceConfig
    ) -> WebhookEventRawResults:
        ref = self.reference(payload)
        selector = cast(ProjectResourceConfig, resource).selector
        client = get_client()
        what = self.describe(payload, ref.key or ref.id)
        project = await _refetch(client.fetch_project(ref.lookup))
        if project is None and ref.id and ref.key:
            project = await _refetch(client.fetch_project(ref.key))
            if project is not None and str(project.get("key")) != ref.key:
                project = None
            elif project is not None:
                logger.warning(
                    f"Live event {what}: Jira knows no project {ref.id}, but {ref.key} exists; "
                    "an inconsistent delivery removes nothing: re-reading the project instead"
                )
        if project is None:
            logger.info(f"Live event {what}: Jira answers 404, removing the entity")
            return _remove({**self.last_state(payload, "project"), "id": ref.id, "key": ref.key})
        if project.get("archived") and not selector.include_archived:
            logger.info(f"Live event {what}: archived (not selected), removing it")
            return _remove(project)
        logger.info(f"Live event {what}: upserting the current project")
        return _upsert(project)


class UserWebhookProcessor(JiraWebhookProcessor):
    events = USER_EVENTS
    kind = "user"

    def reference(self, payload: EventPayload) -> UserRef:
        return user_ref(payload)

    async def handle(
        self, payload: EventPayload, resource: ResourceConfig
    ) -> WebhookEventRawResults:
        ref = self.reference(payload)
        selector = cast(UserResourceConfig, resource).selector
        client = get_client()
        what = self.describe(payload, ref.key or ref.name)
        user = await _refetch(client.fetch_user(key=ref.key, username=ref.name))
        if user is None and ref.key and ref.name:
            by_name = await _refetch(client.fetch_user(username=ref.name))
            if by_name is not None:
                logger.warning(
                    f"Live event {what}: Jira knows no user key {ref.key}, but {ref.name} "
                    "exists; an inconsistent delivery removes nothing: re-reading that user"
                )
                user = by_name
        if user is None:
            logger.info(f"Live event {what}: Jira answers 404, removing the entity")
            return _remove({**self.last_state(payload, "user"), "key": ref.key, "name": ref.name})
        if user.get("deleted") or not (user.get("active") or selector.include_inactive):
            logger.info(f"Live event {what}: inactive or deleted (not selected), removing it")
            return _remove(user)
        logger.info(f"Live event {what}: upserting the current user")
        return _upsert(user)


PROCESSORS: tuple[type[JiraWebhookProcessor], ...] = (
    IssueWebhookProcessor,
    ProjectWebhookProcessor,
    UserWebhookProcessor,
)
