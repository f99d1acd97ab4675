"""Errors raised by the Jira client. Messages are written for the person running the sync."""

from __future__ import annotations


class JiraSyncError(Exception):
    """Base class: anything that must stop a sync loudly instead of yielding partial data."""


class SettingsError(JiraSyncError):
    """The integration's configuration is missing or malformed."""


class JiraConnectionError(JiraSyncError):
    """Jira could not be reached (DNS, refused connection, TLS, timeout)."""


class JiraAuthError(JiraSyncError):
    """Jira rejected the credentials (401), or the request fell back to anonymous access."""


class JiraPermissionError(JiraSyncError):
    """The credentials work but lack a permission (403, CAPTCHA lock-out, no Browse)."""


class JiraQueryError(JiraSyncError):
    """Jira refused a query (400), e.g. invalid JQL; carries Jira's own error messages."""

    def __init__(self, message: str, jira_messages: list[str] | None = None) -> None:
        super().__init__(message)
        self.jira_messages = jira_messages or []


class JiraResponseError(JiraSyncError):
    """Jira answered with an unexpected status or body, after any retries."""

    def __init__(self, message: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


class PartialResultError(JiraSyncError):
    """Jira returned fewer items than it announced; yielding them would let reconciliation
    delete the missing entities, so the sync stops instead."""
