"""In-memory run state: request statistics, injected faults, issued tokens, ingested logs."""

from __future__ import annotations

import random
import secrets
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

import jwt

FAULT_OPERATIONS = frozenset(
    {"any", "auth", "integration", "blueprint", "upsert", "search", "datasource", "delete"}
)


@dataclass
class Stats:
    requests: Counter[str] = field(default_factory=Counter)
    bulk_upserts: int = 0
    single_upserts: int = 0
    entities_upserted: int = 0
    entities_created: int = 0
    related_entities_created: int = 0
    entity_errors: int = 0
    searches: int = 0
    datasource_pages: int = 0
    delete_requests: int = 0
    entities_deleted: int = 0
    dependents_deleted: int = 0
    faults_injected: int = 0
    logs_ingested: int = 0
    unknown_routes: Counter[str] = field(default_factory=Counter)

    def as_json(self) -> dict[str, Any]:
        return {
            "requests": dict(sorted(self.requests.items())),
            "bulkUpserts": self.bulk_upserts,
            "singleUpserts": self.single_upserts,
            "entitiesUpserted": self.entities_upserted,
            "entitiesCreated": self.entities_created,
            "relatedEntitiesCreated": self.related_entities_created,
            "entityErrors": self.entity_errors,
            "searches": self.searches,
            "datasourcePages": self.datasource_pages,
            "deleteRequests": self.delete_requests,
            "entitiesDeleted": self.entities_deleted,
            "dependentsDeleted": self.dependents_deleted,
            "faultsInjected": self.faults_injected,
            "logsIngested": self.logs_ingested,
            "unknownRoutes": [
                {"route": route, "count": count} for route, count in self.unknown_routes.items()
            ],
        }


@dataclass
class Fault:
    operation: str
    remaining: int
    status: int
    retry_after: float | None
    # A share of the operation's requests (deterministic from ``seed``), not the next N.
    rate: float | None = None
    rng: random.Random | None = None


class FaultInjector:
    """Make requests of an operation fail, for reliability tests: the next N, or a share
    of them (``rate``, at most N)."""

    def __init__(self) -> None:
        self.faults: list[Fault] = []

    def add(
        self,
        operation: str,
        count: int,
        status: int,
        retry_after: float | None,
        rate: float | None = None,
        seed: int = 0,
    ) -> None:
        rng = random.Random(seed) if rate is not None else None
        self.faults.append(Fault(operation, count, status, retry_after, rate, rng))

    def take(self, operation: str) -> Fault | None:
        for fault in self.faults:
            if fault.remaining > 0 and fault.operation in (operation, "any"):
                if fault.rng is not None and fault.rng.random() >= (fault.rate or 0):
                    continue
                fault.remaining -= 1
                self.faults = [f for f in self.faults if f.remaining > 0]
                return fault
        return None

    def pending(self) -> list[dict[str, Any]]:
        return [
            {
                "operation": f.operation,
                "remaining": f.remaining,
                "status": f.status,
                **({"rate": f.rate} if f.rate is not None else {}),
            }
            for f in self.faults
        ]

    def clear(self) -> None:
        self.faults.clear()


class TokenIssuer:
    """Issues HS256 JWTs carrying ``isMachine`` (the framework decodes it before actions)."""

    def __init__(self, ttl_seconds: int) -> None:
        self.ttl_seconds = ttl_seconds
        self._secret = secrets.token_hex(32)

    def issue(self, client_id: str) -> str:
        now = int(time.time())
        payload = {
            "clientId": client_id,
            "orgId": "org_local",
            "isMachine": True,
            "iat": now,
            "exp": now + self.ttl_seconds,
        }
        return jwt.encode(payload, self._secret, algorithm="HS256")

    def valid(self, authorization: str | None) -> bool:
        if not authorization or not authorization.lower().startswith("bearer "):
            return False
        try:
            jwt.decode(authorization[7:].strip(), self._secret, algorithms=["HS256"])
        except jwt.PyJWTError:
            return False
        return True


class LogBuffer:
    """The integration's shipped log records (newest kept), readable through /_catalog/logs."""

    def __init__(self, capacity: int = 5000) -> None:
        self.records: deque[dict[str, Any]] = deque(maxlen=capacity)

    def extend(self, records: list[Any]) -> int:
        accepted = [r for r in records if isinstance(r, dict)]
        self.records.extend(accepted)
        return len(accepted)
