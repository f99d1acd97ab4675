"""JQL semantics: resolve a parsed query against the data into a hashable *plan*.

A plan is nested tuples with every field name, value and relative date resolved, so it is
both the input of the bitmask evaluator (:mod:`query`) and the cache key of its result.

Jira semantics kept on purpose: NOT is pushed down with De Morgan and negated operators
(``!=``, ``not in``) never match an EMPTY field, as Jira documents for ``assignee != x``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from local_stack.jira_emulator import catalog as cat
from local_stack.jira_emulator.data import Issue
from local_stack.jira_emulator.jql import (
    And,
    Clause,
    Empty,
    Function,
    JqlError,
    Node,
    Not,
    Operand,
    Or,
    SortKey,
    Value,
    parse,
)
from local_stack.jira_emulator.plan import (
    ALL,
    NONE,
    Conj,
    DateCompare,
    DateEmpty,
    Disj,
    IdRange,
    IdSet,
    InValues,
    IsEmpty,
    KeyCompare,
    Plan,
    PriorityCompare,
    TextEmpty,
    TextMatch,
    combine,
)
from local_stack.jira_emulator.store import Store
from local_stack.jira_emulator.timefmt import Clock

BIG = 1 << 62

NEGATE = {
    "=": "!=",
    "!=": "=",
    "in": "not in",
    "not in": "in",
    "is": "is not",
    "is not": "is",
    "<": ">=",
    ">=": "<",
    ">": "<=",
    "<=": ">",
    "~": "!~",
    "!~": "~",
}
ORDER_OPS = {"<", "<=", ">", ">="}

ENUM_FIELDS = {
    "project": "project",
    "status": "status",
    "statuscategory": "statusCategory",
    "issuetype": "type",
    "type": "type",
    "priority": "priority",
    "resolution": "resolution",
    "assignee": "assignee",
    "reporter": "reporter",
    "creator": "creator",
    "labels": "labels",
    "component": "component",
    "fixversion": "fixVersion",
    "affectedversion": "affectedVersion",
    "sprint": "sprint",
    "cf[10101]": "sprint",
    "parent": "parent",
    "epic link": "epic",
    "cf[10102]": "epic",
}
DATE_FIELDS = {
    "created": "created",
    "createddate": "created",
    "updated": "updated",
    "updateddate": "updated",
    "resolved": "resolved",
    "resolutiondate": "resolved",
    "due": "due",
    "duedate": "due",
}
KEY_FIELDS = {"key", "issuekey", "id", "issue"}
TEXT_FIELDS = {
    "summary": ("summary",),
    "description": ("description",),
    "comment": ("comment",),
    "environment": ("environment",),
    "text": ("summary", "description", "environment", "comment"),
}
SORT_FIELDS = {
    "id": "id",
    "key": "key",
    "issuekey": "key",
    **DATE_FIELDS,
    "priority": "priority",
    "rank": "rank",
    "cf[10100]": "rank",
    "summary": "summary",
    "status": "status",
    "project": "project",
    "issuetype": "type",
    "type": "type",
    "assignee": "assignee",
    "reporter": "reporter",
    "creator": "creator",
}
DEFAULT_ORDER: tuple[tuple[str, bool], ...] = (("key", True),)
DATE_HELP = (
    "Valid formats include: 'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', "
    "'yyyy-MM-dd', or a period format e.g. '-5d', '4w 2d'."
)
_PERIOD = re.compile(r"^([+-]?)\s*((?:\d+\s*[wdhm]\s*)+)$")
_PERIOD_PART = re.compile(r"(\d+)\s*([wdhm])")
_ABSOLUTE = re.compile(r"^(\d{4})[/-](\d{1,2})[/-](\d{1,2})(?:\s+(\d{1,2}):(\d{2}))?$")
_KEY = re.compile(r"^([A-Za-z][A-Za-z0-9_]*)-(\d+)$")
_UNIT_MS = {"w": 604_800_000, "d": 86_400_000, "h": 3_600_000, "m": 60_000}
_UNIT_LETTER = {"day": "d", "week": "w", "month": "M", "year": "y"}  # for _shift


@dataclass(frozen=True)
class Viewer:
    """Who is asking: their user index (None: anonymous) and the projects they can browse."""

    user: int | None
    projects: frozenset[int]


@dataclass(frozen=True)
class Compiled:
    plan: Plan
    order: tuple[tuple[str, bool], ...]
    explicit_order: bool


def _not_exist(value: str, field: str) -> str:
    return f"The value '{value}' does not exist for the field '{field}'."


def _no_issue(key: str, field: str) -> str:
    return f"An issue with key '{key}' does not exist for field '{field}'."


def _unsupported(op: str, field: str) -> str:
    return f"The operator '{op}' is not supported by the '{field}' field."


class _Compiler:
    def __init__(
        self, store: Store, clock: Clock, now_ms: int, viewer: Viewer, validate: bool
    ) -> None:
        self.store = store
        self.clock = clock
        self.now_ms = now_ms
        self.viewer = viewer
        self.validate = validate
        self.errors: list[str] = []
        self.searchable = [
            store.projects[p] for p in sorted(viewer.projects) if not store.projects[p].archived
        ]

    def error(self, message: str) -> Plan:
        self.errors.append(message)
        return NONE

    def missing(self, value: str, field: str) -> None:
        if self.validate:
            self.errors.append(_not_exist(value, field))

    # ---- structure ----------------------------------------------------------------------

    def node(self, node: Node, negated: bool) -> Plan:
        if isinstance(node, Not):
            return self.node(node.item, not negated)
        if isinstance(node, (And, Or)):
            children = tuple(self.node(item, negated) for item in node.items)
            conjunction = isinstance(node, And) != negated
            return combine(conjunction, children)
        op = NEGATE.get(node.op, node.op) if negated else node.op
        return self.clause(node, op)

    def clause(self, clause: Clause, op: str) -> Plan:
        name = clause.field.lower()
        if op in ("was", "changed"):
            return self.error(_unsupported(op.upper(), clause.field))
        if name in ENUM_FIELDS:
            return self.enum_clause(clause, ENUM_FIELDS[name], op)
        if name in DATE_FIELDS:
            return self.date_clause(clause, DATE_FIELDS[name], op)
        if name in KEY_FIELDS:
            return self.key_clause(clause, op)
        if name in TEXT_FIELDS:
            return self.text_clause(clause, TEXT_FIELDS[name], op)
        return self.error(
            f"Field '{clause.field}' does not exist or you do not have permission to view it."
        )

    def operand_items(self, clause: Clause, op: str) -> list[Value | Function | Empty] | None:
        operand: Operand = clause.operand
        if op in ("is", "is not"):
            if not isinstance(operand, Empty):
                self.error(
                    f"The operator '{op.upper()}' only supports the values 'EMPTY' and 'NULL' "
                    f"for the field '{clause.field}'."
                )
                return None
            return [operand]
        if op in ("in", "not in"):
            if isinstance(operand, tuple):
                return list(operand)
            if isinstance(operand, Function):
                return [operand]
            self.error(
                f"The operator '{op.upper()}' requires a list of values for the field "
                f"'{clause.field}'."
            )
            return None
        if isinstance(operand, tuple):
            self.error(
                f"The operator '{op}' does not support the list value for the field "
                f"'{clause.field}'."
            )
            return None
        return [operand]

    # ---- enum-like fields ---------------------------------------------------------------

    def enum_clause(self, clause: Clause, index: str, op: str) -> Plan:
        relational = op in ORDER_OPS
        if op in ("~", "!~") or (relational and index != "priority"):
            return self.error(_unsupported(op, clause.field))
        items = self.operand_items(clause, op)
        if items is None:
            return NONE
        values: set[object] = set()
        for item in items:
            if isinstance(item, Empty) or (
                isinstance(item, Value)
                and not item.quoted
                and item.text.upper() in ("EMPTY", "NULL")
            ):
                values.add(None)
            elif isinstance(item, Function):
                values.update(self.enum_function(clause, index, item))
            else:
                values.update(self.enum_value(clause, index, item.text))
        if index == "statusCategory":
            index = "status"
        if relational:
            if None in values or len(values) != 1:
                return NONE
            value = next(iter(values))
            assert isinstance(value, int)
            return PriorityCompare(op, value)
        negate = op in ("!=", "not in", "is not")
        if op == "is not":
            return IsEmpty(index, False)
        if op == "is":
            return IsEmpty(index, True)
        if values == {None}:
            return IsEmpty(index, not negate)
        return InValues(index, frozenset(values), negate)

    def enum_value(self, clause: Clause, index: str, text: str) -> list[object]:
        store, lowered = self.store, text.lower()
        field = clause.field
        if index == "project":
            for project in self.searchable:
                if lowered in (project.key.lower(), str(project.id), project.name.lower()):
                    return [project.idx]
            self.missing(text, field)
            return []
        if index == "status":
            found = [n for n, s in enumerate(cat.STATUSES) if lowered in (s.name.lower(), s.id)]
        elif index == "statusCategory":
            found = [
                n
                for n, s in enumerate(cat.STATUSES)
                if lowered in (s.category.name.lower(), s.category.key, str(s.category.id))
            ]
        elif index == "type":
            found = [n for n, t in enumerate(cat.ISSUE_TYPES) if lowered in (t.name.lower(), t.id)]
        elif index == "priority":
            found = [n for n, p in enumerate(cat.PRIORITIES) if lowered in (p.name.lower(), p.id)]
        elif index == "resolution":
            if lowered == "unresolved":
                return [None]
            found = [n for n, r in enumerate(cat.RESOLUTIONS) if lowered in (r.name.lower(), r.id)]
        elif index in ("assignee", "reporter", "creator"):
            found = [
                u.idx
                for u in store.users
                if lowered in (u.name.lower(), u.key.lower(), (u.email or "").lower())
            ] or [u.idx for u in store.users if u.display_name.lower() == lowered]
        elif index == "labels":
            return [text]
        elif index == "component":
            found = [
                cid
                for project in self.searchable
                for cid in project.components
                if lowered in (store.data.components[cid].name.lower(), str(cid))
            ]
        elif index in ("fixVersion", "affectedVersion"):
            found = [
                vid
                for project in self.searchable
                for vid in project.versions
                if lowered in (store.data.versions[vid].name.lower(), str(vid))
            ]
        elif index == "sprint":
            found = [
                s.id for s in store.data.sprints.values() if lowered in (s.name.lower(), str(s.id))
            ]
        else:  # parent / epic: issue keys or ids
            hit = self.visible_issue(text)
            if hit is None:
                if self.validate:
                    self.errors.append(_no_issue(text, field))
                return []
            return [hit.id]
        if not found:
            self.missing(text, field)
        return list(found)

    def enum_function(self, clause: Clause, index: str, fn: Function) -> list[object]:
        name = fn.name.lower()
        data = self.store.data
        if name == "currentuser" and index in ("assignee", "reporter", "creator"):
            return [] if self.viewer.user is None else [self.viewer.user]
        if index == "sprint" and name in ("opensprints", "closedsprints", "futuresprints"):
            state = {"opensprints": "active", "closedsprints": "closed", "futuresprints": "future"}[
                name
            ]
            boards = {b for p in self.searchable for b in p.boards}
            return [s.id for s in data.sprints.values() if s.state == state and s.board in boards]
        if index == "type" and name in ("standardissuetypes", "subtaskissuetypes"):
            subtask = name == "subtaskissuetypes"
            return [n for n, t in enumerate(cat.ISSUE_TYPES) if t.subtask == subtask]
        if index in ("fixVersion", "affectedVersion") and name in (
            "releasedversions",
            "unreleasedversions",
        ):
            released = name == "releasedversions"
            projects = self.searchable
            if fn.args:
                projects = [p for p in projects if p.key.lower() in {a.lower() for a in fn.args}]
            return [
                vid
                for p in projects
                for vid in p.versions
                if data.versions[vid].released == released
            ]
        self.errors.append(f"Unable to find JQL function '{fn.name}({', '.join(fn.args)})'.")
        return []

    def visible_issue(self, text: str) -> Issue | None:
        found = self.store.issue_by_key_or_id(text)
        if found is None:
            return None
        issue = found[1]
        project = self.store.projects[issue.project]
        if issue.project not in self.viewer.projects or project.archived:
            return None
        return issue

    # ---- issue keys and ids -------------------------------------------------------------

    def key_clause(self, clause: Clause, op: str) -> Plan:
        if op in ("~", "!~"):
            return self.error(_unsupported(op, clause.field))
        items = self.operand_items(clause, op)
        if items is None:
            return NONE
        if op in ("is", "is not"):
            return NONE if op == "is" else ALL
        if op in ORDER_OPS:
            item = items[0]
            if not isinstance(item, Value):
                return self.error(_unsupported(op, clause.field))
            text = item.text.strip()
            if text.isdigit():
                n = int(text)
                lo, hi = {
                    ">": (n + 1, None),
                    ">=": (n, None),
                    "<": (None, n - 1),
                    "<=": (None, n),
                }[op]
                return IdRange(lo, hi)
            match = _KEY.match(text)
            if match is None:
                return self.error(f"The issue key '{text}' for field '{clause.field}' is invalid.")
            project = self.store.find_project(match.group(1))
            if project is None or project.idx not in self.viewer.projects:
                return self.error(_no_issue(text, clause.field))
            return KeyCompare(project.idx, op, int(match.group(2)))
        ids: set[int] = set()
        for item in items:
            if not isinstance(item, Value):
                self.error(_unsupported(op, clause.field))
                continue
            text = item.text.strip()
            if text.isdigit():
                ids.add(int(text))
                continue
            if _KEY.match(text) is None:
                self.error(f"The issue key '{text}' for field '{clause.field}' is invalid.")
                continue
            issue = self.visible_issue(text)
            if issue is None:
                if self.validate:
                    self.error(_no_issue(text, clause.field))
                continue
            ids.add(issue.id)
        return IdSet(frozenset(ids), op in ("!=", "not in"))

    # ---- dates --------------------------------------------------------------------------

    def date_clause(self, clause: Clause, column: str, op: str) -> Plan:
        if op in ("~", "!~"):
            return self.error(_unsupported(op, clause.field))
        items = self.operand_items(clause, op)
        if items is None:
            return NONE
        if op in ("is", "is not"):
            return DateEmpty(column, op == "is")
        plans: list[Plan] = []
        for item in items:
            if isinstance(item, Empty) or (
                isinstance(item, Value) and not item.quoted and item.text.upper() == "EMPTY"
            ):
                plans.append(DateEmpty(column, True))
                continue
            resolved = self.date_value(clause, item)
            if resolved is None:
                return NONE
            start, end = resolved
            single = "=" if op == "in" else ("!=" if op == "not in" else op)
            plans.append(_date_plan(column, single, start, end))
        if op == "not in":
            return combine(True, tuple(plans))
        return combine(False, tuple(plans))

    def date_value(self, clause: Clause, item: Value | Function) -> tuple[int, int | None] | None:
        """(instant, end of day) for a date-only literal, (instant, None) otherwise."""
        if isinstance(item, Function):
            moment = self.date_function(item)
            if moment is None:
                self.errors.append(
                    f"Unable to find JQL function '{item.name}({', '.join(item.args)})'."
                )
            return None if moment is None else (moment, None)
        text = item.text.strip()
        period = _PERIOD.match(text)
        if period:
            total = sum(int(n) * _UNIT_MS[u] for n, u in _PERIOD_PART.findall(period.group(2)))
            return (self.now_ms - total if period.group(1) == "-" else self.now_ms + total), None
        absolute = _ABSOLUTE.match(text)
        if absolute:
            y, mo, d, hh, mm = absolute.groups()
            try:
                start = self.clock.local_ms(int(y), int(mo), int(d), int(hh or 0), int(mm or 0))
            except ValueError:
                absolute = None
            else:
                if hh is None:
                    end = self.clock.to_ms(
                        self.clock.local_datetime(start).replace(hour=0) + timedelta(days=1)
                    )
                    return start, end
                return start, None
        if text.isdigit() and len(text) > 8:
            return int(text), None
        self.errors.append(
            f"Date value '{text}' for field '{clause.field}' is invalid. {DATE_HELP}"
        )
        return None

    def date_function(self, fn: Function) -> int | None:
        name = fn.name.lower()
        if name == "now":
            return self.now_ms
        match = re.fullmatch(r"(startof|endof)(day|week|month|year)", name)
        if match is None:
            return None
        edge, unit = match.groups()
        local = self.clock.local_datetime(self.now_ms)
        start = local.replace(hour=0, minute=0, second=0, microsecond=0)
        if unit == "week":
            # Jira's default (en_US) week starts on Sunday.
            start -= timedelta(days=(start.weekday() + 1) % 7)
        elif unit == "month":
            start = start.replace(day=1)
        elif unit == "year":
            start = start.replace(month=1, day=1)
        if fn.args:
            inc = re.fullmatch(r"([+-]?)(\d+)([yMwdhm]?)", fn.args[0].strip())
            if inc is None:
                return None
            sign = -1 if inc.group(1) == "-" else 1
            amount = sign * int(inc.group(2))
            start = _shift(start, amount, inc.group(3) or _UNIT_LETTER[unit])
        if edge == "endof":
            following = _shift(start, 1, _UNIT_LETTER[unit])
            return self.clock.to_ms(following) - 1
        return self.clock.to_ms(start)

    # ---- text ---------------------------------------------------------------------------

    def text_clause(self, clause: Clause, sources: tuple[str, ...], op: str) -> Plan:
        if op in ("is", "is not"):
            if not isinstance(clause.operand, Empty):
                return self.error(_unsupported(op.upper(), clause.field))
            if sources == ("summary",):
                return NONE if op == "is" else ALL
            return TextEmpty(sources, op == "is")
        if op not in ("~", "!~"):
            return self.error(_unsupported(op, clause.field))
        operand = clause.operand
        if not isinstance(operand, Value):
            return self.error(_unsupported(op, clause.field))
        raw = operand.text.strip()
        terms: tuple[str, ...]
        if len(raw) >= 2 and raw[0] == raw[-1] == '"':
            terms = (raw[1:-1].lower(),)
        else:
            terms = tuple(t for t in (w.strip("*?").lower() for w in raw.split()) if t)
        if not terms or not any(terms):
            return self.error(
                f"The field '{clause.field}' does not support searching for an empty string."
            )
        return TextMatch(sources, terms, op == "!~")


def _shift(moment: datetime, amount: int, unit: str) -> datetime:
    if unit == "y":
        return moment.replace(year=moment.year + amount)
    if unit == "M":
        month = moment.month - 1 + amount
        return moment.replace(year=moment.year + month // 12, month=month % 12 + 1)
    step = {
        "w": timedelta(weeks=1),
        "d": timedelta(days=1),
        "h": timedelta(hours=1),
        "m": timedelta(minutes=1),
    }[unit]
    shifted = (moment.replace(tzinfo=None) + step * amount).replace(tzinfo=moment.tzinfo)
    return shifted


def _date_plan(column: str, op: str, start: int, end: int | None) -> Plan:
    if end is None:
        return DateCompare(column, op, start)
    # A date without a time covers the whole day for = and != (the instant is midnight).
    if op == "=":
        return Conj((DateCompare(column, ">=", start), DateCompare(column, "<", end)))
    if op == "!=":
        return Disj((DateCompare(column, "<", start), DateCompare(column, ">=", end)))
    return DateCompare(column, op, start)


def _order(keys: tuple[SortKey, ...], errors: list[str]) -> tuple[tuple[str, bool], ...]:
    order: list[tuple[str, bool]] = []
    for key in keys:
        name = key.field.lower()
        if name in SORT_FIELDS:
            order.append((SORT_FIELDS[name], bool(key.descending)))
        elif name in ENUM_FIELDS or name in TEXT_FIELDS or name in DATE_FIELDS:
            errors.append(f"Field '{key.field}' does not support sorting.")
        else:
            errors.append(
                f"Field '{key.field}' does not exist or you do not have permission to view it."
            )
    return tuple(order)


def compile_query(
    store: Store, jql: str, viewer: Viewer, clock: Clock, now_ms: int, *, validate: bool = True
) -> Compiled:
    """Parse and resolve ``jql``; raises JqlError with every problem found."""
    query = parse(jql)
    # Relative dates resolve to the second, so requests within one second share a plan.
    compiler = _Compiler(store, clock, now_ms // 1000 * 1000, viewer, validate)
    plan = ALL if query.where is None else compiler.node(query.where, False)
    order = _order(query.order, compiler.errors)
    if compiler.errors:
        raise JqlError(*dict.fromkeys(compiler.errors))
    return Compiled(plan, order or DEFAULT_ORDER, bool(order))
