"""When live events are on, and keeping the Jira registration in step with the mapping.

Live events need a listener that processes webhooks (not ONCE) and ``OCEAN__BASE_URL`` (the
framework starts no webhook workers without it). The registration is checked at start and
again at the start of every resync, so a changed issue JQL reaches Jira's filter too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from loguru import logger
from port_ocean.context.ocean import ocean
from port_ocean.core.handlers.port_app_config.models import ResourceConfig

from jira_server import framework
from jira_server.client.provider import current_settings, get_client
from jira_server.errors import JiraPermissionError, JiraSyncError
from jira_server.webhooks.events import ISSUE_EVENTS, PROJECT_EVENTS, USER_EVENTS, WEBHOOK_PATH
from jira_server.webhooks.registration import (
    DesiredWebhook,
    Registration,
    ensure_webhook,
    issue_filter,
)

KIND_EVENTS = {"issue": ISSUE_EVENTS, "project": PROJECT_EVENTS, "user": USER_EVENTS}

NO_SECRET_WARNING = (
    "webhookSecret is NOT set: webhook deliveries cannot be authenticated and are accepted "
    "from anyone who can reach {url}. A delivery only names an object; the integration "
    "refetches it from Jira, so an unauthenticated request can make it re-read Jira (load) "
    "but cannot change content, and an entity is removed only when Jira itself answers 404 "
    "or the object no longer matches the selector. Set webhookSecret "
    "(OCEAN__INTEGRATION__CONFIG__WEBHOOK_SECRET) to reject unauthenticated deliveries with 401"
)

_locks: dict[int, asyncio.Lock] = {}
_refused: set[str] = set()


def webhook_url() -> str | None:
    """Where Jira must deliver, or None when live events are off in this process."""
    app = ocean.app
    if not app.base_url or not app.config.event_listener.should_process_webhooks:
        return None
    return framework.webhook_route_path(app.base_url.rstrip("/"), WEBHOOK_PATH)


def desired_webhook(url: str, resources: Sequence[ResourceConfig]) -> DesiredWebhook | None:
    kinds = {r.kind for r in resources}
    events = sorted(e for kind, names in KIND_EVENTS.items() if kind in kinds for e in names)
    if not events:
        return None
    jqls = [str(getattr(r.selector, "jql", None) or "") for r in resources if r.kind == "issue"]
    return DesiredWebhook(
        name=f"jira-server-sync ({ocean.config.integration.identifier})",
        url=url,
        events=tuple(events),
        jql=issue_filter(jqls),
        secret=current_settings().webhook_secret,
    )


async def on_start() -> None:
    url = webhook_url()
    if url is None:
        logger.info(
            "Live events are off (ONCE listener or no OCEAN__BASE_URL): no Jira webhook is "
            "registered; the catalog follows Jira through resyncs only"
        )
        return
    if not current_settings().webhook_secret:
        logger.warning(NO_SECRET_WARNING.format(url=url))
    # Start listeners run inside the framework's START event, which has no mapping yet:
    # fetching it here attaches it to that event (a nested event would fail to inherit it).
    try:
        config = await ocean.integration.port_app_config_handler.get_port_app_config(
            use_cache=False
        )
    except Exception as exc:  # the catalog may be briefly unreachable: not worth a crash
        logger.warning(
            f"Could not read the mapping to register the Jira webhook ({exc}); "
            "retrying at the next resync"
        )
        return
    await sync_registration(config.resources)


async def sync_registration(resources: Sequence[ResourceConfig]) -> None:
    """Create or update our registration; a failure is a warning, never a crash."""
    url = webhook_url()
    if url is None:
        return
    desired = desired_webhook(url, resources)
    if desired is None:
        logger.info("No issue, project or user kind in the mapping: no Jira webhook needed")
        return
    loop = id(asyncio.get_running_loop())
    lock = _locks.setdefault(loop, asyncio.Lock())
    async with lock:  # start-up and the first resync may both get here at once
        client = get_client()
        try:
            result = await ensure_webhook(client, desired)
        except JiraPermissionError as exc:
            _refused_warning(url, desired, exc)
            return
        except JiraSyncError as exc:
            logger.warning(
                f"Could not register the Jira webhook ({url}): {client.redact(str(exc))}"
            )
            return
    _refused.discard(url)
    logger.info(_describe(result, desired, url))


def _refused_warning(url: str, desired: DesiredWebhook, exc: JiraPermissionError) -> None:
    if url in _refused:  # explained once already; every resync retries quietly
        logger.info(f"The Jira webhook still cannot be registered: {exc}")
        return
    _refused.add(url)
    logger.warning(
        f"Could not register the Jira webhook: {str(exc).rstrip('.')}. Registering webhooks "
        f"needs Jira administrator rights. Live events stay off until an administrator "
        f"registers {url} for {', '.join(desired.events)} with the issue filter "
        f"{desired.jql!r}; resyncs keep the catalog up to date meanwhile"
    )


def _describe(result: Registration, desired: DesiredWebhook, url: str) -> str:
    if not desired.secret:
        auth = "no secret: deliveries are unauthenticated"
    elif result.api.startswith("Data Center"):
        auth = "signed deliveries (X-Hub-Signature)"
    else:
        auth = "token in the URL (this Jira cannot sign)"
    detail = f"; changed: {', '.join(result.changed)}" if result.changed else ""
    if result.removed_duplicates:
        detail += f"; removed duplicates {', '.join(result.removed_duplicates)}"
    # The URL is logged without the token: the secret never appears in a log line.
    return (
        f"Jira webhook {result.action} ({result.api} API, id {result.id}{detail}): {url}, "
        f"{len(desired.events)} events, issue filter {desired.jql!r}, {auth}"
    )
