"""Shared fixtures: a small deterministic emulator driven in-process through httpx."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from local_stack.jira_emulator import EmulatorApp, create_app
from local_stack.jira_emulator.inprocess import emulator_client

from .helpers import bearer, make_config


@pytest.fixture
def make_app() -> Callable[..., EmulatorApp]:
    return lambda **overrides: create_app(make_config(**overrides))


@pytest.fixture
def app(make_app: Callable[..., EmulatorApp]) -> EmulatorApp:
    return make_app()


@pytest.fixture
async def client(app: EmulatorApp) -> AsyncIterator[httpx.AsyncClient]:
    async with emulator_client(app, headers=bearer()) as http:
        yield http
