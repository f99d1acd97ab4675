"""A connection check: can these settings reach Jira, authenticate, and read what a sync needs?

Run at integration start (logged) and from the command line (``python -m jira_server.check``,
``make check``), so a platform team learns about a wrong token, a missing permission or an
internal CA before the first resync, with the same wording either way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from jira_server.client.rest_client import JiraServerClient
from jira_server.errors import JiraPermissionError, JiraResponseError, JiraSyncError


@dataclass
class CheckReport:
    host: str
    # How Jira is reached: "direct", or the proxy without credentials and where it came from.
    route: str = "direct"
    server_version: str | None = None
    deployment_type: str | None = None
    user: str | None = None
    projects_visible: int | None = None
    issues_visible: int | None = None
    can_list_users: bool | None = None
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def lines(self) -> list[str]:
        def shown(value: Any) -> str:
            return "?" if value is None else str(value)

        users = {True: "yes", False: "no", None: "?"}[self.can_list_users]
        lines = [
            f"Jira:             {self.host}",
            f"Through:          {self.route}",
            f"Server version:   {shown(self.server_version)} ({shown(self.deployment_type)})",
            f"Authenticated as: {shown(self.user)}",
            f"Projects visible: {shown(self.projects_visible)}",
            f"Issues visible:   {shown(self.issues_visible)}",
            f"Can list users:   {users}",
        ]
        lines += [f"WARNING: {warning}" for warning in self.warnings]
        lines += [f"PROBLEM: {problem}" for problem in self.problems]
        lines.append("Connection check passed" if self.ok else "Connection check FAILED")
        return lines


async def run_connection_check(client: JiraServerClient) -> CheckReport:
    """Each step needs the one before (no point listing projects after a 401), so the first
    failure ends the check with its precise reason."""
    proxy = client.settings.proxy
    report = CheckReport(
        host=client.settings.host,
        route=f"proxy {proxy.display} (from {proxy.source})" if proxy else "direct",
    )
    try:
        info = await client.fetch_server_info()
        report.server_version = info.version
        report.deployment_type = info.deployment_type
        myself = await client.fetch_myself()
        report.user = _describe_user(myself)
        projects = await client.count_projects()
        report.projects_visible = projects
        if projects == 0:
            report.problems.append(
                f"{report.user} sees no projects: grant the 'Browse Projects' permission "
                "(through a permission scheme) on the projects to sync"
            )
            return report
        report.issues_visible = await client.count_issues("")
        if report.issues_visible == 0:
            report.warnings.append(
                "no issues are visible although projects are: check 'Browse Projects' and "
                "issue security levels"
            )
        report.can_list_users = await _can_list_users(client, report)
    except JiraSyncError as exc:
        report.problems.append(str(exc))
    return report


async def _can_list_users(client: JiraServerClient, report: CheckReport) -> bool:
    hint = "the 'user' kind needs the 'Browse users and groups' global permission"
    try:
        listed = await client.probe_user_listing()
    except (JiraPermissionError, JiraResponseError) as exc:
        report.warnings.append(f"cannot list users ({exc}); {hint}")
        return False
    if listed == 0:
        # Jira hides users instead of refusing; the syncing user itself would be listed.
        report.warnings.append(f"Jira lists no users; {hint}")
        return False
    return True


def _describe_user(myself: dict[str, Any]) -> str:
    name = myself.get("name") or myself.get("key") or "?"
    display = myself.get("displayName")
    return f"{display} ({name})" if display else str(name)
