"""Entity API: single and bulk upsert, get/list, search, the reconciliation listing by
datasource, and single/bulk delete."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from local_stack.catalog.catalog import Catalog
from local_stack.catalog.entity_service import (
    UpsertOptions,
    delete_entities,
    upsert_entities,
)
from local_stack.catalog.errors import invalid_request, not_found, ok
from local_stack.catalog.query import QueryError, compile_query, referenced_blueprints
from local_stack.catalog.routing import api_route, path_param, query_flag, read_object
from local_stack.catalog.serialize import entity_json, project
from local_stack.catalog.timeutil import parse_iso_us, to_iso

MAX_BULK_UPSERT = 20
MAX_BULK_DELETE = 100
MAX_DATASOURCE_PAGE = 10_000
MAX_SEARCH_PAGE = 1000  # Port's limit for a blueprint's paginated search


def _options(request: Request) -> UpsertOptions:
    return UpsertOptions(
        upsert=query_flag(request, "upsert"),
        merge=query_flag(request, "merge"),
        create_missing_related_entities=query_flag(request, "create_missing_related_entities"),
        validation_only=query_flag(request, "validation_only"),
    )


def _projection(request: Request) -> tuple[list[str], list[str]]:
    params = request.query_params
    return params.getlist("include"), params.getlist("exclude")


async def upsert_one(request: Request, catalog: Catalog) -> Response:
    blueprint = path_param(request, "blueprint")
    options = _options(request)
    body = await read_object(request, catalog)
    catalog.stats.single_upserts += 1
    [outcome] = upsert_entities(
        catalog, blueprint, [body], options, request.headers.get("user-agent")
    )
    if outcome.error is not None:
        raise outcome.error
    if outcome.record is None:  # validation_only
        return ok({"entity": {**body, "blueprint": blueprint}})
    entity = entity_json(outcome.record, catalog.blueprint(blueprint))
    return ok({"entity": entity}, status=201 if outcome.created else 200)


async def upsert_bulk(request: Request, catalog: Catalog) -> Response:
    """200 when every entity succeeded, 207 with per-index errors otherwise."""
    blueprint = path_param(request, "blueprint")
    options = _options(request)
    body = await read_object(request, catalog)
    items = body.get("entities")
    if not isinstance(items, list) or not items:
        raise invalid_request("body/entities must be a non-empty array")
    if len(items) > MAX_BULK_UPSERT:
        raise invalid_request(f"body/entities must NOT have more than {MAX_BULK_UPSERT} items")
    catalog.stats.bulk_upserts += 1
    outcomes = upsert_entities(
        catalog, blueprint, items, options, request.headers.get("user-agent")
    )
    succeeded = [
        {"identifier": o.identifier, "index": o.index, "created": o.created}
        for o in outcomes
        if o.error is None
    ]
    errors = [
        {
            "identifier": o.identifier,
            "index": o.index,
            "statusCode": o.error.status,
            "error": o.error.error,
            "message": o.error.message,
        }
        for o in outcomes
        if o.error is not None
    ]
    return JSONResponse(
        {"ok": True, "entities": succeeded, "errors": errors},
        status_code=207 if errors else 200,
    )


async def get_one(request: Request, catalog: Catalog) -> Response:
    blueprint = path_param(request, "blueprint")
    identifier = path_param(request, "identifier")
    compiled = catalog.require_blueprint(blueprint)
    record = catalog.store.get_entity(blueprint, identifier)
    if record is None:
        raise not_found(
            f'Entity with identifier "{identifier}" of blueprint "{blueprint}" was not found'
        )
    include, exclude = _projection(request)
    return ok({"entity": project(entity_json(record, compiled), include, exclude)})


async def list_blueprint_entities(request: Request, catalog: Catalog) -> Response:
    blueprint = path_param(request, "blueprint")
    compiled = catalog.require_blueprint(blueprint)
    include, exclude = _projection(request)
    records = catalog.store.list_entities(blueprint)
    return ok({"entities": [project(entity_json(r, compiled), include, exclude) for r in records]})


async def search(request: Request, catalog: Catalog) -> Response:
    query = await read_object(request, catalog)
    try:
        where, params = compile_query(query)
    except QueryError as error:
        raise invalid_request(f"Unsupported search query: {error}") from error
    catalog.stats.searches += 1
    include, exclude = _projection(request)
    entities: list[dict[str, Any]] = []
    for record in catalog.store.search(where, params):
        entity = entity_json(record, catalog.blueprint(record.blueprint))
        entities.append(project(entity, include, exclude))
    matching = sorted(referenced_blueprints(query)) or sorted(
        {e.get("blueprint", "") for e in entities} - {""}
    )
    return ok({"matchingBlueprints": matching, "entities": entities})


async def search_blueprint(request: Request, catalog: Catalog) -> Response:
    """Port's paginated search of one blueprint: body ``{query?, include?, exclude?, limit?,
    from?}``, answer ``{ok, entities, next}`` (``next`` absent on the last page)."""
    blueprint = path_param(request, "blueprint")
    compiled = catalog.require_blueprint(blueprint)
    body = await read_object(request, catalog)
    limit = body.get("limit", 200)
    if not isinstance(limit, int) or not 0 < limit <= MAX_SEARCH_PAGE:
        raise invalid_request(f"body/limit must be between 1 and {MAX_SEARCH_PAGE}")
    query = body.get("query") or {"combinator": "and", "rules": []}
    scoped = {
        "combinator": "and",
        "rules": [{"property": "$blueprint", "operator": "=", "value": blueprint}, query],
    }
    try:
        where, params = compile_query(scoped)
        after_rowid = int(body.get("from") or 0)
    except (QueryError, ValueError) as error:
        raise invalid_request(f"Unsupported search query: {error}") from error
    include = body.get("include") or request.query_params.getlist("include")
    exclude = body.get("exclude") or request.query_params.getlist("exclude")
    if not all(
        isinstance(x, list) and all(isinstance(i, str) for i in x) for x in (include, exclude)
    ):
        raise invalid_request("body/include and body/exclude must be arrays of strings")
    catalog.stats.searches += 1
    rows = catalog.store.search_page(where, params, after_rowid, limit + 1)
    entities = [project(entity_json(r, compiled), include, exclude) for _, r in rows[:limit]]
    answer: dict[str, Any] = {"entities": entities}
    if len(rows) > limit:
        answer["next"] = str(rows[limit - 1][0])
    return ok(answer)


async def datasource_entities(request: Request, catalog: Catalog) -> Response:
    """Reconciliation's listing: the integration's entities (by datasource prefix/suffix)
    last written before ``before``, paged by an opaque ``from`` cursor."""
    body = await read_object(request, catalog)
    prefix, suffix = body.get("datasource_prefix"), body.get("datasource_suffix", "")
    if not isinstance(prefix, str) or not prefix or not isinstance(suffix, str):
        raise invalid_request("body must have string datasource_prefix (and datasource_suffix)")
    limit = body.get("limit", 1000)
    if not isinstance(limit, int) or not 0 < limit <= MAX_DATASOURCE_PAGE:
        raise invalid_request(f"body/limit must be between 1 and {MAX_DATASOURCE_PAGE}")
    before = body.get("before")
    try:
        before_us = parse_iso_us(before) if isinstance(before, str) else None
        after_rowid = int(body.get("from") or 0)
    except ValueError as error:
        raise invalid_request(f"invalid before/from: {error}") from error
    catalog.stats.datasource_pages += 1
    rows = catalog.store.datasource_page(prefix, suffix, before_us, after_rowid, limit + 1)
    page = rows[:limit]
    next_cursor = str(page[-1][0]) if len(rows) > limit else None
    dumps = json.dumps
    parts = [
        '{"identifier":'
        + dumps(record.identifier)
        + ',"blueprint":'
        + dumps(record.blueprint)
        + ',"title":'
        + dumps(record.title)
        + ',"relations":'
        + record.relations_json
        + ',"updatedAt":"'
        + to_iso(record.updated_at)
        + '"}'
        for _, record in page
    ]
    text = '{"ok":true,"entities":[' + ",".join(parts) + '],"next":' + dumps(next_cursor) + "}"
    return Response(text, media_type="application/json")


async def delete_one(request: Request, catalog: Catalog) -> Response:
    blueprint = path_param(request, "blueprint")
    identifier = path_param(request, "identifier")
    catalog.stats.delete_requests += 1
    deleted = delete_entities(
        catalog, blueprint, [identifier], query_flag(request, "delete_dependents")
    )
    if not deleted:
        raise not_found(
            f'Entity with identifier "{identifier}" of blueprint "{blueprint}" was not found'
        )
    return ok()


async def delete_bulk(request: Request, catalog: Catalog) -> Response:
    blueprint = path_param(request, "blueprint")
    body = await read_object(request, catalog)
    identifiers = body.get("entities")
    if (
        not isinstance(identifiers, list)
        or not identifiers
        or not all(isinstance(i, str) for i in identifiers)
    ):
        raise invalid_request("body/entities must be a non-empty array of strings")
    if len(identifiers) > MAX_BULK_DELETE:
        raise invalid_request(f"body/entities must NOT have more than {MAX_BULK_DELETE} items")
    catalog.stats.delete_requests += 1
    deleted = delete_entities(
        catalog, blueprint, identifiers, query_flag(request, "delete_dependents")
    )
    return ok({"deletedEntities": deleted})


_BP = "/v1/blueprints/{blueprint}"

ROUTES: list[Route] = [
    api_route("/v1/entities/search", search, ["POST"], fault="search"),
    api_route(
        "/v1/blueprints/entities/datasource-entities",
        datasource_entities,
        ["POST"],
        fault="datasource",
    ),
    api_route(f"{_BP}/entities/search", search_blueprint, ["POST"], fault="search"),
    api_route(f"{_BP}/entities/bulk", upsert_bulk, ["POST"], fault="upsert"),
    api_route(f"{_BP}/bulk/entities/delete", delete_bulk, ["POST"], fault="delete"),
    api_route(f"{_BP}/entities", upsert_one, ["POST"], fault="upsert"),
    api_route(f"{_BP}/entities", list_blueprint_entities, ["GET"], fault="search"),
    # ``:path``: identifiers may contain "/" (the framework sends it percent-encoded).
    api_route(f"{_BP}/entities/{{identifier:path}}", get_one, ["GET"], fault="search"),
    api_route(f"{_BP}/entities/{{identifier:path}}", delete_one, ["DELETE"], fault="delete"),
]
