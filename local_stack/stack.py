"""The embedded local stack: the Jira emulator and the local catalog as child processes,
and the integration run against them with a real ``ocean sail`` (the demo, the end-to-end
tests and the benchmark all drive it through here)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from jira_server import blueprints
from local_stack.catalog.testing import CatalogClient, ocean_env, ocean_executable, start_catalog
from local_stack.process import RunningServer, start_server

REPO_ROOT = Path(__file__).resolve().parent.parent
INTEGRATION_TYPE = "jira-server-sync"
# Throw-away credentials of the local stack only (never a real secret).
LOCAL_JIRA_TOKEN = "local-demo-pat"
LOCAL_JIRA_USER = "sync-bot"
BLUEPRINTS = {
    "user": blueprints.USER,
    "project": blueprints.PROJECT,
    "board": blueprints.BOARD,
    "sprint": blueprints.SPRINT,
    "version": blueprints.VERSION,
    "component": blueprints.COMPONENT,
    "issue": blueprints.ISSUE,
    "comment": blueprints.COMMENT,
    "worklog": blueprints.WORKLOG,
}


def resources_with(target: Path, **issue_selector: Any) -> Path:
    """A copy of ``.port/resources`` whose issue selector is updated with ``issue_selector``;
    point ``OCEAN__RESOURCES_PATH`` at it to run the integration with another mapping."""
    shutil.copytree(REPO_ROOT / ".port/resources", target, dirs_exist_ok=True)
    config = yaml.safe_load((target / "port-app-config.yml").read_text())
    for resource in config["resources"]:
        if resource["kind"] == "issue":
            resource["selector"].update(issue_selector)
    (target / "port-app-config.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    return target


def resources_without(target: Path, *kinds: str) -> Path:
    """A copy of ``.port/resources`` whose mapping leaves out the resources of ``kinds``
    (e.g. a test that aims faults at the issue scan by counting searches)."""
    shutil.copytree(REPO_ROOT / ".port/resources", target, dirs_exist_ok=True)
    config = yaml.safe_load((target / "port-app-config.yml").read_text())
    config["resources"] = [r for r in config["resources"] if r["kind"] not in kinds]
    (target / "port-app-config.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    return target


@dataclass
class JiraControl:
    """The emulator's ``/_emulator`` control API over HTTP."""

    base_url: str
    timeout: float = 60.0

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = httpx.request(
            method, f"{self.base_url}/_emulator{path}", timeout=self.timeout, **kwargs
        )
        response.raise_for_status()
        return response.json()

    def truth(self, jql: str = "") -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "/truth", params={"jql": jql})
        return result

    def software_truth(self, jql: str = "") -> dict[str, Any]:
        """Boards, sprints, versions and components visible now, and per-issue links."""
        result: dict[str, Any] = self._call("GET", "/truth/software", params={"jql": jql})
        return result

    def activity_truth(self, jql: str = "") -> dict[str, Any]:
        """Every comment and worklog of the issues ``jql`` selects now, by issue key."""
        result: dict[str, Any] = self._call("GET", "/truth/activity", params={"jql": jql})
        return result

    def stats(self, searches: bool = False) -> dict[str, Any]:
        result: dict[str, Any] = self._call(
            "GET", "/stats", params={"searches": str(searches).lower()}
        )
        return result

    def reset_stats(self) -> None:
        self._call("POST", "/stats/reset")

    def mutate(self, *ops: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self._call("POST", "/mutate", json={"ops": list(ops)})
        return result

    def set_faults(self, **knobs: Any) -> None:
        self._call("POST", "/faults", json=knobs)

    def patch_settings(self, **settings: Any) -> None:
        self._call("PATCH", "/settings", json=settings)


@dataclass
class LocalStack:
    jira: RunningServer
    catalog: RunningServer
    work_dir: Path
    jira_control: JiraControl = field(init=False)
    catalog_client: CatalogClient = field(init=False)
    # Environment of every integration run of this stack (a run's own extra_env wins).
    run_env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.jira_control = JiraControl(self.jira.url)
        self.catalog_client = CatalogClient(self.catalog.url)

    def integration_env(
        self, identifier: str = "jira-server-sync-local", extra: dict[str, str] | None = None
    ) -> dict[str, str]:
        env = ocean_env(
            self.catalog.url,
            identifier=identifier,
            integration_type=INTEGRATION_TYPE,
            extra={
                "OCEAN__INTEGRATION__CONFIG__JIRA_SERVER_HOST": self.jira.url,
                "OCEAN__INTEGRATION__CONFIG__TOKEN": LOCAL_JIRA_TOKEN,
            },
        )
        env.update(self.run_env)
        env.update(extra or {})
        return env

    def run_once(
        self,
        *,
        extra_env: dict[str, str] | None = None,
        timeout: float = 300.0,
        log_name: str = "ocean-once.log",
        identifier: str = "jira-server-sync-local",
    ) -> subprocess.CompletedProcess[str]:
        """One ``ocean sail`` ONCE run of this repository's integration, installed in the
        catalog as ``identifier`` (several installations may share one catalog)."""
        env = self.integration_env(identifier, extra=extra_env)
        result = subprocess.run(
            [ocean_executable(), "sail", "-p", env["APPLICATION__PORT"], "."],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        (self.work_dir / log_name).write_text(result.stdout + result.stderr)
        return result


def jira_args(
    *,
    projects: int = 4,
    users: int = 40,
    issues: int = 300,
    seed: int = 7,
    extra: tuple[str, ...] = (),
) -> list[str]:
    return [
        "--projects",
        str(projects),
        "--users",
        str(users),
        "--issues",
        str(issues),
        "--seed",
        str(seed),
        "--username",
        LOCAL_JIRA_USER,
        "--token",
        LOCAL_JIRA_TOKEN,
        *extra,
    ]


@contextmanager
def local_stack(
    work_dir: Path,
    *,
    jira: list[str] | None = None,
    catalog_db: str = ":memory:",
    catalog_args: list[str] | None = None,
    catalog: RunningServer | None = None,
) -> Iterator[LocalStack]:
    """Start the emulator and the catalog; stop both on exit, whatever happens. With
    ``catalog`` (another stack's), only an emulator starts and it feeds that catalog: several
    Jira instances, or several installations, into one catalog."""
    work_dir.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        jira_server = stack.enter_context(
            start_server(
                "jira",
                "local_stack.jira_emulator",
                jira if jira is not None else jira_args(),
                log_dir=work_dir,
                health_path="/_emulator/health",
            )
        )
        # An upsert that changes nothing keeps updatedAt, as we believe Port does; see
        # local_stack/catalog/README.md for why this matters to reconciliation.
        catalog_server = catalog or stack.enter_context(
            start_catalog(
                work_dir, catalog_db, ["--keep-updated-at-on-noop", *(catalog_args or [])]
            )
        )
        yield LocalStack(jira=jira_server, catalog=catalog_server, work_dir=work_dir)
