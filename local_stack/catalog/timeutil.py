"""Timestamps: stored as integer microseconds (cheap, comparable), shown as Port's ISO form."""

from __future__ import annotations

import time
from datetime import UTC, datetime


def now_us() -> int:
    return time.time_ns() // 1000


def to_iso(micros: int) -> str:
    """Port's format: millisecond precision, ``Z`` suffix."""
    moment = datetime.fromtimestamp(micros / 1_000_000, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_iso_us(value: str) -> int:
    """Parse an ISO 8601 timestamp (``Z`` or offset; naive means UTC) into microseconds."""
    moment = datetime.fromisoformat(value.strip())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
