"""The emulator in-process with a Jira client on it (no sockets), for fast tests."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx

from jira_server.client.rest_client import JiraServerClient
from jira_server.settings import load_settings
from local_stack.jira_emulator import Account, DatasetSpec, EmulatorApp, EmulatorConfig, create_app
from local_stack.jira_emulator.inprocess import EmulatorTransport, emulator_client

ADMIN_TOKEN = "inproc-admin-pat"
VIEWER_TOKEN = "inproc-viewer-pat"
SECRET = "inproc-webhook-secret"
HOOK_URL = "http://127.0.0.1:8000/integration/webhook"
ANCHOR = 1_750_006_400.0  # fixed data and clock: every run sees the same issues


def make_app(version: str = "10.3.0", issues: int = 40) -> EmulatorApp:
    return create_app(
        EmulatorConfig(
            dataset=DatasetSpec(projects=2, users=10, issues=issues, seed=3, anchor=ANCHOR),
            version=version,
            accounts=[
                Account("admin", password="admin-pw", token=ADMIN_TOKEN),
                Account("viewer", token=VIEWER_TOKEN),
            ],
            clock=lambda: ANCHOR,
        )
    )


def jira_client(
    app: EmulatorApp, token: str = ADMIN_TOKEN, secret: str | None = SECRET
) -> JiraServerClient:
    settings = load_settings(
        {
            "jira_server_host": "http://jira.test",
            "token": token,
            "webhook_secret": secret,
            "max_retries": 0,
        }
    )
    return JiraServerClient(settings, transport=EmulatorTransport(app))


def control(app: EmulatorApp) -> httpx.AsyncClient:
    return emulator_client(app, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})


@dataclass
class Receiver:
    """Captures deliveries instead of sending them over the network."""

    requests: list[httpx.Request] = field(default_factory=list)
    status: int = 200

    def install(self, app: EmulatorApp) -> Receiver:
        app.webhooks.deliveries.transport = httpx.MockTransport(self._handle)
        return self

    def _handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(self.status)

    def payloads(self) -> list[dict[str, Any]]:
        return [json.loads(r.content) for r in self.requests if r.content]
