"""Jira behind a real forward proxy (proxy.py on 127.0.0.1, Basic authentication) and behind
TLS with an internal CA and client certificates: the client's own transport (retries,
throttle) goes through the proxy from HTTPS_PROXY or proxyUrl, tunnels TLS with CONNECT,
honours NO_PROXY, and no form of a proxy or key password reaches the output."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jira_server.client.rest_client import JiraServerClient
from jira_server.errors import JiraConnectionError
from jira_server.settings import load_settings
from local_stack.catalog.testing import free_loopback_port
from local_stack.stack import BLUEPRINTS, LocalStack, jira_args, local_stack
from tests.support.forward_proxy import ForwardProxy, forward_proxy
from tests.support.tls_server import TlsServer, tls_server

pytestmark = pytest.mark.e2e

PROXY_USER = "egress-bot"
PROXY_PASSWORD = "Pr0xy:pass word/7Kq"  # ':' '/' ' ' make its encoded forms differ
KEY_PASSWORD = "client-key-pw-3Vb9"
NO_CHART_CERT = Path("/nonexistent/cert.crt")


def proxy_secret_forms(password: str = PROXY_PASSWORD) -> list[str]:
    from urllib.parse import quote

    basic = base64.b64encode(f"{PROXY_USER}:{password}".encode()).decode()
    return [password, quote(password, safe=""), basic]


@pytest.fixture
def proxy(tmp_path: Path) -> Iterator[ForwardProxy]:
    with forward_proxy(tmp_path / "proxy", user=PROXY_USER, password=PROXY_PASSWORD) as running:
        yield running


@pytest.fixture
def jira_tls(tmp_path: Path) -> Iterator[TlsServer]:
    with tls_server(tmp_path / "tls") as server:
        yield server


def client_for(server_url: str, environ: dict[str, str], **raw: Any) -> JiraServerClient:
    settings = load_settings(
        {"jira_server_host": server_url, "token": "t-1", "max_retries": 1, **raw},
        environ=environ,
        chart_certificate=NO_CHART_CERT,
    )
    return JiraServerClient(settings)


async def server_version(client: JiraServerClient) -> str:
    try:
        return str((await client.request_json("GET", "/serverInfo"))["version"])
    finally:
        await client.aclose()


async def test_https_proxy_tunnels_to_a_tls_jira_with_an_internal_ca(
    proxy: ForwardProxy, jira_tls: TlsServer
) -> None:
    client = client_for(jira_tls.url, {"HTTPS_PROXY": proxy.url()}, ca_bundle=str(jira_tls.ca_pem))
    assert await server_version(client) == "9.12.15"
    target = jira_tls.url.removeprefix("https://")
    assert ("CONNECT", target) in proxy.wait_for(1)


async def test_no_proxy_goes_direct(proxy: ForwardProxy, jira_tls: TlsServer) -> None:
    environ = {"HTTPS_PROXY": proxy.url(), "NO_PROXY": "localhost,127.0.0.1"}
    client = client_for(jira_tls.url, environ, ca_bundle=str(jira_tls.ca_pem))
    assert client.settings.proxy is None
    assert await server_version(client) == "9.12.15"
    assert proxy.wait_for(1, timeout=0.5) == []


async def test_proxy_url_wins_over_the_environment(
    proxy: ForwardProxy, jira_tls: TlsServer
) -> None:
    dead = f"http://127.0.0.1:{free_loopback_port()}"  # nothing listens there
    client = client_for(
        jira_tls.url,
        {"HTTPS_PROXY": dead, "NO_PROXY": "*"},
        ca_bundle=str(jira_tls.ca_pem),
        proxy_url=proxy.url(),
    )
    assert await server_version(client) == "9.12.15"
    assert proxy.wait_for(1)[0][0] == "CONNECT"


async def test_wrong_proxy_password_fails_at_once_and_says_so_without_it(
    proxy: ForwardProxy, jira_tls: TlsServer
) -> None:
    wrong = "Wr0ng:pass/4Lm"
    client = client_for(
        jira_tls.url,
        {"HTTPS_PROXY": proxy.url(password=wrong)},
        ca_bundle=str(jira_tls.ca_pem),
        max_retries=3,
    )
    with pytest.raises(JiraConnectionError) as caught:
        await server_version(client)
    message = str(caught.value)
    assert f"The proxy http://{proxy.host_port} (from HTTPS_PROXY)" in message
    assert "407" in message and "credentials" in message
    assert client.retrying.retries == 0  # a 407 does not heal
    for form in proxy_secret_forms(wrong):
        assert form not in message


async def test_the_charts_self_signed_certificate_is_trusted_without_ca_bundle(
    jira_tls: TlsServer,
) -> None:
    """Port's chart mounts `selfSignedCertificate` at CHART_CERTIFICATE; this image cannot
    run update-ca-certificates (non-root), so the client trusts the file itself."""
    untrusted = client_for(jira_tls.url, {})
    with pytest.raises(JiraConnectionError, match="TLS verification failed"):
        await server_version(untrusted)
    settings = load_settings(
        {"jira_server_host": jira_tls.url, "token": "t-1", "max_retries": 0},
        environ={},
        chart_certificate=jira_tls.ca_pem,
    )
    assert await server_version(JiraServerClient(settings)) == "9.12.15"


async def test_client_certificate_is_required_and_then_accepted(tmp_path: Path) -> None:
    with tls_server(tmp_path / "mtls", require_client_certificate=True) as server:
        without = client_for(server.url, {}, ca_bundle=str(server.ca_pem))
        with pytest.raises(JiraConnectionError) as caught:
            await server_version(without)
        assert "clientCertificate (OCEAN__INTEGRATION__CONFIG__CLIENT_CERTIFICATE)" in str(
            caught.value
        )
        cert, key = server.client_certificate(password=KEY_PASSWORD)
        with_cert = client_for(
            server.url,
            {},
            ca_bundle=str(server.ca_pem),
            client_certificate=str(cert),
            client_key=str(key),
            client_key_password=KEY_PASSWORD,
        )
        assert await server_version(with_cert) == "9.12.15"


async def test_client_certificate_through_the_proxy(proxy: ForwardProxy, tmp_path: Path) -> None:
    with tls_server(tmp_path / "mtls", require_client_certificate=True) as server:
        cert, key = server.client_certificate(password=KEY_PASSWORD)
        client = client_for(
            server.url,
            {},
            proxy_url=proxy.url(),
            ca_bundle=str(server.ca_pem),
            client_certificate=str(cert),
            client_key=str(key),
            client_key_password=KEY_PASSWORD,
        )
        assert await server_version(client) == "9.12.15"
        assert ("CONNECT", server.url.removeprefix("https://")) in proxy.wait_for(1)


# ---- a real `ocean sail` ONCE run through the proxy ---------------------------------------


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    work = tmp_path_factory.mktemp("proxy-once")
    with local_stack(work, jira=jira_args(projects=2, users=10, issues=40, seed=16)) as running:
        yield running


def test_a_once_run_through_an_authenticating_proxy(stack: LocalStack, proxy: ForwardProxy) -> None:
    result = stack.run_once(
        extra_env={"OCEAN__INTEGRATION__CONFIG__PROXY_URL": proxy.url()},
        timeout=240,
        log_name="proxy-once.log",
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    jira = stack.jira.url.removeprefix("http://")
    seen = proxy.wait_for(3)
    assert any(target.startswith(f"{jira}/rest/api/2/") for _, target in seen), seen[:5]
    assert stack.catalog_client.entities(BLUEPRINTS["issue"]), "nothing was synced"
    assert f"through the proxy http://{proxy.host_port} (from proxyUrl)" in output
    for form in proxy_secret_forms():
        assert form not in output


def test_a_once_run_with_a_wrong_proxy_password_fails_and_hides_it(
    stack: LocalStack, proxy: ForwardProxy
) -> None:
    wrong = "Wr0ng:pass/8Zx"
    result = stack.run_once(
        extra_env={"OCEAN__INTEGRATION__CONFIG__PROXY_URL": proxy.url(password=wrong)},
        timeout=240,
        log_name="proxy-wrong.log",
    )
    output = result.stdout + result.stderr
    assert result.returncode == 1, output[-4000:]
    assert "407 Proxy Authentication Required" in output
    for form in proxy_secret_forms(wrong):
        assert form not in output


def test_a_once_run_with_a_wrong_key_password_exits_2_and_hides_it(
    stack: LocalStack, tmp_path: Path
) -> None:
    with tls_server(tmp_path / "mtls", require_client_certificate=True) as server:
        cert, key = server.client_certificate(password=KEY_PASSWORD)
    wrong = "wrong-" + KEY_PASSWORD
    result = stack.run_once(
        extra_env={
            "OCEAN__INTEGRATION__CONFIG__CLIENT_CERTIFICATE": str(cert),
            "OCEAN__INTEGRATION__CONFIG__CLIENT_KEY": str(key),
            "OCEAN__INTEGRATION__CONFIG__CLIENT_KEY_PASSWORD": wrong,
        },
        timeout=240,
        log_name="mtls-wrong.log",
    )
    output = result.stdout + result.stderr
    assert result.returncode == 2, output[-4000:]
    assert (
        "clientKeyPassword (OCEAN__INTEGRATION__CONFIG__CLIENT_KEY_PASSWORD) does not decrypt"
        in (output)
    )
    assert wrong not in output and KEY_PASSWORD not in output
