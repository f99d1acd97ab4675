"""Helpers to drive the catalog from tests: start it as a subprocess, read its JSON helper
endpoints, and run a real ``ocean sail`` (ONCE) against it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from local_stack.process import RunningServer, start_server

DEFAULT_CLIENT_ID = "local-client"
DEFAULT_CLIENT_SECRET = "local-secret"  # a throwaway credential for the local catalog


def start_catalog(
    log_dir: Path, db_path: str = ":memory:", extra_args: list[str] | None = None
) -> RunningServer:
    """``python -m local_stack.catalog`` on a free loopback port; returns once it answers."""
    return start_server(
        "catalog",
        "local_stack.catalog",
        ["--db", db_path, *(extra_args or [])],
        log_dir=log_dir,
        health_path="/_catalog/health",
    )


@dataclass
class CatalogClient:
    """The ``/_catalog/*`` helpers over HTTP."""

    base_url: str
    timeout: float = 30.0

    def _get(self, path: str, **params: str) -> Any:
        response = httpx.get(f"{self.base_url}{path}", params=params, timeout=self.timeout)
        response.raise_for_status()
        return response.json()

    def _post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        response = httpx.post(f"{self.base_url}{path}", json=body or {}, timeout=self.timeout)
        response.raise_for_status()
        return response.json()

    def entities(self, blueprint: str) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._get("/_catalog/entities", blueprint=blueprint)[
            "entities"
        ]
        return result

    def identifiers(self, blueprint: str) -> set[str]:
        return {e["identifier"] for e in self.entities(blueprint)}

    def blueprints(self) -> dict[str, dict[str, Any]]:
        return {b["identifier"]: b for b in self._get("/_catalog/blueprints")["blueprints"]}

    def stats(self) -> dict[str, Any]:
        result: dict[str, Any] = self._get("/_catalog/stats")
        return result

    def integrations(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._get("/_catalog/integrations")["integrations"]
        return result

    def logs(self, level: str | None = None) -> list[dict[str, Any]]:
        params = {"level": level} if level else {}
        result: list[dict[str, Any]] = self._get("/_catalog/logs", **params)["logs"]
        return result

    def kind_examples(self, integration: str, kind: str) -> Any:
        return self._get("/_catalog/kind-examples", integration=integration, kind=kind)["examples"]

    def reset(self) -> None:
        self._post("/_catalog/reset")

    def request_resync(self, identifier: str) -> dict[str, Any]:
        """A new resync request: a POLLING ``ocean sail`` resyncs at its next poll."""
        result: dict[str, Any] = self._post(f"/_catalog/integrations/{identifier}/resync-request")[
            "request"
        ]
        return result

    def fail(
        self, operation: str, count: int = 1, status: int = 500, retry_after: float | None = None
    ) -> None:
        body: dict[str, Any] = {"operation": operation, "count": count, "status": status}
        if retry_after is not None:
            body["retryAfter"] = retry_after
        self._post("/_catalog/fail", body)

    def enqueue_action_run(
        self, action: str, action_type: str, properties: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        body = {"action": action, "integrationActionType": action_type}
        result: dict[str, Any] = self._post(
            "/_catalog/action-runs", {**body, "properties": properties or {}}
        )["run"]
        return result


def free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def ocean_env(
    catalog_url: str,
    *,
    identifier: str,
    integration_type: str,
    client_id: str = DEFAULT_CLIENT_ID,
    client_secret: str = DEFAULT_CLIENT_SECRET,
    http_port: int | None = None,
    extra: dict[str, str] | None = None,
) -> dict[str, str]:
    """Environment for a ONCE ``ocean sail`` against the local catalog.

    Inherited ``OCEAN__*``/``APPLICATION__*`` variables are dropped so the developer's shell
    cannot redirect the run; ``APPLICATION__PORT`` must be set because it beats ``-p``.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OCEAN__", "APPLICATION__"))}
    env.update(
        {
            "OCEAN__PORT__BASE_URL": catalog_url,
            "OCEAN__PORT__CLIENT_ID": client_id,
            "OCEAN__PORT__CLIENT_SECRET": client_secret,
            "OCEAN__EVENT_LISTENER": '{"type":"ONCE"}',
            "OCEAN__INITIALIZE_PORT_RESOURCES": "true",
            "OCEAN__INTEGRATION__IDENTIFIER": identifier,
            "OCEAN__INTEGRATION__TYPE": integration_type,
            "OCEAN__SEND_RAW_DATA_EXAMPLES": "false",
            # The integration runs only in ocean-core mode (port-ocean 0.54.1 defaults to dsp).
            "OCEAN__PROCESSING_MODE": "ocean-core",
            "APPLICATION__PORT": str(http_port or free_loopback_port()),
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra or {})
    return env


def ocean_executable() -> str:
    """The ``ocean`` CLI next to the running interpreter (the project's venv)."""
    candidate = Path(sys.executable).parent / "ocean"
    return str(candidate) if candidate.exists() else "ocean"


def spawn_ocean_sail(
    integration_dir: Path,
    catalog_url: str,
    *,
    identifier: str,
    integration_type: str,
    log_path: Path,
    extra_env: dict[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """Start a long-running ``ocean sail`` (POLLING, WEBHOOK...; set
    ``OCEAN__EVENT_LISTENER`` in ``extra_env``). Stop it with SIGINT and a bounded wait."""
    env = ocean_env(
        catalog_url, identifier=identifier, integration_type=integration_type, extra=extra_env
    )
    with log_path.open("wb") as log:
        return subprocess.Popen(
            [ocean_executable(), "sail", "-p", env["APPLICATION__PORT"], "."],
            cwd=integration_dir,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def run_ocean_sail(
    integration_dir: Path,
    catalog_url: str,
    *,
    identifier: str,
    integration_type: str,
    timeout: float = 120.0,
    extra_env: dict[str, str] | None = None,
    log_path: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``ocean sail`` once in ``integration_dir`` (its cwd: pyproject.toml is read there).

    Output is returned (and also written to ``log_path`` if given). Raises
    ``subprocess.TimeoutExpired`` if the run does not exit in time.
    """
    env = ocean_env(
        catalog_url, identifier=identifier, integration_type=integration_type, extra=extra_env
    )
    port = env["APPLICATION__PORT"]
    result = subprocess.run(
        [ocean_executable(), "sail", "-p", port, "."],
        cwd=integration_dir,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if log_path is not None:
        log_path.write_text(result.stdout + result.stderr)
    return result
