"""The deletion guard: which of the catalog's entities a successful run may delete.

It protects against data that went *missing* (a JQL that suddenly matches nothing, a
permission that vanished, a read that missed issues) without refusing expected churn (every
active sprint closing on the same day, a tenth of the issues deleted, a kind removed from
the mapping). The rule, per blueprint, after a run in which nothing failed:

1. Candidates are the integration's entities of the blueprint that this run neither
   produced nor kept (a delta run keeps what Jira did not change), minus the relation
   targets of the entities it keeps (placeholders they point at; with
   ``createMissingRelatedEntities``, as port-ocean spares them).
2. A blueprint no resource of the mapping writes any more: its entities go (the mapping
   says so).
3. ``maxDeletionFraction: 1`` in the mapping: every candidate goes (an explicit override for
   one run, e.g. after deleting a project on purpose).
4. A kind whose empty answer is suspicious (issues by JQL) that returned nothing while more
   than ``ALWAYS_ALLOWED`` of its entities would go: refused.
5. Otherwise a random sample of up to ``SAMPLE`` candidates is looked up in Jira by the
   resources writing the blueprint. Each must be *gone* from every resource's selection for
   a reason Jira shows: deleted, moved out of the JQL, renamed, a sprint now closed, a user
   now inactive, an archived project or version. If Jira still selects one, the read missed
   it: refused. If Jira hides one without saying why (an issue of a project no longer
   visible, a project answering 404), refused when more than ``ALWAYS_ALLOWED`` would go.
   Where the identifier cannot be looked up (a custom identifier mapping), the share
   decides: more than ``maxDeletionFraction`` (default 0.5) of the blueprint and more than
   ``ALWAYS_ALLOWED`` entities: refused.

A refusal anywhere means the run deletes nothing at all and fails (exit 1 in ONCE): the
entities it keeps point at others that only they protect.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

DEFAULT_MAX_DELETION_FRACTION = 0.5
ALWAYS_ALLOWED = 5
SAMPLE = 20


class Verdict(StrEnum):
    GONE = "gone"  # Jira shows why it left the selection
    SELECTED = "selected"  # Jira still selects it: the read missed it
    UNCONFIRMED = "unconfirmed"  # Jira hides it without saying why (e.g. its project)
    UNCHECKABLE = "uncheckable"  # the identifier cannot be looked up in Jira


@dataclass(frozen=True)
class Confirmation:
    verdict: Verdict
    reason: str


class Producer(Protocol):
    """A resource of the mapping that writes a blueprint, as the guard sees it."""

    @property
    def label(self) -> str: ...

    @property
    def returned(self) -> int: ...

    @property
    def empty_is_suspicious(self) -> bool: ...

    async def confirm(self, identifiers: Sequence[str]) -> dict[str, Confirmation]: ...


@dataclass
class BlueprintReview:
    blueprint: str
    owned: int  # the integration's entities of the blueprint before deletion
    candidates: list[str]
    producers: Sequence[Producer] = field(default_factory=list)


@dataclass(frozen=True)
class Decision:
    blueprint: str
    delete: list[str]
    refusal: str | None = None
    note: str = ""


async def review(item: BlueprintReview, limit: float, rng: random.Random | None = None) -> Decision:
    blueprint, candidates = item.blueprint, item.candidates
    if not candidates:
        return Decision(blueprint, [])
    if not item.producers:
        return Decision(
            blueprint, candidates, note="no resource of the mapping writes this blueprint any more"
        )
    if limit >= 1:
        return Decision(blueprint, candidates, note="maxDeletionFraction is 1")
    many = len(candidates) > ALWAYS_ALLOWED
    for producer in item.producers:
        if producer.empty_is_suspicious and producer.returned == 0 and many:
            return Decision(
                blueprint,
                [],
                refusal=(
                    f"refusing to delete {len(candidates)} of {item.owned} {blueprint} entities: "
                    f"{producer.label} returned nothing (a JQL that suddenly matches nothing, or "
                    "a permission that vanished?). If that is intended, set maxDeletionFraction "
                    "to 1 in the mapping for one run"
                ),
            )
    sample = (rng or random.Random()).sample(candidates, min(SAMPLE, len(candidates)))
    verdicts: dict[str, Confirmation] = {i: Confirmation(Verdict.GONE, "") for i in sample}
    for producer in item.producers:
        answers = await producer.confirm(sample)
        for identifier in sample:
            answer = answers.get(identifier)
            if answer is not None and _worse(answer.verdict, verdicts[identifier].verdict):
                verdicts[identifier] = answer
    by_verdict: dict[Verdict, list[str]] = {}
    for identifier in sample:
        by_verdict.setdefault(verdicts[identifier].verdict, []).append(identifier)
    head = f"refusing to delete {len(candidates)} of {item.owned} {blueprint} entities"
    if selected := by_verdict.get(Verdict.SELECTED):
        return Decision(
            blueprint,
            [],
            refusal=(
                f"{head}: Jira still selects {_examples(selected, verdicts)}, so the read "
                "missed entities; nothing is deleted"
            ),
        )
    if (hidden := by_verdict.get(Verdict.UNCONFIRMED)) and many:
        return Decision(
            blueprint,
            [],
            refusal=(
                f"{head}: Jira cannot confirm they are gone: {_examples(hidden, verdicts)}. If "
                "that is intended, set maxDeletionFraction to 1 in the mapping for one run"
            ),
        )
    if unknown := by_verdict.get(Verdict.UNCHECKABLE):
        share = len(candidates) / max(item.owned, 1)
        if many and share > limit:
            return Decision(
                blueprint,
                [],
                refusal=(
                    f"{head} ({share:.0%}, above maxDeletionFraction {limit:.0%}), and they "
                    f"cannot be looked up in Jira ({verdicts[unknown[0]].reason}). If the drop "
                    "is intended, set maxDeletionFraction to 1 in the mapping for one run"
                ),
            )
    confirmed = len(by_verdict.get(Verdict.GONE, []))
    note = f"Jira confirmed {confirmed} of a sample of {len(sample)}"
    if unknown:
        # Say why the rest could go: a note reading "confirmed 0" alone looks like a bug.
        share = len(candidates) / max(item.owned, 1)
        note += (
            f"; {len(unknown)} cannot be looked up ({verdicts[unknown[0]].reason}), "
            f"{share:.0%} of the blueprint is within maxDeletionFraction {limit:.0%}"
            if many
            else f"; {len(unknown)} cannot be looked up, and at most {ALWAYS_ALLOWED} go"
        )
    return Decision(blueprint, candidates, note=note)


_SEVERITY = {
    Verdict.GONE: 0,
    Verdict.UNCHECKABLE: 1,
    Verdict.UNCONFIRMED: 2,
    Verdict.SELECTED: 3,
}


def _worse(a: Verdict, b: Verdict) -> bool:
    return _SEVERITY[a] > _SEVERITY[b]


def _examples(identifiers: list[str], verdicts: dict[str, Confirmation]) -> str:
    shown = "; ".join(f"{i} ({verdicts[i].reason})" for i in identifiers[:3])
    more = f" and {len(identifiers) - 3} more of the sample" if len(identifiers) > 3 else ""
    return shown + more
