"""``make bench``: the integration against the local stack with a catalog that is far away,
measured, with a baseline and a floor from the same run.

Jira: ``--issues`` (default 50,000) in 20 projects, 2,000 users, ``--jira-latency-ms`` (5)
per request; the default issue mapping and JQL. The local catalog adds ``--latency-ms`` (50)
to every Port API request, as a hosted catalog reached over the internet.

Scenarios, each a real ``ocean sail`` ONCE run:

1. full sync into an empty catalog at 0 ms and at 50 ms catalog latency;
2. the same Jira a day later (its clock moved on a day: issues leave the one-week window;
   1% of the matching issues updated, 0.1% deleted, 0.1% created, 0.1% moved out of the
   JQL), a delta run at 50 ms, then the catalog checked equal to Jira issue by issue;
3. the baseline at 50 ms: the integration made to behave like Port's published
   jira-server integration (``naive_client/``: one offset scan over the JQL in Jira's
   default pages of 50 with its default fields, the framework's stock JQ processor, its
   comparison with the catalog in searches of 50 and its page-by-page upserts);
4. the floor at 50 ms: the minimum work, not a replay of the integration's plan: the
   needed fields downloaded at the server's page cap with maxConcurrentRequests in flight,
   and the entities pushed in full bulk batches with as many requests in flight, each page
   pushed as it arrives, nothing mapped or compared;
5. ids in two clusters (a jump of 10,000,000 half way): a full sync at 50 ms;
6. memory: full and delta runs at ``--memory-small`` and ``--memory-large`` issues;
7. the cost of the computed issue fields at ``--computed-issues`` (default 100,000), catalog
   at 0 ms so Jira's share shows: full syncs with the default mapping minus every property
   reading ``.__lifecycle``/``.__development`` ("none": the mapping as it was before them),
   plus the lifecycle properties only, and the default issue mapping (both), each without
   the comment and worklog resources; "none" must make no request the computed fields need
   (no ``/status``, no issue re-reads, no changelog);
8. the cost of the comment and worklog kinds on the same Jira: full syncs adding the comment
   resource, then the worklog resource (the default mapping), and delta runs with nothing
   changed without and with them; scenario 7's mappings must make none of their requests
   (``/comment``, ``/worklog/*``, searches for the ``comment`` or ``worklog`` field).
   ``--cost-only`` runs scenarios 7 and 8 alone.

Times are the sync's own, from its first to its last log line ("Resync started" or the
framework's "Resync was triggered", to "Resync finished"/"Resync failed"); the process's
wall time (``ocean sail`` start-up included) is reported beside them. Catalog requests count
the entity API calls the catalog saw (searches, listings, bulk upserts, deletes). Prints one
JSON line (and writes it to ``--output``).
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
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import psutil

from jira_server import blueprints
from jira_server.mapping.fields import mapping_expressions, requested_fields
from jira_server.settings import load_settings
from local_stack.catalog.testing import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, ocean_executable
from local_stack.stack import (
    LOCAL_JIRA_TOKEN,
    REPO_ROOT,
    LocalStack,
    jira_args,
    local_stack,
)

NAIVE_CLIENT = Path(__file__).resolve().parent / "naive_client"
DEFAULT_JQL = "(statusCategory != Done) OR (created >= -1w) OR (updated >= -1w)"
ISSUE_BLUEPRINT = blueprints.ISSUE
ENTITY_ROUTES = (
    "POST /v1/blueprints/{blueprint}/entities/bulk",
    "POST /v1/blueprints/{blueprint}/entities/search",
    "POST /v1/entities/search",
    "POST /v1/blueprints/entities/datasource-entities",
    "POST /v1/blueprints/{blueprint}/bulk/entities/delete",
    "DELETE /v1/blueprints/{blueprint}/entities/{identifier}",
    "POST /v1/blueprints/{blueprint}/entities",
)
LOG_TIME = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3})")
DAY_SECONDS = 86_400
BULK = 20


def say(message: str) -> None:
    print(f"[bench] {message} ...", file=sys.stderr, flush=True)


class PeakRss:
    """Samples the RSS of a process (children included: the framework's pool) until stopped."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        self._process = psutil.Process(pid)
        self._interval = interval
        self.peak = 0
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
            self.peak = max(self.peak, own + children)
            self._stop.wait(self._interval)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def sync_seconds(log: str) -> float | None:
    """From the run's first line to its last, by the log's own timestamps."""
    start = end = None
    for line in log.splitlines():
        if "Resync started" in line or "Resync was triggered" in line:
            start = start or line
        if "Resync finished" in line or "Resync failed" in line:
            end = line
    if start is None or end is None:
        return None
    times = [LOG_TIME.match(x) for x in (start, end)]
    if not all(times):
        return None
    parsed = [datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S.%f") for m in times if m]
    return round((parsed[1] - parsed[0]).total_seconds(), 2)


def entity_requests_by_route(stack: LocalStack) -> dict[str, int]:
    requests = stack.catalog_client.stats()["requests"]
    return {route: int(requests.get(route, 0)) for route in ENTITY_ROUTES}


def entity_requests(stack: LocalStack) -> int:
    return sum(entity_requests_by_route(stack).values())


def set_catalog_latency(stack: LocalStack, ms: float) -> None:
    httpx.post(
        f"{stack.catalog.url}/_catalog/latency", json={"ms": ms}, timeout=10
    ).raise_for_status()


def run_integration(
    stack: LocalStack,
    name: str,
    *,
    naive: bool = False,
    resources: Path | None = None,
    timeout: float = 3600,
) -> dict[str, Any]:
    stack.jira_control.reset_stats()
    before = entity_requests_by_route(stack)
    extra = {"OCEAN__LOG_LEVEL": "INFO"}
    if resources is not None:
        extra["OCEAN__RESOURCES_PATH"] = str(resources)
    if naive:
        # sitecustomize.py there makes the integration behave like Port's own, at start-up.
        extra["PYTHONPATH"] = f"{NAIVE_CLIENT}:{REPO_ROOT}"
    env = stack.integration_env(extra=extra)
    log_path = stack.work_dir / f"{name}.log"
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
    text = log_path.read_text(errors="replace")
    jira = stack.jira_control.stats()
    after = entity_requests_by_route(stack)
    return {
        "exit_code": code,
        "sync_seconds": sync_seconds(text),
        "process_wall_seconds": round(wall, 2),
        "peak_rss_mb": round(rss.peak / 2**20, 1),
        "jira_requests": jira["requests"],
        "jira_bytes": jira["bytesSent"],
        "jira_max_in_flight": jira["maxInFlight"],
        "jira_requests_by_route": jira["routes"],
        "catalog_requests": sum(after.values()) - sum(before.values()),
        # Where a run's catalog round trips go (searches, listings, upserts, deletes).
        "catalog_requests_by_route": {
            route.split(" ", 1)[1]: n - before[route]
            for route, n in after.items()
            if n - before[route]
        },
        "issues_in_catalog": len(synced_issues(stack)),
    }


def synced_issues(stack: LocalStack) -> dict[str, dict[str, Any]]:
    """Issue entities the mapping wrote (placeholders for relation targets have no title)."""
    return {
        e["identifier"]: e
        for e in stack.catalog_client.entities(ISSUE_BLUEPRINT)
        if e.get("title") is not None
    }


def day_later(stack: LocalStack, matching: int) -> dict[str, Any]:
    """The same Jira a day later: its clock moves on a day (issues whose last change falls out
    of the one-week window leave the JQL), and a day's work is done: 1% of the matching
    issues updated, 0.1% deleted, 0.1% created."""
    control = stack.jira_control
    before = set(control.truth(DEFAULT_JQL)["keys"])
    control.patch_settings(clock_offset_seconds=DAY_SECONDS)
    moved_out = before - set(control.truth(DEFAULT_JQL)["keys"])
    share = max(1, matching // 1000)
    updated = control.mutate(
        {"op": "update", "jql": DEFAULT_JQL, "count": share * 10, "summary": "edited a day later"}
    )["results"][0]["updated"]
    deleted = control.mutate(
        {"op": "delete", "jql": f"({DEFAULT_JQL}) AND issuetype != Sub-task", "count": share}
    )["results"][0]["deleted"]
    projects = sorted(control.truth("")["projects"])
    created = control.mutate({"op": "create", "project": projects[0], "count": share})["results"][
        0
    ]["created"]
    return {
        "updated": len(updated),
        "deleted": len(deleted),
        "created": len(created),
        "moved_out": len(moved_out),
        "updated_keys": updated,
    }


def catalog_matches_jira(stack: LocalStack, updated_keys: list[str]) -> dict[str, Any]:
    truth = set(stack.jira_control.truth(DEFAULT_JQL)["keys"])
    issues = synced_issues(stack)
    missing = sorted(truth - set(issues))
    extra = sorted(set(issues) - truth)
    stale = [
        k
        for k in updated_keys
        if k in truth and issues.get(k, {}).get("title") != "edited a day later"
    ]
    return {
        "equal": not missing and not extra and not stale,
        "missing": missing[:10],
        "not_in_jira": extra[:10],
        "stale_titles": stale[:10],
        "issues": len(issues),
    }


async def floor(
    stack: LocalStack, fields: list[str], concurrency: int, catalog_concurrency: int
) -> dict[str, Any]:
    """Download the needed fields at the page cap with ``concurrency`` requests in flight,
    and push each page as it arrives in bulk batches with ``catalog_concurrency`` in flight:
    nothing is mapped or compared. Offsets for the download (the window is opened for it)."""
    stack.jira_control.patch_settings(recent_dc=False)
    headers = {"Authorization": f"Bearer {LOCAL_JIRA_TOKEN}"}
    token = httpx.post(
        f"{stack.catalog.url}/v1/auth/access_token",
        json={"clientId": DEFAULT_CLIENT_ID, "clientSecret": DEFAULT_CLIENT_SECRET},
        timeout=10,
    ).json()["accessToken"]
    jira_gate, port_gate = asyncio.Semaphore(concurrency), asyncio.Semaphore(catalog_concurrency)
    pushes: list[asyncio.Task[None]] = []
    async with (
        httpx.AsyncClient(base_url=stack.jira.url, headers=headers, timeout=300) as jira,
        httpx.AsyncClient(
            base_url=stack.catalog.url, headers={"Authorization": f"Bearer {token}"}, timeout=300
        ) as port,
    ):
        first = (
            await jira.post("/rest/api/2/search", json={"jql": DEFAULT_JQL, "maxResults": 0})
        ).json()
        total = int(first["total"])
        cap = int(
            (
                await jira.post(
                    "/rest/api/2/search",
                    json={"jql": DEFAULT_JQL, "maxResults": 100_000, "fields": ["id"]},
                )
            ).json()["maxResults"]
        )

        async def push(batch: list[dict[str, Any]]) -> None:
            async with port_gate:
                response = await port.post(
                    f"/v1/blueprints/{ISSUE_BLUEPRINT}/entities/bulk",
                    params={
                        "upsert": "true",
                        "merge": "true",
                        "create_missing_related_entities": "true",
                    },
                    json={"entities": batch},
                )
                response.raise_for_status()

        async def page(start: int) -> None:
            async with jira_gate:
                response = await jira.post(
                    "/rest/api/2/search",
                    json={
                        "jql": f"{DEFAULT_JQL} ORDER BY id",
                        "startAt": start,
                        "maxResults": cap,
                        "fields": fields,
                    },
                )
                response.raise_for_status()
            bodies = [
                {
                    "identifier": i["key"],
                    "title": (i.get("fields") or {}).get("summary"),
                    "properties": {},
                    "relations": {},
                }
                for i in response.json()["issues"]
            ]
            for n in range(0, len(bodies), BULK):
                pushes.append(asyncio.create_task(push(bodies[n : n + BULK])))

        started = time.monotonic()
        await asyncio.gather(*(page(start) for start in range(0, total, cap)))
        await asyncio.gather(*pushes)
        seconds = time.monotonic() - started
    stack.jira_control.patch_settings(recent_dc=None)
    return {
        "seconds": round(seconds, 2),
        "issues": total,
        "page_cap": cap,
        "bulk_requests": len(pushes),
    }


def issue_fields() -> list[str]:
    import yaml

    config = yaml.safe_load((REPO_ROOT / ".port/resources/port-app-config.yml").read_text())
    issue = next(r for r in config["resources"] if r["kind"] == "issue")
    return requested_fields(
        issue["selector"].get("fields"),
        list(mapping_expressions(issue["port"]["entity"]["mappings"])),
    )


COMPUTED_KEYS = ("__lifecycle", "__development")


ACTIVITY_KINDS = ("comment", "worklog")


def resources_reading(
    target: Path, keep: tuple[str, ...], without: tuple[str, ...] = ACTIVITY_KINDS
) -> Path:
    """A copy of ``.port/resources`` whose issue mapping drops the properties reading a
    computed key (``COMPUTED_KEYS``) other than those in ``keep``, and whose mapping leaves
    out the resources of the kinds ``without``."""
    import yaml

    shutil.copytree(REPO_ROOT / ".port/resources", target, dirs_exist_ok=True)
    config = yaml.safe_load((target / "port-app-config.yml").read_text())
    config["resources"] = [r for r in config["resources"] if r["kind"] not in without]
    for resource in config["resources"]:
        if resource["kind"] != "issue":
            continue
        properties = resource["port"]["entity"]["mappings"]["properties"]
        for name, expression in list(properties.items()):
            read = [k for k in COMPUTED_KEYS if f".{k}" in str(expression)]
            if read and not set(read) <= set(keep):
                del properties[name]
    (target / "port-app-config.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    return target


def computed_cost(stack: LocalStack, work: Path) -> dict[str, Any]:
    """Full syncs of the same Jira with the computed fields read or not (see scenario 7)."""
    variants = {
        "none": (),
        "lifecycle": ("__lifecycle",),
        "default": COMPUTED_KEYS,
    }
    runs: dict[str, Any] = {}
    for name, keep in variants.items():
        stack.catalog_client.reset()
        resources = resources_reading(work / f"resources-{name}", keep)
        say(f"computed fields: full sync reading {', '.join(keep) or 'none'}")
        runs[name] = run_integration(stack, f"computed-{name}", resources=resources)
        searches = stack.jira_control.stats(searches=True)["searches"]
        runs[name]["searches_with_changelog"] = sum(
            "changelog" in (entry.get("expand") or []) for entry in searches
        )
        runs[name]["activity_requests"] = activity_requests(runs[name], searches)
    none, lifecycle = runs["none"], runs["lifecycle"]
    routes = none["jira_requests_by_route"]
    runs["none_makes_no_computed_field_request"] = none["searches_with_changelog"] == 0 and not any(
        route == "GET /rest/api/2/status" or "/issue/" in route for route in routes
    )
    runs["lifecycle_extra"] = {
        "jira_requests": lifecycle["jira_requests"] - none["jira_requests"],
        "jira_bytes": lifecycle["jira_bytes"] - none["jira_bytes"],
        "sync_seconds": round((lifecycle["sync_seconds"] or 0) - (none["sync_seconds"] or 0), 2),
        "issue_rereads": sum(
            n for r, n in lifecycle["jira_requests_by_route"].items() if "/issue/" in r
        ),
    }
    return runs


def activity_requests(run: dict[str, Any], searches: list[dict[str, Any]]) -> dict[str, int]:
    """The Jira requests only the comment and worklog kinds make: their routes, and the
    searches asking for the ``comment`` or ``worklog`` field."""
    routes = run["jira_requests_by_route"]
    return {
        "comment_routes": sum(n for r, n in routes.items() if r.endswith("/comment")),
        "worklog_routes": sum(n for r, n in routes.items() if "worklog" in r),
        "comment_searches": sum("comment" in (e.get("fields") or []) for e in searches),
        "worklog_searches": sum("worklog" in (e.get("fields") or []) for e in searches),
    }


def activity_cost(stack: LocalStack, work: Path, computed: dict[str, Any]) -> dict[str, Any]:
    """After scenario 7, on the same Jira: full syncs adding the comment kind, then the
    worklog kind too (the default mapping), and a delta run of the default mapping; the
    extras are measured against scenario 7's default issue mapping without them."""
    variants = {"comments": ("worklog",), "default": ()}
    runs: dict[str, Any] = {}
    # Scenario 7 left the catalog as its default issue mapping wrote it: its delta run first.
    say("comments and worklogs: delta run without them, nothing changed")
    runs["without_delta"] = run_integration(
        stack, "activity-without-delta", resources=work / "resources-default"
    )
    searches = stack.jira_control.stats(searches=True)["searches"]
    runs["without_delta"]["activity_requests"] = activity_requests(runs["without_delta"], searches)
    for name, without in variants.items():
        stack.catalog_client.reset()
        resources = resources_reading(work / f"resources-activity-{name}", COMPUTED_KEYS, without)
        say(f"comments and worklogs: full sync with {name}")
        runs[name] = run_integration(stack, f"activity-{name}", resources=resources)
        searches = stack.jira_control.stats(searches=True)["searches"]
        runs[name]["activity_requests"] = activity_requests(runs[name], searches)
    say("comments and worklogs: delta run of the default mapping, nothing changed")
    runs["default_delta"] = run_integration(
        stack, "activity-default-delta", resources=work / "resources-activity-default"
    )
    searches = stack.jira_control.stats(searches=True)["searches"]
    runs["default_delta"]["activity_requests"] = activity_requests(runs["default_delta"], searches)
    runs["entities"] = {
        bp: sum(1 for e in stack.catalog_client.entities(bp) if e.get("title") is not None)
        for bp in (blueprints.COMMENT, blueprints.WORKLOG)
    }

    def extra(run: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
        return {
            "jira_requests": run["jira_requests"] - base["jira_requests"],
            "jira_bytes": run["jira_bytes"] - base["jira_bytes"],
            "sync_seconds": round((run["sync_seconds"] or 0) - (base["sync_seconds"] or 0), 2),
            "catalog_requests": run["catalog_requests"] - base["catalog_requests"],
            "peak_rss_mb": round(run["peak_rss_mb"] - base["peak_rss_mb"], 1),
        }

    runs["comments_extra"] = extra(runs["comments"], computed["default"])
    runs["worklogs_extra"] = extra(runs["default"], runs["comments"])
    runs["delta_extra"] = extra(runs["default_delta"], runs["without_delta"])
    # Scenario 7's mappings have neither resource: not one of their requests.
    plain = [computed[name] for name in ("none", "lifecycle", "default")]
    runs["without_them_no_request"] = all(
        not any(run["activity_requests"].values()) for run in [*plain, runs["without_delta"]]
    )
    comments_only = runs["comments"]["activity_requests"]
    runs["comments_only_no_worklog_request"] = not (
        comments_only["worklog_routes"] or comments_only["worklog_searches"]
    )
    return runs


def jira_scenario(args: argparse.Namespace, issues: int, *extra: str) -> list[str]:
    return jira_args(
        projects=args.projects,
        users=args.users,
        issues=issues,
        seed=args.seed,
        extra=("--latency-ms", str(args.jira_latency_ms), *extra),
    )


def ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 3) if a is not None and b else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=50_000)
    parser.add_argument("--projects", type=int, default=20)
    parser.add_argument("--users", type=int, default=2_000)
    parser.add_argument("--jira-latency-ms", type=int, default=5)
    parser.add_argument("--latency-ms", type=float, default=50.0, help="catalog latency")
    parser.add_argument("--memory-small", type=int, default=20_000)
    parser.add_argument("--memory-large", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--skip-naive", action="store_true")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--computed-issues", type=int, default=100_000)
    parser.add_argument("--skip-computed", action="store_true")
    parser.add_argument(
        "--cost-only",
        action="store_true",
        help="only scenarios 7 and 8 (computed fields, comments and worklogs)",
    )
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="jira-bench-"))
    settings = load_settings({"jira_server_host": "http://jira.invalid", "token": "x"})
    result: dict[str, Any] = {
        "scenario": {
            "issues": args.issues,
            "projects": args.projects,
            "users": args.users,
            "jira_latency_ms": args.jira_latency_ms,
            "catalog_latency_ms": args.latency_ms,
            "max_concurrent_requests": settings.max_concurrent_requests,
            "catalog_max_concurrent_requests": settings.catalog_max_concurrent_requests,
            "computed_issues": None if args.skip_computed else args.computed_issues,
        }
    }
    computed: dict[str, Any] | None = None
    activity: dict[str, Any] | None = None
    try:
        if not args.cost_only:
            result.update(main_scenarios(args, work, settings))
        if not args.skip_computed:
            with local_stack(
                work / "computed", jira=jira_scenario(args, args.computed_issues)
            ) as stack:
                computed = computed_cost(stack, work)
                activity = activity_cost(stack, work, computed)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result["computed_fields"] = computed
    result["comments_and_worklogs"] = activity
    targets: dict[str, bool] = {}
    runs: list[dict[str, Any]] = []
    check_equal = True
    if not args.cost_only:
        targets, runs, check_equal = main_targets(args, result)
    if computed and activity:
        targets["a mapping reading no computed field makes none of their requests"] = bool(
            computed["none_makes_no_computed_field_request"]
        )
        targets["a mapping without comment and worklog resources makes none of their requests"] = (
            bool(activity["without_them_no_request"])
        )
        targets["a mapping without the worklog resource makes no worklog request"] = bool(
            activity["comments_only_no_worklog_request"]
        )
        runs += [computed[name] for name in ("none", "lifecycle", "default")]
        runs += [
            activity[name] for name in ("without_delta", "comments", "default", "default_delta")
        ]
    result["targets_met"] = targets
    line = json.dumps(result)
    print(line)
    if args.output:
        args.output.write_text(line + "\n")
    return 0 if all(r["exit_code"] == 0 for r in runs) and check_equal else 1


def main_scenarios(args: argparse.Namespace, work: Path, settings: Any) -> dict[str, Any]:
    """Scenarios 1 to 6."""
    with local_stack(work / "even", jira=jira_scenario(args, args.issues)) as stack:
        matching = len(stack.jira_control.truth(DEFAULT_JQL)["keys"])
        say(f"full sync, catalog at 0 ms ({matching} of {args.issues} issues match)")
        full_0 = run_integration(stack, "full-0ms")
        stack.catalog_client.reset()
        set_catalog_latency(stack, args.latency_ms)
        say(f"full sync, catalog at {args.latency_ms:g} ms")
        full = run_integration(stack, "full")
        say("a day later: delta run")
        change = day_later(stack, matching)
        delta = run_integration(stack, "day-later")
        check = catalog_matches_jira(stack, change.pop("updated_keys"))
        say("floor")
        floor_result = asyncio.run(
            floor(
                stack,
                issue_fields(),
                settings.max_concurrent_requests,
                settings.catalog_max_concurrent_requests,
            )
        )
    naive: dict[str, Any] | None = None
    if not args.skip_naive:
        with local_stack(work / "naive", jira=jira_scenario(args, args.issues)) as stack:
            stack.jira_control.patch_settings(recent_dc=False)  # offsets past 10,000
            set_catalog_latency(stack, args.latency_ms)
            say("baseline (Port's published integration's behaviour)")
            naive = run_integration(stack, "naive", naive=True)
    with local_stack(
        work / "clustered", jira=jira_scenario(args, args.issues, "--id-gap", "10000000")
    ) as stack:
        set_catalog_latency(stack, args.latency_ms)
        say("full sync, ids in two clusters")
        clustered = run_integration(stack, "clustered")
    memory: dict[str, Any] = {}
    if not args.skip_memory:
        for size in (args.memory_small, args.memory_large):
            with local_stack(work / f"memory-{size}", jira=jira_scenario(args, size)) as stack:
                say(f"memory: full and delta at {size} issues")
                memory[str(size)] = {
                    "full": run_integration(stack, f"memory-{size}-full"),
                    "delta": run_integration(stack, f"memory-{size}-delta"),
                }
    return {
        "matching_issues": matching,
        "full_0ms": full_0,
        "full": full,
        "day_later_changes": change,
        "day_later": delta,
        "day_later_catalog_equals_jira": check,
        "floor": floor_result,
        "naive": naive,
        "clustered": clustered,
        "memory": memory,
    }


def main_targets(
    args: argparse.Namespace, result: dict[str, Any]
) -> tuple[dict[str, bool], list[dict[str, Any]], bool]:
    """The ratios (into ``result``) and targets of scenarios 1 to 6, their runs, and
    whether the catalog equalled Jira after the delta run."""
    full_0, full, delta = result["full_0ms"], result["full"], result["day_later"]
    naive, clustered, memory = result["naive"], result["clustered"], result["memory"]
    check, floor_result = result["day_later_catalog_equals_jira"], result["floor"]
    result["scenario"]["matching_issues"] = result.pop("matching_issues")
    ratios: dict[str, Any] = {
        "full_latency_vs_0ms": ratio(full["sync_seconds"], full_0["sync_seconds"]),
        "naive_vs_full": ratio(naive["sync_seconds"], full["sync_seconds"]) if naive else None,
        "day_later_vs_full_time": ratio(delta["sync_seconds"], full["sync_seconds"]),
        "day_later_vs_full_catalog_requests": ratio(
            delta["catalog_requests"], full["catalog_requests"]
        ),
        "clustered_vs_even": ratio(clustered["sync_seconds"], full["sync_seconds"]),
        "full_vs_floor": ratio(full["sync_seconds"], floor_result["seconds"]),
    }
    if memory:
        small, large = (memory[str(s)] for s in (args.memory_small, args.memory_large))
        ratios["memory_growth_full"] = round(
            large["full"]["peak_rss_mb"] / small["full"]["peak_rss_mb"] - 1, 3
        )
        ratios["memory_growth_delta"] = round(
            large["delta"]["peak_rss_mb"] / small["delta"]["peak_rss_mb"] - 1, 3
        )
    result["ratios"] = ratios
    targets = {
        "full_latency_vs_0ms <= 1.5": (ratios["full_latency_vs_0ms"] or 99) <= 1.5,
        "naive_vs_full >= 10": ratios["naive_vs_full"] is None or ratios["naive_vs_full"] >= 10,
        "day_later_vs_full_time <= 0.10": (ratios["day_later_vs_full_time"] or 99) <= 0.10,
        "day_later_vs_full_catalog_requests <= 0.05": (
            ratios["day_later_vs_full_catalog_requests"] or 99
        )
        <= 0.05,
        "day_later catalog equals Jira": bool(check["equal"]),
        "clustered_vs_even <= 1.2": (ratios["clustered_vs_even"] or 99) <= 1.2,
    }
    if memory:
        targets["memory_growth_full <= 0.10"] = ratios["memory_growth_full"] <= 0.10
        targets["memory_growth_delta <= 0.10"] = ratios["memory_growth_delta"] <= 0.10
    runs = [full_0, full, delta, clustered, *((naive and [naive]) or [])]
    return targets, runs, bool(check["equal"])


if __name__ == "__main__":
    sys.exit(main())
