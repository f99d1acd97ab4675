"""Sharding one large Jira across installations, as the README's "Enterprise networks"
documents it: each installation has its own integration identifier and a disjoint issue JQL
(by project); the primary shard also syncs the shared kinds (users, projects, boards,
sprints, versions, components), the other shards map issues only. With a real ``ocean
sail`` per shard into one local catalog: full and delta runs, and deletions through the
guard, of one shard never delete the entities of another."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from jira_server import blueprints
from local_stack.stack import REPO_ROOT, LocalStack, jira_args, local_stack
from tests.reliability.support import (
    DEFAULT_JQL,
    Snapshot,
    assert_catalog_equals_jira,
    config_env,
    snapshot,
    tail,
)

pytestmark = pytest.mark.e2e

PER_ISSUE = ("issue", "comment", "worklog")  # the kinds a shard's issue JQL selects


def shard_resources(target: Path, jql: str, *, primary: bool) -> Path:
    """The default resources with this shard's issue JQL (comments and worklogs go with their
    issues); a non-primary shard maps those only (the README's setup)."""
    target.mkdir(parents=True)
    for name in blueprints.RESOURCE_FILES:
        (target / name).write_text((REPO_ROOT / ".port/resources" / name).read_text())
    config = yaml.safe_load((target / "port-app-config.yml").read_text())
    if not primary:
        config["resources"] = [r for r in config["resources"] if r["kind"] in PER_ISSUE]
    for resource in config["resources"]:
        if resource["kind"] in PER_ISSUE:
            resource["selector"]["jql"] = jql
    (target / "port-app-config.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    return target


@dataclass
class Shard:
    stack: LocalStack
    identifier: str
    projects: list[str]
    resources: Path

    def run(self, log_name: str, **settings: Any) -> subprocess.CompletedProcess[str]:
        result = self.stack.run_once(
            extra_env={
                **config_env(**settings),
                "OCEAN__RESOURCES_PATH": str(self.resources),
            },
            identifier=self.identifier,
            log_name=log_name,
            timeout=300,
        )
        assert result.returncode == 0, tail(result)
        return result

    def issues(self, snap: Snapshot) -> dict[str, dict[str, Any]]:
        return {
            k: e
            for k, e in snap[blueprints.ISSUE].items()
            if e["title"] and e["relations"]["project"] in self.projects
        }


def shard_jql(projects: list[str]) -> str:
    return f"project in ({', '.join(projects)}) AND ({DEFAULT_JQL})"


@pytest.fixture(scope="module")
def shards(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Shard, Shard]]:
    work = tmp_path_factory.mktemp("sharding")
    with local_stack(work, jira=jira_args(projects=4, users=40, issues=300, seed=31)) as stack:
        projects = sorted(stack.jira_control.truth()["projects"])
        first, second = projects[:2], projects[2:]
        yield (
            Shard(
                stack,
                "jira-shard-1",
                first,
                shard_resources(work / "shard-1", shard_jql(first), primary=True),
            ),
            Shard(
                stack,
                "jira-shard-2",
                second,
                shard_resources(work / "shard-2", shard_jql(second), primary=False),
            ),
        )


def test_the_shards_together_mirror_jira_whatever_runs_first(shards: tuple[Shard, Shard]) -> None:
    primary, other = shards
    # The issue-only shard first: the relations it writes point at projects and users the
    # primary has not synced yet (the catalog creates placeholders for them).
    other.run("shard-2-1.log")
    primary.run("shard-1-1.log")
    assert_catalog_equals_jira(primary.stack)
    # The issue-only shard's next (delta) run: nothing of the primary's goes.
    before = snapshot(primary.stack)
    other.run("shard-2-2.log")
    assert snapshot(primary.stack) == before


def delete_issues(shard: Shard, count: int) -> set[str]:
    projects = ", ".join(shard.projects)
    results = shard.stack.jira_control.mutate(
        {
            "op": "delete",
            "jql": f"project in ({projects}) AND statusCategory != Done AND issuetype != Sub-task",
            "count": count,
        }
    )["results"]
    deleted = set(results[0]["deleted"])
    assert len(deleted) >= count
    return deleted


def test_reconciliation_of_one_shard_never_deletes_the_others(
    shards: tuple[Shard, Shard],
) -> None:
    primary, other = shards
    before = snapshot(primary.stack)
    # Deleted with their sub-tasks; those outside the JQL were never synced.
    gone_first = delete_issues(primary, 4) & set(primary.issues(before))
    gone_second = delete_issues(other, 4) & set(other.issues(before))
    assert len(gone_first) >= 4 and len(gone_second) >= 4

    # A delta run of the primary deletes its own gone issues (confirmed in Jira by the guard),
    # and none of the other shard's, not even those gone from Jira.
    run = primary.run("shard-1-2.log")
    assert "Jira confirmed" in run.stdout + run.stderr
    assert "issue (resource #6): delta sync" in run.stdout + run.stderr
    after = snapshot(primary.stack)
    assert not gone_first & set(after[blueprints.ISSUE])
    assert other.issues(after) == other.issues(before)

    other.run("shard-2-3.log")
    assert_catalog_equals_jira(primary.stack)
    settled = snapshot(primary.stack)
    assert primary.issues(settled) == primary.issues(after)
    assert not gone_second & set(settled[blueprints.ISSUE])

    # Full (reconciling) runs of each shard change nothing of the other.
    primary.run("shard-1-full.log", fullSync=True)
    other.run("shard-2-full.log", fullSync=True)
    final = assert_catalog_equals_jira(primary.stack)
    assert final == settled
