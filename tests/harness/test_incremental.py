"""The full-or-incremental policy, through the real framework (harness) with a cursor store."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tests.support import jira_mock
from tests.support.harness import CursorStore, booted, default_mapping, resource


def incremental_mapping(**selector: Any) -> dict[str, Any]:
    mapping = default_mapping()
    resource(mapping, "issue")["selector"].update({"incremental": True, **selector})
    return mapping


def updated_bound(jql: str) -> datetime | None:
    match = re.search(r'updated >= "([0-9-]+ [0-9:]+)"', jql)
    if not match:
        return None
    return datetime.strptime(match.group(1), "%Y-%m-%d %H:%M").replace(
        tzinfo=ZoneInfo("Europe/Berlin")
    )


async def test_first_run_is_full_then_incremental_then_full_again() -> None:
    jira = jira_mock.sample_jira()
    cursors = CursorStore()
    async with booted(
        jira.transport(), mapping=incremental_mapping(fullSyncEvery=3, incrementalOverlapMinutes=15)
    ) as harness:
        cursors.install(harness)

        before = datetime.now(UTC)
        first = await harness.trigger_resync()
        assert first.errors == []
        assert all(updated_bound(s["jql"]) is None for s in jira.searches)  # full scan
        recorded = datetime.fromisoformat(cursors.values[("issue", 6)])
        assert before - timedelta(seconds=1) <= recorded <= datetime.now(UTC)
        assert cursors.values[("issue.runs-since-full", 6)].startswith("1970-01-01T00:00:00")

        jira.searches.clear()
        second = await harness.trigger_resync()
        assert second.errors == []
        bounds = {updated_bound(s["jql"]) for s in jira.searches}
        assert len(bounds) == 1 and None not in bounds
        # Jira reads the date in the user's zone (Europe/Berlin here), minute precision,
        # 15 minutes of overlap before the last sync's start.
        (bound,) = bounds
        assert bound is not None
        assert recorded - timedelta(minutes=16) < bound <= recorded - timedelta(minutes=15)
        assert {e["blueprint"] for e in second.upserted_entities} == {"jiraServerIssue"}
        assert cursors.values[("issue.runs-since-full", 6)].startswith("1970-01-01T00:00:01")

        jira.searches.clear()
        await harness.trigger_resync()  # second incremental
        assert all(updated_bound(s["jql"]) for s in jira.searches)

        jira.searches.clear()
        third = await harness.trigger_resync()  # every 3rd run is full again
        assert third.errors == []
        assert all(updated_bound(s["jql"]) is None for s in jira.searches)
        assert {e["blueprint"] for e in third.upserted_entities} >= {
            "jiraServerUser",
            "jiraServerProject",
        }


async def test_requested_resync_is_always_full() -> None:
    jira = jira_mock.sample_jira()
    cursors = CursorStore()
    async with booted(jira.transport(), mapping=incremental_mapping()) as harness:
        cursors.install(harness)
        await harness.trigger_resync()
        jira.searches.clear()
        assert harness._ocean is not None
        await harness._ocean.integration.sync_raw_all(trigger_type="request", silent=False)
        assert jira.searches and all(updated_bound(s["jql"]) is None for s in jira.searches)


async def test_corrupt_state_falls_back_to_full() -> None:
    jira = jira_mock.sample_jira()
    cursors = CursorStore()
    async with booted(jira.transport(), mapping=incremental_mapping()) as harness:
        cursors.install(harness)
        await harness.trigger_resync()
        cursors.corrupt = True
        jira.searches.clear()
        result = await harness.trigger_resync()
        assert result.errors == []
        assert jira.searches and all(updated_bound(s["jql"]) is None for s in jira.searches)


async def test_failed_incremental_run_does_not_advance_state() -> None:
    jira = jira_mock.sample_jira()
    cursors = CursorStore()
    async with booted(jira.transport(), mapping=incremental_mapping()) as harness:
        cursors.install(harness)
        await harness.trigger_resync()
        state = dict(cursors.values)
        jira.fail_page_request = len(jira.searches) + 1
        await harness.trigger_resync()
        assert cursors.values == state
