"""httpx auth for Jira: one Authorization header, set per request so it never leaks into logs."""

from __future__ import annotations

from collections.abc import Generator

import httpx

from jira_server.settings import BasicAuth, TokenAuth


class JiraAuth(httpx.Auth):
    """Sends a PAT as ``Bearer`` or a username/password as ``Basic``; never retries a 401
    (a wrong Basic password counts towards Jira's CAPTCHA lock-out)."""

    def __init__(self, credentials: TokenAuth | BasicAuth) -> None:
        self._header = credentials.header()

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = self._header
        yield request
