"""Real Jira response bodies (held out in ``../shared/jira-fixtures``, beside the project
root, as CI lays the clone out). Outside CI a missing folder skips; in CI (``CI=true``) it is
a failure, so the checks against real bodies can never silently stop running."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]
FIXTURES = PROJECT_ROOT.parent / "shared" / "jira-fixtures"


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def fixture_path(name: str) -> Path:
    path = FIXTURES / name
    if not path.exists():
        message = f"real Jira fixture {name} not found at {path}"
        if in_ci():
            pytest.fail(f"{message}: CI must provide ../shared/jira-fixtures", pytrace=False)
        pytest.skip(message)
    return path


def load_fixture(name: str) -> Any:
    return json.loads(fixture_path(name).read_text())
