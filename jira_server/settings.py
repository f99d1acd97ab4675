"""Typed, validated integration settings.

Validated by the integration itself, before the framework touches the catalog: the framework's
own check of a missing required setting prints the whole configuration, secrets included.
Every message names the setting as it appears in spec.yaml and as an environment variable.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import os
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from jira_server.blueprints import DEFAULT_PREFIX, validate_namespace, validate_prefix
from jira_server.errors import SettingsError

ENV_PREFIX = "OCEAN__INTEGRATION__CONFIG__"
MAX_PAGE_SIZE = 5000
MAX_CONCURRENCY = 64
# Port's client keeps at most 100 connections; leave room for the framework's own calls.
MAX_CATALOG_CONCURRENCY = 50
# A host that ends in a REST path is a copy-paste of an API URL, not Jira's base URL.
_API_SUFFIXES = ("/rest/api/2", "/rest/api/latest", "/rest/agile/1.0", "/rest")
# Port's app (EU); US organisations use https://app.us.port.io.
DEFAULT_PORT_APP_URL = "https://app.getport.io"
# Where Port's port-ocean chart mounts ``selfSignedCertificate`` (Port's own images then run
# update-ca-certificates as root; this image runs as non-root, so Jira's client trusts it
# directly, like caBundle).
CHART_CERTIFICATE = Path("/usr/local/share/ca-certificates/cert.crt")


def setting_name(camel: str) -> str:
    """``jiraServerHost`` -> ``jiraServerHost (OCEAN__INTEGRATION__CONFIG__JIRA_SERVER_HOST)``."""
    snake = "".join(f"_{c}" if c.isupper() else c for c in camel).upper()
    return f"{camel} ({ENV_PREFIX}{snake})"


@dataclass(frozen=True)
class TokenAuth:
    token: str = field(repr=False)

    def header(self) -> str:
        return f"Bearer {self.token}"

    def secrets(self) -> list[str]:
        return [self.token]

    @property
    def description(self) -> str:
        return "personal access token"


@dataclass(frozen=True)
class BasicAuth:
    username: str
    password: str = field(repr=False)

    def _encoded(self) -> str:
        return base64.b64encode(f"{self.username}:{self.password}".encode()).decode()

    def header(self) -> str:
        return f"Basic {self._encoded()}"

    def secrets(self) -> list[str]:
        return [self.password, self._encoded()]

    @property
    def description(self) -> str:
        return f"username/password of {self.username!r}"


@dataclass(frozen=True)
class JiraSettings:
    host: str
    auth: TokenAuth | BasicAuth
    verify_ssl: bool = True
    ca_bundle: str | None = None
    custom_headers: dict[str, str] = field(default_factory=dict)
    page_size: int = 1000
    max_concurrent_requests: int = 8
    request_timeout: float = 60.0
    max_retries: int = 6
    webhook_secret: str | None = field(default=None, repr=False)
    full_sync: bool = False
    catalog_max_concurrent_requests: int = 16
    port_app_url: str = DEFAULT_PORT_APP_URL
    # --- Enterprise networks: proxy, client certificate, the chart's certificate ---------
    proxy: JiraProxy | None = None
    client_certificate: ClientCertificate | None = None
    chart_certificate: str | None = None
    # Coexistence and many instances in one catalog (jira_server/blueprints.py).
    blueprint_prefix: str = DEFAULT_PREFIX
    instance_namespace: str = ""

    @property
    def secrets(self) -> list[str]:
        values = [*self.auth.secrets()]
        if self.webhook_secret:
            values.append(self.webhook_secret)
        values.extend(v for k, v in self.custom_headers.items() if _looks_secret(k))
        if self.proxy is not None:
            values.extend(self.proxy.secrets())
        if self.client_certificate is not None:
            values.extend(self.client_certificate.secrets())
        return values

    def ssl_verify(self) -> ssl.SSLContext | bool:
        """What httpx gets as ``verify``: a context with the CA bundle (and the chart's
        certificate, and the client certificate), or False."""
        if not self.verify_ssl:
            if self.client_certificate is None:
                return False
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        else:
            context = ssl.create_default_context()
            for cafile in (self.ca_bundle, self.chart_certificate):
                if cafile:
                    context.load_verify_locations(cafile=cafile)
        if self.client_certificate is not None:
            self.client_certificate.load_into(context)
        return context


def _looks_secret(header_name: str) -> bool:
    lowered = header_name.lower()
    return any(word in lowered for word in ("auth", "token", "secret", "key", "cookie"))


def _text(raw: Mapping[str, Any], key: str) -> str | None:
    value = raw.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        value = str(value)
    value = value.strip()
    return value or None


def _int(raw: Mapping[str, Any], key: str, camel: str, default: int, low: int, high: int) -> int:
    value = raw.get(key)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise SettingsError(
            f"{setting_name(camel)} must be a whole number, got {value!r}"
        ) from None
    if not low <= number <= high:
        raise SettingsError(f"{setting_name(camel)} must be between {low} and {high}, got {number}")
    return number


def _bool(raw: Mapping[str, Any], key: str, camel: str, default: bool) -> bool:
    value = raw.get(key)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"true", "1", "yes"}:
        return True
    if text in {"false", "0", "no"}:
        return False
    raise SettingsError(f"{setting_name(camel)} must be true or false, got {value!r}")


def validate_host(value: str | None) -> str:
    name = setting_name("jiraServerHost")
    if not value:
        raise SettingsError(
            f"{name} is required: the base URL of your Jira Server, e.g. https://jira.example.com"
        )
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise SettingsError(
            f"{name} must be an http(s) URL such as https://jira.example.com, got {value!r}"
        )
    if parts.query or parts.fragment or parts.username or parts.password:
        raise SettingsError(
            f"{name} must not contain credentials, a query or a fragment; "
            "use token or username/password for credentials"
        )
    path = parts.path.rstrip("/")
    for suffix in _API_SUFFIXES:
        if path.lower().endswith(suffix):
            base = value.rstrip("/")[: -len(suffix)]
            raise SettingsError(
                f"{name} must be Jira's base URL (including any context path such as /jira), "
                f"not a REST API URL: use {base or value!r} instead of {value.rstrip('/')!r}"
            )
    # Keep a context path such as https://example.com/jira; drop the trailing slash.
    return value.rstrip("/")


def validate_port_app_url(value: str | None) -> str:
    """``portAppUrl``: where entity pages live, for links back from Jira."""
    if not value:
        return DEFAULT_PORT_APP_URL
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise SettingsError(
            f"{setting_name('portAppUrl')} must be an http(s) URL such as "
            f"{DEFAULT_PORT_APP_URL}, got {value!r}"
        )
    if parts.query or parts.fragment or parts.username or parts.password:
        raise SettingsError(
            f"{setting_name('portAppUrl')} must be the base URL of Port's app, without "
            "credentials, a query or a fragment"
        )
    return value.rstrip("/")


def _auth(raw: Mapping[str, Any]) -> TokenAuth | BasicAuth:
    token = _text(raw, "token")
    username = _text(raw, "username")
    password = raw.get("password") or None
    token_name, user_name, pass_name = (
        setting_name("token"),
        setting_name("username"),
        setting_name("password"),
    )
    if token and (username or password):
        raise SettingsError(
            f"Set exactly one authentication method: either {token_name}, or {user_name} with "
            f"{pass_name} — not both"
        )
    if token:
        return TokenAuth(token=token)
    if username and password:
        return BasicAuth(username=username, password=str(password))
    if username:
        raise SettingsError(f"{pass_name} is required when {user_name} is set")
    if password:
        raise SettingsError(f"{user_name} is required when {pass_name} is set")
    raise SettingsError(
        f"No Jira credentials: set {token_name} (a personal access token), or {user_name} "
        f"with {pass_name}"
    )


def _headers(raw: Mapping[str, Any]) -> dict[str, str]:
    """``customHeaders``: a JSON object (or its text, from an environment variable). Its
    values may be credentials (an access-proxy token), so no message ever quotes them."""
    name = setting_name("customHeaders")
    value = raw.get("custom_headers")
    if value in (None, "", {}):
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as exc:
            raise SettingsError(
                f"{name} is not valid JSON (at character {getattr(exc, 'pos', '?')}); it must "
                'be an object such as {"CF-Access-Client-Id": "..."}'
            ) from None
    if not isinstance(value, Mapping):
        raise SettingsError(
            f'{name} must be a JSON object such as {{"CF-Access-Client-Id": "..."}}, '
            f"got a JSON {type(value).__name__}"
        )
    headers: dict[str, str] = {}
    for index, (key, header_value) in enumerate(value.items(), start=1):
        if not isinstance(key, str) or not key.strip() or any(c in key for c in " :\r\n"):
            raise SettingsError(f"{name}: the header name of entry {index} is not valid")
        if key.lower() == "authorization":
            raise SettingsError(
                f"{name} must not set Authorization: use token or username/password"
            )
        if isinstance(header_value, (dict, list)) or header_value is None:
            raise SettingsError(f"{name}: header {key} must have a text value")
        text = str(header_value)
        if "\r" in text or "\n" in text:
            raise SettingsError(f"{name}: header {key} has a line break")
        headers[key] = text
    return headers


def load_settings(
    raw: Mapping[str, Any],
    environ: Mapping[str, str] | None = None,
    chart_certificate: Path = CHART_CERTIFICATE,
) -> JiraSettings:
    """Build settings from ``ocean.integration_config`` (snake_case keys); the proxy
    variables come from ``environ`` (the process environment by default)."""
    ca_bundle = _text(raw, "ca_bundle")
    if ca_bundle and not Path(ca_bundle).is_file():
        raise SettingsError(f"{setting_name('caBundle')}: no such file {ca_bundle!r}")
    host = validate_host(_text(raw, "jira_server_host"))
    settings = JiraSettings(
        host=host,
        auth=_auth(raw),
        verify_ssl=_bool(raw, "verify_ssl", "verifySsl", True),
        ca_bundle=ca_bundle,
        custom_headers=_headers(raw),
        page_size=_int(raw, "page_size", "pageSize", 1000, 1, MAX_PAGE_SIZE),
        max_concurrent_requests=_int(
            raw, "max_concurrent_requests", "maxConcurrentRequests", 8, 1, MAX_CONCURRENCY
        ),
        request_timeout=float(_int(raw, "request_timeout", "requestTimeout", 60, 1, 3600)),
        max_retries=_int(raw, "max_retries", "maxRetries", 6, 0, 20),
        webhook_secret=_text(raw, "webhook_secret"),
        full_sync=_bool(raw, "full_sync", "fullSync", False),
        catalog_max_concurrent_requests=_int(
            raw,
            "catalog_max_concurrent_requests",
            "catalogMaxConcurrentRequests",
            16,
            1,
            MAX_CATALOG_CONCURRENCY,
        ),
        port_app_url=validate_port_app_url(_text(raw, "port_app_url")),
        proxy=jira_proxy(host, _text(raw, "proxy_url"), os.environ if environ is None else environ),
        client_certificate=_client_certificate(raw),
        chart_certificate=_chart_certificate(chart_certificate),
        # Coexistence and many instances in one catalog.
        blueprint_prefix=validate_prefix(
            _text(raw, "blueprint_prefix"), setting_name("blueprintPrefix")
        ),
        instance_namespace=validate_namespace(
            _text(raw, "instance_namespace"), setting_name("instanceNamespace")
        ),
    )
    _check_tls_files(settings)
    if ca_bundle:
        try:
            settings.ssl_verify()
        except ssl.SSLError as exc:
            raise SettingsError(
                f"{setting_name('caBundle')}: {ca_bundle!r} is not a readable PEM bundle ({exc})"
            ) from None
    return settings


# --- Enterprise networks: proxy, client certificate, the chart's certificate ---------------
#
# The Jira client builds its own httpx transport (retries, throttling), and httpx reads the
# proxy variables only when it builds the transport itself: so they are resolved here, once,
# for Jira's host, the way httpx and curl read them (lower case first, NO_PROXY honoured).
# ``proxyUrl`` wins over the environment (and over NO_PROXY): it names the proxy for Jira.

_PROXY_VARIABLES = {
    "https": ("https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"),
    "http": ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"),
}
_NO_PROXY_VARIABLES = ("no_proxy", "NO_PROXY")


@dataclass(frozen=True)
class JiraProxy:
    url: str = field(repr=False)  # may carry user:password
    source: str  # the setting or environment variable it came from

    @property
    def display(self) -> str:
        """The proxy without its credentials, for logs."""
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"

    def secrets(self) -> list[str]:
        """The password as written in the URL and as sent: decoded, and inside the base64
        ``Proxy-Authorization: Basic`` value of ``user:password``."""
        userinfo, at, _ = urlsplit(self.url).netloc.rpartition("@")
        if not at or ":" not in userinfo:
            return []
        raw_user, _, raw_password = userinfo.partition(":")
        user, password = unquote(raw_user), unquote(raw_password)
        if not password:
            return []
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        return [password, raw_password, token]


def jira_proxy(
    jira_host: str, explicit: str | None, environ: Mapping[str, str]
) -> JiraProxy | None:
    """The proxy Jira's requests go through: ``proxyUrl``, else the environment's."""
    if explicit:
        return JiraProxy(_proxy_url(explicit, setting_name("proxyUrl")), "proxyUrl")
    jira = urlsplit(jira_host)
    for name in _PROXY_VARIABLES[jira.scheme]:
        value = (environ.get(name) or "").strip()
        if value:
            break
    else:
        return None
    no_proxy = next((environ[n] for n in _NO_PROXY_VARIABLES if environ.get(n)), "")
    port = jira.port or (443 if jira.scheme == "https" else 80)
    if _bypasses_proxy(jira.hostname or "", port, no_proxy):
        return None
    return JiraProxy(_proxy_url(value, f"The environment variable {name}"), name)


def _bypasses_proxy(host: str, port: int, no_proxy: str) -> bool:
    """NO_PROXY as curl reads it: ``*``, host names matching themselves and their
    subdomains (a leading dot is optional), ``host:port``, IP addresses and CIDR ranges."""
    host = host.lower().strip("[]")
    try:
        address: ipaddress.IPv4Address | ipaddress.IPv6Address | None = ipaddress.ip_address(host)
    except ValueError:
        address = None
    for entry in (e.strip().lower() for e in no_proxy.split(",")):
        if not entry:
            continue
        if entry == "*":
            return True
        name, entry_port = entry, None
        if entry.count(":") == 1:  # host:port (an IPv6 entry has several colons)
            name, _, port_text = entry.partition(":")
            entry_port = int(port_text) if port_text.isdigit() else None
            if entry_port is not None and entry_port != port:
                continue
        name = name.lstrip(".").strip("[]")
        if address is not None and "/" in name:
            try:
                if address in ipaddress.ip_network(name, strict=False):
                    return True
            except ValueError:
                pass
            continue
        if host == name or host.endswith(f".{name}"):
            return True
    return False


def _proxy_url(value: str, name: str) -> str:
    """Validated proxy URL; messages never quote it (it may carry a password)."""
    url = value if "://" in value else f"http://{value}"  # as httpx and curl read HOST:PORT
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"}:
        raise SettingsError(
            f"{name} must be an http:// or https:// proxy URL such as "
            f"http://proxy.example.com:3128, got a {parts.scheme}:// URL"
        )
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        raise SettingsError(f"{name} has a port that is not a number") from None
    if not parts.hostname or parts.path not in {"", "/"} or parts.query or parts.fragment:
        raise SettingsError(
            f"{name} must be a proxy URL such as http://user:password@proxy.example.com:3128 "
            "(scheme, optional credentials, host and port only)"
        )
    return url


@dataclass(frozen=True)
class ClientCertificate:
    """A client certificate for Jira instances (or their gateways) that require mutual TLS."""

    certificate: str
    key: str | None = None  # None: the key is in the certificate file
    key_password: str | None = field(default=None, repr=False)

    def secrets(self) -> list[str]:
        return [self.key_password] if self.key_password else []

    def load_into(self, context: ssl.SSLContext) -> None:
        # A callable, even without a password: OpenSSL would otherwise prompt on a terminal.
        context.load_cert_chain(
            self.certificate, self.key, password=lambda: self.key_password or ""
        )


def _client_certificate(raw: Mapping[str, Any]) -> ClientCertificate | None:
    certificate = _text(raw, "client_certificate")
    key = _text(raw, "client_key")
    password = raw.get("client_key_password") or None
    cert_name = setting_name("clientCertificate")
    if certificate is None:
        for value, camel in ((key, "clientKey"), (password, "clientKeyPassword")):
            if value:
                raise SettingsError(f"{cert_name} is required when {setting_name(camel)} is set")
        return None
    for path, camel in ((certificate, "clientCertificate"), (key, "clientKey")):
        if path and not Path(path).is_file():
            raise SettingsError(f"{setting_name(camel)}: no such file {path!r}")
    return ClientCertificate(certificate, key, None if password is None else str(password))


def _chart_certificate(path: Path) -> str | None:
    return str(path) if path.is_file() else None


def _check_tls_files(settings: JiraSettings) -> None:
    """Load the client certificate and the chart's certificate once, at start, so that a
    wrong file or password is a settings error naming the setting, not a failed sync."""
    client = settings.client_certificate
    if client is not None:
        try:
            client.load_into(ssl.create_default_context())
        except ssl.SSLError as exc:
            raise SettingsError(_client_certificate_problem(client, exc)) from None
    if settings.chart_certificate and settings.verify_ssl:
        try:
            ssl.create_default_context().load_verify_locations(cafile=settings.chart_certificate)
        except ssl.SSLError:
            raise SettingsError(
                f"selfSignedCertificate: the file the Helm chart mounts at "
                f"{settings.chart_certificate} is not a PEM certificate. Put the CA's PEM "
                f"certificate in selfSignedCertificate.certificate, or mount it and point "
                f"{setting_name('caBundle')} at it"
            ) from None


def _client_certificate_problem(client: ClientCertificate, exc: ssl.SSLError) -> str:
    key_file = client.key or client.certificate
    try:
        encrypted = "ENCRYPTED" in Path(key_file).read_text(errors="replace")
    except OSError:
        encrypted = False
    cert, key = setting_name("clientCertificate"), setting_name("clientKey")
    password = setting_name("clientKeyPassword")
    if encrypted and not client.key_password:
        return f"{key}: the private key in {key_file!r} is encrypted; set {password}"
    if encrypted and exc.reason in {"BAD_DECRYPT", "BAD_PASSWORD_READ", None}:
        return f"{password} does not decrypt the private key in {key_file!r}"
    if exc.reason == "KEY_VALUES_MISMATCH":
        return (
            f"{key}: the private key in {key_file!r} does not belong to the certificate in {cert}"
        )
    return (
        f"{cert} and {key}: could not load a PEM certificate and its private key from "
        f"{client.certificate!r}{f' and {client.key!r}' if client.key else ''} "
        f"({exc.reason or 'not PEM'})"
    )
