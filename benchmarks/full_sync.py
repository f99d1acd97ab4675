"""``make bench``: a full sync on the local stack, measured, with baselines from the same run.

Scenario (defaults): 20 projects, 100,000 issues, 2,000 users, 10 ms added latency per Jira
request; the issue selector takes every issue (``jql: ""``). Steps:

1. the integration: a real ``ocean sail`` ONCE run against the emulator and a local catalog
   (wall seconds, peak RSS sampled every 0.1 s, Jira requests/bytes/max in flight from the
   emulator's stats, catalog requests, and the time the sync waited on Jira per kind); the
   issue selector is incremental, so this first run is full, and a second run after 1% of
   the issues changed in Jira is incremental;
2. the fetch phase alone: the integration's own client downloading the same kinds with the
   same settings, drained without processing;
3. the floor: a minimal downloader replaying exactly the page requests of step 2 (same JQL,
   fields, page sizes), with the same concurrency;
4. the naive baseline: sequential ``startAt`` pages of ``maxResults=50`` with all fields, per
   project, once as a download and once as a full sync through Ocean (the same integration
   with its issue paging and its entity processor swapped for the naive paging and Ocean's
   stock JQ processor, as upstream runs, see ``naive_client/``); Data Center's 10,000-result
   window is off for it, since offset paging cannot pass it;
5. the same integration run on a smaller scenario (``--small-issues``), to compare memory.

Prints one JSON line (and writes it to ``--output`` if given).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psutil
import yaml

from jira_server.client.rest_client import JiraServerClient
from jira_server.mapping.fields import mapping_expressions, requested_fields
from jira_server.settings import load_settings
from local_stack.catalog.testing import ocean_executable
from local_stack.stack import (
    LOCAL_JIRA_TOKEN,
    REPO_ROOT,
    LocalStack,
    jira_args,
    local_stack,
    resources_with,
)

NAIVE_PAGE = 50
NAIVE_CLIENT = Path(__file__).resolve().parent / "naive_client"
FETCH_LINE = re.compile(
    r"Fetched kind (?P<kind>\w+): (?P<items>\d+) items in (?P<pages>\d+) pages; the sync "
    r"waited (?P<waited>[\d.]+)s on Jira over (?P<span>[\d.]+)s"
)


def issue_fields(resources: Path) -> list[str]:
    config = yaml.safe_load((resources / "port-app-config.yml").read_text())
    issue = next(r for r in config["resources"] if r["kind"] == "issue")
    expressions = [*mapping_expressions(issue["port"]["entity"]["mappings"])]
    return requested_fields(issue["selector"].get("fields"), expressions)


class PeakRss:
    """Samples the RSS of a process (and, separately, of its children) until stopped."""

    def __init__(self, pid: int, interval: float = 0.1) -> None:
        self._process = psutil.Process(pid)
        self._interval = interval
        self.peak = 0
        self.peak_with_children = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                own = self._process.memory_info().rss
                children = sum(c.memory_info().rss for c in self._process.children(True))
            except psutil.Error:
                return
            self.peak = max(self.peak, own)
            self.peak_with_children = max(self.peak_with_children, own + children)
            self._stop.wait(self._interval)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def run_integration(
    stack: LocalStack,
    resources: Path,
    timeout: float,
    *,
    naive_client: bool = False,
    ocean_env: dict[str, str] | None = None,
) -> dict[str, Any]:
    stack.jira_control.reset_stats()
    extra = {"OCEAN__RESOURCES_PATH": str(resources), **(ocean_env or {})}
    if naive_client:
        # sitecustomize.py there swaps in the naive issue paging at interpreter start.
        extra["PYTHONPATH"] = f"{NAIVE_CLIENT}:{REPO_ROOT}"
    env = stack.integration_env(extra=extra)
    log_path = stack.work_dir / "ocean-bench.log"
    started = time.monotonic()
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [ocean_executable(), "sail", "-p", env["APPLICATION__PORT"], "."],
            cwd=REPO_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        rss = PeakRss(process.pid)
        try:
            code = process.wait(timeout=timeout)
        finally:
            rss.stop()
    wall = time.monotonic() - started
    jira = stack.jira_control.stats()
    catalog = stack.catalog_client.stats()
    waits = {
        m["kind"]: {k: float(m[k]) for k in ("items", "pages", "waited", "span")}
        for m in FETCH_LINE.finditer(log_path.read_text())
    }
    issues = len(stack.catalog_client.identifiers("jiraServerIssue"))
    return {
        "exit_code": code,
        "wall_seconds": round(wall, 2),
        "peak_rss_mb": round(rss.peak / 2**20, 1),
        "peak_rss_with_workers_mb": round(rss.peak_with_children / 2**20, 1),
        "jira_requests": jira["requests"],
        "jira_bytes": jira["bytesSent"],
        "jira_max_in_flight": jira["maxInFlight"],
        "catalog_requests": sum(catalog["requests"].values()),
        "catalog_bulk_upserts": catalog["bulkUpserts"],
        "issues_in_catalog": issues,
        "fetch_waits": waits,
    }


def client_for(stack: LocalStack) -> JiraServerClient:
    settings = load_settings({"jira_server_host": stack.jira.url, "token": LOCAL_JIRA_TOKEN})
    return JiraServerClient(settings)


async def fetch_phase(stack: LocalStack, fields: list[str]) -> dict[str, Any]:
    """The integration's client fetching what a resync fetches, without processing."""
    stack.jira_control.reset_stats()
    client = client_for(stack)
    started = time.monotonic()
    issues = 0
    try:
        async for page in client.fetch_issues("", fields=fields):
            issues += len(page)
    finally:
        await client.aclose()
    seconds = time.monotonic() - started
    stats = stack.jira_control.stats(searches=True)
    return {
        "seconds": round(seconds, 2),
        "issues": issues,
        "requests": stats["requests"],
        "bytes": stats["bytesSent"],
        "max_in_flight": stats["maxInFlight"],
        "searches": [
            {"jql": s["jql"], "maxResults": s["maxResults"], "startAt": s["startAt"]}
            for s in stats["searches"]
        ],
    }


async def floor(stack: LocalStack, fields: list[str], searches: list[dict[str, Any]]) -> float:
    """The same page requests, replayed with the same concurrency and nothing else."""
    concurrency = load_settings(
        {"jira_server_host": stack.jira.url, "token": LOCAL_JIRA_TOKEN}
    ).max_concurrent_requests
    gate = asyncio.Semaphore(concurrency)
    headers = {"Authorization": f"Bearer {LOCAL_JIRA_TOKEN}"}
    async with httpx.AsyncClient(base_url=stack.jira.url, headers=headers, timeout=120) as http:

        async def one(search: dict[str, Any]) -> None:
            async with gate:
                response = await http.post("/rest/api/2/search", json={**search, "fields": fields})
                response.raise_for_status()
                response.json()

        started = time.monotonic()
        await asyncio.gather(*(one(s) for s in searches))
        return time.monotonic() - started


async def naive(stack: LocalStack, projects: list[str]) -> dict[str, Any]:
    """What simple scripts do: one request at a time, 50 issues, every field. Data Center's
    10,000-result window is switched off for it: offset paging would stop there."""
    stack.jira_control.patch_settings(recent_dc=False)
    stack.jira_control.reset_stats()
    headers = {"Authorization": f"Bearer {LOCAL_JIRA_TOKEN}"}
    issues = 0
    started = time.monotonic()
    async with httpx.AsyncClient(base_url=stack.jira.url, headers=headers, timeout=120) as http:
        for project in projects:
            start = 0
            while True:
                response = await http.get(
                    "/rest/api/2/search",
                    params={
                        "jql": f"project = {project} ORDER BY key",
                        "startAt": start,
                        "maxResults": NAIVE_PAGE,
                        "fields": "*all",
                    },
                )
                response.raise_for_status()
                page = response.json()["issues"]
                issues += len(page)
                start += len(page)
                if len(page) < NAIVE_PAGE:
                    break
    seconds = time.monotonic() - started
    stats = stack.jira_control.stats()
    return {
        "seconds": round(seconds, 2),
        "issues": issues,
        "requests": stats["requests"],
        "bytes": stats["bytesSent"],
    }


def say(message: str) -> None:
    print(f"[bench] {message} ...", file=sys.stderr, flush=True)


def scenario(args: argparse.Namespace, issues: int) -> list[str]:
    # Data as of an hour ago: nothing falls inside the incremental overlap by chance.
    anchor = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    return jira_args(
        projects=args.projects,
        users=args.users,
        issues=issues,
        seed=args.seed,
        extra=("--latency-ms", str(args.latency_ms), "--anchor", anchor),
    )


def incremental_run(
    stack: LocalStack, resources: Path, args: argparse.Namespace, ocean_env: dict[str, str]
) -> dict[str, Any]:
    """After the full run: change 1% of the issues in Jira, run again (incremental)."""
    changed = max(1, args.issues // 100)
    stack.jira_control.mutate({"op": "update", "jql": "", "count": changed, "summary": "edited"})
    result = run_integration(stack, resources, args.timeout, ocean_env=ocean_env)
    searches = stack.jira_control.stats(searches=True)["searches"]
    result["issues_changed"] = changed
    result["issues_fetched"] = sum(
        s["returned"] for s in searches if s["maxResults"] > 1 and "updated >=" in s["jql"]
    )
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=100_000)
    parser.add_argument("--small-issues", type=int, default=20_000)
    parser.add_argument("--projects", type=int, default=20)
    parser.add_argument("--users", type=int, default=2_000)
    parser.add_argument("--latency-ms", type=int, default=10)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--timeout", type=float, default=3600)
    parser.add_argument("--output", type=Path)
    parser.add_argument(
        "--skip-naive-sync", action="store_true", help="skip the slow naive full-sync baseline"
    )
    parser.add_argument(
        "--ocean-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra environment for the integration's runs, e.g. framework options to compare",
    )
    args = parser.parse_args()

    ocean_env = dict(item.split("=", 1) for item in args.ocean_env)
    work = Path(tempfile.mkdtemp(prefix="jira-bench-"))
    # Every issue selected; the naive baseline maps unslimmed payloads, as simple clients do.
    resources = resources_with(work / "resources", jql="", incremental=True)
    naive_resources = resources_with(work / "naive-resources", jql="", slimPayload=False)
    fields = issue_fields(resources)
    result: dict[str, Any] = {
        "scenario": {
            "ocean_env": ocean_env,
            "projects": args.projects,
            "issues": args.issues,
            "users": args.users,
            "latency_ms": args.latency_ms,
        }
    }
    try:
        with local_stack(
            work / "large", jira=scenario(args, args.issues), catalog_db=str(work / "large.db")
        ) as stack:
            say(f"integration: {args.issues} issues")
            sync = run_integration(stack, resources, args.timeout, ocean_env=ocean_env)
            say("incremental run after 1% of the issues changed")
            incremental = incremental_run(stack, resources, args, ocean_env)
            say("fetch phase, floor and naive download")
            fetched = asyncio.run(fetch_phase(stack, fields))
            floor_seconds = asyncio.run(floor(stack, fields, fetched.pop("searches")))
            projects = sorted(stack.jira_control.truth("")["projects"])
            download = asyncio.run(naive(stack, projects))
        naive_sync: dict[str, Any] | None = None
        if not args.skip_naive_sync:
            with local_stack(
                work / "naive", jira=scenario(args, args.issues), catalog_db=str(work / "n.db")
            ) as stack:
                say(f"naive baseline sync: {args.issues} issues (sequential, 50, *all)")
                stack.jira_control.patch_settings(recent_dc=False)
                naive_sync = run_integration(
                    stack, naive_resources, args.timeout, naive_client=True, ocean_env=ocean_env
                )
        with local_stack(
            work / "small",
            jira=scenario(args, args.small_issues),
            catalog_db=str(work / "small.db"),
        ) as stack:
            say(f"integration: {args.small_issues} issues")
            small = run_integration(stack, resources, args.timeout, ocean_env=ocean_env)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    wall = sync["wall_seconds"]
    result.update(
        {
            "wall_seconds": wall,
            "incremental_wall_seconds": incremental["wall_seconds"],
            "incremental_issues_changed": incremental["issues_changed"],
            "incremental_issues_fetched": incremental["issues_fetched"],
            "incremental_jira_requests": incremental["jira_requests"],
            "incremental_jira_bytes": incremental["jira_bytes"],
            "jira_requests": sync["jira_requests"],
            "jira_bytes": sync["jira_bytes"],
            "jira_max_in_flight": sync["jira_max_in_flight"],
            "catalog_requests": sync["catalog_requests"],
            "entities_per_second": round(sync["issues_in_catalog"] / wall, 1),
            "peak_rss_mb": sync["peak_rss_mb"],
            "peak_rss_small_mb": small["peak_rss_mb"],
            "rss_growth_vs_small": round(sync["peak_rss_mb"] / small["peak_rss_mb"] - 1, 3),
            "exit_code": sync["exit_code"],
            "issues_in_catalog": sync["issues_in_catalog"],
            "sync_waited_on_jira_seconds": {k: v["waited"] for k, v in sync["fetch_waits"].items()},
            "fetch_phase_seconds": fetched["seconds"],
            "floor_seconds": round(floor_seconds, 2),
            "naive_sync_seconds": naive_sync["wall_seconds"] if naive_sync else None,
            "naive_download_seconds": download["seconds"],
            "naive_requests": download["requests"],
            "naive_bytes": download["bytes"],
            "ratio_naive_sync_to_wall": (
                round(naive_sync["wall_seconds"] / wall, 2) if naive_sync else None
            ),
            "ratio_naive_download_to_wall": round(download["seconds"] / wall, 2),
            "ratio_fetch_to_floor": round(fetched["seconds"] / floor_seconds, 2),
            "ratio_bytes_to_naive": round(fetched["bytes"] / download["bytes"], 3),
            "small": small,
            "naive_sync": naive_sync,
        }
    )
    line = json.dumps(result)
    print(line)
    if args.output:
        args.output.write_text(line + "\n")
    return 0 if sync["exit_code"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
