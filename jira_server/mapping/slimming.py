"""Drop the parts of raw items that no mapping expression can read, provably.

port-ocean maps an item by handing all of it to jq, once per expression in its own
processor, once per mapping in ours (``entity_processor``): the time grows with the item's
size. Jira's nested objects carry avatars, icon URLs and other keys mappings rarely read.

What to keep is decided from the mapping's expressions alone (``jq_reads``): every path an
expression reads is kept, whole where the expression uses a value whole (``.fields.parent``
mapped as an object keeps all of ``parent``), structurally where it only looks inside. An
expression the analysis cannot bound (``reduce``, ``def``, an unknown function...) turns
slimming off for the resource. Nothing is learned from sample data, so a later page whose
values are shaped differently maps exactly as it would unslimmed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from loguru import logger

from jira_server.framework import format_jq_filter
from jira_server.mapping.jq_reads import STAR, Path, Unprovable, reads_of


@dataclass
class KeepNode:
    whole: bool = False
    children: dict[str, KeepNode] = field(default_factory=dict)
    star: KeepNode | None = None

    def child(self, step: str) -> KeepNode:
        if step == STAR:
            if self.star is None:
                self.star = KeepNode()
            return self.star
        return self.children.setdefault(step, KeepNode())

    def merged_with(self, other: KeepNode) -> KeepNode:
        if self.whole or other.whole:
            return KeepNode(whole=True)
        merged = KeepNode()
        for name in self.children.keys() | other.children.keys():
            a, b = self.children.get(name), other.children.get(name)
            merged.children[name] = a.merged_with(b) if a and b else (a or b)  # type: ignore[assignment]
        if self.star or other.star:
            merged.star = (
                self.star.merged_with(other.star)
                if self.star and other.star
                else (self.star or other.star)
            )
        return merged

    def settle(self) -> None:
        """A member read by name is also read by ``*``: merge the star's needs into it."""
        if self.star is not None:
            self.star.settle()
            for name, node in list(self.children.items()):
                self.children[name] = node.merged_with(self.star)
        for node in self.children.values():
            node.settle()


def _build(whole: Iterable[Path], present: Iterable[Path]) -> KeepNode:
    root = KeepNode()
    for path, keep_whole in [*((p, False) for p in present), *((p, True) for p in whole)]:
        node = root
        for step in path:
            if node.whole:
                break
            node = node.child(step)
        if keep_whole:
            node.whole = True
            node.children.clear()
            node.star = None
    root.settle()
    return root


def _slim(value: Any, node: KeepNode) -> Any:
    if node.whole:
        return value
    if isinstance(value, dict):
        kept: dict[str, Any] = {}
        for key, item in value.items():
            child = node.children.get(key) or node.star
            if child is not None:
                kept[key] = _slim(item, child)
        return kept
    if isinstance(value, list):
        # Array elements are never dropped (indices would move); without a ``*`` read the
        # list is used in some other way: keep it as it is.
        return [_slim(item, node.star) for item in value] if node.star else value
    return value


class PayloadSlimmer:
    def __init__(self, root: KeepNode) -> None:
        self._root = root

    @classmethod
    def for_expressions(cls, expressions: Iterable[Any]) -> PayloadSlimmer | None:
        """None when some expression cannot be bounded (nothing is then slimmed)."""
        whole: set[Path] = set()
        present: set[Path] = set()
        for expression in expressions:
            if not isinstance(expression, str) or not expression.strip():
                continue
            try:
                reads = reads_of(format_jq_filter(expression))
            except Unprovable as exc:
                logger.info(f"Payloads are not slimmed: the expression {expression!r}: {exc}")
                return None
            if () in reads.whole:  # `.` itself used whole: nothing can go
                return None
            whole |= reads.whole
            present |= reads.present
        return cls(_build(whole, present))

    def top_level_keys(self) -> set[str]:
        keys = set(self._root.children)
        return keys | ({STAR} if self._root.star else set())

    def slim(self, item: Any) -> Any:
        return _slim(item, self._root)
