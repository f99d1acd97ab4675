"""The webhook events the integration registers for and the kind each one updates."""

from __future__ import annotations

# Mounted by the framework under ``{route_prefix}/integration``.
WEBHOOK_PATH = "/webhook"

ISSUE_EVENTS = frozenset({"jira:issue_created", "jira:issue_updated", "jira:issue_deleted"})
PROJECT_EVENTS = frozenset({"project_created", "project_updated", "project_deleted"})
USER_EVENTS = frozenset({"user_created", "user_updated", "user_deleted"})
# Sorted so a registration compares equal whatever order Jira lists them in.
ALL_EVENTS = tuple(sorted(ISSUE_EVENTS | PROJECT_EVENTS | USER_EVENTS))
