"""What a resync keeps of every entity it pushed, until reconciliation: as little as possible.

port-ocean 0.54.1 keeps each pushed entity (identifier, blueprint and relations, as a
pydantic model of ~1.4 KB) for the whole resync, because reconciliation needs them: the keys
to tell which catalog entities are stale, and the relation targets so that entities other
entities point at are not deleted. At 100,000 issues that alone is ~140 MB, and it grows
with every issue.

Reconciliation only reads ``identifier``, ``blueprint`` and ``relations`` (``get_port_diff``
and ``get_related_entities``), and a relation target needs protecting once, not once per
issue that points at it (thousands of issues share a project, a reporter, a sprint). So each
entity is kept as a slotted record (~115 bytes) carrying only the relation targets not
already carried by an earlier one.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from port_ocean.core.models import Entity

_NO_RELATIONS: dict[str, Any] = {}


class KeptEntity:
    """Duck-types the three attributes of ``Entity`` that reconciliation reads."""

    __slots__ = ("blueprint", "identifier", "relations")

    def __init__(self, identifier: Any, blueprint: str, relations: dict[str, Any]) -> None:
        self.identifier = identifier
        self.blueprint = blueprint
        self.relations = relations


class KeptEntities:
    def __init__(self) -> None:
        # Hashes of (blueprint, relation, target), not the tuples: a fraction of the memory.
        # A 64-bit collision among ~10^5 targets (p < 10^-9) would leave one relation
        # target without protection from reconciliation.
        self._carried: set[int] = set()

    def reset(self) -> None:
        """Forget the carried targets: each resync protects its own."""
        self._carried.clear()

    def compact(self, entities: Iterable[Entity]) -> list[KeptEntity]:
        kept: list[KeptEntity] = []
        for entity in entities:
            relations: dict[str, Any] = {}
            for name, value in (entity.relations or {}).items():
                targets = value if isinstance(value, list) else [value]
                fresh = []
                for target in targets:
                    if not isinstance(target, str):
                        continue  # a search-query relation (dict) or null: no target to protect
                    key = hash((entity.blueprint, name, target))
                    if key not in self._carried:
                        self._carried.add(key)
                        fresh.append(target)
                if fresh:
                    relations[name] = fresh
            kept.append(KeptEntity(entity.identifier, entity.blueprint, relations or _NO_RELATIONS))
        return kept
