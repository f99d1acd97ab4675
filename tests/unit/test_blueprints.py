"""Blueprint identifiers and the install-time rendering of the default resources for a
``blueprintPrefix`` and an ``instanceNamespace`` (jira_server/blueprints.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jq
import pytest
import yaml

from jira_server import blueprints
from jira_server.errors import SettingsError
from jira_server.framework import format_jq_filter
from jira_server.kinds.base import IdentifierShape
from jira_server.settings import load_settings

REPO_ROOT = Path(__file__).resolve().parents[2]
RESOURCES = REPO_ROOT / ".port" / "resources"
# Any word that looks like a blueprint identifier of ours or of Port's jira-server integration.
BLUEPRINT_WORD = re.compile(r"\bjiraServer[A-Z][A-Za-z]*\b")


def load(directory: Path) -> tuple[list[dict[str, Any]], dict[str, Any], list[dict[str, Any]]]:
    return (
        json.loads((directory / "blueprints.json").read_text()),
        yaml.safe_load((directory / "port-app-config.yml").read_text()),
        json.loads((directory / "actions.json").read_text()),
    )


def blueprint_words(directory: Path) -> set[str]:
    words: set[str] = set()
    for name in blueprints.RESOURCE_FILES:
        words |= set(BLUEPRINT_WORD.findall((directory / name).read_text()))
    return words


def rendered(tmp_path: Path, prefix: str = blueprints.DEFAULT_PREFIX, namespace: str = "") -> Path:
    target = blueprints.render_resources(
        RESOURCES, prefix, namespace, "jira-legacy", tmp_path / "rendered"
    )
    assert target is not None
    return target


def jq_first(expression: str, item: dict[str, Any]) -> Any:
    return jq.compile(format_jq_filter(expression)).input_value(item).first()


def test_the_default_files_name_only_the_modules_blueprints() -> None:
    """No identifier of Port's own jira-server integration; every one the module's."""
    defined, config, _ = load(RESOURCES)
    assert {b["identifier"] for b in defined} == set(blueprints.BY_KIND.values())
    assert blueprint_words(RESOURCES) <= set(blueprints.BY_KIND.values())
    assert not blueprint_words(RESOURCES) & set(blueprints.PORT_JIRA_SERVER_BLUEPRINTS)
    for resource in config["resources"]:
        mapped = jq_first(resource["port"]["entity"]["mappings"]["blueprint"], {})
        assert mapped == blueprints.blueprint(resource["kind"])


def test_the_defaults_are_used_as_they_are_without_prefix_or_namespace(tmp_path: Path) -> None:
    assert blueprints.render_resources(RESOURCES, blueprints.DEFAULT_PREFIX, "", "x") is None
    # No resources directory (OCEAN__RESOURCES_PATH pointing nowhere): nothing to render.
    assert blueprints.render_resources(tmp_path / "missing", "acme", "ns", "x") is None


def test_a_prefix_renames_every_blueprint_relation_target_and_action(tmp_path: Path) -> None:
    target = rendered(tmp_path, prefix="acmeJira")
    defined, config, actions = load(target)
    assert blueprint_words(target) == set()  # not one jiraServer... word left
    ids = {b["identifier"] for b in defined}
    assert ids == {blueprints.blueprint(kind, "acmeJira") for kind in blueprints.BY_KIND}
    for bp in defined:
        for relation in bp.get("relations", {}).values():
            assert relation["target"] in ids
    for resource in config["resources"]:
        mapped = jq_first(resource["port"]["entity"]["mappings"]["blueprint"], {})
        assert mapped == f"acmeJira{blueprints.BY_KIND[resource['kind']][len('jiraServerSync') :]}"
    for action in actions:
        if action["invocationMethod"]["integrationActionType"] == "create_issue_from_entity":
            # Acts on an entity of any blueprint: no blueprint of its own.
            assert "blueprintIdentifier" not in action["trigger"]
        else:
            assert action["trigger"]["blueprintIdentifier"] in ids
        for spec in action["trigger"]["userInputs"]["properties"].values():
            if "blueprint" in spec:
                assert spec["blueprint"] in ids
    # The rest of the files is unchanged: a rename, nothing else.
    original = (RESOURCES / "blueprints.json").read_text().replace("jiraServerSync", "acmeJira")
    assert json.loads(original) == defined


def test_a_blueprint_added_to_the_files_later_is_renamed_without_code(tmp_path: Path) -> None:
    source = tmp_path / "source"
    source.mkdir()
    for name in blueprints.RESOURCE_FILES:
        (source / name).write_text((RESOURCES / name).read_text())
    defined = json.loads((source / "blueprints.json").read_text())
    defined.append(
        {
            "identifier": "jiraServerSyncEpic",
            "title": "Epic",
            "schema": {"properties": {}},
            "relations": {"project": {"target": "jiraServerSyncProject", "many": False}},
        }
    )
    (source / "blueprints.json").write_text(json.dumps(defined))
    target = blueprints.render_resources(source, "acme", "", "x", tmp_path / "out")
    assert target is not None
    epic = json.loads((target / "blueprints.json").read_text())[-1]
    assert epic["identifier"] == "acmeEpic"
    assert epic["relations"]["project"]["target"] == "acmeProject"


def test_a_namespace_prefixes_identifiers_and_relation_targets_and_keeps_nulls(
    tmp_path: Path,
) -> None:
    _, config, _ = load(rendered(tmp_path, namespace="legacy"))
    mappings = {r["kind"]: r["port"]["entity"]["mappings"] for r in config["resources"]}
    issue = {
        "key": "PROJ-7",
        "id": "10007",
        "fields": {
            "project": {"key": "PROJ"},
            "assignee": None,
            "reporter": {"key": "JIRAUSER10"},
            "subtasks": [{"key": "PROJ-8"}, {"key": "PROJ-9"}],
            "fixVersions": [],
        },
        "__sprints": [{"id": 3}],
    }
    relations = mappings["issue"]["relations"]
    assert jq_first(mappings["issue"]["identifier"], issue) == "legacy:PROJ-7"
    assert jq_first(relations["project"], issue) == "legacy:PROJ"
    assert jq_first(relations["assignee"], issue) is None
    assert jq_first(relations["reporter"], issue) == "legacy:JIRAUSER10"
    assert jq_first(relations["parentIssue"], issue) is None
    assert jq_first(relations["subtasks"], issue) == ["legacy:PROJ-8", "legacy:PROJ-9"]
    assert jq_first(relations["sprints"], issue) == ["legacy:3"]
    assert jq_first(relations["fixVersions"], issue) == []
    sprint = {"id": 3, "originBoardId": 12}
    assert jq_first(mappings["sprint"]["identifier"], sprint) == "legacy:3"
    assert jq_first(mappings["sprint"]["relations"]["board"], sprint) == "legacy:12"
    assert jq_first(mappings["board"]["identifier"], {"id": 12}) == "legacy:12"
    # The blueprints are shared by both instances: the namespace does not change them.
    assert jq_first(mappings["issue"]["blueprint"], {}) == blueprints.ISSUE


def test_the_deletion_guard_reads_the_jira_key_back_from_a_namespaced_identifier(
    tmp_path: Path,
) -> None:
    _, config, _ = load(rendered(tmp_path, namespace="legacy"))
    issue_mapping = next(r for r in config["resources"] if r["kind"] == "issue")
    identifier = issue_mapping["port"]["entity"]["mappings"]["identifier"]
    probes = [{"key": "A-1", "id": "1"}, {"key": "B-22", "id": "2"}]
    shape = IdentifierShape.of(identifier, probes, ("key", "id"))
    assert shape == IdentifierShape("key", "legacy:")
    assert shape.natural("legacy:PROJ-3") == "PROJ-3"
    assert shape.natural("dc:PROJ-3") is None  # another instance's entity: never confirmed


def test_namespaced_actions_are_this_installations_and_strip_the_namespace(
    tmp_path: Path,
) -> None:
    _, _, original = load(RESOURCES)
    _, _, actions = load(rendered(tmp_path, namespace="legacy"))
    assert [a["identifier"] for a in actions] == [f"legacy_{a['identifier']}" for a in original]
    for action in actions:
        method = action["invocationMethod"]
        assert method["installationId"] == "jira-legacy"
        templates = method["integrationActionExecutionProperties"].values()
        for template in templates:
            if isinstance(template, str) and ".identifier" in template:
                assert '| ltrimstr("legacy:") }}' in template
        comment = jq.compile('.entity.identifier | ltrimstr("legacy:")')
        assert comment.input_value({"entity": {"identifier": "legacy:PROJ-1"}}).first() == "PROJ-1"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"blueprint_prefix": "9lives"}, "blueprintPrefix (OCEAN__INTEGRATION__CONFIG__BLUEPRINT_"),
        ({"blueprint_prefix": "jira-server"}, "blueprintPrefix"),
        ({"blueprint_prefix": "x" * 21}, "at most 20"),
        ({"instance_namespace": "legacy jira"}, "instanceNamespace (OCEAN__INTEGRATION__CONFIG__"),
        ({"instance_namespace": "a:b"}, "instanceNamespace"),
        ({"instance_namespace": "-x"}, "instanceNamespace"),
    ],
)
def test_bad_prefix_or_namespace_names_the_setting(raw: dict[str, Any], expected: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings({"jira_server_host": "https://jira.example.test", "token": "t", **raw})
    assert expected in str(caught.value)


def test_prefix_and_namespace_defaults_and_values() -> None:
    base = {"jira_server_host": "https://jira.example.test", "token": "t"}
    default = load_settings(base)
    assert (default.blueprint_prefix, default.instance_namespace) == ("jiraServerSync", "")
    custom = load_settings({**base, "blueprint_prefix": " acme ", "instance_namespace": "dc.eu"})
    assert (custom.blueprint_prefix, custom.instance_namespace) == ("acme", "dc.eu")
    assert blueprints.without_namespace("dc.eu:PROJ-1", "dc.eu") == "PROJ-1"
    assert blueprints.without_namespace("legacy:PROJ-1", "dc.eu") is None
    assert blueprints.namespaced("PROJ-1", "") == "PROJ-1"


def test_the_delta_listing_reads_a_namespaced_key_directly_as_jq_would(tmp_path: Path) -> None:
    """The delta run lists every issue of the JQL: a namespaced ``.key`` identifier takes the
    direct path, with jq's result (the rendered text survives the YAML round trip)."""
    from jira_server.kinds.issue import IssueScope
    from jira_server.resources import IssueResourceConfig, JiraServerPortAppConfig

    _, config, _ = load(rendered(tmp_path, namespace="legacy"))
    parsed = JiraServerPortAppConfig.parse_obj(config)
    resource = next(r for r in parsed.resources if isinstance(r, IssueResourceConfig))
    identifier = resource.port.entity.mappings.identifier
    assert isinstance(identifier, str)
    assert blueprints.split_namespaced(identifier) == ("legacy", ".key")
    scope = IssueScope(resource, client=None)  # type: ignore[arg-type]
    keys = scope._keys()
    issue = {"id": "10001", "key": "PROJ-1", "fields": {"updated": "2026-12-01T10:00:00.000+0000"}}
    assert keys(issue) == (True, blueprints.ISSUE, "legacy:PROJ-1")
    assert jq_first(identifier, issue) == "legacy:PROJ-1"
    assert "program" not in keys.__code__.co_freevars  # the direct path, not a jq program
    assert blueprints.split_namespaced(".key") is None
    assert blueprints.split_namespaced(blueprints.namespaced_expression(".id", "dc")) == (
        "dc",
        ".id",
    )
