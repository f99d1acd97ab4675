"""Jira Server / Data Center REST v2 client: HTTP, pagination and Jira's quirks in one place.

Every fetch_* method is an async generator of pages (lists of raw Jira objects) so the
framework can map and push while the next pages download. A fetch that cannot complete
raises: yielding a partial result would let reconciliation delete the missing entities.
"""

from __future__ import annotations

import asyncio
import difflib
import math
import re
import ssl
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx
from loguru import logger

from jira_server.client.auth import JiraAuth
from jira_server.client.development import dev_summary_field_ids
from jira_server.client.jql import highest_id_query, keyset_query, narrowed, strip_order_by
from jira_server.client.prefetch import PrefetchWindow
from jira_server.client.sprints import sprint_field_ids
from jira_server.client.transport import (
    RETRIES,
    WRITE,
    RateLimitThrottle,
    RetryingTransport,
    RetryPolicy,
    cause_of_type,
)
from jira_server.errors import (
    JiraAuthError,
    JiraConnectionError,
    JiraPermissionError,
    JiraQueryError,
    JiraResponseError,
    JiraSyncError,
    PartialResultError,
)
from jira_server.progress import report_expected
from jira_server.redaction import Redactor
from jira_server.settings import JiraSettings

API = "/rest/api/2"
STATUSES_TTL = 600.0  # seconds
AGILE = "/rest/agile/1.0"
AGILE_PAGE_SIZE = 50
MAX_CREATE_META_PAGES = 20  # a create screen has tens of fields; Jira pages them by 50
USER_AGENT = "jira-server-sync/0.1"
# Jira < 10 lets `/user/search` page to everyone; DC 10.x caps it at 100 reachable users.
USER_SEARCH_PAGE = 1000
DC10_USER_SEARCH_CAP = 100
# Not ".", "_" or "%": Data Center treats them as "everyone" (capped at 100 again).
USER_PREFIX_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789-@"
MAX_USER_PREFIX_LENGTH = 6
# Aim each id-range partition at 90% of a page so most partitions take a single request.
PARTITION_FILL = 0.9
# Ranges a planned id range is split into: at most this many at first, then per step.
PLAN_FIRST_FANOUT = 64
PLAN_FANOUT = 16
# Ids per "id in (...)" query when re-reading issues by id.
BY_ID_CHUNK = 500
# How long a proof of the credentials (or their rejection) is reused.
MYSELF_TTL = 60.0

# Present on issues although some Jira versions do not list them in /rest/api/2/field.
ALWAYS_PRESENT_FIELDS = frozenset({"parent", "subtasks", "issuelinks", "project", "issuetype"})

# TLS alerts a server sends when it requires a client certificate it did not get or trust.
_CLIENT_CERTIFICATE_REFUSED = frozenset(
    {
        "TLSV13_ALERT_CERTIFICATE_REQUIRED",
        "SSLV3_ALERT_HANDSHAKE_FAILURE",
        "SSLV3_ALERT_BAD_CERTIFICATE",
        "TLSV1_ALERT_UNKNOWN_CA",
        "SSLV3_ALERT_CERTIFICATE_UNKNOWN",
    }
)
_PROXY_AUTH_HINT = (
    ": it wants credentials, or rejected them. Put them in the proxy URL "
    "(http://user:password@proxy:3128, password URL-encoded)"
)

Page = list[dict[str, Any]]
TransportFactory = Callable[[JiraSettings], httpx.AsyncBaseTransport]


def network_transport(settings: JiraSettings) -> httpx.AsyncBaseTransport:
    """The real network layer; tests swap it for an in-process emulator or mock."""
    return httpx.AsyncHTTPTransport(
        verify=settings.ssl_verify(),
        # httpx reads HTTPS_PROXY/NO_PROXY only for transports it builds itself: the settings
        # resolved them (or proxyUrl) for Jira's host already.
        proxy=httpx.Proxy(settings.proxy.url) if settings.proxy else None,
        limits=httpx.Limits(
            max_connections=settings.max_concurrent_requests,
            max_keepalive_connections=settings.max_concurrent_requests,
        ),
    )


@dataclass(frozen=True)
class ServerInfo:
    version: str
    version_numbers: tuple[int, ...]
    deployment_type: str
    base_url: str

    @property
    def major(self) -> int:
        return self.version_numbers[0] if self.version_numbers else 0


@dataclass
class ClientStats:
    requests: int = 0
    bytes_received: int = 0
    max_in_flight: int = 0
    in_flight: int = 0


class JiraServerClient:
    def __init__(
        self,
        settings: JiraSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.redact = Redactor(settings.secrets)
        self.throttle = RateLimitThrottle(sleep=sleep, clock=clock)
        self.retrying = RetryingTransport(
            transport or network_transport(settings),
            RetryPolicy(max_retries=settings.max_retries),
            self.throttle,
            sleep=sleep,
        )
        self._http = httpx.AsyncClient(
            base_url=settings.host,
            transport=self.retrying,
            auth=JiraAuth(settings.auth),
            headers={
                "Accept": "application/json",
                "User-Agent": USER_AGENT,
                **settings.custom_headers,
            },
            timeout=settings.request_timeout,
            follow_redirects=False,
        )
        self._slots = asyncio.Semaphore(settings.max_concurrent_requests)
        self._server_info: ServerInfo | None = None
        self._fields: list[dict[str, Any]] | None = None
        self._statuses: tuple[float, list[dict[str, Any]]] | None = None
        self._clock = clock
        self._myself: tuple[float, asyncio.Future[Any]] | None = None
        self.stats = ClientStats()

    async def aclose(self) -> None:
        await self._http.aclose()

    # ---- HTTP ---------------------------------------------------------------------------

    async def request_json(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        write: bool = False,
    ) -> Any:
        """One Jira call with retries, the concurrency bound, and Jira-aware error mapping.

        ``write`` marks a non-idempotent change: it is never resent once Jira may have seen
        it. A 204 answer returns None."""
        url = path if path.startswith("/rest/") else f"{API}{path}"
        extensions = {WRITE: True} if write else None
        async with self._slots:
            self.stats.in_flight += 1
            self.stats.max_in_flight = max(self.stats.max_in_flight, self.stats.in_flight)
            started = time.monotonic()
            try:
                response = await self._http.request(
                    method, url, params=params, json=json, extensions=extensions
                )
            except httpx.HTTPError as exc:
                raise self._connection_error(exc) from None
            finally:
                self.stats.in_flight -= 1
        self.stats.requests += 1
        self.stats.bytes_received += len(response.content)
        logger.debug(
            f"Jira {method} {url} -> {response.status_code} "
            f"({len(response.content)} bytes, {time.monotonic() - started:.2f}s)"
        )
        self._raise_for_response(response)
        if response.status_code == 204:
            return None
        try:
            return response.json()
        except ValueError:
            content_type = response.headers.get("content-type", "?")
            raise JiraResponseError(
                f"Jira answered {method} {url} with a non-JSON body ({content_type}); "
                "is jiraServerHost the Jira base URL (including any context path)?",
                response.status_code,
            ) from None

    def _connection_error(self, exc: httpx.HTTPError) -> JiraSyncError:
        host = self.settings.host
        tls = cause_of_type(exc, ssl.SSLError)
        if tls is not None and _plain_http_answer(tls):
            return JiraConnectionError(
                self.redact(
                    f"{host} did not answer with TLS ({tls.reason or tls}): is it an http:// "
                    "address, or the wrong port? Check jiraServerHost "
                    "(OCEAN__INTEGRATION__CONFIG__JIRA_SERVER_HOST)"
                )
            )
        if tls is not None and tls.reason in _CLIENT_CERTIFICATE_REFUSED:
            setting = "clientCertificate (OCEAN__INTEGRATION__CONFIG__CLIENT_CERTIFICATE)"
            if self.settings.client_certificate is not None:
                message = f"{host} refused the client certificate in {setting} ({tls.reason})"
            else:
                message = (
                    f"TLS handshake with {host} failed ({tls.reason}): if it requires a client "
                    f"certificate (mutual TLS), set {setting} and clientKey"
                )
            return JiraConnectionError(self.redact(message))
        if tls is not None:
            hint = (
                "If Jira's certificate comes from an internal CA, point caBundle "
                "(OCEAN__INTEGRATION__CONFIG__CA_BUNDLE) at that CA's PEM file."
            )
            return JiraConnectionError(
                self.redact(f"TLS verification failed for {host}: {tls}. {hint}")
            )
        proxy = self.settings.proxy
        if isinstance(exc, httpx.ProxyError) and proxy is not None:
            hint = _PROXY_AUTH_HINT if "407" in str(exc) else ""
            return JiraConnectionError(
                self.redact(
                    f"The proxy {proxy.display} (from {proxy.source}) did not open a connection "
                    f"to Jira at {host}: {exc}{hint}"
                )
            )
        if isinstance(exc, httpx.TimeoutException):
            return JiraConnectionError(
                f"Jira at {host} did not answer within {self.settings.request_timeout:.0f}s "
                "(requestTimeout), after retries"
            )
        reason = str(exc) or type(exc).__name__
        hint = ""
        if (
            isinstance(exc, httpx.ReadError)
            and host.startswith("https:")
            and self.settings.client_certificate is None
        ):
            # Over TLS 1.3 a server that wants a client certificate may just reset.
            hint = (
                " (a server that requires a client certificate can drop the connection like "
                "this: see clientCertificate)"
            )
        if proxy is not None:
            hint += f" (through the proxy {proxy.display} from {proxy.source})"
        return JiraConnectionError(self.redact(f"Cannot reach Jira at {host}: {reason}{hint}"))

    def _raise_for_response(self, response: httpx.Response) -> None:
        status = response.status_code
        where = f"{response.request.method} {response.request.url.path}"
        anonymous = response.headers.get("X-AUSERNAME", "").lower() == "anonymous"
        if anonymous and (status < 400 or status == 404):
            # Jira ignores a missing or malformed Authorization header and answers as an
            # anonymous user: empty results (syncing them would empty the catalog) or 404 for
            # what anonymous may not see. 401, 403 and 5xx speak for themselves.
            raise JiraAuthError(
                f"Jira treated {where} as anonymous: the {self.settings.auth.description} was "
                "not accepted (check the credentials, and any proxy that may strip the "
                "Authorization header)"
            )
        if status < 400:
            return
        if status == 407 and self.settings.proxy is not None:
            # Plain-HTTP Jira: the proxy answers the forwarded request itself.
            raise JiraConnectionError(
                f"The proxy {self.settings.proxy.display} (from {self.settings.proxy.source}) "
                f"refused {where} with 407 Proxy Authentication Required{_PROXY_AUTH_HINT}"
            )
        messages = self._jira_messages(response)
        detail = f": {'; '.join(messages)}" if messages else ""
        if status == 401:
            hint = ""
            if response.headers.get("X-Seraph-LoginReason") == "AUTHENTICATION_DENIED":
                # Jira 11 (and admins elsewhere) turn Basic auth off for the REST API.
                hint = ". Basic authentication is refused here: use a personal access token (token)"
            raise JiraAuthError(
                self.redact(
                    f"Jira rejected the {self.settings.auth.description} (401 on {where})"
                    f"{detail}{hint}"
                )
            )
        if status == 403:
            denied = response.headers.get("X-Authentication-Denied-Reason", "")
            if "CAPTCHA" in denied.upper():
                login = (
                    denied.partition("login-url=")[2].strip() or f"{self.settings.host}/login.jsp"
                )
                raise JiraPermissionError(
                    f"Jira locked {self.settings.auth.description} behind a CAPTCHA after failed "
                    f"logins (X-Authentication-Denied-Reason: CAPTCHA_CHALLENGE). Log in once "
                    f"through the browser at {login}, fix the password, then retry"
                )
            raise JiraPermissionError(
                self.redact(f"Jira refused {where} (403): missing permission{detail}")
            )
        if status == 400:
            raise JiraQueryError(
                self.redact(f"Jira rejected {where} (400){detail}"), jira_messages=messages
            )
        raise JiraResponseError(
            self.redact(f"Jira answered {where} with {status}{detail}{_retried(response)}"), status
        )

    @staticmethod
    def _jira_messages(response: httpx.Response) -> list[str]:
        try:
            body = response.json()
        except ValueError:
            text = response.text.strip()
            title = _html_title(text)
            if title:  # a proxy's error page: its title says it all
                return [title]
            return [text[:300]] if text else []
        if not isinstance(body, dict):
            return []
        messages = [str(m) for m in body.get("errorMessages") or []]
        errors = body.get("errors") or {}
        if isinstance(errors, dict):
            messages += [f"{field}: {text}" for field, text in errors.items()]
        if body.get("message"):
            messages.append(str(body["message"]))
        return messages

    # ---- server -------------------------------------------------------------------------

    async def fetch_server_info(self) -> ServerInfo:
        if self._server_info is None:
            body = await self.request_json("GET", "/serverInfo")
            self._server_info = ServerInfo(
                version=str(body.get("version", "")),
                version_numbers=tuple(int(n) for n in body.get("versionNumbers") or []),
                deployment_type=str(body.get("deploymentType", "")),
                base_url=str(body.get("baseUrl", self.settings.host)),
            )
        return self._server_info

    async def server_time(self) -> datetime:
        """Jira's clock now (``serverTime`` of an authenticated ``/serverInfo``), else this
        host's: a delta run compares Jira's ``updated`` with it."""
        body = await self.request_json("GET", "/serverInfo")
        text = body.get("serverTime") if isinstance(body, dict) else None
        if isinstance(text, str):
            try:
                return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z")
            except ValueError:
                logger.warning(f"Unreadable serverTime {text!r} in /serverInfo; using this host's")
        return datetime.now(UTC)

    async def fetch_myself(self) -> dict[str, Any]:
        """Proves the credentials: anonymous access and wrong credentials both fail here.

        The answer (or the failure) is kept for ``MYSELF_TTL`` seconds and shared by callers
        that ask at the same time, so the start-up check and the first run's checks log in
        once: every failed Basic login counts towards Jira's CAPTCHA lock-out."""
        cached = self._myself
        if cached is not None and time.monotonic() - cached[0] < MYSELF_TTL:
            answer: dict[str, Any] = await asyncio.shield(cached[1])
            return answer
        task = asyncio.ensure_future(self.request_json("GET", "/myself"))
        self._myself = (time.monotonic(), task)
        body: dict[str, Any] = await asyncio.shield(task)
        return body

    # ---- projects -----------------------------------------------------------------------

    async def fetch_projects(
        self, *, expand: str | None = None, include_archived: bool = False
    ) -> AsyncIterator[Page]:
        params: dict[str, Any] = {"includeArchived": str(include_archived).lower()}
        if expand:
            params["expand"] = expand
        projects = await self.request_json("GET", "/project", params=params)
        if not isinstance(projects, list):
            raise JiraResponseError("GET /project did not return a list of projects")
        if not projects:
            raise no_projects_error(archived_excluded=not include_archived)
        yield projects

    async def count_projects(self) -> int:
        projects = await self.request_json("GET", "/project")
        return len(projects) if isinstance(projects, list) else 0

    async def fetch_project(self, key_or_id: str) -> dict[str, Any]:
        body: dict[str, Any] = await self.request_json("GET", f"/project/{path_segment(key_or_id)}")
        return body

    # ---- users --------------------------------------------------------------------------

    async def fetch_user(
        self, *, key: str | None = None, username: str | None = None
    ) -> dict[str, Any]:
        """One user by key (preferred: it never changes) or username; 404 if unknown."""
        params = {"key": key} if key else {"username": username}
        body: dict[str, Any] = await self.request_json("GET", "/user", params=params)
        return body

    async def fetch_users(self, *, include_inactive: bool = False) -> AsyncIterator[Page]:
        """All users: `/user/list` (DC 10.3+/11) or, where it is 404, `/user/search`."""
        count = 0
        try:
            async for page in self._users_from_list(include_inactive):
                count += len(page)
                yield page
        except JiraResponseError as exc:
            if exc.status_code != 404 or count:
                raise
        else:
            _require_users(count)
            return
        info = await self.fetch_server_info()
        if info.major >= 10:
            logger.info(
                f"Jira {info.version}: /user/list unavailable and /user/search capped at "
                f"{DC10_USER_SEARCH_CAP}; listing users by prefix queries"
            )
            pages = self._users_by_prefix(include_inactive)
        else:
            pages = self._users_by_offset(include_inactive)
        async for page in pages:
            count += len(page)
            yield page
        _require_users(count)

    async def _users_from_list(self, include_inactive: bool) -> AsyncIterator[Page]:
        cursor: str | None = None
        seen_cursors: set[str] = set()
        while True:
            params: dict[str, Any] = {"maxResults": 2000}
            if cursor is not None:
                params["cursor"] = cursor
            body = await self.request_json("GET", "/user/list", params=params)
            users = [u for u in body.get("values", []) if include_inactive or u.get("active")]
            if users:
                yield users
            if body.get("isLast", True) or body.get("nextCursor") in (None, ""):
                return
            cursor = str(body["nextCursor"])
            if cursor in seen_cursors:
                raise PartialResultError(f"/user/list repeated cursor {cursor!r}; stopping")
            seen_cursors.add(cursor)

    async def probe_user_listing(self) -> int:
        """One small user-listing call, on the endpoint a user resync would use; returns how
        many users it listed (0 or 1: none means no 'Browse users and groups')."""
        try:
            body = await self.request_json("GET", "/user/list", params={"maxResults": 1})
        except JiraResponseError as exc:
            if exc.status_code != 404:
                raise
            body = await self.request_json(
                "GET", "/user/search", params={"username": ".", "maxResults": 1}
            )
        listed = body.get("values") if isinstance(body, dict) else body
        return len(listed) if isinstance(listed, list) else 0

    def _user_search_params(self, query: str, include_inactive: bool) -> dict[str, Any]:
        return {
            "username": query,
            "includeActive": "true",
            "includeInactive": str(include_inactive).lower(),
            "maxResults": USER_SEARCH_PAGE,
        }

    async def _users_by_offset(self, include_inactive: bool) -> AsyncIterator[Page]:
        # No total and a possibly lowered page size: only an empty page means the end.
        start, seen = 0, set[str]()
        while True:
            params = {**self._user_search_params(".", include_inactive), "startAt": start}
            users = await self.request_json("GET", "/user/search", params=params)
            if not users:
                return
            start += len(users)
            fresh = [u for u in users if u.get("key") not in seen]
            seen.update(u.get("key", "") for u in fresh)
            if fresh:
                yield fresh

    async def _users_by_prefix(self, include_inactive: bool) -> AsyncIterator[Page]:
        """DC 10.0-10.2: every query reaches at most 100 users, so a full answer is split
        into longer name prefixes until each answer is below the cap. Jira matches prefixes
        of username, display name and e-mail, so the union covers every user."""
        seen: set[str] = set()
        everyone = await self._search_users(".", include_inactive)
        if len(everyone) < DC10_USER_SEARCH_CAP:
            if everyone:
                yield everyone
            return
        level = list(USER_PREFIX_ALPHABET)
        while level:
            answers = await asyncio.gather(
                *(self._search_users(prefix, include_inactive) for prefix in level)
            )
            deeper: list[str] = []
            for prefix, users in zip(level, answers, strict=True):
                if len(users) >= DC10_USER_SEARCH_CAP:
                    if len(prefix) >= MAX_USER_PREFIX_LENGTH:
                        raise PartialResultError(
                            f"More than {DC10_USER_SEARCH_CAP} users match the prefix "
                            f"{prefix!r}; this Jira version cannot list them all (upgrade to "
                            "10.3+ for /user/list)"
                        )
                    deeper.extend(prefix + char for char in USER_PREFIX_ALPHABET)
                fresh = [u for u in users if u.get("key") not in seen]
                seen.update(str(u.get("key", "")) for u in fresh)
                if fresh:
                    yield fresh
            level = deeper

    async def _search_users(self, query: str, include_inactive: bool) -> Page:
        users = await self.request_json(
            "GET", "/user/search", params=self._user_search_params(query, include_inactive)
        )
        if not isinstance(users, list):
            raise JiraResponseError("GET /user/search did not return a list of users")
        return users

    # ---- agile, versions, components -------------------------------------------------------

    async def _agile_pages(self, path: str, params: dict[str, Any]) -> AsyncIterator[Page]:
        """startAt/isLast pages of the agile API; ``total`` is missing on older servers, so
        the end is ``isLast`` (or, where even that is absent, a short or empty page)."""
        start = 0
        while True:
            body = await self.request_json(
                "GET", path, params={**params, "startAt": start, "maxResults": AGILE_PAGE_SIZE}
            )
            values = body.get("values") if isinstance(body, dict) else None
            if not isinstance(values, list):
                raise JiraResponseError(f"GET {path} did not return a page of values")
            if values:
                yield values
            start += len(values)
            page_size = int(body.get("maxResults") or AGILE_PAGE_SIZE)
            if not values or body.get("isLast") is True:
                return
            if "isLast" not in body and len(values) < page_size:
                return

    async def fetch_boards(self, *, board_type: str | None = None) -> AsyncIterator[Page]:
        params = {"type": board_type} if board_type else {}
        async for page in self._agile_pages(f"{AGILE}/board", params):
            yield page

    async def fetch_sprints(
        self, *, states: Sequence[str] = (), board_type: str | None = None
    ) -> AsyncIterator[Page]:
        """Sprints of every scrum board (a sprint shared by several boards once), a few
        boards at a time; kanban boards have no sprints (Jira answers 400), so they are not
        asked."""
        seen: set[int] = set()
        params = {"state": ",".join(states)} if states else {}
        step = self.settings.max_concurrent_requests
        async for boards in self.fetch_boards(board_type=board_type):
            scrum = [b for b in boards if b.get("type") in (None, "scrum")]
            for first in range(0, len(scrum), step):
                batch = scrum[first : first + step]
                answers = await asyncio.gather(
                    *(self._board_sprints(board, params) for board in batch)
                )
                for board, sprints in zip(batch, answers, strict=True):
                    fresh = [s for s in sprints if int(s["id"]) not in seen]
                    seen.update(int(s["id"]) for s in fresh)
                    for sprint in fresh:
                        sprint.setdefault("originBoardId", board["id"])
                    if fresh:
                        yield fresh

    async def _board_sprints(self, board: dict[str, Any], params: dict[str, Any]) -> Page:
        sprints: Page = []
        try:
            async for page in self._agile_pages(f"{AGILE}/board/{board['id']}/sprint", params):
                sprints.extend(page)
        except (JiraQueryError, JiraPermissionError, JiraResponseError) as exc:
            # A board whose saved filter is broken or hidden answers 400/403 for good, and one
            # deleted since it was listed 404; the other boards must not fail with it.
            if isinstance(exc, JiraResponseError) and exc.status_code != 404:
                raise
            logger.warning(f"Skipping sprints of board {board['id']} ({board.get('name')}): {exc}")
            return []
        return sprints

    async def _per_project(self, suffix: str) -> AsyncIterator[Page]:
        """``/project/{key}/<suffix>`` for every visible project, a few projects at a time,
        each item tagged with ``__projectKey`` (versions only carry a projectId)."""
        keys = await self.visible_project_keys()
        step = self.settings.max_concurrent_requests
        for first in range(0, len(keys), step):
            batch = keys[first : first + step]
            answers = await asyncio.gather(
                *(self.request_json("GET", f"/project/{key}/{suffix}") for key in batch)
            )
            for key, items in zip(batch, answers, strict=True):
                if not isinstance(items, list):
                    raise JiraResponseError(f"GET /project/{key}/{suffix} did not return a list")
                if items:
                    yield [{**item, "__projectKey": key} for item in items]

    async def fetch_versions(
        self, *, include_released: bool = True, include_archived: bool = False
    ) -> AsyncIterator[Page]:
        async for page in self._per_project("versions"):
            kept = [
                v
                for v in page
                if (include_released or not v.get("released"))
                and (include_archived or not v.get("archived"))
            ]
            if kept:
                yield kept

    async def fetch_components(self) -> AsyncIterator[Page]:
        async for page in self._per_project("components"):
            yield page

    async def sprint_field_ids(self) -> list[str]:
        return sprint_field_ids(await self.fetch_fields())

    async def dev_summary_field_ids(self) -> list[str]:
        return dev_summary_field_ids(await self.fetch_fields())

    async def fetch_statuses(self) -> list[dict[str, Any]]:
        """Every status with its category (``/rest/api/2/status``, a bare array), kept for
        ``STATUSES_TTL`` seconds: a long-running process sees statuses added to workflows
        since, without one request per live event."""
        now = self._clock()
        if self._statuses is None or now - self._statuses[0] > STATUSES_TTL:
            body = await self.request_json("GET", "/status")
            if not isinstance(body, list):
                raise JiraResponseError("GET /rest/api/2/status did not return a list")
            self._statuses = (now, [s for s in body if isinstance(s, dict)])
        return self._statuses[1]

    async def fetch_changelog(self, key: str) -> dict[str, Any]:
        """An issue's whole changelog. Search results truncate the embedded one; the issue
        resource gives every history on Jira Server / DC (which has no paged
        ``/issue/{key}/changelog``: 404 on 9.x). Still short is an error, not a guess."""
        issue = await self.fetch_issue(key, fields=["created"], expand=["changelog"])
        changelog = issue.get("changelog")
        histories = changelog.get("histories") if isinstance(changelog, dict) else None
        if not isinstance(changelog, dict) or not isinstance(histories, list):
            raise JiraResponseError(
                f"GET /rest/api/2/issue/{key}?expand=changelog gave no changelog"
            )
        total = changelog.get("total")
        if isinstance(total, int) and len(histories) < total:
            raise JiraResponseError(
                f"Jira gave {len(histories)} of the {total} changelog entries of {key}: its "
                "lifecycle metrics cannot be computed (stop mapping .__lifecycle to sync it)"
            )
        return changelog

    # ---- issues -------------------------------------------------------------------------

    async def search_issues(
        self,
        jql: str,
        *,
        start_at: int = 0,
        max_results: int,
        fields: Sequence[str] | None,
        expand: Sequence[str] | None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"jql": jql, "startAt": start_at, "maxResults": max_results}
        if fields:
            body["fields"] = list(fields)
        if expand:
            body["expand"] = list(expand)
        page: dict[str, Any] = await self.request_json("POST", "/search", json=body)
        issues = page.get("issues")
        if not isinstance(issues, list):
            raise JiraResponseError("POST /search answered without an issues list")
        with_fields = any(f != "id" for f in fields or ())
        for issue in issues:
            _check_issue(issue, with_fields)
        return page

    async def count_issues(self, jql: str) -> int:
        """Issues matching ``jql`` that the credentials may browse (no issue bodies)."""
        page = await self.search_issues(jql, max_results=0, fields=["id"], expand=None)
        return int(page.get("total", 0))

    async def issue_matches(
        self, jql: str, *, issue_id: int | str | None = None, key: str | None = None
    ) -> bool:
        """Whether the issue (by ``issue_id``, else by a validated ``key``) is among the
        issues ``jql`` selects now."""
        clause = f"id = {int(issue_id)}" if issue_id is not None else f"key = {key}"
        return await self.count_issues(narrowed(jql, clause)) > 0

    async def selected_issue_ids(self, jql: str, ids: Sequence[int]) -> set[int]:
        """Which of ``ids`` the JQL selects now."""
        selected: set[int] = set()
        async for page in self.fetch_issues_by_id(jql, ids, fields=["id"], expand=None):
            selected.update(_issue_id(issue) for issue in page)
        return selected

    async def check_jql(self, jql: str) -> None:
        """Let Jira validate the filter (400 with its errorMessages when invalid)."""
        await self.count_issues(strip_order_by(jql))

    async def fetch_fields(self) -> list[dict[str, Any]]:
        if self._fields is None:
            body = await self.request_json("GET", "/field")
            if not isinstance(body, list):
                raise JiraResponseError("GET /rest/api/2/field did not return a list of fields")
            self._fields = [f for f in body if isinstance(f, dict)]
        return self._fields

    async def unknown_fields(self, fields: Sequence[str]) -> dict[str, str]:
        """The names in ``fields`` this Jira does not have, each described with the closest
        matches (Jira silently ignores unknown names: the property would be null)."""
        wanted = [f for f in fields if not f.startswith(("*", "-"))]
        if not wanted:
            return {}
        known = await self.fetch_fields()
        ids = {str(f.get("id")) for f in known} | ALWAYS_PRESENT_FIELDS
        return {f: _describe_unknown_field(f, known) for f in wanted if f not in ids}

    async def visible_project_keys(self) -> list[str]:
        projects = await self.request_json("GET", "/project")
        if not isinstance(projects, list) or not projects:
            raise no_projects_error()
        return [str(p["key"]) for p in projects]

    async def sample_issues(
        self, jql: str, count: int, *, expand: Sequence[str] | None = None
    ) -> Page:
        """A few issues with every field, as examples of what a mapping can read."""
        page = await self.search_issues(
            keyset_query(strip_order_by(jql)), max_results=count, fields=["*all"], expand=expand
        )
        issues: Page = page["issues"]
        return issues

    async def fetch_issue(
        self,
        key_or_id: str,
        *,
        fields: Sequence[str] | None = None,
        expand: Sequence[str] | None = None,
    ) -> dict[str, Any]:
        params: dict[str, Any] = {}
        if fields:
            params["fields"] = ",".join(fields)
        if expand:
            params["expand"] = ",".join(expand)
        body: dict[str, Any] = await self.request_json(
            "GET", f"/issue/{path_segment(key_or_id)}", params=params
        )
        return body

    # ---- writes (self-service actions) --------------------------------------------------

    async def create_issue(self, fields: dict[str, Any]) -> dict[str, Any]:
        """``POST /issue``; Jira answers ``{"id", "key", "self"}``."""
        body = await self.request_json("POST", "/issue", json={"fields": fields}, write=True)
        if not isinstance(body, dict) or not body.get("key"):
            raise JiraResponseError("POST /issue answered without the created issue's key")
        return body

    async def fetch_create_meta_types(self, project_key: str) -> Page:
        """Jira 8.4+: the issue types the credentials may create in the project (paged)."""
        return await self._create_meta_pages(
            f"/issue/createmeta/{path_segment(project_key)}/issuetypes"
        )

    async def fetch_create_meta_fields(self, project_key: str, issue_type_id: str) -> Page:
        """Jira 8.4+: the create screen's fields of a project and issue type (paged)."""
        return await self._create_meta_pages(
            f"/issue/createmeta/{path_segment(project_key)}/issuetypes/"
            f"{path_segment(issue_type_id)}"
        )

    async def _create_meta_pages(self, path: str) -> Page:
        items: Page = []
        for _ in range(MAX_CREATE_META_PAGES):
            body = await self.request_json("GET", path, params={"startAt": len(items)})
            values = body.get("values") if isinstance(body, dict) else None
            if not isinstance(values, list):
                raise JiraResponseError(f"GET {API}{path} did not return a page of values")
            items += [v for v in values if isinstance(v, dict)]
            if body.get("isLast", True) or not values:
                return items
        raise JiraResponseError(
            f"GET {API}{path} had more than {MAX_CREATE_META_PAGES} pages; stopped reading"
        )

    async def fetch_legacy_create_meta(self, project_key: str) -> Page:
        """Jira before 9.0: the project's issue types, each with its ``fields`` by id
        (empty when the project is unknown or the credentials may not create there)."""
        body = await self.request_json(
            "GET",
            "/issue/createmeta",
            params={"projectKeys": project_key, "expand": "projects.issuetypes.fields"},
        )
        projects = body.get("projects") if isinstance(body, dict) else None
        if not isinstance(projects, list):
            raise JiraResponseError("GET /issue/createmeta did not return projects")
        for project in projects:
            if isinstance(project, dict) and str(project.get("key", "")).upper() == project_key:
                types = project.get("issuetypes") or []
                return [t for t in types if isinstance(t, dict)]
        return []

    async def assign_issue(self, issue_key: str, username: str | None) -> None:
        """``PUT /issue/{key}/assignee``; Server identifies users by name, None unassigns."""
        await self.request_json(
            "PUT",
            f"/issue/{path_segment(issue_key)}/assignee",
            json={"name": username},  # idempotent: retried like a read
        )

    async def add_comment(self, issue_key: str, body: str) -> dict[str, Any]:
        comment = await self.request_json(
            "POST", f"/issue/{path_segment(issue_key)}/comment", json={"body": body}, write=True
        )
        if not isinstance(comment, dict):
            raise JiraResponseError("POST /issue/{key}/comment did not return the comment")
        return comment

    async def fetch_transitions(self, issue_key: str) -> list[dict[str, Any]]:
        """The transitions the credentials may perform on the issue now (empty without the
        Transition Issues permission)."""
        body = await self.request_json("GET", f"/issue/{path_segment(issue_key)}/transitions")
        transitions = body.get("transitions") if isinstance(body, dict) else None
        if not isinstance(transitions, list):
            raise JiraResponseError("GET /issue/{key}/transitions did not return transitions")
        return [t for t in transitions if isinstance(t, dict)]

    async def transition_issue(self, issue_key: str, transition_id: str) -> None:
        await self.request_json(
            "POST",
            f"/issue/{path_segment(issue_key)}/transitions",
            json={"transition": {"id": transition_id}},
            write=True,
        )

    async def fetch_issues(
        self,
        jql: str,
        *,
        fields: Sequence[str] | None = None,
        expand: Sequence[str] | None = None,
        report_total: bool = True,
    ) -> AsyncIterator[Page]:
        """Every issue matching ``jql``, in ascending id order, page by page.

        Keyset paging on the issue id (immune to issues created, deleted or re-ranked while
        paging, and to Data Center's 10,000-result offset limit). After the first page tells
        the total and the server's real page size, the rest of the id range is planned from
        Jira's own counts (``_plan_partitions``), so that every partition holds about one page
        however the ids are spread, and the partitions are fetched concurrently within
        maxConcurrentRequests and yielded in order.
        """
        where = strip_order_by(jql)
        first = await self.search_issues(
            keyset_query(where), max_results=self.settings.page_size, fields=fields, expand=expand
        )
        issues: Page = first["issues"]
        page_size = _effective_page_size(first, self.settings.page_size)
        total = int(first.get("total", len(issues)))
        if report_total:
            report_expected(total)
        if not issues:
            return
        _check_ascending(issues, None)
        yield issues
        if total <= len(issues):
            return
        last_id = _issue_id(issues[-1])
        highest = await self.search_issues(
            highest_id_query(where), max_results=1, fields=["id"], expand=None
        )
        top_id = _issue_id(highest["issues"][0]) if highest["issues"] else last_id
        partitions = await self._plan_partitions(
            where, last_id, top_id, total - len(issues), page_size
        )
        logger.info(
            f"Fetching ~{total} issues: {len(partitions)} id partitions, page size {page_size}, "
            f"up to {self.settings.max_concurrent_requests} requests in flight"
        )
        async for page in self._fetch_partitions(where, partitions, page_size, fields, expand):
            yield page

    async def fetch_issues_by_id(
        self,
        jql: str,
        ids: Sequence[int],
        *,
        fields: Sequence[str] | None,
        expand: Sequence[str] | None,
    ) -> AsyncIterator[Page]:
        """The issues of ``ids`` (sorted, in chunks of a page) that ``jql`` selects now."""
        ordered = sorted({int(i) for i in ids})
        chunk = min(self.settings.page_size, BY_ID_CHUNK)
        queries = [
            narrowed(jql, "id in (" + ", ".join(str(i) for i in ordered[n : n + chunk]) + ")")
            for n in range(0, len(ordered), chunk)
        ]
        step = self.settings.max_concurrent_requests
        for first in range(0, len(queries), step):
            answers = await asyncio.gather(
                *(self._collect(q, fields, expand) for q in queries[first : first + step])
            )
            for pages in answers:
                for page in pages:
                    yield page

    async def _collect(
        self, jql: str, fields: Sequence[str] | None, expand: Sequence[str] | None
    ) -> list[Page]:
        pages = self.fetch_issues(jql, fields=fields, expand=expand, report_total=False)
        return [page async for page in pages]

    async def _plan_partitions(
        self, where: str, after_id: int, top_id: int, rest: int, page_size: int
    ) -> list[Partition]:
        """Split ``(after_id, top_id]`` by Jira's counts until every range holds at most about
        a page (or is a single id), dropping empty ranges: ids spread unevenly (a bulk import,
        a project moved in from another instance) cost a few cheap count requests instead of
        hundreds of empty partitions or of pages read one after another. A range's last part
        is counted as the rest of its parent. The final partition is open, for issues
        created meanwhile."""
        if top_id <= after_id:
            return [Partition(after_id, None, None)]
        target = max(1, math.floor(page_size * PARTITION_FILL))
        final: list[Partition] = []
        level: list[tuple[int, int, int]] = [(after_id, top_id, rest)]
        fanout = PLAN_FIRST_FANOUT
        while level:
            splits: list[list[tuple[int, int]]] = []
            for lower, upper, count in level:
                if count == 0:
                    continue
                if count <= target or upper - lower <= 1:
                    final.append(Partition(lower, upper, count))
                    continue
                parts = min(fanout, upper - lower, math.ceil(count / target) + 1)
                width = math.ceil((upper - lower) / parts)
                bounds = [(b, min(b + width, upper)) for b in range(lower, upper, width)]
                splits.append(bounds)
                # The last part's count is what the parent's count leaves.
                bounds.append((-1, count))
            level = await self._count_splits(where, splits)
            fanout = PLAN_FANOUT
        final.sort(key=lambda p: p.after_id)
        final.append(Partition(top_id, None, None))
        return final

    async def _count_splits(
        self, where: str, splits: list[list[tuple[int, int]]]
    ) -> list[tuple[int, int, int]]:
        """Count every part but the last of each split (its parent's count is appended to the
        split as ``(-1, count)``)."""
        asked = [(a, b) for parts in splits for a, b in parts[:-2]]
        counts: dict[tuple[int, int], int] = {}
        step = self.settings.max_concurrent_requests * 2
        for first in range(0, len(asked), step):
            batch = asked[first : first + step]
            answers = await asyncio.gather(
                *(self.count_issues(keyset_query(where, a, b)) for a, b in batch)
            )
            counts.update(zip(batch, answers, strict=True))
        level: list[tuple[int, int, int]] = []
        for parts in splits:
            *ranges, (_, parent) = parts
            known = [counts[r] for r in ranges[:-1]]
            rest = parent - sum(known)
            last = ranges[-1]
            if rest < 0:  # issues appeared since the parent was counted
                rest = await self.count_issues(keyset_query(where, *last))
            level.extend((a, b, c) for (a, b), c in zip(ranges, [*known, rest], strict=True))
        return level

    async def _fetch_partitions(
        self,
        where: str,
        partitions: list[Partition],
        page_size: int,
        fields: Sequence[str] | None,
        expand: Sequence[str] | None,
    ) -> AsyncIterator[Page]:
        # Partitions are fetched side by side, a window ahead of the consumer that adapts to
        # its pace (see jira_server.client.prefetch), and yielded in id order.
        window = PrefetchWindow(self.settings.max_concurrent_requests)
        pending: deque[asyncio.Task[list[Page]]] = deque()
        queue = deque(partitions)
        try:
            while queue or pending:
                while queue and len(pending) < window.size:
                    partition = queue.popleft()
                    pending.append(
                        asyncio.create_task(
                            self._fetch_partition(where, partition, page_size, fields, expand)
                        )
                    )
                head = pending.popleft()
                window.record(consumer_waited=not head.done())
                for page in await head:
                    yield page
        finally:
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)

    async def _fetch_partition(
        self,
        where: str,
        partition: Partition,
        page_size: int,
        fields: Sequence[str] | None,
        expand: Sequence[str] | None,
    ) -> list[Page]:
        """One id range, page by page. It ends only where Jira says so: a page that holds
        everything Jira counts after its lower bound (its own ``total``), an empty page, or
        the range's upper bound. A short page is not an end (a stale index or a filtering
        proxy answers fewer than ``maxResults`` mid-range); an empty page while Jira still
        counts issues in the range is an error."""
        pages: list[Page] = []
        received, after_id, promised = 0, partition.after_id, 0
        while True:
            body = await self.search_issues(
                keyset_query(where, after_id, partition.up_to_id),
                max_results=page_size,
                fields=fields,
                expand=expand,
            )
            issues: Page = body["issues"]
            if not issues:
                if received < promised:
                    await self._recount(where, partition, received)
                return pages
            _check_ascending(issues, after_id)
            pages.append(issues)
            remaining = int(body.get("total", len(issues)))
            promised = received + remaining
            received += len(issues)
            after_id = _issue_id(issues[-1])
            if len(issues) >= remaining:
                return pages
            if partition.up_to_id is not None and after_id >= partition.up_to_id:
                return pages

    async def _recount(self, where: str, partition: Partition, received: int) -> None:
        """Jira counted more issues in the range than its pages held: if it still does, pages
        lost issues (data that changed meanwhile lowers the count instead)."""
        now = await self.count_issues(keyset_query(where, partition.after_id, partition.up_to_id))
        if now > received:
            bound = partition.up_to_id if partition.up_to_id is not None else "…"
            raise PartialResultError(
                f"Jira counts {now} issues with ids in ({partition.after_id}, {bound}] but its "
                f"pages returned {received} (a page came back short mid-range: a stale index or "
                "a filtering proxy?); refusing to treat the rest as deleted"
            )

    # ---- single objects ---------------------------------------------------------------

    async def fetch_board(self, board_id: str) -> dict[str, Any]:
        body: dict[str, Any] = await self.request_json(
            "GET", f"{AGILE}/board/{path_segment(board_id)}"
        )
        return body

    async def fetch_sprint(self, sprint_id: str) -> dict[str, Any]:
        body: dict[str, Any] = await self.request_json(
            "GET", f"{AGILE}/sprint/{path_segment(sprint_id)}"
        )
        return body

    async def fetch_version(self, version_id: str) -> dict[str, Any]:
        body: dict[str, Any] = await self.request_json(
            "GET", f"/version/{path_segment(version_id)}"
        )
        return body

    async def fetch_component(self, component_id: str) -> dict[str, Any]:
        body: dict[str, Any] = await self.request_json(
            "GET", f"/component/{path_segment(component_id)}"
        )
        return body


@dataclass(frozen=True)
class Partition:
    after_id: int
    up_to_id: int | None  # None: open (issues created during the read)
    count: int | None  # what Jira counted in the range when it was planned (for the log)


def project_of_key(key: str) -> str:
    """``PLAT-12`` -> ``PLAT``."""
    return key.rsplit("-", 1)[0]


def _check_issue(issue: Any, with_fields: bool) -> None:
    """What every Jira issue has; an item without it is a malformed response (mapping it
    would overwrite the catalog's data with nulls)."""
    if not isinstance(issue, dict):
        raise JiraResponseError("a search page holds an item that is not an issue object")
    _issue_id(issue)
    if not isinstance(issue.get("key"), str) or not issue["key"]:
        raise JiraResponseError(f"issue {issue.get('id')} in a search page has no key")
    if with_fields and not isinstance(issue.get("fields"), dict):
        raise JiraResponseError(
            f"issue {issue['key']} in a search page has no fields: a malformed response "
            "(refusing to map it to an entity of nulls)"
        )


def _plain_http_answer(error: ssl.SSLError) -> bool:
    """The TLS handshake met a server that does not speak TLS."""
    text = f"{error.reason or ''} {error}".upper()
    return any(
        marker in text for marker in ("WRONG_VERSION_NUMBER", "HTTP_REQUEST", "RECORD_LAYER")
    )


def path_segment(value: str) -> str:
    """One URL path segment: every character but the unreserved ones is percent-encoded
    (``/`` included), so a value can never add a ``/`` or ``..`` to the path."""
    return quote(value, safe="")


def _html_title(text: str) -> str | None:
    match = re.search(r"<title>(.*?)</title>", text, re.IGNORECASE | re.DOTALL)
    if match is None:
        return None
    return match.group(1).strip() or None


def _retried(response: httpx.Response) -> str:
    retries = response.extensions.get(RETRIES) or 0
    if response.status_code == 429:
        return (
            f" (rate limited; gave up after {retries} retries: lower maxConcurrentRequests or "
            "ask a Jira administrator to raise the sync user's rate limit)"
        )
    return f" (after {retries} retries)" if retries else ""


def no_projects_error(*, archived_excluded: bool = False) -> JiraPermissionError:
    """Jira hides what the user may not browse instead of refusing: an empty project list is
    a missing permission, and passing it on would empty the catalog."""
    return JiraPermissionError(
        "Jira returned no projects: the user needs the 'Browse Projects' permission on the "
        "projects to sync" + (" (archived ones excluded)" if archived_excluded else "")
    )


def no_users_error() -> JiraPermissionError:
    # The syncing user itself exists, so an empty answer is a missing permission.
    return JiraPermissionError(
        "Jira lists no users: the user needs the 'Browse users and groups' global "
        "permission to sync the user kind"
    )


def _require_users(count: int) -> None:
    if count == 0:
        raise no_users_error()


def _describe_unknown_field(name: str, known: list[dict[str, Any]]) -> str:
    by_label = {str(f.get("name", "")).lower(): str(f.get("id")) for f in known}
    labels = {str(f.get("id")): str(f.get("name", "")) for f in known}
    guesses = difflib.get_close_matches(name.lower(), list(by_label), n=2, cutoff=0.6)
    guesses += difflib.get_close_matches(name, list(labels), n=2, cutoff=0.6)
    hints = sorted({by_label.get(g, g) for g in guesses})
    suggestion = ", ".join(f".fields.{h} ({labels.get(h, h)})" for h in hints)
    return f".fields.{name}" + (f" (did you mean {suggestion}?)" if suggestion else "")


def _effective_page_size(page: dict[str, Any], requested: int) -> int:
    """Jira lowers maxResults silently to its cap; the response tells the value used."""
    try:
        used = int(page.get("maxResults", requested))
    except (TypeError, ValueError):
        return requested
    return max(1, min(used, requested)) if used > 0 else requested


def _issue_id(issue: dict[str, Any]) -> int:
    try:
        return int(issue["id"])
    except (KeyError, TypeError, ValueError):
        raise JiraResponseError(
            f"Issue without a numeric id in a search page: {issue.get('key')}"
        ) from None


def _check_ascending(issues: Page, after_id: int | None) -> None:
    """Keyset paging is only sound if Jira really sorted by id; never skip silently."""
    previous = after_id
    for issue in issues:
        current = _issue_id(issue)
        if previous is not None and current <= previous:
            raise PartialResultError(
                f"Jira did not return issues in ascending id order (id {current} after "
                f"{previous}); refusing to continue a keyset scan that could skip issues"
            )
        previous = current
