"""Small JQL text operations the client needs: split off ORDER BY, add keyset bounds."""

from __future__ import annotations

import re

_ORDER_BY = re.compile(r"\border\s+by\b", re.IGNORECASE)


def _unquoted_spans(text: str) -> list[tuple[int, int]]:
    """Index ranges of ``text`` that are outside single or double quotes."""
    spans: list[tuple[int, int]] = []
    start, quote, i = 0, "", 0
    while i < len(text):
        char = text[i]
        if quote:
            if char == "\\":
                i += 1
            elif char == quote:
                quote, start = "", i + 1
        elif char in "\"'":
            spans.append((start, i))
            quote = char
        i += 1
    if not quote:
        spans.append((start, len(text)))
    return spans


def strip_order_by(jql: str) -> str:
    """The filter part of a JQL query: the client imposes its own unique order."""
    for begin, end in _unquoted_spans(jql):
        match = _ORDER_BY.search(jql, begin, end)
        if match:
            return jql[: match.start()].strip()
    return jql.strip()


def narrowed(jql: str, clause: str) -> str:
    """``(filter of jql) AND clause``, or the clause alone when the JQL selects everything."""
    where = strip_order_by(jql)
    return f"({where}) AND {clause}" if where else clause


def keyset_query(where: str, after_id: int | None = None, up_to_id: int | None = None) -> str:
    """``(where) AND id > a AND id <= b ORDER BY id ASC``: a page boundary that does not move
    when issues are created, deleted or re-ranked during the scan (offset paging does)."""
    clauses = [f"({where})"] if where else []
    if after_id is not None:
        clauses.append(f"id > {after_id}")
    if up_to_id is not None:
        clauses.append(f"id <= {up_to_id}")
    return f"{' AND '.join(clauses)} ORDER BY id ASC".strip()


def highest_id_query(where: str) -> str:
    return f"({where}) ORDER BY id DESC" if where else "ORDER BY id DESC"
