"""``make demo``: the main job end to end on the embedded local stack.

Starts the Jira emulator and the local catalog on 127.0.0.1, runs the integration once with
a real ``ocean sail`` (ONCE listener, blueprints and mapping created from ``.port/``), prints
the entities per blueprint next to what Jira holds, and stops everything it started. The
catalog is kept in ``.demo/catalog.sqlite``; ``make catalog-ui`` serves its HTML page.

Point the same command at real systems with the integration's own variables:
``OCEAN__INTEGRATION__CONFIG__JIRA_SERVER_HOST`` (+ ``..._TOKEN`` or ``..._USERNAME`` and
``..._PASSWORD``) replaces the emulator; ``OCEAN__PORT__CLIENT_ID`` and
``OCEAN__PORT__CLIENT_SECRET`` (+ ``OCEAN__PORT__BASE_URL``) replace the local catalog.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

from local_stack.catalog.testing import (
    CatalogClient,
    free_loopback_port,
    ocean_executable,
    start_catalog,
)
from local_stack.process import start_server
from local_stack.stack import (
    BLUEPRINTS,
    INTEGRATION_TYPE,
    LOCAL_JIRA_TOKEN,
    REPO_ROOT,
    JiraControl,
    jira_args,
)

DEMO_DIR = REPO_ROOT / ".demo"
DEMO_DB = DEMO_DIR / "catalog.sqlite"
DEFAULT_ISSUE_JQL = "(statusCategory != Done) OR (created >= -1w) OR (updated >= -1w)"
RUN_TIMEOUT_SECONDS = 300
# Ocean's console format: "2026-01-01 10:00:00.000 | INFO     | message"
LOG_LINE = re.compile(r"^\S+ \S+ \| (?P<level>[A-Z]+)\s*\| (?P<message>.*)$")


def say(message: str) -> None:
    print(f"[demo] {message}", flush=True)


def ocean_environment(jira_url: str | None, catalog_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("APPLICATION__")}
    env.update(
        {
            "OCEAN__EVENT_LISTENER": '{"type":"ONCE"}',
            "OCEAN__INITIALIZE_PORT_RESOURCES": "true",
            "OCEAN__SEND_RAW_DATA_EXAMPLES": "false",
            # The only mode the integration runs in (see require_processing_mode).
            "OCEAN__PROCESSING_MODE": "ocean-core",
            "OCEAN__INTEGRATION__TYPE": INTEGRATION_TYPE,
            "APPLICATION__PORT": str(free_loopback_port()),
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.setdefault("OCEAN__INTEGRATION__IDENTIFIER", "jira-server-sync-demo")
    if jira_url is not None:
        env["OCEAN__INTEGRATION__CONFIG__JIRA_SERVER_HOST"] = jira_url
        env["OCEAN__INTEGRATION__CONFIG__TOKEN"] = LOCAL_JIRA_TOKEN
    if catalog_url is not None:
        env.update(
            {
                "OCEAN__PORT__BASE_URL": catalog_url,
                "OCEAN__PORT__CLIENT_ID": "demo-client",
                "OCEAN__PORT__CLIENT_SECRET": "demo-secret",
            }
        )
    return env


def run_ocean(env: dict[str, str], log_path: Path) -> int:
    """``ocean sail`` with its output in ``log_path``; the lines that tell progress are
    echoed so a person sees the run move."""
    interesting = ("Starting processing resource", "Finished registering kind", "Resync ")
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [ocean_executable(), "sail", "-p", env["APPLICATION__PORT"], "."],
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert process.stdout is not None
        deadline = time.monotonic() + RUN_TIMEOUT_SECONDS
        for line in process.stdout:
            log.write(line)
            match = LOG_LINE.match(line.strip())
            if match and (match["level"] == "ERROR" or any(m in line for m in interesting)):
                message = match["message"]
                say(f"  {message if match['level'] == 'ERROR' else message[:100]}")
            if time.monotonic() > deadline:
                process.kill()
                say(f"ocean sail did not finish within {RUN_TIMEOUT_SECONDS}s")
                break
        return process.wait(timeout=30)


def expected_counts(jira: JiraControl) -> dict[str, int]:
    """What the default selectors should bring, from the emulator's truth oracle."""
    truth = jira.truth(DEFAULT_ISSUE_JQL)
    software = jira.software_truth()
    activity = jira.activity_truth(DEFAULT_ISSUE_JQL)
    return {
        "project": len(truth["projects"]),
        "user": len(truth["users"]),  # the default user selector has includeInactive: true
        "issue": int(truth["total"]),
        "board": len(software["boards"]),
        "sprint": sum(1 for s in software["sprints"] if s["state"] in ("active", "future")),
        "version": sum(
            1 for vs in software["versions"].values() for v in vs if not v.get("archived")
        ),
        "component": sum(len(cs) for cs in software["components"].values()),
        "comment": sum(len(cs) for cs in activity["comments"].values()),
        "worklog": sum(len(ws) for ws in activity["worklogs"].values()),
    }


def print_table(catalog: CatalogClient, expected: dict[str, int]) -> None:
    # Bare entities without a title are relation targets outside the selectors, created
    # by the catalog because createMissingRelatedEntities is on (e.g. inactive reporters).
    print()
    print(f"{'kind':<10} {'blueprint':<24} {'synced':>7} {'in Jira':>8} {'placeholders':>13}")
    print(f"{'-' * 10} {'-' * 24} {'-' * 7} {'-' * 8} {'-' * 13}")
    for kind, blueprint in BLUEPRINTS.items():
        entities = catalog.entities(blueprint)
        synced = sum(1 for e in entities if e.get("title") is not None)
        print(
            f"{kind:<10} {blueprint:<24} {synced:>7} {expected.get(kind, ''):>8} "
            f"{len(entities) - synced:>13}"
        )
    print()


def main() -> int:
    real_jira = bool(os.environ.get("OCEAN__INTEGRATION__CONFIG__JIRA_SERVER_HOST"))
    real_port = bool(os.environ.get("OCEAN__PORT__CLIENT_ID"))
    DEMO_DIR.mkdir(exist_ok=True)
    started = time.monotonic()
    with ExitStack() as stack:
        jira_url = catalog_url = None
        jira: JiraControl | None = None
        if not real_jira:
            say("starting the Jira emulator (5 projects, 60 users, 800 issues) ...")
            server = stack.enter_context(
                start_server(
                    "jira",
                    "local_stack.jira_emulator",
                    jira_args(projects=5, users=60, issues=800),
                    log_dir=DEMO_DIR,
                    health_path="/_emulator/health",
                )
            )
            jira_url, jira = server.url, JiraControl(server.url)
        catalog: CatalogClient | None = None
        if not real_port:
            DEMO_DB.unlink(missing_ok=True)
            say("starting the local catalog ...")
            server = stack.enter_context(
                start_catalog(DEMO_DIR, str(DEMO_DB), ["--keep-updated-at-on-noop"])
            )
            catalog_url, catalog = server.url, CatalogClient(server.url)
        say(f"running `ocean sail` once (log: {(DEMO_DIR / 'ocean.log').relative_to(REPO_ROOT)})")
        code = run_ocean(ocean_environment(jira_url, catalog_url), DEMO_DIR / "ocean.log")
        if catalog is not None:
            print_table(catalog, expected_counts(jira) if jira is not None else {})
    elapsed = time.monotonic() - started
    if code != 0:
        say(f"the sync FAILED (exit code {code}) after {elapsed:.0f}s; see .demo/ocean.log")
        return code
    say(f"done in {elapsed:.0f}s; servers stopped.")
    if not real_port:
        say("to browse the result: make catalog-ui, then open http://127.0.0.1:8765/")
    return 0


if __name__ == "__main__":
    if shutil.which(ocean_executable()) is None and not Path(ocean_executable()).exists():
        sys.exit("ocean CLI not found: run `make install` first")
    sys.exit(main())
