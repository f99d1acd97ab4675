"""A live integration for webhook tests: the Jira emulator, the local catalog and a real,
long-running ``ocean sail`` (POLLING, ``OCEAN__BASE_URL`` = its own URL), so deliveries go
through the framework's real webhook route. Every wait is a bounded polling loop."""

from __future__ import annotations

import copy
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from jira_server import blueprints
from local_stack.catalog.testing import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    CatalogClient,
    free_loopback_port,
    spawn_ocean_sail,
    start_catalog,
)
from local_stack.process import RunningServer, start_server
from local_stack.stack import REPO_ROOT, JiraControl
from tests.support.processes import stop_sail

INTEGRATION_TYPE = "jira-server-sync"
ISSUE_BP, PROJECT_BP, USER_BP = blueprints.ISSUE, blueprints.PROJECT, blueprints.USER
# Throw-away credentials of these tests, distinctive so a leak is easy to find in logs.
ADMIN, ADMIN_TOKEN = "sync-bot", "pat-WH-9f3c2a71d8e4b6a0"
VIEWER, VIEWER_TOKEN = "viewer", "pat-WH-viewer-55d1e0c2"
BASIC_USER, BASIC_PASSWORD = "basic-bot", "pw-WH-7Hq2xL9vR4mZ"
WEBHOOK_SECRET = "whsec-WH-3b8e1f6d2c9a7054"


def wait_for[T](
    probe: Callable[[], T | None], what: str, timeout: float = 20.0, every: float = 0.1
) -> T:
    """Poll until ``probe`` returns something truthy; fail naming ``what`` otherwise."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what} (last: {last!r})")


def jira_args(version: str, *, issues: int = 60) -> list[str]:
    return [
        *("--projects", "2", "--users", "12", "--issues", str(issues), "--seed", "5"),
        *("--version", version, "--username", ADMIN, "--token", ADMIN_TOKEN),
        *("--account", f"{VIEWER}::{VIEWER_TOKEN}"),
        *("--account", f"{BASIC_USER}:{BASIC_PASSWORD}"),
    ]


def mapping(issue_jql: str) -> dict[str, Any]:
    """The default mapping, reduced to the kinds live events update, with ``issue_jql``."""
    default: dict[str, Any] = yaml.safe_load(
        (REPO_ROOT / ".port/resources/port-app-config.yml").read_text()
    )
    config = copy.deepcopy(default)
    config["resources"] = [
        r for r in config["resources"] if r["kind"] in ("user", "project", "issue")
    ]
    for resource in config["resources"]:
        if resource["kind"] == "issue":
            resource["selector"]["jql"] = issue_jql
    return config


@dataclass
class Emulator:
    server: RunningServer

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def control(self) -> JiraControl:
        return JiraControl(self.server.url)

    def registrations(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.control._call("GET", "/webhooks")
        return result

    def deliveries(self, **params: str) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.control._call(
            "GET", "/webhooks/deliveries", params=params
        )["deliveries"]
        return result

    def webhook_settings(self, **changes: Any) -> None:
        self.control._call("PATCH", "/webhooks/settings", json=changes)

    def send(self, **body: Any) -> list[int]:
        result: list[int] = self.control._call("POST", "/webhooks/send", json=body)["deliveries"]
        return result

    def delivered(self, ids: list[int], timeout: float = 15.0) -> list[dict[str, Any]]:
        """The finished delivery records with these ids (bounded wait)."""

        def done() -> list[dict[str, Any]] | None:
            records = [r for r in self.deliveries() if r["id"] in ids]
            finished = [r for r in records if r["status"] is not None or r["error"]]
            return finished if len(finished) == len(ids) else None

        return wait_for(done, f"deliveries {ids}", timeout)

    def jira(
        self, method: str, path: str, token: str = ADMIN_TOKEN, **kwargs: Any
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"}
        return httpx.request(method, f"{self.url}{path}", headers=headers, timeout=10, **kwargs)


@dataclass
class Sail:
    """One ``ocean sail`` process serving webhooks on ``url``."""

    process: subprocess.Popen[bytes]
    url: str
    identifier: str
    log_path: Path
    catalog: CatalogClient
    stopped: bool = field(default=False)

    @property
    def webhook_url(self) -> str:
        return f"{self.url}/integration/webhook"

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def post(self, body: bytes, headers: dict[str, str] | None = None, query: str = "") -> int:
        """POST a delivery straight to the integration's webhook route; the status code."""
        url = f"{self.webhook_url}?{query}" if query else self.webhook_url
        sent = {"Content-Type": "application/json", **(headers or {})}
        return httpx.post(url, content=body, headers=sent, timeout=10).status_code

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout: float = 20.0) -> None:
        if self.stopped:
            return
        self.stopped = True
        stop_sail(self.process, timeout)


def precreate_integration(catalog_url: str, identifier: str, config: dict[str, Any]) -> None:
    """Create the integration record with our mapping: the framework keeps an existing
    non-empty config and only adds the blueprints."""
    token = httpx.post(
        f"{catalog_url}/v1/auth/access_token",
        json={"clientId": DEFAULT_CLIENT_ID, "clientSecret": DEFAULT_CLIENT_SECRET},
        timeout=10,
    ).json()["accessToken"]
    response = httpx.post(
        f"{catalog_url}/v1/integration",
        json={
            "installationId": identifier,
            "installationAppType": INTEGRATION_TYPE,
            "config": config,
        },
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert response.status_code in (200, 409), response.text


def start_sail(
    work: Path,
    catalog_url: str,
    jira_url: str,
    *,
    identifier: str,
    auth: dict[str, str],
    secret: str | None,
    log_name: str,
    port: int | None = None,
    settings: dict[str, str] | None = None,
) -> Sail:
    """``port``: reuse one to restart "the same" integration (its webhook URL includes it).
    ``settings``: more integration settings, ``{"INSTANCE_NAMESPACE": "legacy"}``."""
    port = port or free_loopback_port()
    env = {
        "OCEAN__EVENT_LISTENER": '{"type": "POLLING", "resync_on_start": true, "interval": 3600}',
        "OCEAN__BASE_URL": f"http://127.0.0.1:{port}",
        "APPLICATION__PORT": str(port),
        "OCEAN__INTEGRATION__CONFIG__JIRA_SERVER_HOST": jira_url,
        **{f"OCEAN__INTEGRATION__CONFIG__{k}": v for k, v in auth.items()},
        **{f"OCEAN__INTEGRATION__CONFIG__{k}": v for k, v in (settings or {}).items()},
    }
    if secret is not None:
        env["OCEAN__INTEGRATION__CONFIG__WEBHOOK_SECRET"] = secret
    log_path = work / log_name
    process = spawn_ocean_sail(
        REPO_ROOT,
        catalog_url,
        identifier=identifier,
        integration_type=INTEGRATION_TYPE,
        log_path=log_path,
        extra_env=env,
    )
    return Sail(
        process, f"http://127.0.0.1:{port}", identifier, log_path, CatalogClient(catalog_url)
    )


def wait_until_synced(sail: Sail, timeout: float = 60.0) -> None:
    """The first resync wrote issues and the integration answers HTTP."""

    def ready() -> bool:
        assert sail.alive(), sail.log()[-4000:]
        if "Resync finished" not in sail.log():
            return False
        try:
            return httpx.get(f"{sail.url}/health/ready", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    wait_for(ready, f"{sail.identifier} to finish its first resync", timeout, every=0.2)


@contextmanager
def running_sail(
    work: Path,
    catalog_url: str,
    jira_url: str,
    *,
    identifier: str,
    jql: str,
    auth: dict[str, str],
    secret: str | None,
    log_name: str = "sail.log",
    settings: dict[str, str] | None = None,
    config: dict[str, Any] | None = None,
) -> Iterator[Sail]:
    """The integration record with ``config`` (default ``mapping(jql)``), then ``ocean sail``
    once its first resync finished; stopped on exit."""
    precreate_integration(catalog_url, identifier, config or mapping(jql))
    sail = start_sail(
        work,
        catalog_url,
        jira_url,
        identifier=identifier,
        auth=auth,
        secret=secret,
        log_name=log_name,
        settings=settings,
    )
    try:
        wait_until_synced(sail)
        yield sail
    finally:
        sail.stop()


@contextmanager
def servers(work: Path, version: str) -> Iterator[tuple[Emulator, RunningServer]]:
    """The emulator (``version``) and a fresh catalog; both stopped on exit."""
    work.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        jira = stack.enter_context(
            start_server(
                "jira",
                "local_stack.jira_emulator",
                jira_args(version),
                log_dir=work,
                health_path="/_emulator/health",
            )
        )
        catalog = stack.enter_context(
            start_catalog(work, ":memory:", ["--keep-updated-at-on-noop"])
        )
        yield Emulator(jira), catalog
