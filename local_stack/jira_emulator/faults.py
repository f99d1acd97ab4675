"""Fault knobs (latency, 5xx, dropped connections, rate limiting, mutation while paging)
and the engine that applies them to Jira routes only.

Every random knob has its own seeded generator, so whether request N fails does not depend
on which other knobs are on: a failing run replays with the same seed.
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import asdict, dataclass, field, fields
from typing import Any

DEFAULT_ERROR_STATUSES = [500, 502, 503, 504]


@dataclass
class RateLimit:
    """Data Center's per-user token bucket: ``fill_rate`` tokens every ``interval_seconds``."""

    capacity: int = 10
    fill_rate: float = 5.0
    interval_seconds: float = 1.0
    # DC sends no rate-limit headers on some endpoints; these are also never limited.
    exempt_paths: list[str] = field(default_factory=lambda: ["/rest/api/2/serverInfo"])


@dataclass
class PagingMutation:
    """Apply ``ops`` (control-API mutate ops) right after the K-th search request (counted
    from when this was set), and again every ``repeat_every`` searches if that is > 0;
    ``once_ops`` only the first time (e.g. a rename, whose repetition would keep moving
    ``updated``)."""

    after_search_requests: int = 1
    repeat_every: int = 0
    ops: list[dict[str, Any]] = field(default_factory=list)
    once_ops: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class FaultConfig:
    paths: list[str] = field(default_factory=lambda: ["/rest/"])  # prefixes faults apply to
    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    spike_rate: float = 0.0
    spike_ms: float = 0.0
    error_rate: float = 0.0
    error_statuses: list[int] = field(default_factory=lambda: list(DEFAULT_ERROR_STATUSES))
    error_next: int = 0  # the next N matching requests fail, before error_rate applies
    error_next_after: int = 0  # ... once this many matching requests have passed
    drop_rate: float = 0.0
    drop_next: int = 0
    drop_next_after: int = 0
    seed: int = 0
    rate_limit: RateLimit | None = None
    mutate_during_paging: PagingMutation | None = None
    # Break ties of non-unique ORDER BY fields randomly per request, like Jira across DC
    # nodes (JRASERVER-69860); off: ties are broken by id.
    shuffle_ties: bool = False
    # What real servers get wrong in search pages (``total`` is left as Jira counted):
    # a share of pages cut short at the tail (the rest follows on the next page),
    short_page_rate: float = 0.0
    # a share of issues left out of pages (a stale index, a filtering proxy),
    omit_issue_rate: float = 0.0
    # a share of issues rendered without ``fields`` (a malformed item).
    malformed_issue_rate: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any], base: FaultConfig | None = None) -> FaultConfig:
        """Build from JSON; keys missing from ``data`` come from ``base`` (or defaults)."""
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown fault knobs: {', '.join(sorted(unknown))}")
        merged = (base or cls()).to_json()
        merged.update(data)
        rate = merged.pop("rate_limit")
        paging = merged.pop("mutate_during_paging")
        for name in (
            "latency_ms",
            "jitter_ms",
            "spike_rate",
            "spike_ms",
            "error_rate",
            "drop_rate",
            "short_page_rate",
            "omit_issue_rate",
            "malformed_issue_rate",
        ):
            value = merged[name]
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
                raise ValueError(f"{name} must be a non-negative number")
        for name in ("error_next", "error_next_after", "drop_next", "drop_next_after", "seed"):
            if not isinstance(merged[name], int) or isinstance(merged[name], bool):
                raise ValueError(f"{name} must be an integer")
        if not all(isinstance(s, int) and 500 <= s <= 599 for s in merged["error_statuses"]):
            raise ValueError("error_statuses must be 5xx integers")
        if not merged["error_statuses"]:
            raise ValueError("error_statuses must not be empty")
        config = cls(**merged)
        config.rate_limit = RateLimit(**rate) if isinstance(rate, dict) else None
        if config.rate_limit is not None and (
            config.rate_limit.capacity < 1 or config.rate_limit.interval_seconds <= 0
        ):
            raise ValueError("rate_limit needs capacity >= 1 and interval_seconds > 0")
        config.mutate_during_paging = PagingMutation(**paging) if isinstance(paging, dict) else None
        return config


class FaultEngine:
    def __init__(self, config: FaultConfig) -> None:
        self.config = config
        self.reset(config)

    def reset(self, config: FaultConfig) -> None:
        self.config = config
        self._latency_rng = random.Random(f"{config.seed}:latency")
        self._error_rng = random.Random(f"{config.seed}:errors")
        self._drop_rng = random.Random(f"{config.seed}:drops")
        self.tie_rng = random.Random(f"{config.seed}:ties")
        self._page_rng = random.Random(f"{config.seed}:pages")
        self._buckets: dict[str, tuple[float, float]] = {}
        self._searches = 0

    def applies(self, path: str) -> bool:
        return any(path.startswith(prefix) for prefix in self.config.paths)

    def delay_seconds(self) -> float:
        c = self.config
        delay = c.latency_ms
        if c.jitter_ms:
            delay += self._latency_rng.uniform(0, c.jitter_ms)
        if c.spike_rate and self._latency_rng.random() < c.spike_rate:
            delay += c.spike_ms
        return delay / 1000.0

    def injected_status(self) -> int | None:
        c = self.config
        if c.error_next > 0 and c.error_next_after > 0:
            c.error_next_after -= 1
        elif c.error_next > 0:
            c.error_next -= 1
            return self._error_rng.choice(c.error_statuses)
        if c.error_rate and self._error_rng.random() < c.error_rate:
            return self._error_rng.choice(c.error_statuses)
        return None

    def should_drop(self) -> bool:
        c = self.config
        if c.drop_next > 0 and c.drop_next_after > 0:
            c.drop_next_after -= 1
        elif c.drop_next > 0:
            c.drop_next -= 1
            return True
        return bool(c.drop_rate) and self._drop_rng.random() < c.drop_rate

    def rate_limit(self, who: str, path: str) -> tuple[bool, dict[str, str]]:
        """Take a token for ``who``; returns (allowed, headers to send)."""
        limit = self.config.rate_limit
        if limit is None or any(path.startswith(p) for p in limit.exempt_paths):
            return True, {}
        now = time.monotonic()
        per_second = limit.fill_rate / limit.interval_seconds
        tokens, last = self._buckets.get(who, (float(limit.capacity), now))
        tokens = min(float(limit.capacity), tokens + (now - last) * per_second)
        allowed = tokens >= 1.0
        if allowed:
            tokens -= 1.0
            retry_after = 0
        else:
            retry_after = max(1, math.ceil((1.0 - tokens) / per_second)) if per_second > 0 else 3600
        self._buckets[who] = (tokens, now)
        headers = {
            "X-RateLimit-Limit": str(limit.capacity),
            "X-RateLimit-Remaining": str(max(0, math.floor(tokens))),
            "X-RateLimit-Interval-Seconds": _number(limit.interval_seconds),
            "X-RateLimit-FillRate": _number(limit.fill_rate),
            "Retry-After": str(retry_after),
        }
        return allowed, headers

    def damage_page(self, positions: list[int]) -> tuple[list[int], set[int]]:
        """The positions a search page really returns, and those rendered malformed."""
        c, rng = self.config, self._page_rng
        if c.omit_issue_rate:
            positions = [p for p in positions if rng.random() >= c.omit_issue_rate]
        if c.short_page_rate and len(positions) > 1 and rng.random() < c.short_page_rate:
            positions = positions[: rng.randint(1, len(positions) - 1)]
        malformed = (
            {p for p in positions if rng.random() < c.malformed_issue_rate}
            if c.malformed_issue_rate
            else set()
        )
        return positions, malformed

    def after_search(self) -> list[dict[str, Any]]:
        """Mutation ops due after this search request (empty when none)."""
        plan = self.config.mutate_during_paging
        if plan is None:
            return []
        self._searches += 1
        k = plan.after_search_requests
        due = self._searches == k or (
            plan.repeat_every > 0
            and self._searches > k
            and (self._searches - k) % plan.repeat_every == 0
        )
        if not due:
            return []
        return [*plan.once_ops, *plan.ops] if self._searches == k else list(plan.ops)


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)
