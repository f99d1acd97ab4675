"""Evaluate, order and page compiled JQL plans, with a per-data-version result cache.

Plans (see :mod:`semantics`) are evaluated as bitmask algebra over issue positions. The
ordered result is cached per (plan, order, data version, visible projects). Top-level
``id`` bounds are split off the plan first, so keyset pages
(``... AND id > N AND id <= M ORDER BY id``) bisect one cached list instead of re-running
the query.
"""

from __future__ import annotations

import bisect
import random
from array import array
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any, cast

from local_stack.jira_emulator import catalog as cat
from local_stack.jira_emulator import derived
from local_stack.jira_emulator.data import Issue
from local_stack.jira_emulator.plan import (
    Conj,
    DateCompare,
    DateEmpty,
    Disj,
    Everything,
    IdRange,
    IdSet,
    InValues,
    IsEmpty,
    KeyCompare,
    Nothing,
    Plan,
    PriorityCompare,
    TextMatch,
    split_id_bounds,
)
from local_stack.jira_emulator.semantics import BIG, Compiled, Viewer, compile_query
from local_stack.jira_emulator.store import (
    DATE_COLUMNS,
    Store,
    mask_from_positions,
    positions_from_mask,
)
from local_stack.jira_emulator.timefmt import Clock

__all__ = ["Compiled", "QueryEngine", "Viewer"]

_COMPARE: dict[str, Callable[[int, int], bool]] = {
    "<": lambda v, t: v < t,
    "<=": lambda v, t: v <= t,
    ">": lambda v, t: v > t,
    ">=": lambda v, t: v >= t,
    "=": lambda v, t: v == t,
    "!=": lambda v, t: v != t,
}


class QueryEngine:
    """Compiles, evaluates, orders and caches; one per emulator."""

    def __init__(self, store: Store, cache_size: int = 32) -> None:
        self.store = store
        self.cache_size = cache_size
        self._ordered: OrderedDict[object, array[int]] = OrderedDict()
        self._visible: dict[object, int] = {}
        self.cache_hits = 0
        self.cache_misses = 0

    # ---- compile ------------------------------------------------------------------------

    def compile(
        self, jql: str, viewer: Viewer, clock: Clock, now_ms: int, *, validate: bool = True
    ) -> Compiled:
        return compile_query(self.store, jql, viewer, clock, now_ms, validate=validate)

    # ---- evaluate -----------------------------------------------------------------------

    def searchable(self, viewer: Viewer) -> tuple[int, ...]:
        """Projects whose issues the viewer's searches can return (archived ones never)."""
        projects = self.store.projects
        return tuple(p for p in sorted(viewer.projects) if not projects[p].archived)

    def visible_mask(self, viewer: Viewer) -> int:
        store = self.store
        searchable = self.searchable(viewer)
        key = (store.version, searchable)
        mask = self._visible.get(key)
        if mask is None:
            mask = store.mask_any("project", searchable) & store.alive
            if len(self._visible) > 16:
                self._visible.clear()
            self._visible[key] = mask
        return mask

    def evaluate(self, plan: Plan) -> int:
        """The set of alive positions matching ``plan``, as a bitmask."""
        store = self.store
        if isinstance(plan, Everything):
            return store.alive
        if isinstance(plan, Nothing):
            return 0
        if isinstance(plan, Conj):
            out = store.alive
            for child in plan.items:
                out &= self.evaluate(child)
                if not out:
                    break
            return out
        if isinstance(plan, Disj):
            out = 0
            for child in plan.items:
                out |= self.evaluate(child)
            return out
        if isinstance(plan, InValues):
            hit = store.mask_any(plan.index, plan.values)
            if not plan.negate:
                return hit
            return store.alive & ~hit & ~store.mask(plan.index, None)
        if isinstance(plan, IsEmpty):
            empty = store.mask(plan.index, None)
            return empty if plan.empty else store.alive & ~empty
        if isinstance(plan, IdRange):
            return store.id_range_mask(plan.lo, plan.hi) & store.alive
        if isinstance(plan, IdSet):
            hit = mask_from_positions(
                (store.pos_by_id[i] for i in plan.ids if i in store.pos_by_id), len(store.issues)
            )
            return store.alive & ~hit if plan.negate else hit
        if isinstance(plan, KeyCompare):
            test = _COMPARE[plan.op]
            issues = store.issues
            return mask_from_positions(
                (
                    p
                    for p in positions_from_mask(store.mask("project", plan.project))
                    if (issue := issues[p]) is not None and test(issue.num, plan.num)
                ),
                len(issues),
            )
        if isinstance(plan, DateCompare):
            test, moment = _COMPARE[plan.op], plan.moment
            return store.date_mask(plan.column, lambda v: test(v, moment))
        if isinstance(plan, DateEmpty):
            filled = store.date_mask(plan.column, lambda v: True)
            return store.alive & ~filled if plan.empty else filled
        if isinstance(plan, PriorityCompare):
            compare = _COMPARE[plan.op]
            wanted = [n for n in range(len(cat.PRIORITIES)) if compare(-n, -plan.value)]
            return store.mask_any("priority", wanted)
        if isinstance(plan, TextMatch):
            hit = self._text_mask(plan.sources, plan.terms)
            return store.alive & ~hit if plan.negate else hit
        has = self._text_mask(plan.sources, ())
        return store.alive & ~has if plan.empty else has

    def _text_mask(self, sources: tuple[str, ...], terms: tuple[str, ...]) -> int:
        store = self.store
        n_users = len(store.users)

        def texts(issue: Issue) -> Iterable[str]:
            for source in sources:
                if source == "summary":
                    yield issue.summary
                elif source == "description":
                    yield derived.description(issue) or ""
                elif source == "environment":
                    yield derived.environment(issue) or ""
                elif source == "comment":
                    for comment in derived.comments(issue, n_users):
                        yield comment.body

        def matches(issue: Issue) -> bool:
            blob = "\n".join(texts(issue)).lower()
            if not terms:
                return bool(blob.strip())
            return all(term in blob for term in terms)

        positions = [p for p, issue in store.iter_alive() if matches(issue)]
        return mask_from_positions(positions, len(store.issues))

    # ---- order and page -----------------------------------------------------------------

    def ordered(
        self,
        plan: Plan,
        order: tuple[tuple[str, bool], ...],
        viewer: Viewer,
        tie_rng: random.Random | None = None,
    ) -> array[int]:
        """Positions matching ``plan`` for ``viewer``, sorted (cached per data version).

        An id-ordered result is always cached ascending; :meth:`page` reads it backwards
        for DESC."""
        store = self.store
        if order and order[0][0] == "id":
            order = (("id", False),)
        unique = bool(order) and order[0][0] in ("id", "key")
        shuffle = tie_rng is not None and not unique
        key = (plan, order, store.version, self.searchable(viewer))
        if not shuffle:
            cached = self._ordered.get(key)
            if cached is not None:
                self._ordered.move_to_end(key)
                self.cache_hits += 1
                return cached
        self.cache_misses += 1
        positions = positions_from_mask(self.evaluate(plan) & self.visible_mask(viewer))
        if shuffle and tie_rng is not None:
            tie_rng.shuffle(positions)
        for field, descending in reversed(order):
            if field == "id" and not shuffle:
                continue
            positions.sort(key=self._sort_key(field), reverse=descending)
        result = array("l", positions)
        if not shuffle:
            self._ordered[key] = result
            while len(self._ordered) > self.cache_size:
                self._ordered.popitem(last=False)
        return result

    def _sort_key(self, field: str) -> Callable[[int], Any]:
        store = self.store
        # Only alive positions are ever sorted.
        issues = cast("list[Issue]", store.issues)
        users = store.users
        projects = store.projects
        if field == "id":
            return lambda p: p
        if field in DATE_COLUMNS:
            column = store.columns[field]
            return lambda p: column[p] if column[p] >= 0 else BIG
        if field == "key":
            # Project key, then number, packed in one int: int keys sort several times faster.
            by_key = sorted(range(len(projects)), key=lambda n: projects[n].key)
            rank = {n: r << 40 for r, n in enumerate(by_key)}
            return lambda p: rank[issues[p].project] | issues[p].num
        if field == "priority":
            return lambda p: -issues[p].priority
        if field == "rank":
            return lambda p: issues[p].rank
        if field == "summary":
            return lambda p: issues[p].summary.lower()
        if field == "status":
            return lambda p: issues[p].status
        if field == "project":
            return lambda p: projects[issues[p].project].key
        if field == "type":
            return lambda p: cat.ISSUE_TYPES[issues[p].type].name
        attr = field  # assignee / reporter / creator

        def by_user(p: int) -> str:
            idx: int = getattr(issues[p], attr)
            return users[idx].display_name.lower() if idx >= 0 else "\uffff"

        return by_user

    def page(
        self,
        compiled: Compiled,
        viewer: Viewer,
        start_at: int,
        max_results: int,
        tie_rng: random.Random | None = None,
    ) -> tuple[int, list[int]]:
        """(total, positions of the page) for a compiled query."""
        store = self.store
        rest, lo_id, hi_id = split_id_bounds(compiled.plan)
        order = compiled.order
        ordered = self.ordered(rest, order, viewer, tie_rng)
        by_id = order[0][0] == "id"
        descending = by_id and order[0][1]
        if lo_id is None and hi_id is None:
            lo, hi = 0, len(ordered)
        else:
            lo_pos, hi_pos = store.id_bounds(lo_id, hi_id)
            if by_id:
                lo, hi = bisect.bisect_left(ordered, lo_pos), bisect.bisect_left(ordered, hi_pos)
            else:
                ordered = array("l", (p for p in ordered if lo_pos <= p < hi_pos))
                lo, hi = 0, len(ordered)
        total = max(0, hi - lo)
        if max_results <= 0 or start_at >= total:
            return total, []
        count = min(max_results, total - start_at)
        if descending:
            top = hi - 1 - start_at
            return total, [ordered[top - k] for k in range(count)]
        first = lo + start_at
        return total, list(ordered[first : first + count])
