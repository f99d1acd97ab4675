"""Shared pieces of the action tests: a small deterministic emulator in-process, the
integration's client on it, action runs as Port hands them out, and recording fakes for
the run reporter and the catalog."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from port_ocean.core.handlers.port_app_config.models import PortAppConfig
from port_ocean.core.models import ActionRun, Entity, IntegrationRun
from port_ocean.exceptions.execution_manager import ActionExecutionError

from jira_server import blueprints
from jira_server.actions.assign_issue import AssignIssueExecutor
from jira_server.actions.base import JiraActionExecutor
from jira_server.actions.catalog_sync import CatalogSync, OceanIssueCatalog
from jira_server.actions.catalog_users import CatalogUser
from jira_server.actions.reporting import Success
from jira_server.client.rest_client import JiraServerClient
from jira_server.resources import JiraServerPortAppConfig
from jira_server.settings import load_settings
from local_stack.jira_emulator import Account, DatasetSpec, EmulatorApp, EmulatorConfig, create_app
from local_stack.jira_emulator.inprocess import DEFAULT_BASE_URL, EmulatorTransport

ROOT = Path(__file__).resolve().parents[2]
# Data and the emulator's clock are frozen here: the same issues and keys in every run.
ANCHOR = 1_750_006_400.0
TOKEN = "actions-pat-4f9c1e7a"  # long enough to be redacted, so a leak would show


def make_emulator(**overrides: Any) -> EmulatorApp:
    config = EmulatorConfig(
        dataset=DatasetSpec(projects=3, users=20, issues=60, seed=11, anchor=ANCHOR),
        accounts=[Account("admin", password="admin-pw-1", token=TOKEN)],
        clock=lambda: ANCHOR,
        **overrides,
    )
    return create_app(config)


def project_key(app: EmulatorApp) -> str:
    key: str = app.state.truth()["projects"][0]
    return key


def jira_client(app: EmulatorApp, **raw_settings: str) -> JiraServerClient:
    settings = load_settings({"jira_server_host": DEFAULT_BASE_URL, "token": TOKEN, **raw_settings})
    return JiraServerClient(settings, transport=EmulatorTransport(app))


def action_run(action_type: str, properties: dict[str, Any], run_id: str = "r_test") -> ActionRun:
    """A run as ``claim-pending`` returns it."""
    return ActionRun.parse_obj(
        {
            "id": run_id,
            "status": "IN_PROGRESS",
            "action": {"identifier": f"jira_server_{action_type}"},
            "payload": {
                "type": "INTEGRATION_ACTION",
                "installationId": "jira-server-sync",
                "integrationActionType": action_type,
                "integrationActionExecutionProperties": properties,
            },
        }
    )


def default_port_app_config(**issue_selector: Any) -> PortAppConfig:
    raw = yaml.safe_load((ROOT / ".port/resources/port-app-config.yml").read_text())
    for resource in raw["resources"]:
        if resource["kind"] == "issue":
            resource["selector"].update(issue_selector)
    config: PortAppConfig = JiraServerPortAppConfig.parse_obj(raw)
    return config


@dataclass
class RecordingReporter:
    logs: list[str] = field(default_factory=list)
    failure_summary: str | None = None
    success: Success | None = None

    async def log(self, run: IntegrationRun, message: str) -> None:
        self.logs.append(message)

    async def failing(self, run: IntegrationRun, summary: str) -> None:
        self.failure_summary = summary

    async def succeeded(self, run: IntegrationRun, success: Success) -> None:
        self.success = success

    def text(self) -> str:
        return "\n".join(
            [*self.logs, self.failure_summary or "", getattr(self.success, "summary", "")]
        )


@dataclass
class RecordingRegister:
    """Stands in for ``register_raw``: keeps the raw issues, answers one entity each."""

    raw: list[dict[str, Any]] = field(default_factory=list)

    async def __call__(self, items: list[dict[str, Any]]) -> list[Entity]:
        self.raw.extend(items)
        return [
            Entity(identifier=i["key"], blueprint=blueprints.ISSUE, title=None, icon=None)
            for i in items
        ]


@dataclass
class NoCatalog:
    """For tests about Jira only."""

    keys: list[str] = field(default_factory=list)

    async def sync_issue(self, client: JiraServerClient, key: str) -> CatalogSync:
        self.keys.append(key)
        return CatalogSync(True, "catalog not checked in this test")


@dataclass
class FakeUsers:
    """The catalog's user entities, by e-mail address."""

    users: dict[str, list[CatalogUser]] = field(default_factory=dict)
    searched: list[str] = field(default_factory=list)

    def blueprint(self) -> str:
        return blueprints.USER

    async def by_email(self, email: str) -> list[CatalogUser]:
        self.searched.append(email)
        return list(self.users.get(email, []))


class Harness:
    """One executor with a recording reporter and the catalog sync on recorded registers."""

    def __init__(self, jira: JiraServerClient, **selector: Any) -> None:
        self.jira = jira
        self.reporter = RecordingReporter()
        self.register = RecordingRegister()
        config = default_port_app_config(**selector)

        async def current_config() -> Any:
            return config

        self.catalog = OceanIssueCatalog(current_config, self.register)
        self.users = FakeUsers()

    def executor(self, cls: type[JiraActionExecutor]) -> JiraActionExecutor:
        if issubclass(cls, AssignIssueExecutor):
            return cls(
                client=lambda: self.jira,
                reporter=self.reporter,
                catalog=self.catalog,
                users=self.users,
            )
        return cls(client=lambda: self.jira, reporter=self.reporter, catalog=self.catalog)

    async def run(self, cls: type[JiraActionExecutor], **properties: Any) -> None:
        await self.executor(cls).execute(action_run(cls.ACTION_NAME, properties))

    async def fail(self, cls: type[JiraActionExecutor], **properties: Any) -> ActionExecutionError:
        with pytest.raises(ActionExecutionError) as caught:
            await self.run(cls, **properties)
        assert self.reporter.success is None
        assert self.reporter.failure_summary == str(caught.value)
        return caught.value
