"""Keep exactly one Jira webhook pointing at this integration, idempotently.

Data Center 10+ has ``/rest/jira-webhook/1.0/webhooks``; where that answers 404 (Jira 9.x
and older) the legacy ``/rest/webhooks/1.0/webhook`` is used. A registration is ours when
its URL (without the query string) is our webhook URL; an existing one is updated when its
events, filter, secret or URL differ, further ones with our URL are deleted, and one is
created only when none exists, so restarts never add duplicates.

DC 10 reads options only from ``configuration`` (strings): top-level ``filters``/``secret``
are silently ignored there (JRASERVER-78733). 9.x cannot sign deliveries, so the secret goes
into the URL as ``?token=`` instead. The secret itself is never logged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from jira_server.client.jql import strip_order_by
from jira_server.client.rest_client import JiraServerClient, path_segment
from jira_server.errors import JiraResponseError
from jira_server.webhooks.middleware import TOKEN_PARAM
from jira_server.webhooks.validation import InvalidReference, numeric_id

DC_API = "/rest/jira-webhook/1.0/webhooks"
LEGACY_API = "/rest/webhooks/1.0/webhook"
LEGACY_FILTER = "issue-related-events-section"


@dataclass(frozen=True)
class DesiredWebhook:
    name: str
    url: str  # our route, without any token
    events: tuple[str, ...]
    jql: str
    secret: str | None

    def legacy_url(self) -> str:
        if not self.secret:
            return self.url
        return f"{self.url}?{urlencode({TOKEN_PARAM: self.secret})}"


@dataclass(frozen=True)
class Registration:
    """What was done, for the log: never carries the secret."""

    api: str  # "Data Center 10+" or "9.x"
    id: str
    action: str  # "created" | "updated" | "unchanged"
    changed: tuple[str, ...] = ()
    removed_duplicates: tuple[str, ...] = ()


def issue_filter(jqls: Sequence[str]) -> str:
    """One filter for every issue selector: their disjunction (an empty JQL selects all)."""
    wheres = list(dict.fromkeys(strip_order_by(j) for j in jqls))
    if not wheres or "" in wheres:
        return ""
    return wheres[0] if len(wheres) == 1 else " OR ".join(f"({w})" for w in wheres)


def endpoint(url: str) -> tuple[str, str, str]:
    """What identifies our registration: scheme, host and path, without the query."""
    parts = urlsplit(url.strip())
    return parts.scheme.lower(), parts.netloc.lower(), parts.path.rstrip("/")


async def ensure_webhook(client: JiraServerClient, desired: DesiredWebhook) -> Registration:
    try:
        existing = await _list(client, DC_API)
    except JiraResponseError as exc:
        if exc.status_code != 404:
            raise
        return await _ensure(client, desired, await _list(client, LEGACY_API), _LEGACY)
    return await _ensure(client, desired, existing, _DC)


async def _list(client: JiraServerClient, api: str) -> list[dict[str, Any]]:
    body = await client.request_json("GET", api)
    if isinstance(body, dict):  # tolerate a paged envelope as well as a bare array
        body = body.get("values", [])
    if not isinstance(body, list):
        raise JiraResponseError(f"GET {api} did not return a list of webhooks")
    return [w for w in body if isinstance(w, dict)]


@dataclass(frozen=True)
class _Api:
    label: str
    path: str

    def ours(self, registration: dict[str, Any], desired: DesiredWebhook) -> bool:
        url = registration.get("url")
        return isinstance(url, str) and endpoint(url) == endpoint(desired.url)

    def ident(self, registration: dict[str, Any]) -> str:
        return numeric_id(registration.get("id"), "webhook id")

    def body(self, desired: DesiredWebhook) -> dict[str, Any]:
        configuration = {"FILTERS": desired.jql, "EXCLUDE_BODY": "false"}
        if desired.secret:
            configuration["SECRET"] = desired.secret
        return {
            "name": desired.name,
            "url": desired.url,
            "events": list(desired.events),
            "configuration": configuration,
            "active": True,
        }

    def differences(self, registration: dict[str, Any], desired: DesiredWebhook) -> list[str]:
        config = registration.get("configuration")
        config = config if isinstance(config, dict) else {}
        checks = {
            "url": registration.get("url") == desired.url,
            "events": _events(registration) == set(desired.events),
            "filter": (config.get("FILTERS") or "") == desired.jql,
            "secret": (config.get("SECRET") or None) == desired.secret,
            "body": str(config.get("EXCLUDE_BODY", "false")).lower() == "false",
            "active": str(registration.get("active", True)).lower() == "true",
        }
        return [name for name, same in checks.items() if not same]


class _LegacyApi(_Api):
    def ident(self, registration: dict[str, Any]) -> str:
        # 9.x answers no id field, only ``self``: .../rest/webhooks/1.0/webhook/{id}
        own = registration.get("self")
        return numeric_id(own.rstrip("/").rsplit("/", 1)[-1] if isinstance(own, str) else None)

    def body(self, desired: DesiredWebhook) -> dict[str, Any]:
        return {
            "name": desired.name,
            "url": desired.legacy_url(),
            "events": list(desired.events),
            "filters": {LEGACY_FILTER: desired.jql},
            "excludeBody": False,
            "enabled": True,
        }

    def differences(self, registration: dict[str, Any], desired: DesiredWebhook) -> list[str]:
        filters = registration.get("filters")
        filters = filters if isinstance(filters, dict) else {}
        checks = {
            # The URL carries the token: a changed secret shows up here.
            "url/token": registration.get("url") == desired.legacy_url(),
            "events": _events(registration) == set(desired.events),
            "filter": (filters.get(LEGACY_FILTER) or "") == desired.jql,
            "body": registration.get("excludeBody") in (False, None),
            "active": registration.get("enabled", True) is not False,
        }
        return [name for name, same in checks.items() if not same]


_DC = _Api("Data Center 10+", DC_API)
_LEGACY = _LegacyApi("9.x", LEGACY_API)


def _events(registration: dict[str, Any]) -> set[str]:
    events = registration.get("events")
    return {str(e) for e in events} if isinstance(events, list) else set()


async def _ensure(
    client: JiraServerClient,
    desired: DesiredWebhook,
    existing: list[dict[str, Any]],
    api: _Api,
) -> Registration:
    ours: list[tuple[str, dict[str, Any]]] = []
    for registration in existing:
        if not api.ours(registration, desired):
            continue
        try:
            ours.append((api.ident(registration), registration))
        except InvalidReference:
            continue  # cannot be addressed safely; leave it alone
    if not ours:
        created = await client.request_json("POST", api.path, json=api.body(desired), write=True)
        ident = api.ident(created) if isinstance(created, dict) else "?"
        return Registration(api.label, ident, "created")
    (ident, keep), extra = ours[0], ours[1:]
    for duplicate, _ in extra:
        await client.request_json("DELETE", f"{api.path}/{path_segment(duplicate)}", write=True)
    changed = api.differences(keep, desired)
    if changed:
        await client.request_json(
            "PUT", f"{api.path}/{path_segment(ident)}", json=api.body(desired), write=True
        )
    return Registration(
        api.label,
        ident,
        "updated" if changed else "unchanged",
        tuple(changed),
        tuple(d for d, _ in extra),
    )
