"""Constants and helpers shared by the emulator tests."""

from __future__ import annotations

import base64
from typing import Any

from local_stack.jira_emulator import Account, DatasetSpec, EmulatorConfig
from tests.support.fixtures import load_fixture

__all__ = ["load_fixture"]

# 2025-06-15T16:53:20Z: data and the server clock are frozen here, so relative dates
# ("-1w") and every generated value are the same in every run.
ANCHOR = 1_750_006_400.0
ANCHOR_MS = int(ANCHOR * 1000)
TOKEN = "test-pat"
PASSWORD = "s3cret"
DAY_MS = 86_400_000


def bearer(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def basic(username: str = "admin", password: str = PASSWORD) -> dict[str, str]:
    raw = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


def make_config(**overrides: Any) -> EmulatorConfig:
    dataset = overrides.pop(
        "dataset", DatasetSpec(projects=6, users=150, issues=600, seed=7, anchor=ANCHOR)
    )
    overrides.setdefault("accounts", [Account("admin", password=PASSWORD, token=TOKEN)])
    overrides.setdefault("clock", lambda: ANCHOR)
    return EmulatorConfig(dataset=dataset, **overrides)
