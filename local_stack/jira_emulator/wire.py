"""Minimal request/response types over raw ASGI.

The emulator speaks raw ASGI instead of a framework so that it controls every byte on the
wire: dropping a connection half-way through a body is one of its faults.
"""

from __future__ import annotations

import json
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

Scope = MutableMapping[str, Any]
JSON_TYPE = "application/json;charset=UTF-8"
NOT_AN_OBJECT = "The request body must be a JSON object."


def js(value: object) -> str:
    """Compact JSON as Jira writes it (UTF-8, no spaces)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class BadRequest(ValueError):
    """A malformed parameter or body; answered with Jira's 400 ErrorCollection."""


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    scope: Scope
    base: str
    path_params: dict[str, str] = field(default_factory=dict)
    # Work to do once the response is on the wire (e.g. mutations while paging).
    after: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def from_scope(cls, scope: Scope, body: bytes, base_url: str | None) -> Request:
        headers: dict[str, str] = {}
        for raw_name, raw_value in scope.get("headers", []):
            headers[raw_name.decode("latin-1").lower()] = raw_value.decode("latin-1")
        query = parse_qs(
            scope.get("query_string", b"").decode("utf-8", "replace"), keep_blank_values=True
        )
        if base_url:
            base = base_url.rstrip("/")
        else:
            host = headers.get("host")
            if not host:
                server = scope.get("server") or ("127.0.0.1", 80)
                host = f"{server[0]}:{server[1]}"
            base = f"{scope.get('scheme', 'http')}://{host}{scope.get('root_path', '')}"
        return cls(scope["method"], scope["path"], query, headers, body, scope, base)

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None

    def params(self, name: str) -> list[str]:
        """Comma-separated values, also accepting the parameter repeated."""
        out: list[str] = []
        for value in self.query.get(name, []):
            out.extend(v for v in value.split(",") if v.strip())
        return out

    def int_param(self, name: str, default: int) -> int:
        value = self.param(name)
        if value is None or value == "":
            return default
        try:
            return int(value)
        except ValueError:
            raise BadRequest(f"Invalid value '{value}' for parameter '{name}'.") from None

    def bool_param(self, name: str, default: bool) -> bool:
        value = self.param(name)
        if value is None or value == "":
            return default
        return value.strip().lower() == "true"

    def json(self) -> Any:
        if not self.body:
            return {}
        try:
            return json.loads(self.body)
        except ValueError:
            raise BadRequest("Unexpected character in the request body: not valid JSON.") from None

    def json_object(self, message: str = NOT_AN_OBJECT) -> dict[str, Any]:
        """The body as a JSON object (``{}`` when empty); anything else is a BadRequest."""
        body = self.json()
        if not isinstance(body, dict):
            raise BadRequest(message)
        return body


@dataclass
class Response:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = JSON_TYPE


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """``data`` may be pre-serialised JSON text (the fast path for issue pages)."""
    text = data if isinstance(data, str) else js(data)
    return Response(status, text.encode("utf-8"), dict(headers or {}))


def error_collection(status: int, *messages: str, errors: dict[str, str] | None = None) -> Response:
    """Jira's ErrorCollection body: ``{"errorMessages": [...], "errors": {...}}``."""
    return json_response({"errorMessages": list(messages), "errors": errors or {}}, status)


def rest_error(status: int, message: str) -> Response:
    """The REST framework's own body (401 filter, unknown resource 404)."""
    return json_response({"message": message, "status-code": status}, status)


def unknown_resource(req: Request) -> Response:
    """Jersey's 404 for a path no resource answers."""
    return rest_error(404, f"null for uri: {req.base}{req.path}")
