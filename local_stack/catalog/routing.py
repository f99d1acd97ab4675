"""Route plumbing shared by the API modules: stats, auth, fault injection, body parsing."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from local_stack.catalog.catalog import Catalog
from local_stack.catalog.errors import PortApiError, invalid_request

Handler = Callable[[Request, Catalog], Awaitable[Response]]


def catalog_of(request: Request) -> Catalog:
    catalog: Catalog = request.app.state.catalog
    return catalog


def api_route(
    path: str,
    handler: Handler,
    methods: list[str],
    *,
    auth: bool = True,
    fault: str | None = None,
) -> Route:
    """A Port API route: counted per method + template, token-checked, fault-injectable."""
    label = f"{methods[0]} {path}"

    async def endpoint(request: Request) -> Response:
        catalog = catalog_of(request)
        catalog.stats.requests[label] += 1
        if catalog.latency_seconds > 0:
            await asyncio.sleep(catalog.latency_seconds)
        if auth and not catalog.tokens.valid(request.headers.get("authorization")):
            return JSONResponse(
                {"ok": False, "error": "unauthorized", "message": "Invalid or missing token"},
                status_code=401,
            )
        if fault is not None and (injected := catalog.faults.take(fault)) is not None:
            catalog.stats.faults_injected += 1
            headers = {}
            if injected.retry_after is not None:
                headers["Retry-After"] = f"{injected.retry_after:g}"
            return JSONResponse(
                {"ok": False, "error": "injected_fault", "message": f"injected {fault} failure"},
                status_code=injected.status,
                headers=headers,
            )
        try:
            return await handler(request, catalog)
        except PortApiError as error:
            return error.response()

    return Route(path, endpoint, methods=methods, name=label)


async def read_json(request: Request, catalog: Catalog) -> Any:
    body = await request.body()
    if len(body) > catalog.settings.max_body_bytes:
        raise PortApiError(413, "payload_too_large", "Request body is too large (limit is 1MiB)")
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError as exc:
        raise PortApiError(400, "invalid_json", f"Body is not valid JSON: {exc}") from exc


async def read_object(request: Request, catalog: Catalog) -> dict[str, Any]:
    body = await read_json(request, catalog)
    if not isinstance(body, dict):
        raise invalid_request("body must be object")
    return body


def query_flag(request: Request, name: str, default: bool = False) -> bool:
    """Port's boolean query params: ``true``/``false`` (anything else is a 422)."""
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if raw.lower() in ("true", "1"):
        return True
    if raw.lower() in ("false", "0"):
        return False
    raise invalid_request(f"querystring/{name} must be boolean")


def path_param(request: Request, name: str) -> str:
    return str(request.path_params[name])
