"""What a resync keeps of every entity it pushed, until reconciliation: as little as possible.

port-ocean 0.54.1 keeps each pushed entity (identifier, blueprint and relations, as a
pydantic model of ~1.4 KB) for the whole resync, because reconciliation needs two things:
which identifiers this resync produced (the others are stale), and the relation targets of
the produced entities (placeholders they point at must not be deleted). At 100,000 issues
that alone is ~140 MB, growing with every issue.

Here the produced identifiers are kept as hashes in a set per blueprint, and each relation
target once (thousands of issues share a project, a reporter, a sprint): an entity that
carries no new target is represented in the framework's list by one shared record per
blueprint. ``jira_server.deletion_guard`` reads the identifiers from here. A 64-bit hash
collision among ~10^5 identifiers (p < 10^-9) can only make a stale entity look produced,
i.e. keep it for a resync: the safe direction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from port_ocean.core.models import Entity
from port_ocean.core.utils.entity_identifier import normalize_identifier

_NO_RELATIONS: dict[str, Any] = {}
# No catalog entity has an empty identifier, so the shared records never match one.
_SHARED_IDENTIFIER = ""


class KeptEntity:
    """Duck-types the three attributes of ``Entity`` that reconciliation reads."""

    __slots__ = ("blueprint", "identifier", "relations")

    def __init__(self, identifier: Any, blueprint: str, relations: dict[str, Any]) -> None:
        self.identifier = identifier
        self.blueprint = blueprint
        self.relations = relations


class KeptEntities:
    def __init__(self) -> None:
        self._produced: dict[str, set[int]] = defaultdict(set)
        self._carried: set[int] = set()
        self._shared: dict[str, KeptEntity] = {}

    def reset(self) -> None:
        """Each resync starts empty: it protects and reconciles its own entities."""
        self._produced.clear()
        self._carried.clear()
        self._shared.clear()

    def compact(self, entities: Iterable[Entity]) -> list[KeptEntity]:
        kept: list[KeptEntity] = []
        for entity in entities:
            blueprint = str(entity.blueprint)
            self._produced[blueprint].add(hash(normalize_identifier(entity.identifier)))
            relations = self._new_targets(blueprint, entity.relations or {})
            if relations:
                kept.append(KeptEntity(entity.identifier, blueprint, relations))
            else:
                kept.append(self._shared_record(blueprint))
        return kept

    def produced(self, blueprint: str, identifier: Any) -> bool:
        return hash(normalize_identifier(identifier)) in self._produced.get(blueprint, ())

    def produced_counts(self) -> dict[str, int]:
        return {blueprint: len(hashes) for blueprint, hashes in self._produced.items()}

    @property
    def active(self) -> bool:
        """Whether this resync's entities went through ``compact``."""
        return bool(self._produced)

    def _new_targets(self, blueprint: str, relations: dict[str, Any]) -> dict[str, Any]:
        fresh_by_name: dict[str, Any] = {}
        for name, value in relations.items():
            fresh = []
            for target in value if isinstance(value, list) else [value]:
                if not isinstance(target, str):
                    continue  # a search-query relation (dict) or null: no target to protect
                key = hash((blueprint, name, target))
                if key not in self._carried:
                    self._carried.add(key)
                    fresh.append(target)
            if fresh:
                fresh_by_name[name] = fresh
        return fresh_by_name

    def _shared_record(self, blueprint: str) -> KeptEntity:
        record = self._shared.get(blueprint)
        if record is None:
            record = self._shared[blueprint] = KeptEntity(
                _SHARED_IDENTIFIER, blueprint, _NO_RELATIONS
            )
        return record
