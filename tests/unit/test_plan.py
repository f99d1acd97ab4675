"""Full or delta, per resource from its own selector and its own recorded state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from jira_server.resources import JiraServerPortAppConfig
from jira_server.sync.plan import Mode, plan_resource
from jira_server.sync.state import EPOCH, ResourceState, SyncState, config_fingerprint
from tests.support.harness import default_mapping, resource

START = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


class Cursors:
    def __init__(self) -> None:
        self.values: dict[tuple[str, int], datetime] = {}
        self.broken = False

    async def get_integration_cursor(self, kind: str, index: int) -> datetime | None:
        if self.broken:
            raise ValueError("not a date")
        return self.values.get((kind, index))

    async def upsert_integration_cursor(self, kind: str, index: int, value: datetime) -> None:
        self.values[(kind, index)] = value


def issue_resources(*selectors: dict[str, Any]) -> list[Any]:
    mapping = default_mapping()
    issue = resource(mapping, "issue")
    mapping["resources"] = [{**issue, "selector": {**issue["selector"], **s}} for s in selectors]
    return list(JiraServerPortAppConfig.parse_obj(mapping).resources)


async def recorded(cursors: Cursors, res: Any, index: int, runs: int = 0) -> None:
    state = ResourceState(START, runs, config_fingerprint(res))
    await SyncState(cursors).write("issue", index, state)


async def test_each_resource_runs_as_its_own_selector_says() -> None:
    cursors = Cursors()
    delta, full = issue_resources(
        {"incremental": True}, {"incremental": False, "jql": "project = B"}
    )
    await recorded(cursors, delta, 0)
    await recorded(cursors, full, 1)
    state = SyncState(cursors)
    first = await plan_resource(0, delta, state, requested_full=None)
    second = await plan_resource(1, full, state, requested_full=None)
    assert first.mode is Mode.DELTA and first.since == START - timedelta(minutes=10)
    assert second.mode is Mode.FULL and "incremental: false" in second.reason


async def test_the_first_run_and_a_changed_mapping_are_full() -> None:
    cursors = Cursors()
    [res] = issue_resources({})
    assert (await plan_resource(0, res, SyncState(cursors), requested_full=None)).mode is Mode.FULL
    await recorded(cursors, res, 0)
    [changed] = issue_resources({"jql": "project = OTHER"})
    plan = await plan_resource(0, changed, SyncState(cursors), requested_full=None)
    assert plan.mode is Mode.FULL and "changed since the last successful sync" in plan.reason


async def test_every_nth_run_is_full_and_the_count_advances() -> None:
    cursors = Cursors()
    [res] = issue_resources({"fullSyncEvery": 3})
    await recorded(cursors, res, 0, runs=1)
    plan = await plan_resource(0, res, SyncState(cursors), requested_full=None)
    assert plan.mode is Mode.DELTA and plan.runs_since_full == 2
    await recorded(cursors, res, 0, runs=2)
    plan = await plan_resource(0, res, SyncState(cursors), requested_full=None)
    assert plan.mode is Mode.FULL and plan.runs_since_full == 0


async def test_unreadable_state_and_requests_are_full() -> None:
    cursors = Cursors()
    [res] = issue_resources({})
    await recorded(cursors, res, 0)
    requested = await plan_resource(0, res, SyncState(cursors), requested_full="asked")
    assert requested.mode is Mode.FULL and requested.reason == "asked"
    cursors.broken = True
    broken = await plan_resource(0, res, SyncState(cursors), requested_full=None)
    assert broken.mode is Mode.FULL and "unreadable" in broken.reason


async def test_mappings_the_scope_cannot_evaluate_are_full() -> None:
    cursors = Cursors()
    mapping = default_mapping()
    issue = resource(mapping, "issue")
    issue["port"]["entity"]["mappings"]["identifier"] = '.fields.parent.key + "-child"'
    mapping["resources"] = [issue]
    [res] = JiraServerPortAppConfig.parse_obj(mapping).resources
    await recorded(cursors, res, 0)
    plan = await plan_resource(0, res, SyncState(cursors), requested_full=None)
    assert plan.mode is Mode.DELTA  # .fields.parent.key is listed with the scope
    issue["port"]["entity"]["mappings"]["identifier"] = ".fields | tojson"
    [res] = JiraServerPortAppConfig.parse_obj(mapping).resources
    await recorded(cursors, res, 0)
    plan = await plan_resource(0, res, SyncState(cursors), requested_full=None)
    assert plan.mode is Mode.FULL and "a delta read is not possible" in plan.reason


async def test_state_numbers_are_stored_as_seconds_after_the_epoch() -> None:
    cursors = Cursors()
    await SyncState(cursors).write("issue", 2, ResourceState(START, 7, 12345))
    assert cursors.values[("issue.runs-since-full", 2)] == EPOCH + timedelta(seconds=7)
    assert await SyncState(cursors).read("issue", 2) == ResourceState(START, 7, 12345)
