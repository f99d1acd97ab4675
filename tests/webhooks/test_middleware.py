"""The webhook guard as a pure ASGI component: what reaches the app behind it, and what it
answers itself."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

import pytest

from jira_server.webhooks.middleware import (
    MARK_HEADER,
    Verified,
    WebhookGuard,
    verification,
)
from tests.webhooks.payloads import signature

SECRET = "guard-secret-0001"
PATH = "/integration/webhook"
BODY = b'{"webhookEvent":"jira:issue_updated","issue":{"id":"10001","key":"PLAT-1"}}'


class Downstream:
    """Records what the framework would have seen."""

    def __init__(self) -> None:
        self.calls: list[tuple[dict[str, Any], bytes]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        self.calls.append((scope, body))
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b'{"status":"ok"}'})

    def headers(self) -> dict[str, str]:
        scope = self.calls[-1][0]
        return {k.decode(): v.decode() for k, v in scope["headers"]}


async def call(
    guard: WebhookGuard,
    *,
    body: bytes = BODY,
    headers: dict[str, str] | None = None,
    query: bytes = b"",
    path: str = PATH,
    method: str = "POST",
    chunks: list[bytes] | None = None,
) -> tuple[int | None, dict[str, Any]]:
    """Drive the guard with a raw scope; returns (status answered, the scope object)."""
    scope: dict[str, Any] = {
        "type": "http",
        "method": method,
        "path": path,
        "query_string": query,
        "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
        "client": ("203.0.113.9", 5555),
    }
    parts = chunks if chunks is not None else [body]
    messages = [
        {"type": "http.request", "body": part, "more_body": i < len(parts) - 1}
        for i, part in enumerate(parts)
    ]

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    sent: list[MutableMapping[str, Any]] = []

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    await guard(scope, receive, send)
    starts = [m for m in sent if m["type"] == "http.response.start"]
    return (starts[0]["status"] if starts else None), scope


@pytest.fixture
def app() -> Downstream:
    return Downstream()


@pytest.fixture
def guard(app: Downstream) -> WebhookGuard:
    return WebhookGuard(app, path=PATH, secret=SECRET, max_body=4096)


async def test_signed_delivery_passes_unchanged_and_is_marked(
    guard: WebhookGuard, app: Downstream
) -> None:
    status, _ = await call(guard, headers={"X-Hub-Signature": signature(SECRET, BODY)})
    assert status == 200
    [(_, body)] = app.calls
    assert body == BODY
    assert verification(app.headers()) is Verified.SIGNED


@pytest.mark.parametrize(
    "headers, query",
    [
        ({}, b""),
        ({"X-Hub-Signature": signature("other", BODY)}, b""),
        ({"X-Hub-Signature": signature(SECRET, BODY + b"x")}, b""),
        ({"X-Hub-Signature": "sha256=" + "0" * 63}, b""),
        ({}, b"token=wrong"),
        ({}, b"token="),
        ({}, f"token={SECRET}&token={SECRET}".encode()),
        ({"X-Hub-Signature": signature("other", BODY)}, f"token={SECRET}".encode()),
    ],
)
async def test_unauthenticated_deliveries_get_401_and_never_reach_the_app(
    guard: WebhookGuard, app: Downstream, headers: dict[str, str], query: bytes
) -> None:
    status, _ = await call(guard, headers=headers, query=query)
    assert status == 401
    assert app.calls == []


async def test_token_is_accepted_and_removed_from_the_scope_in_place(
    guard: WebhookGuard, app: Downstream
) -> None:
    status, scope = await call(guard, query=f"a=1&token={SECRET}&b=two%20words".encode())
    assert status == 200
    # The very scope object uvicorn holds (and logs from) no longer carries the token.
    assert scope["query_string"] == b"a=1&b=two+words"
    assert app.calls[0][0] is scope
    assert verification(app.headers()) is Verified.TOKEN


async def test_token_is_stripped_even_when_rejected(guard: WebhookGuard) -> None:
    status, scope = await call(guard, query=b"token=guess")
    assert status == 401
    assert scope["query_string"] == b""


async def test_spoofed_marker_is_stripped_everywhere(guard: WebhookGuard, app: Downstream) -> None:
    forged = {MARK_HEADER: "0" * 32 + " signed"}
    await call(guard, path="/integration/other", headers=forged)
    assert MARK_HEADER not in app.headers()
    status, _ = await call(guard, headers=forged)
    assert status == 401
    assert verification(forged) is None


@pytest.mark.parametrize("size", [4097, 10_000])
async def test_declared_size_above_the_cap_gets_413(
    guard: WebhookGuard, app: Downstream, size: int
) -> None:
    body = b"x" * size
    status, _ = await call(
        guard,
        body=body,
        headers={"Content-Length": str(size), "X-Hub-Signature": signature(SECRET, body)},
    )
    assert status == 413
    assert app.calls == []


async def test_chunked_body_above_the_cap_gets_413(guard: WebhookGuard, app: Downstream) -> None:
    status, _ = await call(guard, chunks=[b"x" * 3000, b"x" * 3000, b"x" * 3000])
    assert status == 413
    assert app.calls == []


async def test_body_exactly_at_the_cap_is_read(guard: WebhookGuard, app: Downstream) -> None:
    body = b"x" * 4096
    status, _ = await call(
        guard, chunks=[body[:100], body[100:]], headers={"X-Hub-Signature": signature(SECRET, body)}
    )
    assert status == 200
    assert app.calls[0][1] == body


async def test_client_gone_mid_body_answers_nothing(app: Downstream) -> None:
    guard = WebhookGuard(app, path=PATH, secret=None)
    scope: dict[str, Any] = {"type": "http", "method": "POST", "path": PATH, "headers": []}
    messages: list[dict[str, Any]] = [
        {"type": "http.request", "body": b'{"webhookEvent"', "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[Any] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    async def send(message: Any) -> None:
        sent.append(message)

    await guard(scope, receive, send)
    assert sent == [] and app.calls == []


async def test_other_paths_and_methods_pass_through(guard: WebhookGuard, app: Downstream) -> None:
    status, scope = await call(guard, path="/integration/resync", query=b"token=abc")
    assert status == 200 and scope["query_string"] == b"token=abc"
    status, _ = await call(guard, method="GET")
    assert status == 200
    assert len(app.calls) == 2


async def test_trailing_slash_is_the_same_route(guard: WebhookGuard, app: Downstream) -> None:
    status, _ = await call(guard, path=PATH + "/")
    assert status == 401 and app.calls == []


async def test_without_a_secret_everything_passes_as_unverified(app: Downstream) -> None:
    open_guard = WebhookGuard(app, path=PATH, secret=None)
    status, scope = await call(open_guard, query=b"token=anything")
    assert status == 200
    assert scope["query_string"] == b""
    assert verification(app.headers()) is Verified.UNVERIFIED


async def test_non_http_scopes_pass_through(app: Downstream) -> None:
    seen: list[str] = []

    async def lifespan_app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["type"])

    guard = WebhookGuard(lifespan_app, path=PATH, secret=SECRET)

    async def nothing() -> dict[str, Any]:
        return {}

    async def ignore(_: Any) -> None:
        return None

    await guard({"type": "lifespan"}, nothing, ignore)
    assert seen == ["lifespan"]
