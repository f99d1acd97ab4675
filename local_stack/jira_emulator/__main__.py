"""``python -m local_stack.jira_emulator --port-file F [options]``: serve on 127.0.0.1.

Builds the same :class:`EmulatorConfig` a test would pass to ``create_app``, so the
subprocess and the in-process app behave identically.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import time
from datetime import datetime
from pathlib import Path

from local_stack.jira_emulator.app import ConnectionDropped, create_app
from local_stack.jira_emulator.config import (
    BROWSE_USERS_MODES,
    SPRINT_FIELD_MODES,
    Account,
    EmulatorConfig,
)
from local_stack.jira_emulator.data import DatasetSpec
from local_stack.jira_emulator.faults import FaultConfig, RateLimit
from local_stack.process import serve_on_loopback


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m local_stack.jira_emulator", description=__doc__)
    p.add_argument("--port-file", help="write the bound port here once listening")
    p.add_argument("--port", type=int, default=0, help="0: any free port")
    data = p.add_argument_group("data")
    data.add_argument("--projects", type=int, default=5)
    data.add_argument("--users", type=int, default=50)
    data.add_argument("--issues", type=int, default=500)
    data.add_argument("--seed", type=int, default=1)
    data.add_argument("--anchor", help="ISO time the data is generated relative to (default: now)")
    data.add_argument("--archived-projects", type=int, default=None)
    data.add_argument(
        "--id-gap",
        type=int,
        default=0,
        help="issue ids in two clusters: after half the issues, the ids jump by this much",
    )
    server = p.add_argument_group("server")
    server.add_argument(
        "--version", default="10.3.0", help="Jira version, e.g. 9.12.15, 10.1.2, 11.0.0"
    )
    server.add_argument("--title", default="Jira Emulator")
    server.add_argument("--base-url", default=None, help="fixed baseUrl/self links (default: Host)")
    server.add_argument("--time-zone", default="Etc/UTC")
    server.add_argument("--max-results-cap", type=int, default=1000)
    server.add_argument("--deep-offset-limit", type=int, default=10_000)
    server.add_argument(
        "--recent-dc",
        choices=("auto", "on", "off"),
        default="auto",
        help="refuse startAt+maxResults beyond the limit with 500 (auto: version >= 9)",
    )
    server.add_argument("--user-list", choices=("auto", "on", "off"), default="auto")
    server.add_argument("--user-search-cap", choices=("auto", "on", "off"), default="auto")
    server.add_argument("--sprint-field", choices=SPRINT_FIELD_MODES, default="auto")
    auth = p.add_argument_group("auth and permissions")
    auth.add_argument("--username", default="admin")
    auth.add_argument("--password", default="admin")
    auth.add_argument("--token", default="emulator-pat", help="PAT for --username ('' disables)")
    auth.add_argument(
        "--account",
        action="append",
        default=[],
        metavar="USER:PASSWORD[:TOKEN]",
        help="an extra login (repeatable)",
    )
    auth.add_argument(
        "--basic-auth",
        choices=("auto", "on", "off"),
        default="auto",
        help="auto: enabled before Jira 11, which disables Basic by default",
    )
    auth.add_argument("--no-basic-auth", action="store_true", help="same as --basic-auth off")
    auth.add_argument("--captcha-after", type=int, default=3)
    auth.add_argument("--hidden-projects", default="", help="comma-separated project keys")
    auth.add_argument("--no-browse", action="store_true", help="no Browse Projects permission")
    auth.add_argument("--browse-users", choices=BROWSE_USERS_MODES, default="allow")
    faults = p.add_argument_group("faults (also settable via POST /_emulator/faults)")
    faults.add_argument("--latency-ms", type=float, default=0.0)
    faults.add_argument("--jitter-ms", type=float, default=0.0)
    faults.add_argument("--spike-rate", type=float, default=0.0)
    faults.add_argument("--spike-ms", type=float, default=0.0)
    faults.add_argument("--error-rate", type=float, default=0.0)
    faults.add_argument("--error-statuses", default="500,502,503,504")
    faults.add_argument("--drop-rate", type=float, default=0.0)
    faults.add_argument("--fault-seed", type=int, default=0)
    faults.add_argument("--rate-limit-capacity", type=int, default=0, help="0: no rate limit")
    faults.add_argument("--rate-limit-fill-rate", type=float, default=5.0)
    faults.add_argument("--rate-limit-interval", type=float, default=1.0)
    faults.add_argument("--shuffle-ties", action="store_true")
    faults.add_argument("--faults-json", help="a JSON file with FaultConfig knobs (overrides)")
    return p


def _tristate(value: str) -> bool | None:
    return None if value == "auto" else value == "on"


def config_from_args(args: argparse.Namespace) -> EmulatorConfig:
    accounts = [Account(args.username, password=args.password or None, token=args.token or None)]
    for extra in args.account:
        user, _, rest = extra.partition(":")
        password, _, token = rest.partition(":")
        accounts.append(Account(user, password=password or None, token=token or None))
    anchor = (
        datetime.fromisoformat(args.anchor).timestamp() if args.anchor else float(int(time.time()))
    )
    fault_config = FaultConfig(
        latency_ms=args.latency_ms,
        jitter_ms=args.jitter_ms,
        spike_rate=args.spike_rate,
        spike_ms=args.spike_ms,
        error_rate=args.error_rate,
        error_statuses=[int(s) for s in args.error_statuses.split(",") if s.strip()],
        drop_rate=args.drop_rate,
        seed=args.fault_seed,
        shuffle_ties=args.shuffle_ties,
        rate_limit=RateLimit(
            capacity=args.rate_limit_capacity,
            fill_rate=args.rate_limit_fill_rate,
            interval_seconds=args.rate_limit_interval,
        )
        if args.rate_limit_capacity > 0
        else None,
    )
    if args.faults_json:
        fault_config = FaultConfig.from_json(
            json.loads(Path(args.faults_json).read_text()), fault_config
        )
    return EmulatorConfig(
        dataset=DatasetSpec(
            projects=args.projects,
            users=args.users,
            issues=args.issues,
            seed=args.seed,
            anchor=anchor,
            archived_projects=args.archived_projects,
            id_gap=args.id_gap,
        ),
        version=args.version,
        server_title=args.title,
        base_url=args.base_url,
        time_zone=args.time_zone,
        accounts=accounts,
        basic_auth=False if args.no_basic_auth else _tristate(args.basic_auth),
        captcha_after=args.captcha_after,
        max_results_cap=args.max_results_cap,
        deep_offset_limit=args.deep_offset_limit,
        recent_dc=_tristate(args.recent_dc),
        user_list=_tristate(args.user_list),
        user_search_dc10_cap=_tristate(args.user_search_cap),
        sprint_field=args.sprint_field,
        browse_projects=not args.no_browse,
        browse_users=args.browse_users,
        hidden_projects=[k.strip() for k in args.hidden_projects.split(",") if k.strip()],
        faults=fault_config,
    )


class _QuietDrops(logging.Filter):
    """A dropped connection is an injected fault, not an application error to log."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not isinstance(error, ConnectionDropped)


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    started = time.perf_counter()
    app = create_app(config_from_args(args))
    # The dataset lives as long as the process: keep the cyclic GC from rescanning it.
    gc.freeze()
    logging.getLogger("uvicorn.error").addFilter(_QuietDrops())
    print(
        f"jira emulator {args.version}: {args.issues} issues, {args.users} users, "
        f"{args.projects} projects generated in {time.perf_counter() - started:.2f}s",
        flush=True,
    )
    serve_on_loopback(app, args.port_file, args.port)


if __name__ == "__main__":
    main()
