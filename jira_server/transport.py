"""Retry and throttling as an httpx transport layer, below auth and above the network.

- Retries 429, 502, 503, 504 and connection/read errors with jittered exponential backoff,
  honouring ``Retry-After``. Never 401 or 403 (credentials do not heal; Basic failures count
  towards CAPTCHA lock-out) and never 500 (Jira's 500s are mostly deterministic, e.g. the
  deep-offset "Search limit exceeded").
- Writes (requests carrying the ``WRITE`` extension) are retried only where Jira cannot have
  acted on them: 429 and connections that never opened. A retried create after a 502 or a
  dropped response could create the issue twice.
- Reads the body inside the retry loop, so a connection dropped mid-page is retried too.
- Follows Data Center's rate-limit headers (``X-RateLimit-Remaining``/``-FillRate``/
  ``-Interval-Seconds``) and waits before sending when the bucket is nearly empty, so a
  rate-limited Jira sees few 429s.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

import httpx
from loguru import logger

RETRY_STATUSES = frozenset({429, 502, 503, 504})
RETRY_EXCEPTIONS = (httpx.TransportError,)
# The request never reached Jira: safe to resend even a write.
NOT_SENT_EXCEPTIONS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# Request extension marking a non-idempotent write (see the module docstring).
WRITE = "jira_sync_write"
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 6
    base_delay: float = 0.5
    max_delay: float = 30.0
    # A Retry-After above this is a maintenance window, not a hiccup: fail loudly instead.
    max_retry_after: float = 120.0

    def backoff(self, attempt: int, rng: random.Random) -> float:
        ceiling = min(self.max_delay, self.base_delay * (2**attempt))
        return float(ceiling / 2 + rng.uniform(0, ceiling / 2))


def parse_retry_after(value: str | None) -> float | None:
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
    return max(0.0, when.timestamp() - time.time())


class RateLimitThrottle:
    """A local estimate of Jira's per-user token bucket, fed by response headers."""

    def __init__(self, sleep: Sleep = asyncio.sleep, reserve: float = 1.0) -> None:
        self._sleep = sleep
        self._reserve = reserve
        self._tokens: float | None = None  # unknown until Jira tells us
        self._fill_per_second = 0.0
        self._updated = time.monotonic()
        self._lock = asyncio.Lock()
        self.waits = 0
        self.waited_seconds = 0.0

    def observe(self, response: httpx.Response) -> None:
        headers = response.headers
        remaining = headers.get("X-RateLimit-Remaining")
        if remaining is None:
            return
        try:
            tokens = float(remaining)
            fill = float(headers.get("X-RateLimit-FillRate", "0"))
            interval = float(headers.get("X-RateLimit-Interval-Seconds", "1") or 1)
        except ValueError:
            return
        self._fill_per_second = fill / interval if interval > 0 else 0.0
        self._tokens = tokens
        self._updated = time.monotonic()

    def exhausted(self) -> None:
        self._tokens = 0.0
        self._updated = time.monotonic()

    async def acquire(self) -> None:
        async with self._lock:
            if self._tokens is None or self._fill_per_second <= 0:
                return
            now = time.monotonic()
            available = self._tokens + (now - self._updated) * self._fill_per_second
            self._updated = now
            if available < 1 + self._reserve:
                wait = (1 + self._reserve - available) / self._fill_per_second
                self.waits += 1
                self.waited_seconds += wait
                await self._sleep(wait)
                available += wait * self._fill_per_second
                self._updated = time.monotonic()
            self._tokens = available - 1


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
        write = bool(request.extensions.get(WRITE))
        while True:
            if self._throttle is not None:
                await self._throttle.acquire()
            try:
                response = await self._wrapped.handle_async_request(request)
                await response.aread()
            except RETRY_EXCEPTIONS as exc:
                if attempt >= self._policy.max_retries or (
                    write and not isinstance(exc, NOT_SENT_EXCEPTIONS)
                ):
                    raise
                delay = self._policy.backoff(attempt, self._rng)
                logger.warning(
                    f"Jira request {request.method} {request.url.path} failed "
                    f"({type(exc).__name__}); retry {attempt + 1}/{self._policy.max_retries} "
                    f"in {delay:.1f}s"
                )
            else:
                if self._throttle is not None:
                    self._throttle.observe(response)
                if response.status_code not in RETRY_STATUSES or (
                    write and response.status_code != 429
                ):
                    return response
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                if response.status_code == 429 and self._throttle is not None:
                    self._throttle.exhausted()
                if attempt >= self._policy.max_retries or (
                    retry_after is not None and retry_after > self._policy.max_retry_after
                ):
                    return response
                delay = self._policy.backoff(attempt, self._rng)
                if retry_after is not None:
                    # Retry-After is a floor; jitter spreads the concurrent waiters.
                    delay = retry_after + self._rng.uniform(0, self._policy.base_delay)
                logger.warning(
                    f"Jira answered {response.status_code} to {request.method} "
                    f"{request.url.path}; retry {attempt + 1}/{self._policy.max_retries} "
                    f"in {delay:.1f}s"
                )
            attempt += 1
            self.retries += 1
            await self._sleep(delay)

    async def aclose(self) -> None:
        await self._wrapped.aclose()
