"""The documented check command exits with the check's own code (0 passed, 1 failed, 2 bad
settings); `make check` cannot (GNU make reports 2 for any failing recipe) and says so."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from local_stack.catalog.testing import free_loopback_port

ROOT = Path(__file__).resolve().parents[2]
PREFIX = "OCEAN__INTEGRATION__CONFIG__"


def run(command: list[str], **settings: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(PREFIX)}
    env.update({f"{PREFIX}{k}": v for k, v in settings.items()})
    return subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
    )


def unreachable() -> dict[str, str]:
    return {"JIRA_SERVER_HOST": f"http://127.0.0.1:{free_loopback_port()}", "TOKEN": "t-1"}


def test_scripts_check_exits_2_on_bad_settings() -> None:
    result = run([str(ROOT / "scripts/check")], TOKEN="t-1")
    assert result.returncode == 2, result.stderr[-2000:]
    assert "jiraServerHost (OCEAN__INTEGRATION__CONFIG__JIRA_SERVER_HOST) is required" in (
        result.stderr
    )


def test_scripts_check_exits_1_on_a_failed_check() -> None:
    result = run([str(ROOT / "scripts/check")], **unreachable())
    assert result.returncode == 1, result.stdout[-2000:] + result.stderr[-2000:]
    assert "Cannot reach Jira at http://127.0.0.1:" in result.stdout + result.stderr


def test_make_check_names_the_checks_code_it_cannot_pass_on() -> None:
    result = run(["make", "--no-print-directory", "check"], **unreachable())
    assert result.returncode == 2  # GNU make's own code for a failed recipe
    assert "the check exited 1" in result.stderr and "scripts/check" in result.stderr
