"""What every Jira action does around its own step: report progress, turn failures into
the run's summary, upsert the touched issue into the catalog and report success."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, NoReturn

from loguru import logger
from port_ocean.core.handlers.actions.abstract_executor import AbstractExecutor
from port_ocean.core.handlers.webhook.abstract_webhook_processor import (
    AbstractWebhookProcessor,
)
from port_ocean.core.models import IntegrationRun
from port_ocean.exceptions.execution_manager import ActionExecutionError

from jira_server.actions.catalog_sync import IssueCatalog, OceanIssueCatalog
from jira_server.actions.inputs import of_this_instance
from jira_server.actions.reporting import PortRunReporter, RunReporter, Success
from jira_server.client.provider import get_client
from jira_server.client.rest_client import JiraServerClient

Log = Callable[[str], Awaitable[None]]


@dataclass(frozen=True)
class Outcome:
    """What the action did to which issue; ``summary`` starts the run's summary."""

    issue_key: str
    summary: str


class JiraActionExecutor(AbstractExecutor, ABC):
    # Runs finish synchronously: no webhook reports their status later. The framework reads
    # these attributes unconditionally, so they must exist.
    WEBHOOK_PROCESSOR_CLASS: type[AbstractWebhookProcessor] | None = None
    WEBHOOK_PATH: str = ""

    def __init__(
        self,
        *,
        client: Callable[[], JiraServerClient] = get_client,
        reporter: RunReporter | None = None,
        catalog: IssueCatalog | None = None,
    ) -> None:
        self._client = client
        self._reporter: RunReporter = reporter or PortRunReporter()
        self._catalog: IssueCatalog = catalog or OceanIssueCatalog()

    @abstractmethod
    async def perform(
        self, properties: dict[str, Any], client: JiraServerClient, log: Log
    ) -> Outcome:
        """Validate the inputs and make the change in Jira; raise ActionExecutionError."""

    # The client follows Jira's rate-limit headers and waits before each request itself.
    async def is_close_to_rate_limit(self, run: IntegrationRun) -> bool:
        return False

    async def get_remaining_seconds_until_rate_limit(self, run: IntegrationRun) -> float:
        return 0.0

    async def execute(self, run: IntegrationRun) -> None:
        client = self._client()

        async def log(message: str) -> None:
            await self._reporter.log(run, client.redact(message))

        try:
            properties = of_this_instance(
                run.execution_properties, client.settings.instance_namespace
            )
            outcome = await self.perform(properties, client, log)
        except ActionExecutionError as exc:
            await self._fail(run, client, str(exc), exc.status_label)
        except Exception as exc:  # a bug: still a clear, redacted failure in Port
            logger.exception(f"{self.ACTION_NAME} failed unexpectedly")
            await self._fail(run, client, f"Unexpected error: {type(exc).__name__}: {exc}", None)
        synced = await self._catalog.sync_issue(client, outcome.issue_key)
        await log(f"{outcome.issue_key}: {synced.message}")
        link = f"{client.settings.host}/browse/{outcome.issue_key}"
        summary = client.redact(f"{outcome.summary}; {synced.message}")
        await self._reporter.succeeded(
            run, Success(summary, link, {"issueKey": outcome.issue_key, "url": link})
        )

    async def _fail(
        self, run: IntegrationRun, client: JiraServerClient, message: str, label: str | None
    ) -> NoReturn:
        summary = client.redact(message)
        await self._reporter.failing(run, summary)
        # Re-raised redacted and without the client's traceback: the framework posts the
        # message as the run's log line and marks the run FAILURE.
        raise ActionExecutionError(summary, label) from None
