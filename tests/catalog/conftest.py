"""In-process catalog (``httpx.ASGITransport``) with a token and an Ocean-like User-Agent."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette

from local_stack.catalog import create_app
from local_stack.catalog.catalog import Catalog

from .helpers import DEPLOYMENT_BP, OCEAN_UA, SERVICE_BP, USER_BP


@pytest.fixture
def app() -> Starlette:
    return create_app(":memory:")


@pytest.fixture
def catalog(app: Starlette) -> Catalog:
    state: Catalog = app.state.catalog
    return state


@pytest.fixture
async def anon(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """No token: for the helper endpoints, the HTML pages and auth tests."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://catalog.test") as client:
        yield client


@pytest.fixture
async def api(app: Starlette, anon: httpx.AsyncClient) -> AsyncIterator[httpx.AsyncClient]:
    """Authenticated like the framework: Bearer token and its User-Agent."""
    response = await anon.post(
        "/v1/auth/access_token", json={"clientId": "id", "clientSecret": "secret"}
    )
    token = response.json()["accessToken"]
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"Bearer {token}", "User-Agent": OCEAN_UA}
    async with httpx.AsyncClient(
        transport=transport, base_url="http://catalog.test", headers=headers
    ) as client:
        yield client


@pytest.fixture
async def blueprints(api: httpx.AsyncClient) -> None:
    for blueprint in (USER_BP, SERVICE_BP, DEPLOYMENT_BP):
        response = await api.post("/v1/blueprints", json=blueprint)
        assert response.status_code == 200, response.text
