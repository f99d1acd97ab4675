"""Port's error envelope: ``{"ok": false, "error": <code>, "message": <text>}`` with a status."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse


class PortApiError(Exception):
    """Raised anywhere in a handler; the app turns it into Port's JSON error body."""

    def __init__(self, status: int, error: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error = error
        self.message = message

    def body(self) -> dict[str, Any]:
        return {"ok": False, "error": self.error, "message": self.message}

    def response(self) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.status)


def not_found(message: str) -> PortApiError:
    return PortApiError(404, "not_found", message)


def invalid_request(message: str) -> PortApiError:
    """The body does not match the route's own schema (Port answers 422)."""
    return PortApiError(422, "invalid_request", message)


def ok(payload: dict[str, Any] | None = None, status: int = 200) -> JSONResponse:
    return JSONResponse({"ok": True, **(payload or {})}, status_code=status)
