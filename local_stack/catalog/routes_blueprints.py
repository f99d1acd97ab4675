"""Blueprints, plus what ``.port/resources`` may also create: scorecards, pages, actions;
and the migration that ``DELETE .../all-entities`` starts."""

from __future__ import annotations

import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from local_stack.catalog.catalog import Catalog
from local_stack.catalog.entity_service import delete_entities
from local_stack.catalog.errors import PortApiError, invalid_request, not_found, ok
from local_stack.catalog.routing import api_route, path_param, query_flag, read_object
from local_stack.catalog.timeutil import now_us, to_iso
from local_stack.catalog.validation import blueprint_definition_errors

_SECTIONS = ("calculationProperties", "mirrorProperties", "aggregationProperties", "relations")


def _check_definition(catalog: Catalog, raw: dict[str, Any]) -> None:
    problems = blueprint_definition_errors(raw)
    if problems:
        raise invalid_request("; ".join(problems))
    for name, relation in (raw.get("relations") or {}).items():
        target = relation["target"]
        if target != raw["identifier"] and catalog.store.get_blueprint(target) is None:
            raise not_found(f'Relation "{name}" targets blueprint "{target}", which was not found')


def _stamp(raw: dict[str, Any], actor: str, previous: dict[str, Any] | None) -> dict[str, Any]:
    now = to_iso(now_us())
    stamped: dict[str, Any] = {section: {} for section in _SECTIONS}
    stamped.update(raw)
    # Port fills relation defaults; the framework's Blueprint model requires many/required.
    stamped["relations"] = {
        name: {"title": name, "many": False, "required": False, **relation}
        for name, relation in (stamped["relations"] or {}).items()
    }
    stamped["createdAt"] = previous["createdAt"] if previous else now
    stamped["createdBy"] = previous["createdBy"] if previous else actor
    stamped["updatedAt"] = now
    stamped["updatedBy"] = actor
    return stamped


def _save(
    request: Request, catalog: Catalog, raw: dict[str, Any], previous: dict[str, Any] | None
) -> Response:
    """Stamp, store and drop the compiled copy; answers the stored blueprint."""
    identifier = raw["identifier"]
    stamped = _stamp(raw, request.headers.get("user-agent", ""), previous)
    catalog.store.put_blueprint(identifier, stamped)
    catalog.forget(identifier)
    return ok({"blueprint": stamped})


async def list_blueprints(request: Request, catalog: Catalog) -> Response:
    return ok({"blueprints": catalog.store.list_blueprints()})


async def get_blueprint(request: Request, catalog: Catalog) -> Response:
    identifier = path_param(request, "blueprint")
    raw = catalog.store.get_blueprint(identifier)
    if raw is None:
        raise not_found(f'Blueprint with identifier "{identifier}" was not found')
    return ok({"blueprint": raw})


async def create_blueprint(request: Request, catalog: Catalog) -> Response:
    raw = await read_object(request, catalog)
    _check_definition(catalog, raw)
    identifier = raw["identifier"]
    if catalog.store.get_blueprint(identifier) is not None:
        raise PortApiError(
            409, "identifier_taken", f'Blueprint with identifier "{identifier}" already exists'
        )
    return _save(request, catalog, raw, None)


async def patch_blueprint(request: Request, catalog: Catalog) -> Response:
    """Top-level keys given replace the stored ones (``schema`` and ``relations`` whole)."""
    identifier = path_param(request, "blueprint")
    previous = catalog.store.get_blueprint(identifier)
    if previous is None:
        raise not_found(f'Blueprint with identifier "{identifier}" was not found')
    body = await read_object(request, catalog)
    merged = {**previous, **body, "identifier": identifier}
    _check_definition(catalog, merged)
    return _save(request, catalog, merged, previous)


async def delete_blueprint(request: Request, catalog: Catalog) -> Response:
    identifier = path_param(request, "blueprint")
    catalog.require_blueprint(identifier)
    if catalog.store.count_entities(identifier):
        raise PortApiError(
            409, "blueprint_has_entities", f'Blueprint "{identifier}" still has entities'
        )
    for other in catalog.store.list_blueprints():
        targets = {r.get("target") for r in (other.get("relations") or {}).values()}
        if other["identifier"] != identifier and identifier in targets:
            raise PortApiError(
                409,
                "blueprint_is_referenced",
                f'Blueprint "{identifier}" is the target of a relation of "{other["identifier"]}"',
            )
    catalog.store.delete_blueprint(identifier)
    catalog.forget(identifier)
    return ok()


async def delete_all_entities(request: Request, catalog: Catalog) -> Response:
    """Done synchronously; the migration it reports is already COMPLETED."""
    identifier = path_param(request, "blueprint")
    catalog.require_blueprint(identifier)
    delete_entities(catalog, identifier, catalog.store.blueprint_identifiers(identifier), True)
    if query_flag(request, "delete_blueprint"):
        catalog.store.delete_blueprint(identifier)
        catalog.forget(identifier)
    migration_id = f"migration_{uuid.uuid4().hex[:12]}"
    catalog.store.put_doc(
        "migration",
        migration_id,
        {
            "id": migration_id,
            "actor": request.headers.get("user-agent", ""),
            "sourceBlueprint": identifier,
            "mapping": {},
            "status": "COMPLETED",
        },
    )
    return ok({"migrationId": migration_id})


async def get_migration(request: Request, catalog: Catalog) -> Response:
    migration_id = path_param(request, "migration")
    migration = catalog.store.get_doc("migration", migration_id)
    if migration is None:
        raise not_found(f'Migration with id "{migration_id}" was not found')
    return ok({"migration": migration})


def _identifier_of(body: dict[str, Any]) -> str:
    identifier = body.get("identifier")
    if not isinstance(identifier, str) or not identifier:
        raise invalid_request('body must have string "identifier"')
    return identifier


async def create_scorecard(request: Request, catalog: Catalog) -> Response:
    blueprint = path_param(request, "blueprint")
    catalog.require_blueprint(blueprint)
    body = await read_object(request, catalog)
    identifier = _identifier_of(body)
    scorecard = {**body, "blueprint": blueprint}
    catalog.store.put_doc("scorecard", f"{blueprint}/{identifier}", scorecard)
    return ok({"scorecard": scorecard})


async def _create_doc(request: Request, catalog: Catalog, kind: str, label: str) -> Response:
    """Store the body as a new ``kind`` document (409 when its identifier is taken)."""
    body = await read_object(request, catalog)
    identifier = _identifier_of(body)
    if catalog.store.get_doc(kind, identifier) is not None:
        raise PortApiError(409, "identifier_taken", f'{label} "{identifier}" already exists')
    catalog.store.put_doc(kind, identifier, body)
    return ok({kind: body})


async def create_page(request: Request, catalog: Catalog) -> Response:
    return await _create_doc(request, catalog, "page", "Page")


async def delete_page(request: Request, catalog: Catalog) -> Response:
    identifier = path_param(request, "page")
    if not catalog.store.delete_doc("page", identifier):
        raise not_found(f'Page with identifier "{identifier}" was not found')
    return ok()


async def create_action(request: Request, catalog: Catalog) -> Response:
    return await _create_doc(request, catalog, "action", "Action")


_BP = "/v1/blueprints/{blueprint}"

ROUTES: list[Route] = [
    api_route("/v1/blueprints", list_blueprints, ["GET"], fault="blueprint"),
    api_route("/v1/blueprints", create_blueprint, ["POST"], fault="blueprint"),
    api_route(_BP, get_blueprint, ["GET"], fault="blueprint"),
    api_route(_BP, patch_blueprint, ["PATCH"], fault="blueprint"),
    api_route(_BP, delete_blueprint, ["DELETE"], fault="blueprint"),
    api_route(f"{_BP}/all-entities", delete_all_entities, ["DELETE"], fault="delete"),
    api_route(f"{_BP}/scorecards", create_scorecard, ["POST"]),
    api_route("/v1/migrations/{migration}", get_migration, ["GET"]),
    api_route("/v1/pages", create_page, ["POST"]),
    api_route("/v1/pages/{page}", delete_page, ["DELETE"]),
    api_route("/v1/actions", create_action, ["POST"]),
]
