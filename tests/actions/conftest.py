"""The fixtures every actions test module shares: an emulated Jira, and a Jira client or a
plain HTTP client (with the token) on it. A module defining its own fixture of the same
name (another dataset, no token) overrides these."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from jira_server.client.rest_client import JiraServerClient
from local_stack.jira_emulator import EmulatorApp
from local_stack.jira_emulator.inprocess import emulator_client

from .support import TOKEN, jira_client, make_emulator


@pytest.fixture
def app() -> EmulatorApp:
    return make_emulator()


@pytest.fixture
async def jira(app: EmulatorApp) -> AsyncIterator[JiraServerClient]:
    client = jira_client(app)
    yield client
    await client.aclose()


@pytest.fixture
async def http(app: EmulatorApp) -> AsyncIterator[httpx.AsyncClient]:
    async with emulator_client(app, headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        yield client
