"""Action failures as the framework reports them: an ``ActionExecutionError`` whose text
becomes the run's log and summary, with a short status label saying which step failed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from port_ocean.exceptions.execution_manager import ActionExecutionError

from jira_server.errors import (
    JiraAuthError,
    JiraConnectionError,
    JiraPermissionError,
    JiraQueryError,
    JiraResponseError,
    JiraSyncError,
)


class ActionInputError(ActionExecutionError):
    """An input is missing or malformed; nothing was sent to Jira."""

    DEFAULT_STATUS_LABEL = "Invalid input"


class JiraActionError(ActionExecutionError):
    """Jira refused or failed the change."""

    DEFAULT_STATUS_LABEL = "Jira error"


def _label(exc: JiraSyncError) -> str:
    if isinstance(exc, JiraQueryError):
        return "Jira rejected"
    if isinstance(exc, JiraPermissionError):
        return "No permission"
    if isinstance(exc, JiraAuthError):
        return "Auth failed"
    if isinstance(exc, JiraConnectionError):
        return "Jira unreachable"
    if isinstance(exc, JiraResponseError) and exc.status_code == 404:
        return "Not found"
    return "Jira error"


def jira_failure(step: str, exc: JiraSyncError, *, write: bool = False) -> JiraActionError:
    """``step`` says what was attempted, e.g. "Creating the issue"; the client's message
    already carries Jira's errorMessages and field errors, redacted."""
    message = f"{step} failed: {exc}"
    if write and isinstance(exc, JiraConnectionError):
        # The request may have reached Jira before the connection failed.
        message += ". Jira may have applied the change anyway: check Jira before running again"
    return JiraActionError(message, _label(exc))


@asynccontextmanager
async def jira_step(step: str, *, write: bool = False) -> AsyncIterator[None]:
    """Turn a client error inside the block into the run's failure for ``step``."""
    try:
        yield
    except JiraSyncError as exc:
        raise jira_failure(step, exc, write=write) from exc
