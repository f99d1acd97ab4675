"""Lifecycle metrics and development links end to end: issues given a known history in the
emulator, a real `ocean sail` ONCE run with the default mapping, exact values in the catalog."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from jira_server import blueprints
from local_stack.stack import LocalStack, jira_args, local_stack
from tests.e2e.oracle import jira_get

pytestmark = pytest.mark.e2e

# key -> (status steps as (hours after created, status), leadTimeHours, cycleTimeHours,
# reopenings)
KNOWN: dict[str, tuple[list[tuple[int, str]], float | None, float | None, int]] = {
    "PLAT-1": ([(10, "In Progress"), (30, "In Review"), (36, "Done")], 36.0, 26.0, 0),
    "PLAT-2": (
        [(2, "In Progress"), (12, "Done"), (14, "Reopened"), (20, "In Progress"), (24, "Done")],
        24.0,
        22.0,
        1,
    ),
    "PLAT-3": ([(5, "In Progress")], None, None, 0),
    "PLAT-4": ([], None, None, 0),
}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    work = tmp_path_factory.mktemp("lifecycle")
    with local_stack(work, jira=jira_args(projects=3, users=30, issues=150, seed=5)) as running:
        yield running


def set_known_histories(stack: LocalStack) -> None:
    now = datetime.strptime(jira_get(stack, "/serverInfo")["serverTime"], "%Y-%m-%dT%H:%M:%S.%f%z")
    # Four days ago: inside the default JQL's "created >= -1w" whatever the status.
    created = (now - timedelta(days=4)).replace(minute=0, second=0, microsecond=0)
    ops = [
        {
            "op": "set_history",
            "keys": [key],
            "created": created.isoformat(),
            "steps": [[(created + timedelta(hours=h)).isoformat(), s] for h, s in steps],
        }
        for key, (steps, *_rest) in KNOWN.items()
    ]
    stack.jira_control.mutate(*ops)


def dev_counts_by_hand(value: str | None) -> tuple[int, int]:
    """(pull requests, commits) from the devSummaryJson part of the field, in plain Python."""
    if not value:
        return 0, 0
    body, _ = json.JSONDecoder().raw_decode(value, value.index("devSummaryJson=") + 15)
    summary = body["cachedValue"]["summary"]
    return summary["pullrequest"]["overall"]["count"], summary["repository"]["overall"]["count"]


def test_known_histories_give_exact_lifecycle_values(stack: LocalStack) -> None:
    set_known_histories(stack)
    result = stack.run_once(log_name="lifecycle.log")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    issues: dict[str, dict[str, Any]] = {
        e["identifier"]: e for e in stack.catalog_client.entities(blueprints.ISSUE)
    }
    for key, (_, lead, cycle, reopenings) in KNOWN.items():
        props = issues[key]["properties"]
        got = (props.get("leadTimeHours"), props.get("cycleTimeHours"), props.get("reopenings"))
        assert got == (lead, cycle, reopenings), key

    # Every synced issue: lead time as plain date arithmetic, dev counts as the field says.
    page = jira_get(
        stack,
        "/search",
        jql=f"key in ({','.join(k for k, e in issues.items() if e.get('title'))})",
        fields="created,resolutiondate,customfield_10000",
        maxResults=1000,
    )
    assert page["issues"]
    fmt = "%Y-%m-%dT%H:%M:%S.%f%z"
    for issue in page["issues"]:
        f, props = issue["fields"], issues[issue["key"]]["properties"]
        if f.get("resolutiondate"):
            hours = (
                datetime.strptime(f["resolutiondate"], fmt) - datetime.strptime(f["created"], fmt)
            ).total_seconds() / 3600
            assert props["leadTimeHours"] == round(hours, 2), issue["key"]
        else:
            assert props.get("leadTimeHours") is None, issue["key"]
        prs, commits = dev_counts_by_hand(f.get("customfield_10000"))
        assert (props.get("pullRequests"), props.get("commits")) == (prs, commits), issue["key"]
