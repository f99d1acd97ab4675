"""Retry and throttling as an httpx transport layer, below auth and above the network.

- Retries 429, 502, 503, 504 and connection/read errors with jittered exponential backoff,
  honouring ``Retry-After`` (seconds or an HTTP date). Never 401 or 403 (credentials do not
  heal; Basic failures count towards CAPTCHA lock-out), never a TLS failure (a certificate
  that failed verification, https:// spoken to a plain-HTTP port).
- 500 is ambiguous: a sick node behind Data Center's load balancer answers 500 for a moment,
  while some 500s are deterministic (the deep-offset "Search limit exceeded", which keyset
  paging never triggers). Reads get a small budget (``max_500_retries``); writes and the
  known deterministic answers get none.
- Writes (requests carrying the ``WRITE`` extension) are retried only where Jira cannot have
  acted on them: 429 and connections that never opened. A retried create after a 502 or a
  dropped response could create the issue twice.
- Reads the body inside the retry loop, so a connection dropped mid-page is retried too.
- Follows Data Center's rate-limit headers (``X-RateLimit-Remaining``/``-Limit``/``-FillRate``/
  ``-Interval-Seconds``) and waits before sending when the bucket is nearly empty, so a
  rate-limited Jira sees few 429s; a ``Retry-After`` pauses every sender, not just the one
  that got it.
- Each response carries the number of retries it took in ``response.extensions[RETRIES]``,
  so error messages can say that retries were exhausted.
"""

from __future__ import annotations

import asyncio
import random
import ssl
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

import httpx
from loguru import logger

RETRY_STATUSES = frozenset({429, 502, 503, 504})
RETRY_EXCEPTIONS = (httpx.TransportError,)
# The request never reached Jira: safe to resend even a write.
NOT_SENT_EXCEPTIONS = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.ProxyError,
)
# 500 bodies that come back the same however often they are asked for.
DETERMINISTIC_500 = ("Search limit exceeded",)
# Request extension marking a non-idempotent write (see the module docstring).
WRITE = "jira_sync_write"
# Response extension: how many retries the request took before this answer.
RETRIES = "jira_sync_retries"
Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 6
    max_500_retries: int = 2
    base_delay: float = 0.5
    max_delay: float = 30.0
    # A Retry-After above this is a maintenance window, not a hiccup: fail loudly instead.
    max_retry_after: float = 120.0

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Equal jitter: half the exponential ceiling, plus a random share of the other half
        (concurrent requests failing together do not come back together)."""
        ceiling = min(self.max_delay, self.base_delay * (2**attempt))
        return float(ceiling / 2 + rng.uniform(0, ceiling / 2))


def parse_retry_after(value: str | None, now: Clock = time.time) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now())


def cause_of_type[E: BaseException](exc: BaseException, kind: type[E]) -> E | None:
    """The first exception of ``kind`` in ``exc``'s chain of causes (httpx wraps the
    network's exceptions, sometimes twice), or None."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, kind):
            return cause
        cause = cause.__cause__ or cause.__context__
    return None


class RateLimitThrottle:
    """A local estimate of Jira's per-user token bucket, fed by response headers.

    The server's ``X-RateLimit-Remaining`` does not count the requests still in flight that
    it had not seen yet, so they are subtracted from it: conservative, and exact once the
    sender is paced (then almost nothing is in flight)."""

    def __init__(
        self, sleep: Sleep = asyncio.sleep, reserve: float = 1.0, clock: Clock = time.monotonic
    ) -> None:
        self._sleep = sleep
        self._clock = clock
        self._reserve = reserve
        self._tokens: float | None = None  # unknown until Jira tells us
        self._capacity: float | None = None
        self._fill_per_second = 0.0
        self._updated = clock()
        self._blocked_until = 0.0
        self._in_flight = 0
        self._lock = asyncio.Lock()
        self.waits = 0
        self.waited_seconds = 0.0

    def observe(self, response: httpx.Response) -> None:
        """Read the bucket from a response; call before ``release`` of the same request."""
        headers = response.headers
        remaining = headers.get("X-RateLimit-Remaining")
        if remaining is None:
            return
        try:
            tokens = float(remaining)
            fill = float(headers.get("X-RateLimit-FillRate", "0"))
            interval = float(headers.get("X-RateLimit-Interval-Seconds", "1") or 1)
            limit = headers.get("X-RateLimit-Limit")
            capacity = float(limit) if limit else None
        except ValueError:
            return
        self._fill_per_second = fill / interval if interval > 0 else 0.0
        self._capacity = capacity
        self._tokens = tokens - max(0, self._in_flight - 1)
        self._updated = self._clock()

    def exhausted(self) -> None:
        """A 429: whatever the estimate said, nothing is left."""
        if self._tokens is not None:
            self._tokens = min(self._tokens, 0.0)
            self._updated = self._clock()

    def pause(self, seconds: float) -> None:
        """Jira asked for ``Retry-After``: nobody sends before it has passed."""
        self._blocked_until = max(self._blocked_until, self._clock() + seconds)

    def release(self) -> None:
        self._in_flight = max(0, self._in_flight - 1)

    async def acquire(self) -> None:
        async with self._lock:
            blocked = self._blocked_until - self._clock()
            if blocked > 0:
                await self._wait(blocked)
            if self._tokens is not None and self._fill_per_second > 0:
                available = self._available()
                if available < 1 + self._reserve:
                    await self._wait((1 + self._reserve - available) / self._fill_per_second)
                    available = self._available()
                self._tokens = available - 1
            self._in_flight += 1

    def _available(self) -> float:
        now = self._clock()
        assert self._tokens is not None
        available = self._tokens + (now - self._updated) * self._fill_per_second
        if self._capacity is not None:
            available = min(available, self._capacity)
        self._tokens, self._updated = available, now
        return available

    async def _wait(self, seconds: float) -> None:
        self.waits += 1
        self.waited_seconds += seconds
        await self._sleep(seconds)


class RetryingTransport(httpx.AsyncBaseTransport):
    def __init__(
        self,
        wrapped: httpx.AsyncBaseTransport,
        policy: RetryPolicy,
        throttle: RateLimitThrottle | None = None,
        *,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self._wrapped = wrapped
        self._policy = policy
        self._throttle = throttle
        self._sleep = sleep
        self._rng = rng or random.Random()
        self.retries = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        attempt = 0
        errors_500 = 0
        write = bool(request.extensions.get(WRITE))
        while True:
            response = await self._send(request, attempt, write)
            if response is None:  # a connection error worth retrying
                delay = self._policy.backoff(attempt, self._rng)
            else:
                status = response.status_code
                errors_500 += status == 500
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                if self._throttle is not None:
                    if status == 429:
                        self._throttle.exhausted()
                    if retry_after and retry_after <= self._policy.max_retry_after:
                        self._throttle.pause(retry_after)
                if not self._worth_retrying(response, write, attempt, errors_500, retry_after):
                    response.extensions[RETRIES] = attempt
                    return response
                delay = self._policy.backoff(attempt, self._rng)
                if retry_after is not None:
                    # Retry-After is a floor; jitter spreads the concurrent waiters.
                    delay = retry_after + self._rng.uniform(0, self._policy.base_delay)
                logger.warning(
                    f"Jira answered {status} to {request.method} {request.url.path}; "
                    f"retry {attempt + 1}/{self._policy.max_retries} in {delay:.1f}s"
                )
            attempt += 1
            self.retries += 1
            await self._sleep(delay)

    async def _send(
        self, request: httpx.Request, attempt: int, write: bool
    ) -> httpx.Response | None:
        """One attempt, body included. None: a connection error that may be retried."""
        if self._throttle is not None:
            await self._throttle.acquire()
        try:
            response = await self._wrapped.handle_async_request(request)
            await response.aread()
            if self._throttle is not None:
                self._throttle.observe(response)
            return response
        except RETRY_EXCEPTIONS as exc:
            if (
                attempt >= self._policy.max_retries
                or (write and not isinstance(exc, NOT_SENT_EXCEPTIONS))
                # TLS failures do not heal: a certificate that fails verification, or a
                # plain-HTTP port spoken to with https://.
                or cause_of_type(exc, ssl.SSLError) is not None
                # A proxy that wants (other) credentials does not change its mind either.
                or (isinstance(exc, httpx.ProxyError) and "407" in str(exc))
            ):
                raise
            logger.warning(
                f"Jira request {request.method} {request.url.path} failed "
                f"({type(exc).__name__}: {exc}); retry {attempt + 1}/{self._policy.max_retries}"
            )
            return None
        finally:
            if self._throttle is not None:
                self._throttle.release()

    def _worth_retrying(
        self,
        response: httpx.Response,
        write: bool,
        attempt: int,
        errors_500: int,
        retry_after: float | None,
    ) -> bool:
        status = response.status_code
        if attempt >= self._policy.max_retries:
            return False
        if retry_after is not None and retry_after > self._policy.max_retry_after:
            return False
        if status == 500:
            return (
                not write
                and errors_500 <= self._policy.max_500_retries
                and not any(marker in response.text for marker in DETERMINISTIC_500)
            )
        return status in RETRY_STATUSES and (not write or status == 429)

    async def aclose(self) -> None:
        await self._wrapped.aclose()
