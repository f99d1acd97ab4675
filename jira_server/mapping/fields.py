"""Derive the Jira ``fields`` an issue resource needs from its JQ mappings.

Asking Jira for only these fields cuts the payload several-fold (descriptions, comments,
worklogs and dozens of custom fields are never mapped by default).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

# `.fields.summary`, `.fields?.summary`, `.fields["customfield_10100"]`, `.fields | .x` not
# counted (see _BARE_FIELDS).
_FIELD_ATTR = re.compile(r"\.fields\??\s*\.\s*([A-Za-z_][A-Za-z0-9_]*)")
_FIELD_INDEX = re.compile(r"\.fields\??\s*\[\s*\"([^\"]+)\"\s*\]")
_ANY_FIELDS = re.compile(r"\.fields\b\??")


def mapping_expressions(value: Any) -> Iterable[str]:
    """Every JQ expression string in a (nested) mappings structure."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from mapping_expressions(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from mapping_expressions(item)


def fields_read_by(expressions: Iterable[str]) -> list[str] | None:
    """Every Jira field the JQ expressions read, sorted; ``None`` when an expression reads
    ``.fields`` as a whole (e.g. ``.fields | keys``) so no subset is safe."""
    names: set[str] = set()
    for expression in expressions:
        named = [m.span() for m in _FIELD_ATTR.finditer(expression)]
        named += [m.span() for m in _FIELD_INDEX.finditer(expression)]
        for match in _ANY_FIELDS.finditer(expression):
            if not any(start <= match.start() < end for start, end in named):
                return None
        names.update(m.group(1) for m in _FIELD_ATTR.finditer(expression))
        names.update(m.group(1) for m in _FIELD_INDEX.finditer(expression))
    return sorted(names)


def split_csv(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def requested_fields(explicit: str | None, expressions: Iterable[str]) -> list[str]:
    """What to ask Jira for: the selector's ``fields`` when given, else the fields the
    expressions read, else everything (``*all``) when they read ``.fields`` as a whole."""
    chosen = split_csv(explicit)
    if chosen:
        return chosen
    derived = fields_read_by(expressions)
    return ["*all"] if derived is None else derived
