"""``python -m local_stack.jira_emulator.bench``: how fast is the emulator itself?

Reports generation time, then per-page latency of keyset pages (``id > N ORDER BY id``,
1000 issues) measured in-process at the ASGI boundary and, with ``--socket``, end to end
through uvicorn on 127.0.0.1 (including the client's read of the body).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from collections.abc import MutableMapping
from typing import Any

import httpx

from local_stack.jira_emulator import DatasetSpec, EmulatorConfig, create_app
from local_stack.jira_emulator.app import EmulatorApp

TYPICAL_FIELDS = [
    "summary",
    "status",
    "issuetype",
    "priority",
    "labels",
    "components",
    "created",
    "updated",
    "resolutiondate",
    "project",
    "assignee",
    "reporter",
    "parent",
    "subtasks",
    "fixVersions",
]
TOKEN = "emulator-pat"


async def _asgi_post(app: EmulatorApp, body: dict[str, Any]) -> bytes:
    payload = json.dumps(body).encode()
    chunks: list[bytes] = []
    delivered = False

    async def receive() -> MutableMapping[str, Any]:
        nonlocal delivered
        if delivered:
            return {"type": "http.disconnect"}
        delivered = True
        return {"type": "http.request", "body": payload, "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/rest/api/2/search",
        "query_string": b"",
        "headers": [(b"host", b"bench.test"), (b"authorization", f"Bearer {TOKEN}".encode())],
        "scheme": "http",
        "client": ("127.0.0.1", 1),
        "server": ("bench.test", 80),
    }
    await app(scope, receive, send)
    return b"".join(chunks)


def _report(label: str, times: list[float], sizes: list[float]) -> None:
    ms = sorted(t * 1000 for t in times)
    print(
        f"{label:<28} median {statistics.median(ms):7.1f} ms  p90 {ms[int(len(ms) * 0.9) - 1]:7.1f} ms"
        f"  {statistics.mean(sizes):8.0f} bytes/issue"
    )


async def in_process(app: EmulatorApp, pages: int) -> None:
    for label, fields in (("typical 15 fields", TYPICAL_FIELDS), ("*all", ["*all"])):
        after, times, sizes = 0, [], []
        for _ in range(pages):
            started = time.perf_counter()
            raw = await _asgi_post(
                app, {"jql": f"id > {after} ORDER BY id ASC", "maxResults": 1000, "fields": fields}
            )
            times.append(time.perf_counter() - started)
            issues = json.loads(raw)["issues"]
            if not issues:
                break
            sizes.append(len(raw) / len(issues))
            after = int(issues[-1]["id"])
        _report(f"in-process {label}", times, sizes)


def over_socket(url: str, pages: int, full_scan: bool) -> None:
    with httpx.Client(
        base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=120
    ) as http:
        for label, fields in (("typical 15 fields", TYPICAL_FIELDS), ("*all", ["*all"])):
            after, times, sizes = 0, [], []
            for _ in range(pages):
                started = time.perf_counter()
                response = http.post(
                    "/rest/api/2/search",
                    json={
                        "jql": f"id > {after} ORDER BY id ASC",
                        "maxResults": 1000,
                        "fields": fields,
                    },
                )
                times.append(time.perf_counter() - started)
                issues = response.json()["issues"]
                if not issues:
                    break
                sizes.append(len(response.content) / len(issues))
                after = int(issues[-1]["id"])
            _report(f"socket {label}", times, sizes)
        if full_scan:
            started, after, count, size = time.perf_counter(), 0, 0, 0
            while True:
                response = http.post(
                    "/rest/api/2/search",
                    json={
                        "jql": f"id > {after} ORDER BY id ASC",
                        "maxResults": 1000,
                        "fields": ["*all"],
                    },
                )
                issues = response.json()["issues"]
                if not issues:
                    break
                count, size, after = (
                    count + len(issues),
                    size + len(response.content),
                    int(issues[-1]["id"]),
                )
            print(
                f"socket full *all scan: {count} issues, {size / 1e6:.0f} MB in "
                f"{time.perf_counter() - started:.1f} s (client JSON parsing included)"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--issues", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--projects", type=int, default=20)
    parser.add_argument("--pages", type=int, default=10)
    parser.add_argument("--socket", action="store_true", help="also measure through uvicorn")
    parser.add_argument("--full-scan", action="store_true", help="with --socket: page all *all")
    args = parser.parse_args()
    spec = DatasetSpec(projects=args.projects, users=args.users, issues=args.issues)
    started = time.perf_counter()
    app = create_app(EmulatorConfig(dataset=spec))
    print(f"generated {args.issues} issues in {time.perf_counter() - started:.2f} s")
    asyncio.run(in_process(app, args.pages))
    if args.socket:
        from local_stack.process import start_server

        argv = ["--issues", str(args.issues), "--users", str(args.users)]
        argv += ["--projects", str(args.projects), "--token", TOKEN]
        with start_server("jira-emulator-bench", "local_stack.jira_emulator", argv) as server:
            over_socket(server.url, args.pages, args.full_scan)


if __name__ == "__main__":
    main()
