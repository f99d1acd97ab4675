"""How many items a read expects, reported by the client to whoever follows the run's
progress (the sync engine sets the receiver per resource; nothing is reported otherwise)."""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar

expected_items: ContextVar[Callable[[int], None] | None] = ContextVar(
    "expected_items", default=None
)


def report_expected(total: int) -> None:
    receiver = expected_items.get()
    if receiver is not None:
        receiver(total)
