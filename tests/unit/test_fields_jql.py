"""Field derivation from JQ mappings and the JQL rewriting used by keyset paging."""

from __future__ import annotations

from jira_server.client.jql import highest_id_query, keyset_query, strip_order_by
from jira_server.mapping.fields import fields_read_by, mapping_expressions, requested_fields


def test_fields_read_by_attribute_and_index_access() -> None:
    assert fields_read_by(
        [".fields.summary", '.fields["customfield_10002"]', ".fields?.status.name", ".key"]
    ) == ["customfield_10002", "status", "summary"]


def test_whole_fields_object_means_no_safe_subset() -> None:
    assert fields_read_by([".fields | keys"]) is None
    assert fields_read_by([".fields.summary", ".fields"]) is None


def test_requested_fields_walk_nested_mappings_and_selector_query() -> None:
    mappings = {
        "identifier": ".key",
        "properties": {"a": ".fields.labels", "b": "[.fields.components[].name]"},
        "relations": {"project": ".fields.project.key"},
    }
    expressions = [*mapping_expressions(mappings), '.fields.issuetype.name != "Epic"']
    assert requested_fields(None, ["x", ".fields | keys"]) == ["*all"]
    assert requested_fields("summary, status", expressions) == ["summary", "status"]
    assert requested_fields(None, expressions) == [
        "components",
        "issuetype",
        "labels",
        "project",
    ]


def test_strip_order_by_ignores_quoted_text() -> None:
    assert strip_order_by('summary ~ "order by" ORDER BY rank') == 'summary ~ "order by"'
    assert strip_order_by("project = A order by created DESC") == "project = A"
    assert strip_order_by("ORDER BY created") == ""


def test_keyset_query_bounds() -> None:
    assert keyset_query("project = A OR project = B", 10, 20) == (
        "(project = A OR project = B) AND id > 10 AND id <= 20 ORDER BY id ASC"
    )
    assert keyset_query("", 10) == "id > 10 ORDER BY id ASC"
    assert keyset_query("") == "ORDER BY id ASC"
    assert highest_id_query("x = 1") == "(x = 1) ORDER BY id DESC"
