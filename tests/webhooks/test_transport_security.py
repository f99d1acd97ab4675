"""TLS on by default, caBundle honoured, verifySsl=false only with a loud warning; secrets
marked sensitive so the framework masks them in its own logs."""

from __future__ import annotations

import ssl
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import yaml
from loguru import logger

from integration import JiraServerIntegration
from jira_server.client.rest_client import JiraServerClient
from jira_server.errors import JiraConnectionError
from jira_server.settings import load_settings
from local_stack.stack import REPO_ROOT
from tests.support.tls_server import tls_server

BASE = {"jira_server_host": "https://jira.example.test", "token": "tls-test-token"}


def boot(config: dict[str, Any]) -> list[str]:
    """Construct the integration as the framework does, capturing its log lines."""
    lines: list[str] = []
    sink = logger.add(lambda message: lines.append(str(message)), level="DEBUG")
    context: Any = SimpleNamespace(
        integration_config=config,
        config=SimpleNamespace(
            integration=SimpleNamespace(identifier="tls-test"),
            processing_mode="ocean-core",
            event_listener=SimpleNamespace(type="POLLING"),
        ),
    )
    try:
        JiraServerIntegration(context)
    finally:
        logger.remove(sink)
    return lines


def test_tls_is_verified_by_default_without_a_warning() -> None:
    verify = load_settings(BASE).ssl_verify()
    assert isinstance(verify, ssl.SSLContext)
    assert verify.verify_mode is ssl.CERT_REQUIRED and verify.check_hostname
    assert not [line for line in boot(BASE) if "verifySsl" in line]


def test_verify_ssl_false_disables_verification_with_a_loud_warning() -> None:
    config = {**BASE, "verify_ssl": "false"}
    assert load_settings(config).ssl_verify() is False
    [warning] = [line for line in boot(config) if "verifySsl is false" in line]
    assert "WARNING" in warning and "NOT verified" in warning and "caBundle" in warning


async def test_against_a_self_signed_server_only_ca_bundle_or_verify_ssl_false_connect(
    tmp_path: Path,
) -> None:
    with tls_server(tmp_path) as server:
        base = {"jira_server_host": server.url, "token": "tls-test-token", "max_retries": 0}
        variants = {
            "default": base,
            "caBundle": {**base, "ca_bundle": str(server.ca_pem)},
            "verifySsl false": {**base, "verify_ssl": False},
        }
        outcomes: dict[str, str] = {}
        for name, config in variants.items():
            client = JiraServerClient(load_settings(config))
            try:
                outcomes[name] = (await client.fetch_server_info()).version
            except JiraConnectionError as exc:
                outcomes[name] = (
                    "TLS refused" if "TLS verification failed" in str(exc) else str(exc)
                )
            finally:
                await client.aclose()
    assert outcomes == {
        "default": "TLS refused",
        "caBundle": "9.12.15",
        "verifySsl false": "9.12.15",
    }


def test_every_secret_setting_is_marked_sensitive_in_the_spec() -> None:
    spec = yaml.safe_load((REPO_ROOT / ".port/spec.yaml").read_text())
    sensitive = {c["name"] for c in spec["configurations"] if c.get("sensitive")}
    assert {"token", "password", "webhookSecret"} <= sensitive


def test_the_webhook_secret_is_redacted_like_the_credentials() -> None:
    settings = load_settings({**BASE, "webhook_secret": "whsec-redact-me-123"})
    assert "whsec-redact-me-123" in settings.secrets
    assert "whsec-redact-me-123" not in repr(settings)
