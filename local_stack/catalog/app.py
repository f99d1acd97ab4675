"""``create_app``: the Port-compatible catalog as a Starlette ASGI app."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from local_stack.catalog import (
    html_pages,
    routes_actions,
    routes_auth,
    routes_blueprints,
    routes_entities,
    routes_helpers,
    routes_integration,
)
from local_stack.catalog.catalog import Catalog, Settings
from local_stack.catalog.routing import catalog_of
from local_stack.catalog.store import CatalogStore

logger = logging.getLogger("local_stack.catalog")

BODY_EXCERPT_CHARS = 300


async def _unknown_route(request: Request, exc: Exception) -> Response:
    """Any route or method this catalog does not implement: loud, and a Port-style 404, so a
    gap in the emulation is visible instead of a silent success."""
    if isinstance(exc, HTTPException) and exc.status_code not in (404, 405):
        return JSONResponse(
            {"ok": False, "error": "http_error", "message": str(exc.detail)},
            status_code=exc.status_code,
        )
    body = (await request.body())[:BODY_EXCERPT_CHARS].decode("utf-8", errors="replace")
    route = f"{request.method} {request.url.path}"
    catalog_of(request).stats.unknown_routes[route] += 1
    logger.warning(
        "UNKNOWN ROUTE %s (query=%r, user-agent=%r) body=%r",
        route,
        request.url.query,
        request.headers.get("user-agent"),
        body,
    )
    return JSONResponse(
        {"ok": False, "error": "not_found", "message": f"Route {route} is not implemented"},
        status_code=404,
    )


async def _server_error(request: Request, exc: Exception) -> Response:
    logger.exception("internal error on %s %s", request.method, request.url.path)
    return JSONResponse(
        {"ok": False, "error": "internal_error", "message": f"{type(exc).__name__}: {exc}"},
        status_code=500,
    )


@asynccontextmanager
async def _lifespan(app: Starlette) -> AsyncIterator[None]:
    yield
    # Closing the last connection checkpoints the WAL into the database file and removes it.
    app.state.catalog.store.close()


def create_app(
    db_path: str = ":memory:",
    *,
    client_id: str | None = None,
    client_secret: str | None = None,
    feature_flags: Sequence[str] = (),
    token_ttl_seconds: int = 3600,
    html_page_size: int = 500,
    touch_unchanged: bool = True,
    latency_ms: float = 0.0,
) -> Starlette:
    """Build the app over a SQLite file (or ``:memory:``).

    With ``client_id``/``client_secret`` unset, any non-empty pair gets a token.
    ``touch_unchanged=False`` keeps ``updatedAt`` when an upsert changes nothing.
    ``app.state.catalog`` exposes the store and run state to in-process tests.
    """
    settings = Settings(
        client_id=client_id,
        client_secret=client_secret,
        feature_flags=tuple(feature_flags),
        token_ttl_seconds=token_ttl_seconds,
        html_page_size=html_page_size,
        touch_unchanged=touch_unchanged,
    )
    routes = [
        *routes_auth.ROUTES,
        *routes_integration.ROUTES,
        *routes_entities.ROUTES,  # before blueprints: more specific paths first
        *routes_blueprints.ROUTES,
        *routes_actions.ROUTES,
        *routes_helpers.ROUTES,
        *html_pages.ROUTES,
    ]
    app = Starlette(
        routes=routes,
        lifespan=_lifespan,
        exception_handlers={
            HTTPException: _unknown_route,
            Exception: _server_error,
        },
    )
    app.state.catalog = Catalog(
        store=CatalogStore(db_path), settings=settings, latency_seconds=latency_ms / 1000
    )
    return app
