"""One Jira client per event loop, built from the validated settings of the integration."""

from __future__ import annotations

import asyncio

from port_ocean.context.ocean import ocean

from jira_server.client.rest_client import JiraServerClient, TransportFactory, network_transport
from jira_server.settings import JiraSettings, load_settings

_clients: dict[int, JiraServerClient] = {}
# Swapped by tests and the local stack to reach an in-process Jira; production uses the network.
transport_factory: TransportFactory = network_transport


def current_settings() -> JiraSettings:
    settings = getattr(ocean.app.integration, "settings", None)
    if isinstance(settings, JiraSettings):
        return settings
    return load_settings(ocean.integration_config)


def get_client() -> JiraServerClient:
    loop_id = id(asyncio.get_running_loop())
    client = _clients.get(loop_id)
    if client is None:
        settings = current_settings()
        client = JiraServerClient(settings, transport=transport_factory(settings))
        _clients.clear()  # a new loop (tests, restarts) makes older clients unusable
        _clients[loop_id] = client
    return client


def reset() -> None:
    """Forget cached clients (settings or transport changed)."""
    _clients.clear()
