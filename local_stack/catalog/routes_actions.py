"""Action runs as the framework's execution manager polls them: claim-pending (with a
visibility timeout), ack, patch, logs, lookup by external id. Workflow node runs are
answered as "none pending". Runs are enqueued by tests through ``/_catalog/action-runs``."""

from __future__ import annotations

import time
import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from local_stack.catalog.catalog import Catalog
from local_stack.catalog.errors import PortApiError, invalid_request, not_found, ok
from local_stack.catalog.routing import api_route, path_param, read_object
from local_stack.catalog.timeutil import now_us, to_iso

KIND = "action_run"
_PATCHABLE = frozenset({"status", "statusLabel", "link", "externalRunId", "summary"})
_TERMINAL = frozenset({"SUCCESS", "FAILURE"})


def public_run(run: dict[str, Any]) -> dict[str, Any]:
    """The shape ``port_ocean.core.models.ActionRun`` parses (extra keys are ignored)."""
    return {k: v for k, v in run.items() if k not in ("claimedUntilMs", "logs")}


def enqueue_run(
    catalog: Catalog,
    installation_id: str,
    action: str,
    action_type: str,
    properties: dict[str, Any],
) -> dict[str, Any]:
    run_id = f"r_{uuid.uuid4().hex[:16]}"
    run: dict[str, Any] = {
        "id": run_id,
        "status": "IN_PROGRESS",
        "action": {"identifier": action},
        "payload": {
            "type": "INTEGRATION_ACTION",
            "installationId": installation_id,
            "integrationActionType": action_type,
            "integrationActionExecutionProperties": properties,
        },
        "installationId": installation_id,
        "acknowledged": False,
        "claimedUntilMs": None,
        "createdAt": to_iso(now_us()),
        "logs": [],
    }
    catalog.store.put_doc(KIND, run_id, run)
    return run


def _load(catalog: Catalog, run_id: str) -> dict[str, Any]:
    run = catalog.store.get_doc(KIND, run_id)
    if run is None:
        raise not_found(f'Action run with id "{run_id}" was not found')
    return run


async def claim_pending(request: Request, catalog: Catalog) -> Response:
    body = await read_object(request, catalog)
    installation_id = body.get("installationId")
    limit = body.get("limit", 100)
    visibility_ms = body.get("visibilityTimeoutMs", 60_000)
    if not isinstance(installation_id, str) or not isinstance(limit, int):
        raise invalid_request("body must have installationId and an integer limit")
    excluded = set(body.get("exclude") or [])
    now_ms = int(time.time() * 1000)
    claimed: list[dict[str, Any]] = []
    with catalog.store.transaction():
        for run in catalog.store.list_docs(KIND):
            if len(claimed) >= limit:
                break
            if (
                run["installationId"] != installation_id
                or run["status"] != "IN_PROGRESS"
                or run["acknowledged"]
                or run["action"]["identifier"] in excluded
                or (run["claimedUntilMs"] or 0) > now_ms
            ):
                continue
            run["claimedUntilMs"] = now_ms + int(visibility_ms)
            catalog.store.put_doc(KIND, run["id"], run)
            claimed.append(public_run(run))
    return ok({"runs": claimed})


async def acknowledge(request: Request, catalog: Catalog) -> Response:
    body = await read_object(request, catalog)
    run = _load(catalog, str(body.get("runId")))
    if run["acknowledged"]:
        raise PortApiError(409, "run_already_acknowledged", f'Run "{run["id"]}" was acknowledged')
    run["acknowledged"] = True
    catalog.store.put_doc(KIND, run["id"], run)
    return ok()


async def patch_run(request: Request, catalog: Catalog) -> Response:
    run = _load(catalog, path_param(request, "run"))
    body = await read_object(request, catalog)
    if run["status"] in _TERMINAL and "status" in body:
        raise PortApiError(422, "run_already_finished", f'Run "{run["id"]}" already finished')
    unknown = set(body) - _PATCHABLE
    if unknown:
        raise invalid_request(f"body must NOT have additional properties {sorted(unknown)}")
    run.update(body)
    run["updatedAt"] = to_iso(now_us())
    catalog.store.put_doc(KIND, run["id"], run)
    return ok({"run": public_run(run)})


async def post_log(request: Request, catalog: Catalog) -> Response:
    run = _load(catalog, path_param(request, "run"))
    body = await read_object(request, catalog)
    if not isinstance(body.get("message"), str):
        raise invalid_request('body must have string "message"')
    entry = {**body, "createdAt": to_iso(now_us())}
    run["logs"].append(entry)
    catalog.store.put_doc(KIND, run["id"], run)
    return ok({"runLog": entry})


async def find_runs(request: Request, catalog: Catalog) -> Response:
    external_id = request.query_params.get("external_run_id")
    runs = [
        public_run(run)
        for run in catalog.store.list_docs(KIND)
        if external_id is None or run.get("externalRunId") == external_id
    ]
    return ok({"runs": runs})


async def claim_workflow_nodes(request: Request, catalog: Catalog) -> Response:
    await read_object(request, catalog)
    return ok({"nodeRuns": []})


ROUTES: list[Route] = [
    api_route("/v1/actions/runs/claim-pending", claim_pending, ["POST"]),
    api_route("/v1/actions/runs/ack", acknowledge, ["PATCH"]),
    api_route("/v1/actions/runs", find_runs, ["GET"]),
    api_route("/v1/actions/runs/{run}", patch_run, ["PATCH"]),
    api_route("/v1/actions/runs/{run}/logs", post_log, ["POST"]),
    api_route("/v1/workflows/runs/claim-pending", claim_workflow_nodes, ["POST"]),
]
