"""Mapping discovery: the raw data examples a full run sends for issues carry every field of
a few issues, not only the fields the mapping reads (the pages synced are narrowed to those),
so Port's mapping editor shows what a mapping could use."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from jira_server import blueprints
from local_stack.stack import LocalStack, jira_args, local_stack

pytestmark = pytest.mark.e2e

INTEGRATION = "jira-server-sync-local"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    work = tmp_path_factory.mktemp("examples")
    with local_stack(work, jira=jira_args(projects=2, users=10, issues=40, seed=5)) as running:
        yield running


def test_issue_examples_carry_every_field(stack: LocalStack) -> None:
    result = stack.run_once(extra_env={"OCEAN__SEND_RAW_DATA_EXAMPLES": "true"})
    assert result.returncode == 0, result.stdout[-3000:]

    sent = stack.catalog_client.kind_examples(INTEGRATION, "issue")
    examples = sent["examples"]
    assert 0 < len(examples) <= 5
    fields = set(examples[0]["fields"])
    # Fields no default mapping expression reads are there to be discovered...
    assert {"description", "creator", "watches"} <= fields, sorted(fields)
    # ...whereas the synced pages asked Jira for the mapped fields only.
    synced = stack.catalog_client.entities(blueprints.ISSUE)
    assert synced and "description" not in synced[0]["properties"]
    # Other kinds keep the framework's examples: the items as read.
    assert stack.catalog_client.kind_examples(INTEGRATION, "project")["examples"]
