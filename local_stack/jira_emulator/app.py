"""The ASGI application: routing, the fault pipeline and response writing.

Per Jira request: latency -> injected 5xx -> authentication -> rate limit -> handler ->
(maybe) a connection dropped half-way through the body -> deferred mutations. Control
routes skip all of it.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from local_stack.jira_emulator.auth import ANONYMOUS, Caller
from local_stack.jira_emulator.config import EmulatorConfig
from local_stack.jira_emulator.control import PREFIX, ControlApi
from local_stack.jira_emulator.jql import JqlError
from local_stack.jira_emulator.routes_activity import install as install_activity
from local_stack.jira_emulator.routes_jira import Handler, JiraApi, Route, route
from local_stack.jira_emulator.routes_software import install as install_software
from local_stack.jira_emulator.routes_webhooks import install as install_webhooks
from local_stack.jira_emulator.routes_writes import install as install_writes
from local_stack.jira_emulator.state import EmulatorState
from local_stack.jira_emulator.store import MutationError
from local_stack.jira_emulator.wire import (
    BadRequest,
    Request,
    Response,
    Scope,
    error_collection,
    rest_error,
    unknown_resource,
)

Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
STANDARD_HEADERS = {
    "Cache-Control": "no-cache, no-store, no-transform",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "SAMEORIGIN",
}
PROXY_PAGES = {
    502: "502 Bad Gateway",
    503: "503 Service Temporarily Unavailable",
    504: "504 Gateway Time-out",
}


class ConnectionDropped(ConnectionError):
    """Raised after a partial body: the server closes the connection mid-response."""


class EmulatorApp:
    def __init__(self, config: EmulatorConfig | None = None) -> None:
        self.state = EmulatorState(config or EmulatorConfig())
        self.control = ControlApi(self.state)
        self.api = JiraApi(self.state)
        self.routes: list[Route] = self.api.routes()
        self._request_ids = 0
        self.software = install_software(self)  # fields, agile, versions, components
        self.webhooks = install_webhooks(self)  # registration APIs and deliveries
        self.writes = install_writes(self)  # create issue, comments, transitions
        self.activity = install_activity(self)  # comment pages, worklogs and their feeds

    def add_route(self, method: str, template: str, handler: Handler) -> None:
        """Extension point (stage 2): e.g. ``/rest/agile/1.0/board``; faults, auth, rate
        limits and stats apply to every route under ``/rest/``."""
        self.routes.append(route(method, template, handler))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        body = bytearray()
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        req = Request.from_scope(scope, bytes(body), self.state.config.base_url)
        if req.path == PREFIX or req.path.startswith(PREFIX + "/"):
            await self._write(send, self.control.handle(req))
        elif req.path.startswith("/rest/"):
            await self._jira(req, send)
        else:
            page = b"<html><body><h1>Jira emulator</h1></body></html>"
            await self._write(send, Response(200, page, content_type="text/html;charset=UTF-8"))

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return

    def _match(self, req: Request) -> tuple[Route | None, bool]:
        """(route, method_allowed); /rest/api/latest is an alias of /rest/api/2."""
        path = req.path.replace("/rest/api/latest/", "/rest/api/2/", 1).rstrip("/") or "/"
        path_matched = False
        for candidate in self.routes:
            match = candidate.pattern.match(path)
            if match is None:
                continue
            path_matched = True
            if candidate.method == req.method:
                req.path_params = match.groupdict()
                return candidate, True
        return None, not path_matched

    async def _jira(self, req: Request, send: Send) -> None:
        state = self.state
        faults, stats = state.faults, state.stats
        matched, method_ok = self._match(req)
        label = matched.name if matched else f"{req.method} (unmatched)"
        status, sent = 500, 0
        stats.begin()
        try:
            faulty = faults.applies(req.path)
            if faulty:
                delay = faults.delay_seconds()
                if delay > 0:
                    await asyncio.sleep(delay)
            injected = faults.injected_status() if faulty else None
            username = ANONYMOUS
            if injected is not None:
                stats.injected_errors += 1
                response = self._injected(injected)
            else:
                outcome = state.auth.authenticate(req.headers.get("authorization"), req.base)
                if isinstance(outcome, Response):
                    response = outcome
                else:
                    username = outcome.name
                    response = await self._dispatch(req, outcome, matched, method_ok)
                    if outcome.scheme == "basic":
                        response.headers.setdefault("X-Seraph-LoginReason", "OK")
            self._request_ids += 1
            minutes = int(time.time() // 60 % 1440)
            response.headers.setdefault("X-AREQUESTID", f"{minutes}x{self._request_ids}x1")
            response.headers.setdefault("X-AUSERNAME", username)
            for name, value in STANDARD_HEADERS.items():
                response.headers.setdefault(name, value)
            status = response.status
            drop = faulty and faults.should_drop()
            if drop:
                stats.dropped += 1
            sent = await self._write(send, response, drop=drop)
        finally:
            stats.end(label, status, sent)
            if req.after:
                # Also after a dropped response: the scan's next page sees the change.
                self._mutate_after(req.after)

    def _mutate_after(self, ops: list[dict[str, Any]]) -> None:
        try:
            self.state.mutate(ops)
        except (MutationError, JqlError, ValueError, TypeError) as exc:
            self.state.stats.mutation_errors.append(str(exc))

    async def _dispatch(
        self, req: Request, caller: Caller, matched: Route | None, method_ok: bool
    ) -> Response:
        allowed, limit_headers = self.state.faults.rate_limit(caller.name, req.path)
        if not allowed:
            response = rest_error(429, "Rate limit exceeded: too many requests for this user.")
        elif matched is None:
            response = unknown_resource(req) if method_ok else rest_error(405, "Method Not Allowed")
        else:
            try:
                result = matched.handler(req, caller)
                response = await result if inspect.isawaitable(result) else result
            except BadRequest as exc:
                response = error_collection(400, str(exc))
        response.headers.update(limit_headers)
        return response

    @staticmethod
    def _injected(status: int) -> Response:
        if status in PROXY_PAGES:
            title = PROXY_PAGES[status]
            page = f"<html><head><title>{title}</title></head><body><h1>{title}</h1></body></html>"
            return Response(status, page.encode(), content_type="text/html")
        return error_collection(status, "Internal server error")

    @staticmethod
    async def _write(send: Send, response: Response, *, drop: bool = False) -> int:
        body = response.body
        headers = [
            (b"content-type", response.content_type.encode()),
            (b"content-length", str(len(body)).encode()),
            *(
                (k.lower().encode("latin-1"), v.encode("latin-1"))
                for k, v in response.headers.items()
            ),
        ]
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        if drop:
            part = body[: len(body) // 2]
            await send({"type": "http.response.body", "body": part, "more_body": True})
            raise ConnectionDropped(
                f"emulator fault: connection dropped after {len(part)} of {len(body)} body bytes"
            )
        await send({"type": "http.response.body", "body": body})
        return len(body)


def create_app(config: EmulatorConfig | None = None) -> EmulatorApp:
    """An emulator ready to serve; ``app.state`` is the in-process control API."""
    return EmulatorApp(config)
