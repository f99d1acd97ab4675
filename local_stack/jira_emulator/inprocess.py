"""Use the emulator in-process with httpx, with the same failure modes as over a socket."""

from __future__ import annotations

from typing import Any

import httpx

from local_stack.jira_emulator.app import ConnectionDropped, EmulatorApp

DEFAULT_BASE_URL = "http://jira.test"


class EmulatorTransport(httpx.ASGITransport):
    """``httpx.ASGITransport`` that reports a dropped connection the way the network
    transport does (``httpx.RemoteProtocolError``) instead of leaking the app's exception."""

    def __init__(self, app: EmulatorApp, **kwargs: Any) -> None:
        super().__init__(app=app, **kwargs)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return await super().handle_async_request(request)
        except ConnectionDropped as exc:
            raise httpx.RemoteProtocolError(
                f"peer closed connection without sending complete message body ({exc})",
                request=request,
            ) from exc


def emulator_client(
    app: EmulatorApp, base_url: str = DEFAULT_BASE_URL, **kwargs: Any
) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=EmulatorTransport(app), base_url=base_url, **kwargs)
