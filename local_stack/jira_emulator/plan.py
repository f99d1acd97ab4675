"""Query plans: JQL with every name, value and relative date resolved.

Nodes are frozen dataclasses, so a plan is hashable and doubles as the cache key of its
result. Index names are those of :data:`store.INDEXES`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Everything:
    pass


@dataclass(frozen=True)
class Nothing:
    pass


@dataclass(frozen=True)
class Conj:
    items: tuple[Plan, ...]


@dataclass(frozen=True)
class Disj:
    items: tuple[Plan, ...]


@dataclass(frozen=True)
class InValues:
    """``index in values``; negated: not in values *and* not EMPTY (Jira's ``!=``)."""

    index: str
    values: frozenset[object]
    negate: bool


@dataclass(frozen=True)
class IsEmpty:
    index: str
    empty: bool


@dataclass(frozen=True)
class IdRange:
    """Inclusive id bounds; None is open."""

    lo: int | None
    hi: int | None


@dataclass(frozen=True)
class IdSet:
    ids: frozenset[int]
    negate: bool


@dataclass(frozen=True)
class KeyCompare:
    """``key > ABC-12``: same project, compared by issue number."""

    project: int
    op: str
    num: int


@dataclass(frozen=True)
class DateCompare:
    column: str
    op: str
    moment: int


@dataclass(frozen=True)
class DateEmpty:
    column: str
    empty: bool


@dataclass(frozen=True)
class PriorityCompare:
    """``priority > Medium`` compares importance (catalog index 0 is Highest)."""

    op: str
    value: int


@dataclass(frozen=True)
class TextMatch:
    sources: tuple[str, ...]
    terms: tuple[str, ...]
    negate: bool


@dataclass(frozen=True)
class TextEmpty:
    sources: tuple[str, ...]
    empty: bool


Plan = (
    Everything
    | Nothing
    | Conj
    | Disj
    | InValues
    | IsEmpty
    | IdRange
    | IdSet
    | KeyCompare
    | DateCompare
    | DateEmpty
    | PriorityCompare
    | TextMatch
    | TextEmpty
)
ALL: Plan = Everything()
NONE: Plan = Nothing()


def combine(conjunction: bool, children: tuple[Plan, ...]) -> Plan:
    """AND/OR with flattening and ALL/NONE folding (so equal queries share cache keys)."""
    kind = Conj if conjunction else Disj
    flat: list[Plan] = []
    for child in children:
        if isinstance(child, kind):
            flat.extend(child.items)
        else:
            flat.append(child)
    absorbing, neutral = (NONE, ALL) if conjunction else (ALL, NONE)
    if absorbing in flat:
        return absorbing
    flat = [c for c in flat if c != neutral]
    if not flat:
        return neutral
    return flat[0] if len(flat) == 1 else kind(tuple(flat))


def split_id_bounds(plan: Plan) -> tuple[Plan, int | None, int | None]:
    """Pull top-level ``id`` range conjuncts out of the plan: (rest, lowest id, highest id)."""
    if isinstance(plan, IdRange):
        children: tuple[Plan, ...] = (plan,)
    elif isinstance(plan, Conj):
        children = plan.items
    else:
        return plan, None, None
    lo: int | None = None
    hi: int | None = None
    rest: list[Plan] = []
    for child in children:
        if isinstance(child, IdRange):
            if child.lo is not None:
                lo = child.lo if lo is None else max(lo, child.lo)
            if child.hi is not None:
                hi = child.hi if hi is None else min(hi, child.hi)
        else:
            rest.append(child)
    if lo is None and hi is None:
        return plan, None, None
    if lo is not None and hi is not None and hi < lo:
        return NONE, None, None
    return combine(True, tuple(rest)), lo, hi
