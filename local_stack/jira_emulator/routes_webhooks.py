"""Jira's webhook registration APIs, deliveries on data changes, and their control routes.

* Data Center 10+: ``GET/POST /rest/jira-webhook/1.0/webhooks``, ``GET/PUT/DELETE
  /rest/jira-webhook/1.0/webhooks/{id}``. Options are read from ``configuration`` only
  (strings: ``FILTERS``, ``EXCLUDE_BODY``, ``SECRET``); top-level ``filters``/``secret``/
  ``excludeBody`` are accepted and silently ignored, as JRASERVER-78733 describes.
* Jira 9.x and older: ``GET/POST /rest/webhooks/1.0/webhook``, ``GET/PUT/DELETE .../{id}``
  (``filters: {"issue-related-events-section": jql}``, ``excludeBody``, ``enabled``, ids
  only in ``self``). Each API answers Jersey's 404 on the other side of version 10.
* Both need an administrator: anonymous callers get 401, accounts named in the
  ``non_admins`` setting 403.
* Every ``/_emulator/mutate`` (and every mutation during paging) is diffed and delivered to
  the matching registrations, signed with ``X-Hub-Signature`` on 10+ when ``SECRET`` is set.

Control (loopback only, see ``control.py``):

* ``GET /_emulator/webhooks``: registrations, secrets included (it is a test oracle)
* ``GET|PATCH /_emulator/webhooks/settings``: ``non_admins``, ``filter_match``,
  ``duplicate``, ``timeout_seconds``, ``paused``
* ``GET /_emulator/webhooks/deliveries[?webhookEvent=&issue=]``, ``POST .../reset``
* ``POST /_emulator/webhooks/send``: one arbitrary delivery, e.g. a forged or altered one:
  ``{"url" | "webhookId", "payload" | "rawBody", "secret"?, "signature"?, "unsigned"?,
  "headers"?}``; signed with the registration's secret by default (10+). Answers the
  delivery ids; results appear under ``deliveries``.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from local_stack.jira_emulator.auth import Caller
from local_stack.jira_emulator.jql import JqlError
from local_stack.jira_emulator.state import EmulatorState
from local_stack.jira_emulator.webhook_events import Deliveries, Registration
from local_stack.jira_emulator.wire import (
    BadRequest,
    Request,
    Response,
    error_collection,
    js,
    json_response,
    unknown_resource,
)

if TYPE_CHECKING:
    from local_stack.jira_emulator.app import EmulatorApp
    from local_stack.jira_emulator.routes_jira import Handler

DC_API = "/rest/jira-webhook/1.0/webhooks"
LEGACY_API = "/rest/webhooks/1.0/webhook"
LEGACY_FILTER = "issue-related-events-section"
NOT_ADMIN = "You are not authorized to manage webhooks: Jira administrator rights are required."
NOT_FOUND = "Webhook not found."


class WebhookApi:
    def __init__(self, state: EmulatorState) -> None:
        self.state = state
        self.deliveries = Deliveries(state)
        self._next_id = 1

    # ---- wiring -------------------------------------------------------------------------

    def routes(self) -> list[tuple[str, str, Handler]]:
        dc, legacy = self._dc, self._legacy
        return [
            ("GET", DC_API, dc(self.list_dc)),
            ("POST", DC_API, dc(self.create_dc)),
            ("GET", f"{DC_API}/{{webhookId}}", dc(self.get_dc)),
            ("PUT", f"{DC_API}/{{webhookId}}", dc(self.update_dc)),
            ("DELETE", f"{DC_API}/{{webhookId}}", dc(self.delete)),
            ("GET", LEGACY_API, legacy(self.list_legacy)),
            ("POST", LEGACY_API, legacy(self.create_legacy)),
            ("GET", f"{LEGACY_API}/{{webhookId}}", legacy(self.get_legacy)),
            ("PUT", f"{LEGACY_API}/{{webhookId}}", legacy(self.update_legacy)),
            ("DELETE", f"{LEGACY_API}/{{webhookId}}", legacy(self.delete)),
        ]

    def control_routes(self) -> dict[tuple[str, str], Callable[[Request], Response]]:
        return {
            ("GET", "/webhooks"): lambda req: json_response(
                [self._control_view(r) for r in self.deliveries.registrations.values()]
            ),
            ("GET", "/webhooks/settings"): lambda req: json_response(
                asdict(self.deliveries.settings)
            ),
            ("PATCH", "/webhooks/settings"): self._patch_settings,
            ("GET", "/webhooks/deliveries"): self._list_deliveries,
            ("POST", "/webhooks/deliveries/reset"): self._reset_deliveries,
            ("POST", "/webhooks/send"): self._send,
        }

    def wrap_mutations(self) -> None:
        """Deliver what every mutation batch changed (the state API is the one place all
        control-API and during-paging mutations go through)."""
        original = self.state.mutate
        deliveries = self.deliveries

        def mutate(ops: list[dict[str, Any]]) -> dict[str, Any]:
            before = deliveries.snapshot()
            try:
                return original(ops)
            finally:
                if before is not None:
                    deliveries.send(deliveries.changes(before))

        self.state.mutate = mutate  # type: ignore[method-assign]

    def _gate(self, handler: Handler, *, dc: bool) -> Handler:
        def gated(req: Request, caller: Caller) -> Response | Awaitable[Response]:
            if (self.state.config.version_numbers[0] >= 10) != dc:
                return unknown_resource(req)
            if caller.user is None:
                return error_collection(401, "You are not authenticated.")
            non_admins = {n.lower() for n in self.deliveries.settings.non_admins}
            if caller.user.name.lower() in non_admins:
                return error_collection(403, NOT_ADMIN)
            self.deliveries.base = req.base
            return handler(req, caller)

        return gated

    def _dc(self, handler: Handler) -> Handler:
        return self._gate(handler, dc=True)

    def _legacy(self, handler: Handler) -> Handler:
        return self._gate(handler, dc=False)

    # ---- Data Center 10+ ----------------------------------------------------------------

    def dc_view(self, r: Registration) -> dict[str, Any]:
        configuration = {"FILTERS": r.jql, "EXCLUDE_BODY": str(r.exclude_body).lower()}
        if r.secret:
            configuration["SECRET"] = r.secret
        return {
            "id": r.id,
            "name": r.name,
            "url": r.url,
            "events": list(r.events),
            "configuration": configuration,
            "active": r.active,
            "createdDate": r.created_ms,
            "updatedDate": r.updated_ms,
        }

    def list_dc(self, req: Request, caller: Caller) -> Response:
        return json_response([self.dc_view(r) for r in self.deliveries.registrations.values()])

    def get_dc(self, req: Request, caller: Caller) -> Response:
        found = self._find(req)
        return self.not_found() if found is None else json_response(self.dc_view(found))

    def create_dc(self, req: Request, caller: Caller) -> Response:
        fields = self._dc_fields(req)
        if isinstance(fields, Response):
            return fields
        return json_response(self.dc_view(self._store(None, fields, caller)), 201)

    def update_dc(self, req: Request, caller: Caller) -> Response:
        found = self._find(req)
        if found is None:
            return self.not_found()
        fields = self._dc_fields(req)
        if isinstance(fields, Response):
            return fields
        return json_response(self.dc_view(self._store(found, fields, caller)))

    def _dc_fields(self, req: Request) -> dict[str, Any] | Response:
        body = req.json_object()
        configuration = body.get("configuration") or {}
        if not isinstance(configuration, dict) or not all(
            isinstance(v, str) for v in configuration.values()
        ):
            return error_collection(400, "configuration must map option names to strings.")
        # Top-level filters/secret/excludeBody are ignored, as DC 10 does (JRASERVER-78733).
        return self._common(
            body,
            jql=configuration.get("FILTERS", ""),
            secret=configuration.get("SECRET") or None,
            exclude_body=configuration.get("EXCLUDE_BODY", "false").lower() == "true",
            active=str(body.get("active", True)).lower() != "false",
        )

    # ---- Jira 9.x and older -------------------------------------------------------------

    def legacy_view(self, r: Registration, base: str) -> dict[str, Any]:
        return {
            "name": r.name,
            "url": r.url,
            "excludeBody": r.exclude_body,
            "filters": {LEGACY_FILTER: r.jql},
            "events": list(r.events),
            "enabled": r.active,
            "self": f"{base}{LEGACY_API}/{r.id}",
            "lastUpdatedUser": r.owner,
            "lastUpdatedDisplayName": r.owner,
            "lastUpdated": r.updated_ms,
        }

    def list_legacy(self, req: Request, caller: Caller) -> Response:
        regs = self.deliveries.registrations.values()
        return json_response([self.legacy_view(r, req.base) for r in regs])

    def get_legacy(self, req: Request, caller: Caller) -> Response:
        found = self._find(req)
        if found is None:
            return self.not_found()
        return json_response(self.legacy_view(found, req.base))

    def create_legacy(self, req: Request, caller: Caller) -> Response:
        fields = self._legacy_fields(req)
        if isinstance(fields, Response):
            return fields
        return json_response(self.legacy_view(self._store(None, fields, caller), req.base), 201)

    def update_legacy(self, req: Request, caller: Caller) -> Response:
        found = self._find(req)
        if found is None:
            return self.not_found()
        fields = self._legacy_fields(req)
        if isinstance(fields, Response):
            return fields
        return json_response(self.legacy_view(self._store(found, fields, caller), req.base))

    def _legacy_fields(self, req: Request) -> dict[str, Any] | Response:
        body = req.json_object()
        filters = body.get("filters") or {}
        if not isinstance(filters, dict):
            return error_collection(400, "filters must be an object.")
        jql = filters.get(LEGACY_FILTER, body.get("jqlFilter", ""))
        return self._common(
            body,
            jql=str(jql or ""),
            secret=None,  # 9.x has no secret: deliveries are never signed
            exclude_body=bool(body.get("excludeBody", False)),
            active=body.get("enabled", True) is not False,
        )

    # ---- shared -------------------------------------------------------------------------

    def _common(
        self,
        body: dict[str, Any],
        *,
        jql: str,
        secret: str | None,
        exclude_body: bool,
        active: bool,
    ) -> dict[str, Any] | Response:
        name, url, events = body.get("name"), body.get("url"), body.get("events", [])
        if not isinstance(name, str) or not name.strip():
            return error_collection(400, "A webhook needs a name.", errors={"name": "required"})
        parts = urlsplit(url) if isinstance(url, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
            return error_collection(
                400, "A webhook needs an http(s) URL.", errors={"url": "invalid"}
            )
        if not isinstance(events, list) or not all(isinstance(e, str) for e in events):
            return error_collection(400, "events must be a list of event names.")
        if jql.strip():
            try:
                self.deliveries.check_jql(jql)
            except JqlError as exc:
                return error_collection(400, *exc.messages)
        return {
            "name": name,
            "url": url,
            "events": list(events),
            "jql": jql,
            "secret": secret,
            "exclude_body": exclude_body,
            "active": active,
        }

    def _store(
        self, existing: Registration | None, fields: dict[str, Any], caller: Caller
    ) -> Registration:
        now = self.state.config.now_ms()
        owner = caller.name
        if existing is None:
            registration = Registration(
                id=self._next_id, owner=owner, created_ms=now, updated_ms=now, **fields
            )
            self._next_id += 1
        else:
            registration = Registration(
                id=existing.id,
                owner=owner,
                created_ms=existing.created_ms,
                updated_ms=now,
                **fields,
            )
        self.deliveries.registrations[registration.id] = registration
        return registration

    def _find(self, req: Request) -> Registration | None:
        ident = req.path_params.get("webhookId", "")
        return self.deliveries.registrations.get(int(ident)) if ident.isdigit() else None

    def delete(self, req: Request, caller: Caller) -> Response:
        found = self._find(req)
        if found is None:
            return self.not_found()
        del self.deliveries.registrations[found.id]
        return Response(204, b"")

    @staticmethod
    def not_found() -> Response:
        return error_collection(404, NOT_FOUND)

    # ---- control ------------------------------------------------------------------------

    def _control_view(self, r: Registration) -> dict[str, Any]:
        api = "dc" if self.state.config.version_numbers[0] >= 10 else "legacy"
        return {**self.dc_view(r), "api": api, "owner": r.owner}

    def _patch_settings(self, req: Request) -> Response:
        self.deliveries.settings.update(req.json_object())
        return json_response(asdict(self.deliveries.settings))

    def _list_deliveries(self, req: Request) -> Response:
        event, issue = req.param("webhookEvent"), req.param("issue")
        records = [
            r
            for r in list(self.deliveries.records)
            if (event is None or r.get("webhookEvent") == event)
            and (issue is None or r.get("issue") == issue)
        ]
        return json_response({"deliveries": records, "pending": self.deliveries.pending()})

    def _reset_deliveries(self, req: Request) -> Response:
        self.deliveries.records.clear()
        return json_response({"reset": True})

    def _send(self, req: Request) -> Response:
        body = req.json_object()
        registration = None
        if "webhookId" in body:
            registration = self.deliveries.registrations.get(int(body["webhookId"]))
            if registration is None:
                raise BadRequest(f"no webhook {body['webhookId']!r}")
        url = body.get("url") or (registration.url if registration else None)
        if not isinstance(url, str):
            raise BadRequest("'url' or 'webhookId' is required")
        if "rawBody" in body:
            raw = str(body["rawBody"]).encode("utf-8")
        elif isinstance(body.get("payload"), dict):
            raw = js(body["payload"]).encode("utf-8")
        else:
            raise BadRequest("'payload' (an object) or 'rawBody' (a string) is required")
        secret = body.get("secret")
        if secret is None and registration is not None:
            secret = self.deliveries.signing_secret(registration)
        headers = body.get("headers") or {}
        if not isinstance(headers, dict):
            raise BadRequest("'headers' must be an object")
        outgoing = self.deliveries.outgoing(
            url,
            raw,
            None if body.get("unsigned") else secret,
            {"webhookId": body.get("webhookId"), "source": "control", **_about(raw)},
            signature=body.get("signature"),
            headers={str(k): str(v) for k, v in headers.items()},
        )
        return json_response({"deliveries": self.deliveries.send([outgoing])})


def _about(raw: bytes) -> dict[str, Any]:
    """The event and issue key a control delivery claims, for filtering the records."""
    try:
        payload = json.loads(raw)
    except ValueError:
        return {}
    if not isinstance(payload, dict):
        return {}
    issue = payload.get("issue")
    about = {"webhookEvent": payload.get("webhookEvent")}
    if isinstance(issue, dict) and issue.get("key"):
        about["issue"] = issue.get("key")
    return about


def install(app: EmulatorApp) -> WebhookApi:
    """Register the routes on ``app`` (Jira pipeline), its control API and the delivery hook."""
    api = WebhookApi(app.state)
    for method, template, handler in api.routes():
        app.add_route(method, template, handler)
    app.control.routes.update(api.control_routes())
    api.wrap_mutations()
    return api


__all__ = ["WebhookApi", "install"]
