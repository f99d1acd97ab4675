"""A per-blueprint guard on the deletions of reconciliation.

port-ocean deletes every entity of the integration that a successful resync did not produce,
unless the deletions exceed ``entityDeletionThreshold`` (0.9) of the entities it looked at,
counted across all kinds together. A kind that *returns* nothing (a JQL that suddenly
matches nothing, Browse permission revoked so searches come back empty) is therefore taken
as the truth whenever the other kinds are big enough to dilute the rate: every issue goes.

Here each blueprint is judged on its own: when a resync would delete more than
``maxDeletionFraction`` (mapping setting, default 0.5) of the blueprint's entities, the
resync deletes nothing at all (as when a kind raises) and the kind is reported as failed (a
ONCE run exits 1). Not just that blueprint's deletions: the entities it keeps point at
others (sprints, users, parent issues) that only they protect from deletion, and deleting
those would clear the relations of the kept ones. Setting it to 1 lets any drop through,
for a resync that is meant to remove most of a kind.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from loguru import logger
from port_ocean.clients.port.types import UserAgentType
from port_ocean.context.event import event
from port_ocean.context.ocean import ocean
from port_ocean.core.handlers.entities_state_applier.port.applier import (
    HttpEntitiesStateApplier,
)
from port_ocean.core.handlers.entities_state_applier.port.get_related_entities import (
    get_related_entities,
)
from port_ocean.core.models import Entity
from port_ocean.core.ocean_types import EntityDiff
from port_ocean.core.utils.entity_identifier import normalize_identifier
from port_ocean.helpers.metric.metric import MetricPhase, MetricType

from jira_server import outcome
from jira_server.errors import JiraSyncError

DEFAULT_MAX_DELETION_FRACTION = 0.5
# A handful of deletions is never a mass deletion (a sprint closing in a kind of three).
ALWAYS_ALLOWED_DELETIONS = 5


class MassDeletionRefused(JiraSyncError):
    """A resync would have deleted too large a share of a blueprint's entities."""


@dataclass(frozen=True)
class Refusal:
    blueprint: str
    deleting: int
    keeping: int
    limit: float

    @property
    def fraction(self) -> float:
        return self.deleting / (self.deleting + self.keeping)

    def message(self) -> str:
        return (
            f"refusing to delete {self.deleting} of {self.deleting + self.keeping} "
            f"{self.blueprint} entities ({self.fraction:.0%}, above maxDeletionFraction "
            f"{self.limit:.0%}): this resync returned only {self.keeping} of them, so it "
            "deletes nothing. If the drop is intended (e.g. the JQL was narrowed), set "
            "maxDeletionFraction to 1 in the mapping for one resync"
        )


def generated_keys(entities: Iterable[Entity]) -> dict[str, set[str]]:
    """The identifiers a resync produced, per blueprint: a set of the strings the records
    already hold, much lighter than get_port_diff's dicts of every entity."""
    keys: dict[str, set[str]] = defaultdict(set)
    for entity in entities:
        keys[str(entity.blueprint)].add(normalize_identifier(entity.identifier))
    return keys


def review(deleting: Iterable[Entity], keeping: Iterable[Entity], limit: float) -> list[Refusal]:
    """The blueprints whose deletions exceed ``limit`` of their entities."""
    kept = {blueprint: len(ids) for blueprint, ids in generated_keys(keeping).items()}
    return review_counts(deleting, kept, limit)


def review_counts(
    deleting: Iterable[Entity], kept: Mapping[str, int], limit: float
) -> list[Refusal]:
    if limit >= 1:
        return []
    deleted = Counter(str(e.blueprint) for e in deleting)
    return [
        Refusal(blueprint, count, kept.get(blueprint, 0), limit)
        for blueprint, count in sorted(deleted.items())
        if count > ALWAYS_ALLOWED_DELETIONS and count / (count + kept.get(blueprint, 0)) > limit
    ]


def kinds_of(blueprint: str, resources: Sequence[Any]) -> str:
    """The kinds whose mapping writes ``blueprint`` (a JQ string literal in the mapping)."""
    kinds = [
        str(r.kind)
        for r in resources
        if str(r.port.entity.mappings.blueprint).strip().strip("'\"") == blueprint
    ]
    return ", ".join(dict.fromkeys(kinds)) or blueprint


class GuardedEntitiesStateApplier(HttpEntitiesStateApplier):
    """port-ocean's applier with the per-blueprint guard in front of its deletions. The diff
    is computed once, against the produced identifiers per blueprint, instead of twice with
    dicts of every entity (see jira_server.kept_entities for why that matters)."""

    async def delete_diff(
        self,
        entities: EntityDiff,
        user_agent_type: UserAgentType,
        entity_deletion_threshold: float | None = None,
    ) -> None:
        config = event.port_app_config
        limit = float(getattr(config, "max_deletion_fraction", DEFAULT_MAX_DELETION_FRACTION))
        before, after = entities["before"], entities["after"]
        produced, kept = self._produced(after)
        stale = [e for e in before if not produced(str(e.blueprint), e.identifier)]
        if not stale:
            _count_deleted(0)
            return
        refusals = review_counts(stale, kept, limit)
        if refusals and config.create_missing_related_entities:
            # Not counted: what _safe_delete spares anyway (targets of the kept entities).
            related = await get_related_entities(after, self.context.port_client)
            spared = {(e.identifier, e.blueprint) for e in related}
            deleting = [e for e in stale if (e.identifier, e.blueprint) not in spared]
            refusals = review_counts(deleting, kept, limit)
        for refusal in refusals:
            kind = kinds_of(refusal.blueprint, config.resources)
            outcome.record_failure(kind, MassDeletionRefused(refusal.message()))
        if refusals:
            logger.warning("Skipping the delete phase: this resync deletes nothing")
            return
        # The rest is port-ocean's own delete_diff: its threshold across all kinds, then
        # _safe_delete, which spares the targets of the entities this resync produced.
        deletion_rate = len(stale) / len(before)
        if entity_deletion_threshold is not None and deletion_rate <= entity_deletion_threshold:
            await self._safe_delete(stale, after, user_agent_type)
            _count_deleted(len(stale))
        else:
            logger.info(
                f"Skipping deletion of entities with deletion rate {deletion_rate}",
                deletion_rate=deletion_rate,
                deleting_entities=len(stale),
            )

    def _produced(self, after: list[Entity]) -> tuple[Callable[[str, Any], bool], dict[str, int]]:
        """Which identifiers this resync produced: from the integration's compact records
        when the resync went through them, else from the entities themselves."""
        records = getattr(self.context.integration, "kept_entities", None)
        if records is not None and records.active:
            return records.produced, records.produced_counts()
        generated = generated_keys(after)

        def produced(blueprint: str, identifier: Any) -> bool:
            return normalize_identifier(identifier) in generated.get(blueprint, ())

        return produced, {blueprint: len(ids) for blueprint, ids in generated.items()}


def _count_deleted(count: int) -> None:
    ocean.metrics.inc_metric(
        name=MetricType.OBJECT_COUNT_NAME,
        labels=[
            ocean.metrics.current_resource_kind(),
            MetricPhase.DELETE,
            MetricPhase.DeletionResult.DELETED,
        ],
        value=count,
    )
