"""A bounded soak: one long-running ``ocean sail`` (POLLING listener) doing 20 consecutive
resyncs with faults on, Jira's data changing between them; the catalog must equal Jira after
each, and the process's memory must stay flat.

The framework's ``scheduledResyncInterval`` is in whole minutes, so the resyncs are
triggered the way Port's "Resync" button does it: the local catalog bumps the integration's
resync request and the POLLING listener (polling every second) starts a full resync, through
the same ``sync_raw_all`` a scheduled resync runs.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local_stack.catalog.testing import spawn_ocean_sail
from local_stack.stack import INTEGRATION_TYPE, REPO_ROOT, LocalStack, jira_args, local_stack
from tests.reliability.support import (
    DEFAULT_JQL,
    IDENTIFIER,
    assert_catalog_equals_jira,
    config_env,
)
from tests.support.processes import stop_sail

pytestmark = pytest.mark.e2e

RESYNCS = 20
WARM_UP = 5
RESYNC_TIMEOUT = 60.0
# Growth allowed over the 15 resyncs after the warm-up: allocator noise, not a leak (a leak
# of even one page of issues per resync would be several MB).
RSS_TOLERANCE_MB = 6.0


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    work = tmp_path_factory.mktemp("soak")
    with local_stack(work, jira=jira_args(projects=3, users=20, issues=200, seed=41)) as running:
        yield running


def resync_state(stack: LocalStack) -> dict[str, Any]:
    integrations = stack.catalog_client.integrations()
    state: dict[str, Any] = integrations[0].get("resyncState") or {} if integrations else {}
    return state


def wait_for_resync_end(
    stack: LocalStack, process: subprocess.Popen[bytes], log: Path, previous_end: str | None
) -> dict[str, Any]:
    deadline = time.monotonic() + RESYNC_TIMEOUT
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()[-4000:]
        state = resync_state(stack)
        end = state.get("lastResyncEnd")
        if end and end != previous_end and state.get("status") != "running":
            return state
        time.sleep(0.1)
    raise AssertionError(f"no resync ended within {RESYNC_TIMEOUT}s:\n{log.read_text()[-4000:]}")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def faults(round_: int) -> dict[str, Any]:
    """5% errors (every retried status), latency spikes, a rate limit that bites a little."""
    return {
        "error_rate": 0.05,
        "error_statuses": [500, 502, 503, 504],
        "spike_rate": 0.1,
        "spike_ms": 100,
        "rate_limit": {"capacity": 20, "fill_rate": 100, "interval_seconds": 1},
        "seed": round_,
    }


def churn(stack: LocalStack, round_: int) -> None:
    stack.jira_control.mutate(
        {"op": "create", "project": "API", "count": 2, "summary": f"Soak round {round_}"},
        {"op": "delete", "jql": f"({DEFAULT_JQL}) AND issuetype != Sub-task", "count": 1},
        {"op": "update", "jql": DEFAULT_JQL, "count": 2, "pick": "last", "summary": f"R{round_}"},
    )


def slope(values: list[float]) -> float:
    """Least-squares growth per step."""
    n = len(values)
    mean_x, mean_y = (n - 1) / 2, sum(values) / n
    num = sum((x - mean_x) * (y - mean_y) for x, y in enumerate(values))
    return num / sum((x - mean_x) ** 2 for x in range(n))


def test_twenty_resyncs_with_faults_stay_correct_and_flat(stack: LocalStack) -> None:
    log = stack.work_dir / "soak.log"
    process = spawn_ocean_sail(
        REPO_ROOT,
        stack.catalog.url,
        identifier=IDENTIFIER,
        integration_type=INTEGRATION_TYPE,
        log_path=log,
        extra_env={
            **stack.integration_env(),
            **config_env(pageSize=30, maxConcurrentRequests=4),
            "OCEAN__EVENT_LISTENER": '{"type": "POLLING", "interval": 1, "resync_on_start": true}',
        },
    )
    samples: list[tuple[float, float]] = []  # (seconds, RSS MB) per resync
    try:
        state = wait_for_resync_end(stack, process, log, None)  # the start-up resync
        assert state["status"] == "completed", log.read_text()[-4000:]
        assert_catalog_equals_jira(stack)
        for round_ in range(1, RESYNCS + 1):
            churn(stack, round_)
            stack.jira_control.set_faults(**faults(round_))
            stack.jira_control.reset_stats()
            started = time.monotonic()
            stack.catalog_client.request_resync(IDENTIFIER)
            state = wait_for_resync_end(stack, process, log, state["lastResyncEnd"])
            took = time.monotonic() - started
            stats = stack.jira_control.stats()
            stack.jira_control.set_faults()
            stack.jira_control.reset_stats()
            assert state["status"] == "completed", log.read_text()[-4000:]
            assert_catalog_equals_jira(stack)
            samples.append((took, rss_mb(process.pid)))
            print(
                f"resync {round_:2d}: {took:4.1f}s, RSS {samples[-1][1]:6.1f} MB, "
                f"{stats['injectedErrors']} injected errors, {stats['rateLimited']} rate-limited"
            )
    finally:
        stop_sail(process)

    rss = [mb for _, mb in samples]
    settled = rss[WARM_UP:]
    growth = slope(settled) * (len(settled) - 1)
    print(f"RSS per resync (MB): {[round(mb, 1) for mb in rss]}")
    print(f"after warm-up: min {min(settled):.1f}, max {max(settled):.1f}, trend {growth:+.2f} MB")
    assert growth < RSS_TOLERANCE_MB
    assert settled[-1] - min(settled) < RSS_TOLERANCE_MB
