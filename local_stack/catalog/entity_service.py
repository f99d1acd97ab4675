"""Entity writes as Port performs them: upsert/merge, relation checks, cascading deletes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from local_stack.catalog.catalog import Catalog
from local_stack.catalog.errors import PortApiError, invalid_request, not_found
from local_stack.catalog.store import Edge, EntityKey, EntityRecord
from local_stack.catalog.timeutil import now_us
from local_stack.catalog.validation import CompiledBlueprint, is_valid_entity_identifier

UNKNOWN_IDENTIFIER = "unknown"  # what Port reports when an entity has no usable identifier


def datasource_for(user_agent: str | None) -> str:
    """Port records the writer: the framework's User-Agent is
    ``port-ocean/<type>/<version>/<identifier>/<exporter|gitops>``; reconciliation later
    lists an integration's entities by prefix and suffix of this string."""
    if user_agent and user_agent.startswith("port-ocean/"):
        return user_agent
    return "port-api"


@dataclass(frozen=True)
class UpsertOptions:
    upsert: bool = True
    merge: bool = False
    create_missing_related_entities: bool = False
    validation_only: bool = False


@dataclass
class UpsertOutcome:
    index: int
    identifier: str
    created: bool = False
    record: EntityRecord | None = None
    error: PortApiError | None = None


class _Batch:
    """One request's upserts, sharing a transaction and a view of what exists."""

    def __init__(
        self, catalog: Catalog, blueprint: CompiledBlueprint, options: UpsertOptions, actor: str
    ) -> None:
        self.catalog = catalog
        self.store = catalog.store
        self.blueprint = blueprint
        self.options = options
        self.datasource = datasource_for(actor)
        self.now = now_us()
        self.existing: dict[str, EntityRecord] = {}
        self.known: set[EntityKey] = set()

    def prefetch_targets(self, items: list[Any]) -> None:
        """One query per target blueprint instead of a lookup per relation value."""
        wanted: dict[str, set[str]] = {}
        for item in items:
            relations = item.get("relations") if isinstance(item, dict) else None
            if not isinstance(relations, dict):
                continue
            for name, value in relations.items():
                spec = self.blueprint.relations.get(name)
                values = value if isinstance(value, list) else [value]
                if spec is not None:
                    wanted.setdefault(spec.target, set()).update(
                        v for v in values if isinstance(v, str)
                    )
        for target, identifiers in wanted.items():
            found = self.store.existing_identifiers(target, identifiers)
            self.known.update((target, identifier) for identifier in found)

    def exists(self, key: EntityKey) -> bool:
        if key in self.known:
            return True
        if self.store.entity_exists(*key):
            self.known.add(key)
            return True
        return False

    def upsert(self, index: int, item: Any) -> UpsertOutcome:
        if not isinstance(item, dict):
            raise invalid_request(f"body/entities/{index} must be object")
        identifier = item.get("identifier")
        if isinstance(identifier, dict):
            raise invalid_request("search identifiers are not supported by the local catalog")
        if not is_valid_entity_identifier(identifier):
            raise invalid_request(
                '"identifier" must match pattern "^(?!\\.{1,2}$)[\\p{L}0-9@_.+:\\\\/=\'-]+$"'
            )
        for key, types in (("title", (str,)), ("icon", (str,)), ("properties", (dict,))):
            if item.get(key) is not None and not isinstance(item[key], types):
                raise invalid_request(f'"{key}" must be {types[0].__name__}')
        if item.get("relations") is not None and not isinstance(item["relations"], dict):
            raise invalid_request('"relations" must be object')

        old = self.existing.get(identifier)
        if old is not None and not self.options.upsert:
            raise PortApiError(
                409,
                "identifier_taken",
                f'Entity with identifier "{identifier}" already exists in blueprint '
                f'"{self.blueprint.identifier}"',
            )
        new_props: dict[str, Any] = item.get("properties") or {}
        new_rels: dict[str, Any] = item.get("relations") or {}
        if old is not None and self.options.merge:
            props = {**old.properties, **new_props}
            rels = {**old.relations, **new_rels}
            title = item.get("title", old.title)
            icon = item.get("icon", old.icon)
            team = item.get("team", old.team)
        else:
            props, rels = dict(new_props), dict(new_rels)
            title, icon, team = item.get("title"), item.get("icon"), item.get("team", [])

        problems = self.blueprint.property_errors(props) + self.blueprint.relation_errors(rels)
        if problems:
            raise PortApiError(422, "schema_mismatch", "; ".join(problems))

        edges = [
            Edge(name, self.blueprint.relations[name].target, target)
            for name, value in rels.items()
            if value is not None
            for target in (value if isinstance(value, list) else [value])
        ]
        missing = [e for e in edges if not self.exists((e.dst_bp, e.dst_id))]
        if missing and not self.options.create_missing_related_entities:
            first = missing[0]
            raise not_found(
                f'Entity with identifier "{first.dst_id}" of blueprint "{first.dst_bp}" '
                f'(target of relation "{first.relation}") was not found'
            )
        created = old is None
        if self.options.validation_only:
            return UpsertOutcome(index, identifier, created=created)

        for edge in missing:
            self.create_bare(edge.dst_bp, edge.dst_id)
        datasource = self.datasource
        team = team if team is not None else []
        if (
            old is not None
            and not self.catalog.settings.touch_unchanged
            and (old.title, old.icon, old.team, old.properties, old.relations, old.datasource)
            == (title, icon, team, props, rels, datasource)
        ):
            return UpsertOutcome(index, identifier, created=False, record=old)
        record = EntityRecord(
            blueprint=self.blueprint.identifier,
            identifier=identifier,
            title=title,
            icon=icon,
            team=team,
            properties=props,
            relations=rels,
            datasource=datasource,
            created_by=old.created_by if old else datasource,
            updated_by=datasource,
            created_at=old.created_at if old else self.now,
            updated_at=self.now,
        )
        self.store.write_entity(record, edges, existed=old is not None)
        self.existing[identifier] = record
        self.known.add(record.key)
        return UpsertOutcome(index, identifier, created=created, record=record)

    def create_bare(self, blueprint: str, identifier: str) -> None:
        """A missing relation target, created empty like Port's create_missing_related_entities."""
        if (blueprint, identifier) in self.known:
            return
        datasource = self.datasource
        record = EntityRecord(
            blueprint=blueprint,
            identifier=identifier,
            title=None,
            icon=None,
            team=[],
            properties={},
            relations={},
            datasource=datasource,
            created_by=datasource,
            updated_by=datasource,
            created_at=self.now,
            updated_at=self.now,
        )
        self.store.write_entity(record, [], existed=False)
        self.known.add(record.key)
        if blueprint == self.blueprint.identifier:
            self.existing[identifier] = record
        self.catalog.stats.related_entities_created += 1


def upsert_entities(
    catalog: Catalog,
    blueprint_id: str,
    items: list[Any],
    options: UpsertOptions,
    actor: str | None,
) -> list[UpsertOutcome]:
    """Upsert in order within one transaction; a failing entity does not stop the others."""
    blueprint = catalog.require_blueprint(blueprint_id)
    batch = _Batch(catalog, blueprint, options, actor or "")
    identifiers = [
        item["identifier"]
        for item in items
        if isinstance(item, dict) and isinstance(item.get("identifier"), str)
    ]
    outcomes: list[UpsertOutcome] = []
    with catalog.store.transaction():
        batch.existing = catalog.store.get_entities(blueprint_id, identifiers)
        batch.known = {(blueprint_id, i) for i in batch.existing}
        batch.prefetch_targets(items)
        for index, item in enumerate(items):
            try:
                outcomes.append(batch.upsert(index, item))
            except PortApiError as error:
                raw_id = item.get("identifier") if isinstance(item, dict) else None
                shown = raw_id if isinstance(raw_id, str) else UNKNOWN_IDENTIFIER
                outcomes.append(UpsertOutcome(index, shown, error=error))
    stats = catalog.stats
    if not options.validation_only:
        stats.entities_upserted += sum(1 for o in outcomes if o.error is None)
        stats.entities_created += sum(1 for o in outcomes if o.error is None and o.created)
    stats.entity_errors += sum(1 for o in outcomes if o.error is not None)
    return outcomes


def delete_entities(
    catalog: Catalog, blueprint_id: str, identifiers: list[str], delete_dependents: bool
) -> list[str]:
    """Delete the existing ones among ``identifiers``; returns those deleted.

    Port's dependents are entities with a *required* relation to a deleted entity: without
    ``delete_dependents`` their existence fails the whole request, with it they are deleted
    too (recursively). Optional relations pointing at a deleted entity are just cleared.
    """
    catalog.require_blueprint(blueprint_id)
    store = catalog.store
    with store.transaction():
        present = list(store.get_entities(blueprint_id, identifiers))
        doomed: set[EntityKey] = {(blueprint_id, i) for i in present}
        queue = list(doomed)
        optional_links: list[tuple[EntityKey, str, EntityKey]] = []
        while queue:
            target = queue.pop()
            for src_bp, src_id, relation in store.incoming_edges(target):
                source = (src_bp, src_id)
                if source in doomed:
                    continue
                spec = catalog.blueprint(src_bp)
                rel = spec.relations.get(relation) if spec else None
                if rel is None or not rel.required:
                    optional_links.append((source, relation, target))
                elif delete_dependents:
                    doomed.add(source)
                    queue.append(source)
                else:
                    raise PortApiError(
                        422,
                        "has_dependents",
                        f'Entity "{target[1]}" of blueprint "{target[0]}" has dependent '
                        f'entities (e.g. "{src_id}" of blueprint "{src_bp}" through required '
                        f'relation "{relation}"); use delete_dependents=true',
                    )
        for source, relation, target in optional_links:
            if source not in doomed:
                store.unlink(source, relation, target)
        store.delete_entities(doomed)
    catalog.stats.entities_deleted += len(doomed)
    catalog.stats.dependents_deleted += len(doomed) - len(present)
    return present
