"""What a run shows in Port: log lines while it works, then its summary and status.

The framework only reports failures (it posts the error as a log line and sets FAILURE,
without a summary); success is the executor's job. So the executor writes the summary
itself on both paths. Messages arrive here already redacted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from loguru import logger
from port_ocean.context.ocean import ocean
from port_ocean.core.models import IntegrationRun, RunKind, RunStatus, WorkflowNodeRun


@dataclass(frozen=True)
class Success:
    summary: str
    link: str | None = None
    output: dict[str, Any] = field(default_factory=dict)  # workflow nodes pass it on


class RunReporter(Protocol):
    async def log(self, run: IntegrationRun, message: str) -> None: ...

    async def failing(self, run: IntegrationRun, summary: str) -> None:
        """Called just before the failure is raised to the framework."""

    async def succeeded(self, run: IntegrationRun, success: Success) -> None: ...


class PortRunReporter:
    """Reports through the framework's Port client (action runs and workflow nodes)."""

    async def log(self, run: IntegrationRun, message: str) -> None:
        await ocean.port_client.post_run_log(run, message, should_raise=False)

    async def failing(self, run: IntegrationRun, summary: str) -> None:
        if run.run_kind is RunKind.ACTION:
            await ocean.port_client.patch_run(run, {"summary": summary}, should_raise=False)

    async def succeeded(self, run: IntegrationRun, success: Success) -> None:
        if isinstance(run, WorkflowNodeRun):
            run.output = {**run.output, **success.output}
            await ocean.port_client.report_run_completed(run, success=True, message=success.summary)
            return
        patch: dict[str, Any] = {"status": RunStatus.SUCCESS, "summary": success.summary}
        if success.link:
            patch["link"] = success.link
        try:
            await ocean.port_client.patch_run(run, patch)
        except Exception as exc:  # the change is done in Jira: do not report it as failed
            logger.error(f"Could not mark run {run.id} successful in Port: {exc}")
