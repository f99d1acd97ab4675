"""Per-kind knowledge the sync engine needs beyond reading a kind (see ``base``)."""

from __future__ import annotations

from typing import Any

from jira_server.client.rest_client import JiraServerClient
from jira_server.kinds.activity import WorklogSupport
from jira_server.kinds.base import IdentifierShape, KindSupport
from jira_server.kinds.issue import IssueSupport
from jira_server.kinds.others import (
    BoardSupport,
    ComponentSupport,
    ProjectSupport,
    SprintSupport,
    UserSupport,
    VersionSupport,
)
from jira_server.sync.guard import Confirmation, Verdict

SUPPORT: dict[str, type[KindSupport]] = {
    cls.kind: cls
    for cls in (
        IssueSupport,
        ProjectSupport,
        UserSupport,
        BoardSupport,
        SprintSupport,
        VersionSupport,
        ComponentSupport,
        WorklogSupport,
    )
}


def support_for(resource: Any, client: JiraServerClient) -> KindSupport | None:
    """None for a kind without confirmations (the guard then judges by the share)."""
    cls = SUPPORT.get(str(resource.kind))
    return cls(resource, client) if cls else None


__all__ = ["Confirmation", "IdentifierShape", "KindSupport", "Verdict", "support_for"]
