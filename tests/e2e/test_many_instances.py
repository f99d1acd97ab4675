"""Two Jira instances, one catalog: two installations (their own integration identifiers and
``instanceNamespace``) against two emulators whose project, issue, user, board, sprint,
version and component keys overlap, into one local catalog, each with a real ``ocean sail``.
Nothing of one is overwritten or deleted by the other, relations included, also after a
deletion in one Jira and a rerun of both."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import pytest

from jira_server import blueprints
from local_stack.stack import LocalStack, jira_args, local_stack
from tests.e2e.oracle import Expected, expected_catalog
from tests.reliability.support import (
    DEFAULT_JQL,
    Snapshot,
    config_env,
    differences,
    snapshot,
    synced,
    tail,
)

pytestmark = pytest.mark.e2e


@dataclass
class Instance:
    stack: LocalStack
    identifier: str
    namespace: str

    def run(self, log_name: str, **settings: Any) -> subprocess.CompletedProcess[str]:
        return self.stack.run_once(
            extra_env=config_env(instanceNamespace=self.namespace, **settings),
            identifier=self.identifier,
            log_name=log_name,
            timeout=300,
        )

    def expected(self) -> Expected:
        return namespaced(expected_catalog(self.stack, DEFAULT_JQL), self.namespace)

    def own(self, snap: Snapshot) -> Snapshot:
        head = f"{self.namespace}{blueprints.NAMESPACE_SEPARATOR}"
        return {bp: {k: e for k, e in es.items() if k.startswith(head)} for bp, es in snap.items()}


def namespaced(expected: Expected, namespace: str) -> Expected:
    def one(value: Any) -> Any:
        if isinstance(value, list):
            return [blueprints.namespaced(str(v), namespace) for v in value]
        return None if value is None else blueprints.namespaced(str(value), namespace)

    return {
        bp: {
            blueprints.namespaced(identifier, namespace): {
                **entity,
                "relations": {k: one(v) for k, v in entity["relations"].items()},
            }
            for identifier, entity in entities.items()
        }
        for bp, entities in expected.items()
    }


def merged(*parts: Expected) -> Expected:
    result: Expected = {}
    for part in parts:
        for bp, entities in part.items():
            result.setdefault(bp, {}).update(entities)
    return result


@pytest.fixture(scope="module")
def instances(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Instance, Instance]]:
    work = tmp_path_factory.mktemp("many-instances")
    # Same shape, other seeds: the same project keys (so the same issue keys), other content.
    first_jira, second_jira = (
        jira_args(projects=3, issues=n, seed=s) for n, s in ((150, 21), (120, 22))
    )
    with ExitStack() as stacks:
        first = stacks.enter_context(local_stack(work / "legacy", jira=first_jira))
        second = stacks.enter_context(
            local_stack(work / "dc", jira=second_jira, catalog=first.catalog)
        )
        yield Instance(first, "jira-legacy", "legacy"), Instance(second, "jira-dc", "dc")


def assert_catalog_holds_both(legacy: Instance, dc: Instance) -> Snapshot:
    snap = snapshot(legacy.stack)
    problems = differences(merged(legacy.expected(), dc.expected()), snap)
    assert not problems, "\n".join(problems[:40])
    return snap


def test_the_two_jiras_overlap(instances: tuple[Instance, Instance]) -> None:
    legacy, dc = instances
    first, second = legacy.stack.jira_control.truth(), dc.stack.jira_control.truth()
    assert set(first["projects"]) == set(second["projects"])
    assert len(set(first["keys"]) & set(second["keys"])) > 50
    assert set(first["users"]) & set(second["users"])


def test_both_instances_sync_into_one_catalog_side_by_side(
    instances: tuple[Instance, Instance],
) -> None:
    legacy, dc = instances
    for instance in (legacy, dc):
        result = instance.run(f"{instance.namespace}-1.log")
        assert result.returncode == 0, tail(result)
    snap = assert_catalog_holds_both(legacy, dc)
    # Every relation stays inside its own instance.
    mapped = [i for i in legacy.own(snap)[blueprints.ISSUE].values() if i["title"]]
    assert mapped
    for issue in mapped:
        assert str(issue["relations"]["project"]).startswith("legacy:")
    assert {i["identifier"] for i in stack_integrations(legacy)} >= {"jira-legacy", "jira-dc"}


def stack_integrations(instance: Instance) -> list[dict[str, Any]]:
    return instance.stack.catalog_client.integrations()


def test_a_deletion_in_one_jira_touches_only_that_instance(
    instances: tuple[Instance, Instance],
) -> None:
    legacy, dc = instances
    before = snapshot(legacy.stack)
    deleted = legacy.stack.jira_control.mutate(
        {"op": "delete", "jql": "statusCategory != Done AND issuetype != Sub-task", "count": 5}
    )["results"][0]["deleted"]
    assert len(deleted) >= 5  # with their sub-tasks
    # The same keys are synced from the other Jira: those entities must stay.
    in_dc = set(deleted) & set(dc.stack.jira_control.truth(DEFAULT_JQL)["keys"])
    assert in_dc
    assert {f"dc:{key}" for key in in_dc} <= set(before[blueprints.ISSUE])

    result = legacy.run("legacy-2.log")
    assert result.returncode == 0, tail(result)
    # A delta run: its listing reads the namespaced keys, the guard confirms in its Jira.
    assert "issue (resource #6): delta sync" in result.stdout + result.stderr
    assert "comment (resource #7): delta sync" in result.stdout + result.stderr
    assert "Jira confirmed" in result.stdout + result.stderr
    after = assert_catalog_holds_both(legacy, dc)
    gone = {f"legacy:{key}" for key in deleted}
    assert not gone & set(after[blueprints.ISSUE])
    # Comments and worklogs (delta too): those of the unchanged issues are kept through
    # their namespaced issue relation, those of the deleted issues go.
    for blueprint in (blueprints.COMMENT, blueprints.WORKLOG):
        own = synced(legacy.own(before), blueprint)
        kept = {k: e for k, e in own.items() if e["relations"]["issue"] not in gone}
        assert len(kept) < len(own), blueprint  # some belonged to the deleted issues
        assert kept and synced(legacy.own(after), blueprint) == kept, blueprint
    assert dc.own(after) == dc.own(before)  # untouched, updatedAt included

    result = dc.run("dc-2.log", fullSync=True)
    assert result.returncode == 0, tail(result)
    final = assert_catalog_holds_both(legacy, dc)
    assert legacy.own(final) == legacy.own(after)
    assert {f"dc:{key}" for key in in_dc} <= set(final[blueprints.ISSUE])
