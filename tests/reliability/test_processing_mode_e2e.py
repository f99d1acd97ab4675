"""Port's processing modes, end to end. port-ocean 0.54.1 defaults to "dsp", and on an
organisation with the LAKEHOUSE_ELIGIBLE and DATA_SOURCE_PROCESSOR_ENABLED feature flags that
mode hands raw data to Port's processor and skips the integration's mapping, reconciliation
and deletion guard. The integration therefore runs only in ocean-core mode: "dsp" is refused
at start, and with the flags announced ocean-core keeps every guarantee."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from jira_server import blueprints
from local_stack.stack import LocalStack, jira_args, local_stack
from tests.reliability.support import (
    assert_catalog_equals_jira,
    change_mapping,
    issue_resource,
    output,
    run,
    set_mapping,
    snapshot,
    tail,
)

pytestmark = pytest.mark.e2e

FLAGS = ["--feature-flag", "LAKEHOUSE_ELIGIBLE", "--feature-flag", "DATA_SOURCE_PROCESSOR_ENABLED"]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    work = tmp_path_factory.mktemp("processing-mode")
    with local_stack(
        work, jira=jira_args(projects=3, users=20, issues=150, seed=8), catalog_args=FLAGS
    ) as running:
        yield running


def test_dsp_mode_is_refused_before_any_catalog_write(stack: LocalStack) -> None:
    requests = sum(stack.catalog_client.stats()["requests"].values())
    result = run(stack, "dsp.log", env={"OCEAN__PROCESSING_MODE": "dsp"})
    assert result.returncode == 2, tail(result)
    text = output(result)
    assert "Unsupported processing mode 'dsp'" in text
    assert "Set OCEAN__PROCESSING_MODE=ocean-core" in text
    assert "processingMode: ocean-core" in text
    assert sum(stack.catalog_client.stats()["requests"].values()) == requests


def test_ocean_core_keeps_every_guarantee_with_the_flags_on(stack: LocalStack) -> None:
    first = run(stack, "core.log")
    assert first.returncode == 0, tail(first)
    synced = assert_catalog_equals_jira(stack)
    assert synced[blueprints.ISSUE]
    # The integration's own deletion guard runs: a JQL that suddenly matches nothing is
    # refused, nothing is deleted and the run fails.
    original = change_mapping(
        stack, lambda m: issue_resource(m)["selector"].update(jql="created > 2099-01-01")
    )
    try:
        refused = run(stack, "core-empty.log")
    finally:
        set_mapping(stack, original)
    assert refused.returncode == 1, tail(refused)
    assert "returned nothing" in output(refused)
    assert snapshot(stack)[blueprints.ISSUE] == synced[blueprints.ISSUE]
