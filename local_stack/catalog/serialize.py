"""Entity records as Port returns them, and the ``include``/``exclude`` projections."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from local_stack.catalog.store import EntityRecord
from local_stack.catalog.timeutil import to_iso
from local_stack.catalog.validation import CompiledBlueprint


def entity_json(record: EntityRecord, blueprint: CompiledBlueprint | None) -> dict[str, Any]:
    """Every schema property and relation is present, ``null`` when unset (as Port does)."""
    if blueprint is None:
        properties = dict(record.properties)
        relations = dict(record.relations)
    else:
        properties = {name: record.properties.get(name) for name in blueprint.property_names}
        relations = {name: record.relations.get(name) for name in blueprint.relations}
    body: dict[str, Any] = {
        "identifier": record.identifier,
        "title": record.title,
        "icon": record.icon,
        "blueprint": record.blueprint,
        "team": record.team,
        "properties": properties,
        "relations": relations,
        "createdAt": to_iso(record.created_at),
        "createdBy": record.created_by,
        "updatedAt": to_iso(record.updated_at),
        "updatedBy": record.updated_by,
    }
    if record.icon is None:
        del body["icon"]
    return body


def project(
    entity: dict[str, Any], include: Sequence[str], exclude: Sequence[str]
) -> dict[str, Any]:
    """Apply Port's ``include`` (keep only) then ``exclude`` (drop) dotted paths."""
    if include:
        kept: dict[str, Any] = {}
        for path in include:
            head, _, rest = path.partition(".")
            if head not in entity:
                continue
            if rest and isinstance(entity[head], dict):
                section = kept.setdefault(head, {})
                if isinstance(section, dict):
                    section[rest] = entity[head].get(rest)
            else:
                kept[head] = entity[head]
        entity = kept
    for path in exclude:
        head, _, rest = path.partition(".")
        if rest and isinstance(entity.get(head), dict):
            entity[head].pop(rest, None)
        elif not rest:
            entity.pop(head, None)
    return entity
