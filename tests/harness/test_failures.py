"""What reaches the catalog when Jira fails: nothing before the first kind when settings,
credentials or JQL are wrong, and no deletion when a kind fails midway (the run object
records every failure; the harness sees them as the run's exception group)."""

from __future__ import annotations

from typing import Any

from jira_server import blueprints
from tests.support import jira_mock
from tests.support.harness import booted, default_mapping, integration_config, resource


def stale_issue() -> dict[str, Any]:
    return {
        "identifier": "GONE-1",
        "blueprint": blueprints.ISSUE,
        "title": "Stale",
        "properties": {},
        "relations": {},
    }


async def test_successful_resync_deletes_stale_entities() -> None:
    # The control case: the framework's reconciliation does delete what Jira no longer has.
    jira = jira_mock.sample_jira()
    async with booted(jira.transport()) as harness:
        current = (await harness.trigger_resync()).upserted_entities
    # Port holds everything from the last run plus one issue Jira no longer has: a deletion
    # rate of 1/10, under the framework's entityDeletionThreshold.
    async with booted(jira.transport(), port_entities=[*current, stale_issue()]) as harness:
        result = await harness.trigger_resync()
    assert result.errors == []
    assert [e["identifier"] for e in result.deleted_entities] == ["GONE-1"]


async def test_kind_failing_midway_deletes_nothing() -> None:
    jira = jira_mock.sample_jira()
    jira.search_cap = 2
    async with booted(jira.transport()) as harness:
        current = (await harness.trigger_resync()).upserted_entities
    jira.searches.clear()
    jira.fail_page_request = 3  # 500 is not retried: the issue scan stops on its 3rd page
    async with booted(jira.transport(), port_entities=[*current, stale_issue()]) as harness:
        result = await harness.trigger_resync()
    assert result.errors, "the resync must fail loudly"
    assert result.deleted_entities == []
    # The comment kind searches too, and from then on its pages fail the same way.
    failures = {str(e).split(" (reading Jira)")[0]: str(e) for e in result.errors}
    assert "issue (resource #6)" in failures
    assert set(failures) <= {"issue (resource #6)", "comment (resource #7)"}
    assert all("500" in failure for failure in failures.values())


async def test_invalid_jql_fails_before_any_catalog_change() -> None:
    jira = jira_mock.sample_jira()
    jira.invalid_jql_marker = "~~"
    mapping = default_mapping()
    resource(mapping, "issue")["selector"]["jql"] = "summary ~~ broken"
    async with booted(jira.transport(), mapping=mapping, port_entities=[stale_issue()]) as harness:
        result = await harness.trigger_resync()
    assert result.upserted_entities == [] and result.deleted_entities == []
    assert "reserved JQL character" in str(result.errors[0])
    assert jira.searches == []  # no page was fetched


async def test_unknown_mapped_field_is_null_and_the_rest_syncs() -> None:
    jira = jira_mock.sample_jira()
    mapping = default_mapping()
    resource(mapping, "issue")["port"]["entity"]["mappings"]["properties"]["points"] = (
        ".fields.storypoints"
    )
    async with booted(jira.transport(), mapping=mapping) as harness:
        result = await harness.trigger_resync()
    assert result.errors == []
    issues = [e for e in result.upserted_entities if e["blueprint"] == blueprints.ISSUE]
    assert len(issues) == 6 and all(e["properties"]["points"] is None for e in issues)


async def test_unknown_selector_field_fails_before_any_catalog_change() -> None:
    jira = jira_mock.sample_jira()
    mapping = default_mapping()
    resource(mapping, "issue")["selector"]["fields"] = "summary,storypoints"
    async with booted(jira.transport(), mapping=mapping) as harness:
        result = await harness.trigger_resync()
    assert result.upserted_entities == []
    message = str(result.errors[0])
    assert "the selector's fields name fields this Jira does not have" in message
    assert "did you mean .fields.customfield_10002 (Story Points)?" in message


async def test_rejected_credentials_fail_before_any_catalog_change() -> None:
    jira = jira_mock.sample_jira()
    jira.reject_credentials = True
    async with booted(jira.transport(), port_entities=[stale_issue()]) as harness:
        result = await harness.trigger_resync()
    assert result.upserted_entities == [] and result.deleted_entities == []
    assert "Jira rejected the personal access token" in str(result.errors[0])


async def test_relation_targets_outside_the_selectors_survive_reconciliation() -> None:
    # Carol is inactive (not synced as a user) but reports two issues: the catalog holds a
    # placeholder for her, which reconciliation must keep although the sync kept only one
    # issue's reference to her.
    jira = jira_mock.sample_jira()
    carol = jira.users[2]
    for old in jira.issues[3:5]:
        old["fields"]["reporter"] = carol
    placeholder = {
        "identifier": carol["key"],
        "blueprint": blueprints.USER,
        "properties": {},
        "relations": {},
    }
    async with booted(jira.transport()) as harness:
        current = (await harness.trigger_resync()).upserted_entities
    async with booted(
        jira.transport(), port_entities=[*current, placeholder, stale_issue()]
    ) as harness:
        result = await harness.trigger_resync()
    assert result.errors == []
    assert [e["identifier"] for e in result.deleted_entities] == ["GONE-1"]


async def test_a_namespace_the_mapping_ignores_fails_before_any_catalog_change() -> None:
    """instanceNamespace set, but the mapping in Port is the plain one (created before the
    namespace): its identifiers would overwrite another instance's entities."""
    jira = jira_mock.sample_jira()
    config = integration_config(instance_namespace="legacy")
    async with booted(jira.transport(), config=config, port_entities=[stale_issue()]) as harness:
        result = await harness.trigger_resync()
    assert result.upserted_entities == [] and result.deleted_entities == []
    assert jira.searches == []
    failures = [str(e) for e in result.errors]
    assert failures and all("instanceNamespace is 'legacy'" in f for f in failures)
    assert any(f.startswith("issue (resource #6)") for f in failures)


async def test_a_namespaced_mapping_syncs_namespaced_identifiers() -> None:
    jira = jira_mock.sample_jira()
    mapping = blueprints.namespaced_mapping(default_mapping(), "legacy")
    config = integration_config(instance_namespace="legacy")
    async with booted(jira.transport(), mapping=mapping, config=config) as harness:
        result = await harness.trigger_resync()
    assert result.errors == []
    issues = [e for e in result.upserted_entities if e["blueprint"] == blueprints.ISSUE]
    assert issues and all(e["identifier"].startswith("legacy:") for e in issues)
    assert all(e["relations"]["project"].startswith("legacy:") for e in issues)
