"""What real servers get wrong in search pages, against the in-process emulator: a page cut
short mid-range, issues left out of a page, an item without fields, ids in clusters. The
client must never take a short page for the end, never yield a partial set silently, and
keep its concurrency whatever the spread of the ids."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from jira_server.client.rest_client import JiraServerClient
from jira_server.errors import JiraResponseError, PartialResultError
from jira_server.settings import load_settings
from local_stack.jira_emulator import Account, DatasetSpec, EmulatorConfig, create_app
from local_stack.jira_emulator.app import EmulatorApp
from local_stack.jira_emulator.inprocess import DEFAULT_BASE_URL, EmulatorTransport

TOKEN = "paging-test-pat"
JQL = "project is not EMPTY"


def emulator_with(**dataset: Any) -> EmulatorApp:
    spec = {"projects": 3, "users": 5, "issues": 1102, "seed": 4, "anchor": 1_750_000_000}
    return create_app(
        EmulatorConfig(
            dataset=DatasetSpec(**{**spec, **dataset}),
            accounts=[Account("bot", password="pw", token=TOKEN)],
            max_results_cap=100,
        )
    )


async def scan(emulator: EmulatorApp, **settings: Any) -> list[int]:
    config = {"jira_server_host": DEFAULT_BASE_URL, "token": TOKEN, "max_retries": 0, **settings}
    client = JiraServerClient(load_settings(config), transport=EmulatorTransport(emulator))
    try:
        pages = client.fetch_issues(JQL, fields=["summary"])
        return [int(i["id"]) async for page in _pages(pages) for i in page]
    finally:
        await client.aclose()


async def _pages(pages: AsyncIterator[list[dict[str, Any]]]) -> AsyncIterator[list[dict[str, Any]]]:
    async for page in pages:
        yield page


def truth(emulator: EmulatorApp) -> list[int]:
    return sorted(int(i) for i in emulator.state.truth(JQL)["ids"])


async def test_pages_cut_short_mid_range_lose_nothing() -> None:
    emulator = emulator_with()
    emulator.state.set_faults({"paths": ["/rest/api/2/search"], "short_page_rate": 0.5})
    assert await scan(emulator) == truth(emulator)


async def test_issues_left_out_of_pages_fail_the_scan() -> None:
    emulator = emulator_with()
    emulator.state.set_faults({"paths": ["/rest/api/2/search"], "omit_issue_rate": 0.02})
    with pytest.raises(PartialResultError, match="a page came back short mid-range"):
        await scan(emulator)


async def test_an_issue_without_fields_is_a_malformed_response() -> None:
    emulator = emulator_with()
    emulator.state.set_faults({"paths": ["/rest/api/2/search"], "malformed_issue_rate": 0.01})
    with pytest.raises(JiraResponseError, match="has no fields: a malformed response"):
        await scan(emulator)


async def test_ids_in_two_clusters_keep_every_partition_about_a_page() -> None:
    emulator = emulator_with(issues=3000, id_gap=10_000_000)
    ids = truth(emulator)
    assert ids[-1] - ids[0] > 10_000_000  # two clusters far apart
    emulator.state.stats.reset()
    assert await scan(emulator, max_concurrent_requests=4) == ids
    searches = emulator.state.stats.to_json(searches=True)["searches"]
    pages = [s for s in searches if s["maxResults"] > 1]
    # Every page but the open last one is close to full: no empty partitions, no partition
    # read page after page.
    returned = [s["returned"] for s in pages]
    assert sum(returned) == len(ids)
    assert sum(1 for r in returned if r == 0) <= 1
    assert len(pages) <= len(ids) / 100 * 1.5 + 2
