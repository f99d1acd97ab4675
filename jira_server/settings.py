"""Typed, validated integration settings.

Validated by the integration itself, before the framework touches the catalog: the framework's
own check of a missing required setting prints the whole configuration, secrets included.
Every message names the setting as it appears in spec.yaml and as an environment variable.
"""

from __future__ import annotations

import base64
import json
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jira_server.blueprints import DEFAULT_PREFIX, validate_namespace, validate_prefix
from jira_server.errors import SettingsError

ENV_PREFIX = "OCEAN__INTEGRATION__CONFIG__"
MAX_PAGE_SIZE = 5000
MAX_CONCURRENCY = 64
# Port's client keeps at most 100 connections; leave room for the framework's own calls.
MAX_CATALOG_CONCURRENCY = 50
# A host that ends in a REST path is a copy-paste of an API URL, not Jira's base URL.
_API_SUFFIXES = ("/rest/api/2", "/rest/api/latest", "/rest/agile/1.0", "/rest")


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
    # Coexistence and many instances in one catalog (jira_server/blueprints.py).
    blueprint_prefix: str = DEFAULT_PREFIX
    instance_namespace: str = ""

    @property
    def secrets(self) -> list[str]:
        values = [*self.auth.secrets()]
        if self.webhook_secret:
            values.append(self.webhook_secret)
        values.extend(v for k, v in self.custom_headers.items() if _looks_secret(k))
        return values

    def ssl_verify(self) -> ssl.SSLContext | bool:
        """What httpx gets as ``verify``: a context with the CA bundle, or True/False."""
        if not self.verify_ssl:
            return False
        context = ssl.create_default_context()
        if self.ca_bundle:
            context.load_verify_locations(cafile=self.ca_bundle)
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


def load_settings(raw: Mapping[str, Any]) -> JiraSettings:
    """Build settings from ``ocean.integration_config`` (snake_case keys)."""
    ca_bundle = _text(raw, "ca_bundle")
    if ca_bundle and not Path(ca_bundle).is_file():
        raise SettingsError(f"{setting_name('caBundle')}: no such file {ca_bundle!r}")
    settings = JiraSettings(
        host=validate_host(_text(raw, "jira_server_host")),
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
        # Coexistence and many instances in one catalog.
        blueprint_prefix=validate_prefix(
            _text(raw, "blueprint_prefix"), setting_name("blueprintPrefix")
        ),
        instance_namespace=validate_namespace(
            _text(raw, "instance_namespace"), setting_name("instanceNamespace")
        ),
    )
    if ca_bundle:
        try:
            settings.ssl_verify()
        except ssl.SSLError as exc:
            raise SettingsError(
                f"{setting_name('caBundle')}: {ca_bundle!r} is not a readable PEM bundle ({exc})"
            ) from None
    return settings
