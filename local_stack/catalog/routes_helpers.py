"""``/_catalog/*``: JSON helpers for tests and tools (no auth, not counted in stats)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from local_stack.catalog.catalog import Catalog
from local_stack.catalog.errors import PortApiError, invalid_request
from local_stack.catalog.routes_actions import KIND as RUN_KIND
from local_stack.catalog.routes_actions import enqueue_run
from local_stack.catalog.routes_integration import request_resync
from local_stack.catalog.routing import catalog_of, read_object
from local_stack.catalog.serialize import entity_json
from local_stack.catalog.state import FAULT_OPERATIONS


async def entities(request: Request, catalog: Catalog) -> Response:
    blueprint = request.query_params.get("blueprint")
    if not blueprint:
        raise invalid_request("querystring must have blueprint")
    compiled = catalog.blueprint(blueprint)
    try:
        limit = int(request.query_params["limit"]) if "limit" in request.query_params else None
        offset = int(request.query_params.get("offset", "0"))
    except ValueError as error:
        raise invalid_request("limit and offset must be integers") from error
    items = []
    for record in catalog.store.list_entities(blueprint, limit=limit, offset=offset):
        item = entity_json(record, compiled)
        item["datasource"] = record.datasource
        items.append(item)
    return JSONResponse(
        {
            "blueprint": blueprint,
            "total": catalog.store.count_entities(blueprint),
            "count": len(items),
            "entities": items,
        }
    )


async def blueprints(request: Request, catalog: Catalog) -> Response:
    counts = catalog.store.counts_by_blueprint()
    return JSONResponse(
        {
            "blueprints": [
                {**raw, "entityCount": counts.get(raw["identifier"], 0)}
                for raw in catalog.store.list_blueprints()
            ]
        }
    )


async def stats(request: Request, catalog: Catalog) -> Response:
    body = catalog.stats.as_json()
    body["entityCounts"] = catalog.store.counts_by_blueprint()
    body["pendingFaults"] = catalog.faults.pending()
    return JSONResponse(body)


async def reset(request: Request, catalog: Catalog) -> Response:
    catalog.reset()
    return JSONResponse({"ok": True})


async def fail(request: Request, catalog: Catalog) -> Response:
    """``{"operation": "upsert", "count": 2, "status": 503, "retryAfter": 1}``; with
    ``"rate": 0.1`` (and an optional ``"seed"``) a tenth of the operation's requests fail,
    ``count`` times at most."""
    if request.method == "DELETE":
        catalog.faults.clear()
        return JSONResponse({"ok": True, "pending": []})
    if request.method == "POST":
        body = await read_object(request, catalog)
        operation = body.get("operation", "any")
        count = body.get("count", 1)
        status = body.get("status", 500)
        retry_after = body.get("retryAfter")
        rate = body.get("rate")
        seed = body.get("seed", 0)
        if rate is not None and (not isinstance(rate, int | float) or not 0 < rate <= 1):
            raise invalid_request("rate must be a share between 0 and 1")
        if not isinstance(seed, int):
            raise invalid_request("seed must be an integer")
        if operation not in FAULT_OPERATIONS:
            raise invalid_request(f"operation must be one of {sorted(FAULT_OPERATIONS)}")
        if not isinstance(count, int) or count < 1 or not isinstance(status, int):
            raise invalid_request("count must be a positive integer, status an integer")
        if retry_after is not None and not isinstance(retry_after, int | float):
            raise invalid_request("retryAfter must be a number of seconds")
        catalog.faults.add(operation, count, status, retry_after, rate, seed)
    return JSONResponse({"ok": True, "pending": catalog.faults.pending()})


async def logs(request: Request, catalog: Catalog) -> Response:
    level = request.query_params.get("level")
    records = [r for r in catalog.logs.records if level is None or r.get("level") == level]
    return JSONResponse({"count": len(records), "logs": records})


async def integrations(request: Request, catalog: Catalog) -> Response:
    return JSONResponse({"integrations": catalog.store.list_docs("integration")})


async def resync_request(request: Request, catalog: Catalog) -> Response:
    """What Port's "Resync" button does: a new resync request for a POLLING listener."""
    identifier = request.path_params["identifier"]
    return JSONResponse({"ok": True, "request": request_resync(catalog, identifier)})


async def action_runs(request: Request, catalog: Catalog) -> Response:
    """GET lists runs (with logs); POST enqueues ``{"action", "integrationActionType",
    "properties", "installationId"?}`` (default: the only integration)."""
    if request.method == "GET":
        return JSONResponse({"runs": catalog.store.list_docs(RUN_KIND)})
    body = await read_object(request, catalog)
    installation_id = body.get("installationId")
    if installation_id is None:
        known = [d["installationId"] for d in catalog.store.list_docs("integration")]
        if len(known) != 1:
            raise invalid_request(
                "installationId is required unless exactly one integration exists"
            )
        installation_id = known[0]
    action, action_type = body.get("action"), body.get("integrationActionType")
    properties = body.get("properties", {})
    if not all(isinstance(v, str) for v in (installation_id, action, action_type)):
        raise invalid_request("action and integrationActionType must be strings")
    if not isinstance(properties, dict):
        raise invalid_request("properties must be an object")
    run = enqueue_run(catalog, str(installation_id), str(action), str(action_type), properties)
    return JSONResponse({"ok": True, "run": run}, status_code=201)


async def kind_examples(request: Request, catalog: Catalog) -> Response:
    """The raw data examples an integration last sent for a kind (what Port's mapping editor
    shows): ``?integration=<identifier>&kind=<kind>``."""
    key = f"{request.query_params.get('integration')}/{request.query_params.get('kind')}"
    return JSONResponse({"examples": catalog.store.get_doc("kind_examples", key)})


async def latency(request: Request, catalog: Catalog) -> Response:
    """``{"ms": 50}``: every Port API request waits that long (a hosted catalog's RTT)."""
    if request.method == "POST":
        body = await read_object(request, catalog)
        ms = body.get("ms")
        if not isinstance(ms, int | float) or ms < 0:
            raise invalid_request("ms must be a non-negative number")
        catalog.latency_seconds = float(ms) / 1000
    return JSONResponse({"ok": True, "ms": catalog.latency_seconds * 1000})


async def health(request: Request, catalog: Catalog) -> Response:
    return JSONResponse({"ok": True})


def _plain(handler: Callable[[Request, Catalog], Awaitable[Response]]) -> Any:
    async def endpoint(request: Request) -> Response:
        try:
            return await handler(request, catalog_of(request))
        except PortApiError as error:
            return error.response()

    return endpoint


ROUTES: list[Route] = [
    Route("/_catalog/entities", _plain(entities), methods=["GET"]),
    Route("/_catalog/blueprints", _plain(blueprints), methods=["GET"]),
    Route("/_catalog/stats", _plain(stats), methods=["GET"]),
    Route("/_catalog/reset", _plain(reset), methods=["POST"]),
    Route("/_catalog/fail", _plain(fail), methods=["GET", "POST", "DELETE"]),
    Route("/_catalog/logs", _plain(logs), methods=["GET"]),
    Route("/_catalog/integrations", _plain(integrations), methods=["GET"]),
    Route(
        "/_catalog/integrations/{identifier}/resync-request",
        _plain(resync_request),
        methods=["POST"],
    ),
    Route("/_catalog/action-runs", _plain(action_runs), methods=["GET", "POST"]),
    Route("/_catalog/latency", _plain(latency), methods=["GET", "POST"]),
    Route("/_catalog/kind-examples", _plain(kind_examples), methods=["GET"]),
    Route("/_catalog/health", _plain(health), methods=["GET"]),
]
