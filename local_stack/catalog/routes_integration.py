"""The integration record: creation, patches, mapping config, resync state, cursors, and
the log/metric ingest URLs it advertises (which point back at this server)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from local_stack.catalog.catalog import Catalog
from local_stack.catalog.errors import PortApiError, invalid_request, not_found, ok
from local_stack.catalog.routing import api_route, path_param, read_json, read_object
from local_stack.catalog.timeutil import now_us, parse_iso_us, to_iso

KIND = "integration"
# Keys a PATCH cannot change; any other key in the body is stored as given.
_IMMUTABLE = frozenset({"installationId", "identifier", "_id", "_orgId", "createdAt", "createdBy"})


def _load(catalog: Catalog, identifier: str) -> dict[str, Any]:
    record = catalog.store.get_doc(KIND, identifier)
    if record is None:
        raise not_found(f'Integration with identifier "{identifier}" was not found')
    return record


def public_view(request: Request, record: dict[str, Any]) -> dict[str, Any]:
    """The stored record plus the ingest endpoints, built from the URL the client used."""
    base = str(request.base_url).rstrip("/")
    ident = quote(str(record["installationId"]), safe="")
    return {
        **record,
        "logAttributes": {"ingestId": ident, "ingestUrl": f"{base}/ingest/logs/{ident}"},
        "metricAttributes": {"ingestId": ident, "ingestUrl": f"{base}/ingest/metrics/{ident}"},
        "ingestAttributes": {"ingestUrl": f"{base}/ingest/data/{ident}"},
    }


def _save(request: Request, catalog: Catalog, record: dict[str, Any]) -> Response:
    """Stamp the update (by the caller's User-Agent), store, and answer the public view."""
    record["updatedAt"] = to_iso(now_us())
    record["updatedBy"] = request.headers.get("user-agent", "")
    catalog.store.put_doc(KIND, str(record["installationId"]), record)
    return ok({"integration": public_view(request, record)})


async def create(request: Request, catalog: Catalog) -> Response:
    body = await read_object(request, catalog)
    identifier = body.get("installationId")
    if not isinstance(identifier, str) or not identifier:
        raise invalid_request('body must have string "installationId"')
    if catalog.store.get_doc(KIND, identifier) is not None:
        raise PortApiError(
            409, "identifier_taken", f'Integration with identifier "{identifier}" already exists'
        )
    now = to_iso(now_us())
    actor = request.headers.get("user-agent", "")
    record: dict[str, Any] = {
        "installationType": "OnPrem",
        "config": {},
        "resyncState": None,
        **body,
        "identifier": identifier,
        "_id": f"integration_{identifier}",
        "_orgId": "org_local",
        "createdAt": now,
        "createdBy": actor,
    }
    return _save(request, catalog, record)


async def get(request: Request, catalog: Catalog) -> Response:
    record = _load(catalog, path_param(request, "identifier"))
    return ok({"integration": public_view(request, record)})


async def patch(request: Request, catalog: Catalog) -> Response:
    record = _load(catalog, path_param(request, "identifier"))
    body = await read_object(request, catalog)
    record.update({k: v for k, v in body.items() if k not in _IMMUTABLE})
    return _save(request, catalog, record)


async def delete(request: Request, catalog: Catalog) -> Response:
    identifier = path_param(request, "identifier")
    _load(catalog, identifier)
    catalog.store.delete_doc(KIND, identifier)
    return ok()


async def patch_config(request: Request, catalog: Catalog) -> Response:
    record = _load(catalog, path_param(request, "identifier"))
    body = await read_object(request, catalog)
    if not isinstance(body.get("config"), dict):
        raise invalid_request('body must have object "config"')
    record["config"] = body["config"]
    return _save(request, catalog, record)


async def patch_resync_state(request: Request, catalog: Catalog) -> Response:
    record = _load(catalog, path_param(request, "identifier"))
    body = await read_object(request, catalog)
    state = {**(record.get("resyncState") or {}), **body, "updatedAt": to_iso(now_us())}
    record["resyncState"] = state
    return _save(request, catalog, record)


RESYNC_REQUEST_KIND = "resync_request"


async def resync_request(request: Request, catalog: Catalog) -> Response:
    """The latest "resync now" request (POLLING listeners resync when its updatedAt moves);
    set through ``POST /_catalog/integrations/{identifier}/resync-request``."""
    identifier = path_param(request, "identifier")
    _load(catalog, identifier)
    return ok({"request": catalog.store.get_doc(RESYNC_REQUEST_KIND, identifier)})


def request_resync(catalog: Catalog, identifier: str) -> dict[str, Any]:
    _load(catalog, identifier)
    micros = now_us()
    previous = catalog.store.get_doc(RESYNC_REQUEST_KIND, identifier)
    if previous is not None:
        # Strictly later, even within one millisecond: listeners compare the timestamps.
        micros = max(micros, parse_iso_us(previous["updatedAt"]) + 1000)
    body = {"updatedAt": to_iso(micros)}
    catalog.store.put_doc(RESYNC_REQUEST_KIND, identifier, body)
    return body


async def provision_enabled(request: Request, catalog: Catalog) -> Response:
    return ok({"integrations": []})


async def kind_examples(request: Request, catalog: Catalog) -> Response:
    identifier = path_param(request, "identifier")
    _load(catalog, identifier)
    body = await read_object(request, catalog)
    kind = path_param(request, "kind")
    catalog.store.put_doc("kind_examples", f"{identifier}/{kind}", body)
    return ok()


def _cursor_key(request: Request) -> str:
    identifier = path_param(request, "identifier")
    kind = request.query_params.get("kind")
    index = request.query_params.get("index")
    if kind is None or index is None:
        raise invalid_request("querystring must have kind and index")
    return f"{identifier}/{kind}/{index}"


async def get_cursor(request: Request, catalog: Catalog) -> Response:
    _load(catalog, path_param(request, "identifier"))
    return ok({"cursor": catalog.store.get_doc("cursor", _cursor_key(request))})


async def write_cursor(request: Request, catalog: Catalog) -> Response:
    """PUT updates an existing cursor (404 when absent, the framework then POSTs)."""
    _load(catalog, path_param(request, "identifier"))
    key = _cursor_key(request)
    body = await read_object(request, catalog)
    existing = catalog.store.get_doc("cursor", key)
    if request.method == "PUT" and existing is None:
        raise not_found(f'Cursor "{key}" was not found')
    cursor = {**(existing or {}), **body, "updatedAt": to_iso(now_us())}
    catalog.store.put_doc("cursor", key, cursor)
    return ok({"cursor": cursor}, status=200 if existing else 201)


async def ingest(request: Request, catalog: Catalog) -> Response:
    """Log lines, sync metrics, heartbeats, raw data: accepted; logs are kept for tests."""
    body = await read_json(request, catalog)
    if request.url.path.startswith("/ingest/logs/") and isinstance(body, dict):
        catalog.stats.logs_ingested += catalog.logs.extend(body.get("logs") or [])
    return ok()


_ID = "/v1/integration/{identifier}"

ROUTES: list[Route] = [
    api_route("/v1/integration", create, ["POST"], fault="integration"),
    api_route("/v1/integration/provision-enabled", provision_enabled, ["GET"]),
    api_route(_ID, get, ["GET"], fault="integration"),
    api_route(_ID, patch, ["PATCH"], fault="integration"),
    api_route(_ID, delete, ["DELETE"]),
    api_route(f"{_ID}/config", patch_config, ["PATCH"], fault="integration"),
    api_route(f"{_ID}/resync-state", patch_resync_state, ["PATCH"], fault="integration"),
    api_route(f"{_ID}/resync-request", resync_request, ["GET"]),
    api_route(f"{_ID}/kinds/{{kind}}/examples", kind_examples, ["POST"]),
    api_route(f"{_ID}/cursor", get_cursor, ["GET"]),
    api_route(f"{_ID}/cursor", write_cursor, ["PUT"]),
    api_route(f"{_ID}/cursor", write_cursor, ["POST"]),
    api_route("/ingest/logs/{identifier}", ingest, ["POST"]),
    api_route("/ingest/metrics/{identifier}/{rest:path}", ingest, ["POST"]),
    api_route("/ingest/metrics/{identifier}/{rest:path}", ingest, ["PUT"]),
    api_route("/ingest/data/{identifier}/{rest:path}", ingest, ["POST"]),
]
