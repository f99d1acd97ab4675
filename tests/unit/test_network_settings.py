"""Enterprise-network settings: which proxy Jira's requests take (proxyUrl, HTTPS_PROXY,
NO_PROXY), that proxy credentials never reach a message in any form, and the validation of
client certificates (mutual TLS) and of the Helm chart's mounted certificate."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from jira_server.errors import SettingsError
from jira_server.redaction import Redactor
from jira_server.settings import JiraSettings, load_settings
from tests.support.tls_server import tls_server

HOST = "https://jira.example.test"
PROXY_PASSWORD = "pr0xy p@ss/word"  # needs URL-encoding: the forms differ
PROXY_URL = "http://egress-bot:pr0xy%20p%40ss%2Fword@proxy.corp.test:3128"
KEY_PASSWORD = "client-key-pw-5Rt8"
NO_CHART_CERT = Path("/nonexistent/cert.crt")


def settings(environ: dict[str, str] | None = None, host: str = HOST, **raw: Any) -> JiraSettings:
    return load_settings(
        {"jira_server_host": host, "token": "t-1234", **raw},
        environ=environ or {},
        chart_certificate=NO_CHART_CERT,
    )


def error_of(environ: dict[str, str] | None = None, **raw: Any) -> str:
    with pytest.raises(SettingsError) as caught:
        settings(environ, **raw)
    return str(caught.value)


# ---- which proxy ------------------------------------------------------------------------


def test_no_proxy_by_default() -> None:
    assert settings().proxy is None


def test_https_proxy_for_an_https_jira_http_proxy_for_an_http_one() -> None:
    environ = {"HTTPS_PROXY": "http://secure.corp:3128", "HTTP_PROXY": "http://plain.corp:3128"}
    https = settings(environ).proxy
    assert https is not None and (https.display, https.source) == (
        "http://secure.corp:3128",
        "HTTPS_PROXY",
    )
    plain = settings(environ, host="http://jira.example.test").proxy
    assert plain is not None and plain.source == "HTTP_PROXY"


def test_lower_case_wins_and_all_proxy_is_the_fallback() -> None:
    both = settings({"https_proxy": "http://lower:1", "HTTPS_PROXY": "http://upper:2"}).proxy
    assert both is not None and both.source == "https_proxy"
    fallback = settings({"ALL_PROXY": "http://all:3"}).proxy
    assert fallback is not None and fallback.source == "ALL_PROXY"


def test_a_proxy_without_scheme_is_http_as_curl_reads_it() -> None:
    proxy = settings({"HTTPS_PROXY": "proxy.corp:3128"}).proxy
    assert proxy is not None and proxy.url == "http://proxy.corp:3128"


@pytest.mark.parametrize(
    "no_proxy",
    [
        "jira.example.test",
        ".example.test",
        "example.test",
        "other.test, example.test",
        "*",
        "jira.example.test:443",
        "JIRA.EXAMPLE.TEST",
    ],
)
def test_no_proxy_bypasses(no_proxy: str) -> None:
    assert settings({"HTTPS_PROXY": "http://p:1", "NO_PROXY": no_proxy}).proxy is None


@pytest.mark.parametrize("no_proxy", ["example.org", "ample.test", "jira.example.test:8443"])
def test_no_proxy_that_does_not_match(no_proxy: str) -> None:
    assert settings({"HTTPS_PROXY": "http://p:1", "no_proxy": no_proxy}).proxy is not None


def test_no_proxy_ip_and_cidr() -> None:
    environ = {"HTTP_PROXY": "http://p:1", "NO_PROXY": "10.0.0.0/8"}
    assert settings(environ, host="http://10.1.2.3:8080").proxy is None
    assert settings(environ, host="http://192.0.2.1:8080").proxy is not None
    environ["NO_PROXY"] = "127.0.0.1"
    assert settings(environ, host="http://127.0.0.1:8080").proxy is None


def test_proxy_url_wins_over_the_environment_and_no_proxy() -> None:
    environ = {"HTTPS_PROXY": "http://env:1", "NO_PROXY": "*"}
    proxy = settings(environ, proxy_url=PROXY_URL).proxy
    assert proxy is not None
    assert (proxy.source, proxy.display) == ("proxyUrl", "http://proxy.corp.test:3128")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("socks5://u:pw-bad-1@p:1080", "must be an http:// or https:// proxy URL"),
        ("http://u:pw-bad-1@p:port", "has a port that is not a number"),
        ("http://u:pw-bad-1@p:3128/path", "scheme, optional credentials, host and port only"),
        ("http://u:pw-bad-1@:3128", "scheme, optional credentials, host and port only"),
    ],
)
def test_bad_proxy_url_names_the_setting_and_not_the_password(value: str, expected: str) -> None:
    message = error_of(proxy_url=value)
    assert message.startswith("proxyUrl (OCEAN__INTEGRATION__CONFIG__PROXY_URL)")
    assert expected in message and "pw-bad-1" not in message


def test_bad_environment_proxy_names_the_variable() -> None:
    message = error_of({"HTTPS_PROXY": "socks5://u:pw-bad-2@p:1080"})
    assert "The environment variable HTTPS_PROXY must be an http://" in message
    assert "pw-bad-2" not in message


# ---- proxy credentials never in a message ----------------------------------------------


def test_every_form_of_the_proxy_password_is_redacted() -> None:
    loaded = settings(proxy_url=PROXY_URL)
    redact = Redactor(loaded.secrets)
    basic = base64.b64encode(f"egress-bot:{PROXY_PASSWORD}".encode()).decode()
    text = (
        f"url={PROXY_URL} decoded={PROXY_PASSWORD} header=Proxy-Authorization: Basic {basic} "
        f"alone={basic}"
    )
    redacted = redact(text)
    for form in (PROXY_PASSWORD, "pr0xy%20p%40ss%2Fword", basic):
        assert form not in redacted
    assert "proxy.corp.test:3128" in redacted  # the host is no secret
    assert "Proxy-Authorization: Basic ***" in redact("Proxy-Authorization: Basic c29tZTpvdGhlcg==")


def test_settings_repr_hides_the_proxy_url() -> None:
    assert "pr0xy" not in repr(settings(proxy_url=PROXY_URL))


# ---- client certificates (mutual TLS) and the chart's certificate ------------------------


def test_client_certificate_with_an_encrypted_key(tmp_path: Path) -> None:
    with tls_server(tmp_path) as server:
        cert, key = server.client_certificate(password=KEY_PASSWORD)
        loaded = settings(
            client_certificate=str(cert), client_key=str(key), client_key_password=KEY_PASSWORD
        )
    assert loaded.client_certificate is not None
    assert KEY_PASSWORD in loaded.secrets
    assert KEY_PASSWORD not in repr(loaded)


def test_client_certificate_errors_name_the_setting_and_never_the_password(
    tmp_path: Path,
) -> None:
    with tls_server(tmp_path) as server:
        cert, key = server.client_certificate(password=KEY_PASSWORD)
        plain_cert, plain_key = server.client_certificate("other")
    cases: list[tuple[dict[str, Any], str]] = [
        (
            {"client_key": str(key)},
            "clientCertificate (OCEAN__INTEGRATION__CONFIG__CLIENT_CERTIFICATE) is required "
            "when clientKey",
        ),
        (
            {"client_key_password": KEY_PASSWORD},
            "is required when clientKeyPassword (OCEAN__INTEGRATION__CONFIG__CLIENT_KEY_PASSWORD)",
        ),
        ({"client_certificate": str(tmp_path / "missing.crt")}, "clientCertificate (OCEAN"),
        (
            {"client_certificate": str(cert), "client_key": str(tmp_path / "missing.key")},
            "clientKey (OCEAN__INTEGRATION__CONFIG__CLIENT_KEY): no such file",
        ),
        (
            {"client_certificate": str(cert), "client_key": str(key)},
            "is encrypted; set clientKeyPassword",
        ),
        (
            {
                "client_certificate": str(cert),
                "client_key": str(key),
                "client_key_password": "wrong-" + KEY_PASSWORD,
            },
            "clientKeyPassword (OCEAN__INTEGRATION__CONFIG__CLIENT_KEY_PASSWORD) does not decrypt",
        ),
        (
            {"client_certificate": str(cert), "client_key": str(plain_key)},
            "does not belong to the certificate",
        ),
        (
            {"client_certificate": str(server.ca_pem)},
            "could not load a PEM certificate and its private key",
        ),
    ]
    for raw, expected in cases:
        message = error_of(**raw)
        assert expected in message, (raw, message)
        assert KEY_PASSWORD not in message
    assert plain_cert.exists()


def test_the_charts_mounted_certificate_is_trusted_like_a_ca_bundle(tmp_path: Path) -> None:
    with tls_server(tmp_path) as server:
        loaded = load_settings(
            {"jira_server_host": server.url, "token": "t"},
            environ={},
            chart_certificate=server.ca_pem,
        )
    assert loaded.chart_certificate == str(server.ca_pem)


def test_a_broken_chart_certificate_points_to_ca_bundle(tmp_path: Path) -> None:
    broken = tmp_path / "cert.crt"
    broken.write_text("not a certificate\n")
    with pytest.raises(SettingsError) as caught:
        load_settings(
            {"jira_server_host": HOST, "token": "t"}, environ={}, chart_certificate=broken
        )
    message = str(caught.value)
    assert "selfSignedCertificate" in message and "caBundle (OCEAN__" in message
