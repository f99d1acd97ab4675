"""Retries, backoff and throttling of jira_server.client.transport, on a fake clock where timing
matters (no test here sleeps for real except the concurrent token-bucket one, ~1 s)."""

from __future__ import annotations

import asyncio
import email.utils
import random
import ssl
import time
from collections.abc import AsyncIterator, Callable, Sequence

import httpx
import pytest

from jira_server.client.transport import (
    RETRIES,
    WRITE,
    RateLimitThrottle,
    RetryingTransport,
    RetryPolicy,
    parse_retry_after,
)

URL = "https://jira.test/rest/api/2/search"
Reply = httpx.Response | Exception


class FakeClock:
    """Sleeping records the delay and moves the clock on by it."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.delays: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, delay: float) -> None:
        self.delays.append(delay)
        self.now += delay
        await asyncio.sleep(0)


class Scripted(httpx.AsyncBaseTransport):
    """Answers from a script, one entry per request; records what was sent."""

    def __init__(self, replies: Sequence[Reply] | Callable[[httpx.Request], Reply]) -> None:
        self.replies = replies if callable(replies) else list(replies)
        self.requests: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        reply = self.replies(request) if callable(self.replies) else self.replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        return reply


class DroppedBody(httpx.AsyncByteStream):
    """Half a body, then the connection closes (as a proxy or a dying node does)."""

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield b'{"issues": [{"id": "1'
        raise httpx.RemoteProtocolError("peer closed connection without sending complete body")


def transport(
    replies: Sequence[Reply] | Callable[[httpx.Request], Reply],
    clock: FakeClock,
    *,
    max_retries: int = 6,
    throttle: RateLimitThrottle | None = None,
) -> tuple[RetryingTransport, Scripted]:
    script = Scripted(replies)
    retrying = RetryingTransport(
        script,
        RetryPolicy(max_retries=max_retries),
        throttle,
        sleep=clock.sleep,
        rng=random.Random(5),
    )
    return retrying, script


async def send(
    retrying: RetryingTransport, *, method: str = "POST", write: bool = False
) -> httpx.Response:
    async with httpx.AsyncClient(transport=retrying) as http:
        return await http.request(method, URL, extensions={WRITE: True} if write else None)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


# ---- Retry-After and backoff ------------------------------------------------------------------


async def test_retry_after_seconds_is_a_floor(clock: FakeClock) -> None:
    retrying, script = transport(
        [httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(200)], clock
    )
    assert (await send(retrying)).status_code == 200
    assert len(script.requests) == 2
    [delay] = clock.delays
    assert 7 <= delay <= 7.5  # the floor plus at most base_delay of jitter


async def test_retry_after_http_date() -> None:
    now = 1_700_000_000.0
    in_twelve = email.utils.formatdate(now + 12, usegmt=True)
    assert parse_retry_after(in_twelve, now=lambda: now) == pytest.approx(12)
    assert parse_retry_after(email.utils.formatdate(now - 60, usegmt=True), now=lambda: now) == 0
    assert parse_retry_after("soon") is None
    assert parse_retry_after("") is None


async def test_retry_after_http_date_through_the_transport(clock: FakeClock) -> None:
    date = email.utils.formatdate(time.time() + 10, usegmt=True)
    retrying, _ = transport(
        [httpx.Response(503, headers={"Retry-After": date}), httpx.Response(200)], clock
    )
    assert (await send(retrying)).status_code == 200
    [delay] = clock.delays
    assert 8.5 <= delay <= 10.5  # whole seconds in the header, a little jitter on top


async def test_429_without_retry_after_backs_off_exponentially_with_jitter(
    clock: FakeClock,
) -> None:
    retrying, _ = transport([httpx.Response(429)] * 5 + [httpx.Response(200)], clock)
    assert (await send(retrying)).status_code == 200
    policy = RetryPolicy()
    assert len(clock.delays) == 5
    for attempt, delay in enumerate(clock.delays):
        ceiling = min(policy.max_delay, policy.base_delay * 2**attempt)
        assert ceiling / 2 <= delay <= ceiling, (attempt, delay)


def test_backoff_is_jittered_and_capped() -> None:
    policy = RetryPolicy(max_delay=30.0)
    rng = random.Random(1)
    delays = [policy.backoff(3, rng) for _ in range(50)]
    assert len(set(delays)) == 50  # concurrent failures do not come back in lockstep
    assert all(2.0 <= d <= 4.0 for d in delays)
    assert all(15.0 <= policy.backoff(20, rng) <= 30.0 for _ in range(20))


async def test_long_retry_after_fails_instead_of_hanging(clock: FakeClock) -> None:
    retrying, script = transport([httpx.Response(503, headers={"Retry-After": "3600"})], clock)
    response = await send(retrying)
    assert response.status_code == 503 and len(script.requests) == 1 and clock.delays == []


async def test_gives_up_after_max_retries_and_says_so(clock: FakeClock) -> None:
    retrying, script = transport([httpx.Response(502)] * 4, clock, max_retries=3)
    response = await send(retrying)
    assert response.status_code == 502
    assert len(script.requests) == 4
    assert response.extensions[RETRIES] == 3


async def test_max_retries_zero_sends_once(clock: FakeClock) -> None:
    retrying, script = transport([httpx.Response(503)], clock, max_retries=0)
    assert (await send(retrying)).status_code == 503
    assert len(script.requests) == 1


# ---- which failures are retried ---------------------------------------------------------------


async def test_connection_dropped_mid_body_is_retried(clock: FakeClock) -> None:
    half = httpx.Response(200, headers={"Content-Length": "200"}, stream=DroppedBody())
    retrying, script = transport([half, httpx.Response(200, json={"issues": []})], clock)
    response = await send(retrying)
    assert response.json() == {"issues": []}
    assert len(script.requests) == 2


async def test_connection_errors_are_retried_then_raised(clock: FakeClock) -> None:
    retrying, script = transport([httpx.ConnectError("refused")] * 3, clock, max_retries=2)
    with pytest.raises(httpx.ConnectError):
        await send(retrying)
    assert len(script.requests) == 3 and len(clock.delays) == 2


async def test_rejected_certificate_is_not_retried(clock: FakeClock) -> None:
    error = httpx.ConnectError("certificate verify failed")
    error.__cause__ = ssl.SSLCertVerificationError("self-signed certificate")
    retrying, script = transport([error], clock)
    with pytest.raises(httpx.ConnectError):
        await send(retrying)
    assert len(script.requests) == 1


async def test_500_on_a_read_gets_a_small_budget(clock: FakeClock) -> None:
    sick = httpx.Response(500, json={"errorMessages": ["NullPointerException"]})
    retrying, script = transport([sick, sick, httpx.Response(200)], clock)
    assert (await send(retrying)).status_code == 200  # a sick node, then a healthy one

    retrying, script = transport([sick] * 10, clock)
    assert (await send(retrying)).status_code == 500
    assert len(script.requests) == 1 + RetryPolicy().max_500_retries


async def test_deterministic_500_is_not_retried(clock: FakeClock) -> None:
    limit = httpx.Response(500, json={"errorMessages": ["Search limit exceeded."]})
    retrying, script = transport([limit], clock)
    assert (await send(retrying)).status_code == 500
    assert len(script.requests) == 1


@pytest.mark.parametrize(
    "reply",
    [
        httpx.Response(500),
        httpx.Response(502),
        httpx.Response(503),
        httpx.Response(504),
        httpx.ReadError("connection reset after the request was sent"),
    ],
)
async def test_writes_are_not_resent_once_jira_may_have_acted(
    clock: FakeClock, reply: Reply
) -> None:
    retrying, script = transport([reply], clock)
    if isinstance(reply, Exception):
        with pytest.raises(httpx.ReadError):
            await send(retrying, write=True)
    else:
        assert (await send(retrying, write=True)).status_code == reply.status_code
    assert len(script.requests) == 1


async def test_writes_are_resent_when_jira_cannot_have_acted(clock: FakeClock) -> None:
    replies: list[Reply] = [
        httpx.Response(429, headers={"Retry-After": "1"}),
        httpx.ConnectError("refused"),
        httpx.Response(201),
    ]
    retrying, script = transport(replies, clock)
    assert (await send(retrying, write=True)).status_code == 201
    assert len(script.requests) == 3


@pytest.mark.parametrize("status", [400, 401, 403, 404])
async def test_client_errors_are_never_retried(clock: FakeClock, status: int) -> None:
    retrying, script = transport([httpx.Response(status)], clock)
    assert (await send(retrying, method="GET")).status_code == status
    assert len(script.requests) == 1


# ---- the rate-limit throttle ------------------------------------------------------------------


def limited(remaining: int, *, fill: int = 2, interval: int = 1, limit: int = 10) -> httpx.Response:
    return httpx.Response(
        200,
        headers={
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-FillRate": str(fill),
            "X-RateLimit-Interval-Seconds": str(interval),
        },
    )


async def test_throttle_waits_for_a_token_before_sending(clock: FakeClock) -> None:
    throttle = RateLimitThrottle(sleep=clock.sleep, clock=clock)
    retrying, script = transport([limited(0, fill=4, interval=2)] * 3, clock, throttle=throttle)
    await send(retrying)  # unknown bucket: no wait
    assert clock.delays == []
    await send(retrying)  # 0 left, 2 tokens/s, one kept in reserve: 1 s
    assert clock.delays == [pytest.approx(1.0)]
    assert throttle.waits == 1 and len(script.requests) == 2


async def test_throttle_counts_requests_still_in_flight(clock: FakeClock) -> None:
    throttle = RateLimitThrottle(sleep=clock.sleep, clock=clock)
    for _ in range(3):
        await throttle.acquire()  # three requests on their way
    # The first answer says 3 left, but the server had not seen the two others yet.
    throttle.observe(limited(3, fill=1))
    throttle.release()
    await throttle.acquire()  # 3 - 2 in flight = 1 < 1 + reserve: wait 1 s
    assert clock.delays == [pytest.approx(1.0)]


async def test_throttle_never_counts_more_than_the_bucket_holds(clock: FakeClock) -> None:
    throttle = RateLimitThrottle(sleep=clock.sleep, clock=clock)
    await throttle.acquire()
    throttle.observe(limited(10, fill=1, limit=10))
    throttle.release()
    clock.now += 3600  # idle for an hour: still only 10 tokens
    for _ in range(9):
        await throttle.acquire()
        throttle.release()
    assert clock.delays == []
    await throttle.acquire()
    assert clock.delays == [pytest.approx(1.0)]


async def test_retry_after_pauses_every_sender(clock: FakeClock) -> None:
    throttle = RateLimitThrottle(sleep=clock.sleep, clock=clock)
    retrying, _ = transport(
        [httpx.Response(503, headers={"Retry-After": "5"}), httpx.Response(200)],
        clock,
        throttle=throttle,
    )
    assert (await send(retrying)).status_code == 200
    clock.delays.clear()
    clock.now -= 4.0  # another request, sent while the first was still waiting
    await throttle.acquire()
    assert clock.delays == [pytest.approx(4.0, abs=0.5)]


async def test_a_maintenance_window_does_not_block_later_requests(clock: FakeClock) -> None:
    throttle = RateLimitThrottle(sleep=clock.sleep, clock=clock)
    retrying, _ = transport(
        [httpx.Response(503, headers={"Retry-After": "3600"}), httpx.Response(200)],
        clock,
        throttle=throttle,
    )
    assert (await send(retrying)).status_code == 503  # reported, not waited for
    assert (await send(retrying)).status_code == 200  # the next resync is not held an hour
    assert clock.delays == []


class TokenBucket:
    """Data Center's per-user bucket, on the real clock, answering like Jira."""

    def __init__(self, capacity: int, fill_per_second: float) -> None:
        self.capacity, self.fill = capacity, fill_per_second
        self.tokens, self.updated = float(capacity), time.monotonic()
        self.rejected = self.served = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.fill)
        self.updated = now
        allowed = self.tokens >= 1
        if allowed:
            self.tokens -= 1
            self.served += 1
        else:
            self.rejected += 1
        headers = {
            "X-RateLimit-Limit": str(self.capacity),
            "X-RateLimit-Remaining": str(int(self.tokens)),
            "X-RateLimit-FillRate": str(self.fill),
            "X-RateLimit-Interval-Seconds": "1",
            "Retry-After": "1" if not allowed else "0",
        }
        return httpx.Response(200 if allowed else 429, headers=headers)


async def burst(throttled: bool) -> TokenBucket:
    """80 requests, 8 at a time, against a bucket of 5 refilled at 100/s (~0.8 s)."""
    bucket = TokenBucket(capacity=5, fill_per_second=100)
    throttle = RateLimitThrottle() if throttled else None
    retrying = RetryingTransport(
        Scripted(bucket), RetryPolicy(max_retries=0), throttle, rng=random.Random(1)
    )
    slots = asyncio.Semaphore(8)
    async with httpx.AsyncClient(transport=retrying) as http:

        async def one() -> None:
            async with slots:
                await http.get(URL)

        await asyncio.wait_for(asyncio.gather(*(one() for _ in range(80))), timeout=20)
    return bucket


async def test_throttle_keeps_429s_rare_under_concurrency() -> None:
    unthrottled = await burst(throttled=False)
    throttled = await burst(throttled=True)
    # Without the throttle most of the burst bounces; with it only the first, blind burst
    # (before any response told the bucket size) can exceed the 5 tokens.
    assert unthrottled.rejected > 20
    assert throttled.rejected <= 3, throttled.rejected
    assert throttled.served >= 77
