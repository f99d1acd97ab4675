"""Drop the parts of raw issues that no mapping expression can read.

The framework evaluates every JQ expression of a mapping separately, and each evaluation
hands the whole raw item to jq again, so the time to map an issue grows with its size times
the number of expressions (20 in the default issue mapping). Jira's nested objects carry
avatars, icon URLs and other keys mappings rarely read: removing every object key whose name
appears in no expression of the mapping halves the mapping time of a page.

A name that appears nowhere can only be reached through generic traversal (``keys``,
``..``, ``to_entries``, an object mapped whole...). That is checked on real data: the first
page of each resync is left untouched and used as a sample; if any expression gives a
different result on the slimmed sample, slimming is off for that resync. Leaving the first
page whole also keeps the raw-data examples Port shows in its mapping editor complete.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterable
from typing import Any

import jq
from loguru import logger

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')
_DOTTED = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)")
# The key an expression starts from, e.g. `self` in `(.self | sub(...)) + "/browse/"`.
_LEADING = re.compile(r"^[\s(]*\.([A-Za-z_][A-Za-z0-9_]*)")
VERIFY_SAMPLE = 50


class PayloadSlimmer:
    def __init__(self, expressions: Iterable[str]) -> None:
        self._expressions = [e for e in expressions if e]
        text = " ".join(self._expressions)
        self._names = frozenset(_NAME.findall(text)) | frozenset(_QUOTED.findall(text))
        self._root_only = _root_only_names(self._expressions)

    def slim(self, value: Any, depth: int = 0) -> Any:
        if isinstance(value, dict):
            return {
                k: self.slim(v, depth + 1)
                for k, v in value.items()
                if k in self._names and not (depth and k in self._root_only)
            }
        if isinstance(value, list):
            return [self.slim(v, depth) for v in value]
        return value

    def verify(self, items: list[dict[str, Any]]) -> bool:
        """True when every expression gives the same result on the slimmed sample."""
        try:
            programs = [jq.compile(expression) for expression in self._expressions]
        except ValueError as exc:  # an expression jq cannot compile alone: stay safe
            logger.info(f"Issue payloads are not slimmed: {exc}")
            return False
        for item in items[:VERIFY_SAMPLE]:
            slim = self.slim(item)
            for expression, program in zip(self._expressions, programs, strict=True):
                try:
                    same = program.input_value(item).all() == program.input_value(slim).all()
                except ValueError:
                    same = False
                if not same:
                    logger.info(
                        f"Issue payloads are not slimmed: the mapping expression {expression!r} "
                        "reads keys it does not name (e.g. a whole object)"
                    )
                    return False
        return True


def _root_only_names(expressions: list[str]) -> frozenset[str]:
    """Names read only where an expression starts, i.e. on the item itself: nested keys of
    that name (every Jira object has a ``self`` link) can go too."""
    leading: set[str] = set()
    elsewhere: set[str] = set()
    for expression in expressions:
        first = _LEADING.match(expression)
        for match in _DOTTED.finditer(expression):
            is_leading = first is not None and match.start(1) == first.start(1)
            (leading if is_leading else elsewhere).add(match.group(1))
        elsewhere.update(_QUOTED.findall(expression))
    return frozenset(leading - elsewhere)


async def slim_pages(
    pages: AsyncIterator[list[dict[str, Any]]], slimmer: PayloadSlimmer | None
) -> AsyncIterator[list[dict[str, Any]]]:
    """The first page whole (and used to verify), the following ones slimmed."""
    first = True
    async for page in pages:
        if slimmer is not None:
            if first:
                if not slimmer.verify(page):
                    slimmer = None
            else:
                page = [slimmer.slim(item) for item in page]
        first = False
        yield page
