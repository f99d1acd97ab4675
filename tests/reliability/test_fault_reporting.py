"""The client against the in-process emulator's faults: what is retried, and that a fault
which outlasts the retries is reported as what it is (the emulator's injected answers carry
``X-AUSERNAME: anonymous``, which must not turn a 503 into a credentials error)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from jira_server.client.rest_client import JiraServerClient
from jira_server.errors import JiraAuthError, JiraConnectionError, JiraResponseError
from jira_server.settings import load_settings
from local_stack.jira_emulator import Account, DatasetSpec, EmulatorConfig, create_app
from local_stack.jira_emulator.app import EmulatorApp
from local_stack.jira_emulator.inprocess import DEFAULT_BASE_URL, EmulatorTransport

TOKEN = "fault-test-pat"


async def no_sleep(_: float) -> None:
    return None


@pytest.fixture
def emulator() -> EmulatorApp:
    return create_app(
        EmulatorConfig(
            dataset=DatasetSpec(projects=2, users=5, issues=60, seed=3, anchor=1_750_000_000),
            accounts=[Account("bot", password="pw", token=TOKEN)],
        )
    )


async def client_for(emulator: EmulatorApp, **settings: Any) -> JiraServerClient:
    config = {"jira_server_host": DEFAULT_BASE_URL, "token": TOKEN, **settings}
    return JiraServerClient(
        load_settings(config), transport=EmulatorTransport(emulator), sleep=no_sleep
    )


@pytest.fixture
async def jira(emulator: EmulatorApp) -> AsyncIterator[JiraServerClient]:
    client = await client_for(emulator, max_retries=2, page_size=10)
    yield client
    await client.aclose()


@pytest.mark.parametrize(
    ("status", "shown"),
    [(503, "503 Service Temporarily Unavailable"), (502, "502 Bad Gateway"), (500, "Internal")],
)
async def test_lasting_5xx_is_a_server_error_not_an_auth_error(
    emulator: EmulatorApp, jira: JiraServerClient, status: int, shown: str
) -> None:
    emulator.state.set_faults({"error_next": 10, "error_statuses": [status]})
    with pytest.raises(JiraResponseError) as caught:
        await jira.fetch_myself()
    assert not isinstance(caught.value, JiraAuthError)
    message = str(caught.value)
    assert f"with {status}" in message and shown in message
    assert "(after 2 retries)" in message
    assert "<html" not in message  # the proxy page's title, not its markup
    assert emulator.state.stats.injected_errors == 3


async def test_rate_limit_outlasting_the_retries_says_what_to_do(
    emulator: EmulatorApp, jira: JiraServerClient
) -> None:
    # One token, refilled every 2 s; the fake sleeps let no time pass, so the bucket
    # stays empty whatever the throttle and the retries wait.
    emulator.state.set_faults({"rate_limit": {"capacity": 1, "fill_rate": 0.5}})
    await jira.fetch_myself()
    with pytest.raises(JiraResponseError) as caught:
        await jira.request_json("GET", "/myself")  # fetch_myself keeps its first answer
    message = str(caught.value)
    assert "429" in message and "gave up after 2 retries" in message
    assert "maxConcurrentRequests" in message
    assert emulator.state.stats.rate_limited == 3


async def test_error_next_after_fails_a_scan_midway(
    emulator: EmulatorApp, jira: JiraServerClient
) -> None:
    emulator.state.set_faults(
        {"paths": ["/rest/api/2/search"], "error_next": 3, "error_next_after": 2}
    )
    pages = jira.fetch_issues("project is not EMPTY")
    first = await anext(pages)  # search 1: the first page
    assert len(first) == 10
    with pytest.raises(JiraResponseError, match="after 2 retries"):
        async for _ in pages:  # search 2 (highest id) passes, the partitions fail
            pass
    assert emulator.state.stats.injected_errors == 3


async def test_dropped_page_is_fetched_again(emulator: EmulatorApp, jira: JiraServerClient) -> None:
    emulator.state.set_faults(
        {"paths": ["/rest/api/2/search"], "drop_next": 1, "drop_next_after": 2}
    )
    keys = [i["key"] async for page in jira.fetch_issues("") for i in page]
    assert sorted(keys) == sorted(emulator.state.truth("")["keys"])
    assert emulator.state.stats.dropped == 1
    assert jira.retrying.retries == 1


async def test_request_timeout_is_configurable_and_reported() -> None:
    """A Jira that accepts the connection and never answers: ``requestTimeout`` bounds each
    attempt, the retries are spent, and the message names the setting."""
    attempts = 0

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal attempts
        attempts += 1
        await reader.read(65536)
        await asyncio.sleep(30)  # never answers; cancelled when the server closes
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    settings = load_settings(
        {
            "jira_server_host": f"http://127.0.0.1:{port}",
            "token": TOKEN,
            "request_timeout": 1,
            "max_retries": 1,
        }
    )
    client = JiraServerClient(settings, sleep=no_sleep)
    started = time.monotonic()
    try:
        with pytest.raises(JiraConnectionError) as caught:
            await client.fetch_myself()
    finally:
        await client.aclose()
        server.close()
    took = time.monotonic() - started
    assert "did not answer within 1s (requestTimeout), after retries" in str(caught.value)
    assert attempts == 2
    assert 1.8 < took < 5
