"""Request accounting for Jira routes, read by tests through the control API."""

from __future__ import annotations

import time
from collections import Counter, deque
from typing import Any


class Stats:
    def __init__(self, search_log_limit: int = 10_000) -> None:
        self.search_log_limit = search_log_limit
        self.in_flight = 0
        self.reset()

    def reset(self) -> None:
        self.started = time.monotonic()
        self.requests = 0
        self.bytes_sent = 0
        self.routes: Counter[str] = Counter()
        self.statuses: Counter[int] = Counter()
        self.max_in_flight = self.in_flight
        self.rate_limited = 0
        self.injected_errors = 0
        self.dropped = 0
        self.mutation_errors: list[str] = []
        self.searches: deque[dict[str, Any]] = deque(maxlen=self.search_log_limit)

    def begin(self) -> None:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def end(self, route: str, status: int, sent: int) -> None:
        self.in_flight -= 1
        self.requests += 1
        self.routes[route] += 1
        self.statuses[status] += 1
        self.bytes_sent += sent
        if status == 429:
            self.rate_limited += 1

    def log_search(self, entry: dict[str, Any]) -> None:
        entry["at"] = round(time.monotonic() - self.started, 4)
        self.searches.append(entry)

    def to_json(self, *, searches: bool = True) -> dict[str, Any]:
        body: dict[str, Any] = {
            "requests": self.requests,
            "bytesSent": self.bytes_sent,
            "routes": dict(self.routes),
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "inFlight": self.in_flight,
            "maxInFlight": self.max_in_flight,
            "rateLimited": self.rate_limited,
            "injectedErrors": self.injected_errors,
            "dropped": self.dropped,
            "mutationErrors": list(self.mutation_errors),
            "searchRequests": self.routes.get("GET /rest/api/2/search", 0)
            + self.routes.get("POST /rest/api/2/search", 0),
        }
        if searches:
            body["searches"] = list(self.searches)
        return body
