"""Live events under ``instanceNamespace``: a real ``ocean sail`` whose mapping is the
namespaced default receives signed Data Center deliveries; updates and deletions reach the
``<namespace>:<key>`` entities, and no entity without the namespace ever appears."""

from __future__ import annotations

from pathlib import Path

import pytest

from jira_server import blueprints
from local_stack.catalog.testing import CatalogClient
from tests.webhooks.live import (
    ADMIN_TOKEN,
    ISSUE_BP,
    WEBHOOK_SECRET,
    mapping,
    running_sail,
    servers,
    wait_for,
)

pytestmark = pytest.mark.e2e

JQL = "statusCategory != Done"
NAMESPACE = "legacy"


def test_live_events_update_and_delete_namespaced_entities(tmp_path: Path) -> None:
    config = blueprints.namespaced_mapping(mapping(JQL), NAMESPACE)
    with (
        servers(tmp_path, "10.3.0") as (jira, catalog),
        running_sail(
            tmp_path,
            catalog.url,
            jira.url,
            identifier="wh-namespace",
            jql=JQL,
            auth={"TOKEN": ADMIN_TOKEN},
            secret=WEBHOOK_SECRET,
            settings={"INSTANCE_NAMESPACE": NAMESPACE},
            config=config,
        ),
    ):
        client = CatalogClient(catalog.url)

        def issues() -> dict[str, dict[str, object]]:
            return {e["identifier"]: e for e in client.entities(ISSUE_BP)}

        wait_for(jira.registrations, "the webhook registration")
        synced = [k for k, e in issues().items() if e["title"]]
        assert synced and all(k.startswith(f"{NAMESPACE}:") for k in synced)
        key = sorted(synced)[0].removeprefix(f"{NAMESPACE}:")

        jira.control.mutate({"op": "update", "keys": [key], "summary": "renamed live"})
        wait_for(
            lambda: issues().get(f"{NAMESPACE}:{key}", {}).get("title") == "renamed live",
            f"{NAMESPACE}:{key} renamed",
        )
        jira.control.mutate({"op": "delete", "keys": [key]})
        wait_for(lambda: f"{NAMESPACE}:{key}" not in issues(), f"{NAMESPACE}:{key} removed")
        assert not [k for k in issues() if not k.startswith(f"{NAMESPACE}:")]
