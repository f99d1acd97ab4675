"""``python -m jira_server.check``: the connection check without Ocean, for CI and set-up.

Reads the same settings as the integration, from the same environment variables
(``OCEAN__INTEGRATION__CONFIG__JIRA_SERVER_HOST``, ``..._TOKEN`` or ``..._USERNAME`` and
``..._PASSWORD``, ``..._CA_BUNDLE``, ...). Exit codes: 0 passed, 1 failed, 2 bad settings.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import sys
from collections.abc import Mapping
from typing import Any

from jira_server.client.rest_client import JiraServerClient
from jira_server.connection_check import CheckReport, run_connection_check
from jira_server.errors import SettingsError
from jira_server.settings import ENV_PREFIX, load_settings

EXIT_OK, EXIT_FAILED, EXIT_BAD_SETTINGS = 0, 1, 2


def settings_from_env(environ: Mapping[str, str]) -> dict[str, Any]:
    raw: dict[str, Any] = {}
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX):
            continue
        key = name[len(ENV_PREFIX) :].lower()
        if key == "custom_headers" and value.strip():
            try:
                raw[key] = json.loads(value)
            except json.JSONDecodeError:
                raw[key] = value  # load_settings names the setting in its error
        else:
            raw[key] = value
    return raw


async def check(environ: Mapping[str, str]) -> tuple[int, CheckReport | None]:
    try:
        settings = load_settings(settings_from_env(environ), environ=environ)
    except SettingsError as exc:
        print(f"Invalid configuration: {exc}", file=sys.stderr)
        return EXIT_BAD_SETTINGS, None
    # A check should answer in seconds: one retry is enough to ride out a blip.
    client = JiraServerClient(
        dataclasses.replace(settings, max_retries=min(settings.max_retries, 1))
    )
    try:
        report = await run_connection_check(client)
    finally:
        await client.aclose()
    for line in report.lines():
        print(line)
    return (EXIT_OK if report.ok else EXIT_FAILED), report


def main() -> None:
    code, _ = asyncio.run(check(os.environ))
    sys.exit(code)


if __name__ == "__main__":
    main()
