"""``python -m local_stack.catalog --port-file F --db PATH``: serve the catalog on 127.0.0.1."""

from __future__ import annotations

import argparse
import logging

from local_stack.catalog.app import create_app
from local_stack.process import serve_on_loopback


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m local_stack.catalog", description=__doc__)
    parser.add_argument("--port-file", help="write the bound port here once listening")
    parser.add_argument("--port", type=int, default=0, help="port to bind (default: any free)")
    parser.add_argument("--db", default=":memory:", help="SQLite file (default :memory:)")
    parser.add_argument("--client-id", help="accepted clientId (default: any non-empty)")
    parser.add_argument("--client-secret", help="accepted clientSecret (default: any non-empty)")
    parser.add_argument(
        "--feature-flag",
        action="append",
        default=[],
        help="organization feature flag to report (repeatable)",
    )
    parser.add_argument(
        "--keep-updated-at-on-noop",
        action="store_true",
        help="an upsert that changes nothing keeps updatedAt (default: it moves, see README)",
    )
    parser.add_argument(
        "--latency-ms",
        type=float,
        default=0.0,
        help="added to every Port API request, as a hosted catalog's round trip (default 0)",
    )
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    if (args.client_id is None) != (args.client_secret is None):
        parser.error("--client-id and --client-secret go together")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    app = create_app(
        args.db,
        client_id=args.client_id,
        client_secret=args.client_secret,
        feature_flags=args.feature_flag,
        touch_unchanged=not args.keep_updated_at_on_noop,
        latency_ms=args.latency_ms,
    )
    serve_on_loopback(app, args.port_file, port=args.port)


if __name__ == "__main__":
    main()
