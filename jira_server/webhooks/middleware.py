"""A pure-ASGI guard in front of the framework's webhook route.

port-ocean answers a webhook 200 *before* any authentication (``authenticate()`` runs later
in a worker) and exposes the raw body only through a private attribute, so signatures are
checked here, on the raw bytes, before the request reaches the framework:

* the body is read with a size cap (413 above it) and replayed downstream unchanged;
* ``?token=`` is removed from the query string *in place*, so neither uvicorn's access log
  nor the framework's request log ever sees it;
* without a valid signature or token (when ``webhookSecret`` is set) the guard answers 401
  itself and the event never reaches a queue;
* a verified request gets a marker header carrying a per-process random nonce; the marker
  is stripped from every incoming request first, so only this guard can set it, and the
  processors' ``authenticate()`` checks it (defence in depth).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from enum import StrEnum
from typing import Any
from urllib.parse import parse_qsl, urlencode

from loguru import logger

from jira_server.webhooks.signature import SIGNATURE_HEADER, signature_valid, token_valid

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MAX_BODY_BYTES = 1024 * 1024
TOKEN_PARAM = "token"
# Contains "auth": the framework redacts such headers whenever it logs a delivery's headers.
MARK_HEADER = "x-jira-server-sync-auth"
_MARK_BYTES = MARK_HEADER.encode()
_NONCE = secrets.token_hex(16)


class Verified(StrEnum):
    SIGNED = "signed"  # X-Hub-Signature matched (Data Center 10+)
    TOKEN = "token"  # the secret was in the URL (Jira 9.x and older)
    UNVERIFIED = "unverified"  # no webhookSecret configured: nothing could be checked


def marker(mode: Verified) -> tuple[bytes, bytes]:
    """The header the guard adds to a request it verified."""
    return _MARK_BYTES, f"{_NONCE} {mode}".encode()


def verification(headers: Mapping[str, str]) -> Verified | None:
    """How the guard verified this request, or None if it did not see it."""
    value = headers.get(MARK_HEADER, "")
    nonce, _, mode = value.partition(" ")
    if not secrets.compare_digest(nonce.encode(), _NONCE.encode()):
        return None
    try:
        return Verified(mode)
    except ValueError:
        return None


class WebhookGuard:
    def __init__(
        self, app: ASGIApp, *, path: str, secret: str | None, max_body: int = MAX_BODY_BYTES
    ) -> None:
        self.app = app
        self.path = path.rstrip("/")
        self.secret = secret
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers: list[tuple[bytes, bytes]] = [
            (name, value) for name, value in scope.get("headers", []) if name.lower() != _MARK_BYTES
        ]
        scope["headers"] = headers
        if scope.get("method") != "POST" or scope.get("path", "").rstrip("/") != self.path:
            await self.app(scope, receive, send)
            return
        await self._delivery(scope, headers, receive, send)

    async def _delivery(
        self, scope: Scope, headers: list[tuple[bytes, bytes]], receive: Receive, send: Send
    ) -> None:
        token = _pop_token(scope)
        where = _client(scope)
        declared = _header(headers, b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_body):
            logger.warning(f"Rejected a webhook delivery from {where}: body above {self.max_body}")
            await _respond(send, 413, "payload too large")
            return
        try:
            body = await _read_body(receive, self.max_body)
        except _ClientGone:
            return
        if body is None:
            logger.warning(f"Rejected a webhook delivery from {where}: body above {self.max_body}")
            await _respond(send, 413, "payload too large")
            return
        mode, problem = self._verify(body, token, _header(headers, SIGNATURE_HEADER.encode()))
        if mode is None:
            logger.warning(f"Rejected a webhook delivery from {where}: {problem} (401)")
            await _respond(send, 401, "unauthorized")
            return
        headers.append(marker(mode))
        await self.app(scope, _replay(body, receive), send)

    def _verify(
        self, body: bytes, token: str | None, signature: str | None
    ) -> tuple[Verified | None, str]:
        if self.secret is None:
            return Verified.UNVERIFIED, ""
        if signature is not None:
            # A signature, once present, must be right: a valid URL token does not excuse it.
            if signature_valid(self.secret, body, signature):
                return Verified.SIGNED, ""
            return None, "invalid X-Hub-Signature"
        if token is not None:
            if token_valid(self.secret, token):
                return Verified.TOKEN, ""
            return None, "invalid token"
        return None, "neither X-Hub-Signature nor token"


def _pop_token(scope: Scope) -> str | None:
    """Remove every ``token`` parameter from the query string, in the scope itself."""
    raw: bytes = scope.get("query_string", b"")
    if not raw:
        return None
    pairs = parse_qsl(raw.decode("latin-1"), keep_blank_values=True)
    tokens = [value for name, value in pairs if name == TOKEN_PARAM]
    if not tokens:
        return None
    scope["query_string"] = urlencode([(n, v) for n, v in pairs if n != TOKEN_PARAM]).encode()
    # Several tokens: ambiguous, so none of them counts.
    return tokens[0] if len(tokens) == 1 else ""


class _ClientGone(Exception):
    """The client disconnected before sending the whole body: nothing to answer."""


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> str | None:
    for key, value in headers:
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def _client(scope: Scope) -> str:
    client = scope.get("client")
    return f"{client[0]}" if client else "an unknown client"


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole body, or None once it grows past ``limit`` (chunked bodies too)."""
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise _ClientGone
        body += message.get("body", b"")
        if len(body) > limit:
            return None
        if not message.get("more_body", False):
            return bytes(body)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


async def _respond(send: Send, status: int, message: str) -> None:
    body = json.dumps({"status": "error", "message": message}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
