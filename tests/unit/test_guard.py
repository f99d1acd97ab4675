"""The deletion guard's rule (jira_server/sync/guard.py) on its own, with producers whose
answers are known; the end-to-end cases are in tests/reliability."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field

from jira_server.sync.guard import (
    ALWAYS_ALLOWED,
    SAMPLE,
    BlueprintReview,
    Confirmation,
    Verdict,
    review,
)


@dataclass
class FakeProducer:
    label: str = "issue (resource #0)"
    returned: int = 100
    empty_is_suspicious: bool = True
    verdicts: dict[str, Verdict] = field(default_factory=dict)
    default: Verdict = Verdict.GONE
    asked: list[str] = field(default_factory=list)

    async def confirm(self, identifiers: Sequence[str]) -> dict[str, Confirmation]:
        self.asked.extend(identifiers)
        return {
            i: Confirmation(self.verdicts.get(i, self.default), f"because of {i}")
            for i in identifiers
        }


def ids(count: int, prefix: str = "A") -> list[str]:
    return [f"{prefix}-{n}" for n in range(count)]


async def test_confirmed_churn_is_deleted_whatever_its_share() -> None:
    # Every active sprint closed the same day: 6 of 6 leave, and Jira shows them closed.
    producer = FakeProducer(label="sprint (resource #3)", returned=0, empty_is_suspicious=False)
    decision = await review(BlueprintReview("sprints", 6, ids(6), [producer]), 0.5)
    assert decision.refusal is None
    assert sorted(decision.delete) == sorted(ids(6))
    assert sorted(producer.asked) == sorted(ids(6))


async def test_an_entity_jira_still_selects_refuses_everything() -> None:
    candidates = ids(50)
    producer = FakeProducer(verdicts=dict.fromkeys(candidates, Verdict.SELECTED))
    decision = await review(BlueprintReview("issues", 1000, candidates, [producer]), 0.5)
    assert decision.delete == []
    assert decision.refusal is not None
    assert "Jira still selects" in decision.refusal and "the read missed" in decision.refusal


async def test_the_sample_is_bounded() -> None:
    producer = FakeProducer()
    await review(BlueprintReview("issues", 10_000, ids(3000), [producer]), 0.5, random.Random(1))
    assert len(producer.asked) == SAMPLE


async def test_an_empty_jql_answer_is_refused_without_asking() -> None:
    producer = FakeProducer(returned=0)
    decision = await review(BlueprintReview("issues", 300, ids(300), [producer]), 0.5)
    assert decision.refusal is not None and "returned nothing" in decision.refusal
    assert "maxDeletionFraction to 1" in decision.refusal
    assert producer.asked == []


async def test_a_few_entities_of_an_empty_answer_go() -> None:
    producer = FakeProducer(returned=0)
    decision = await review(
        BlueprintReview("issues", ALWAYS_ALLOWED, ids(ALWAYS_ALLOWED), [producer]), 0.5
    )
    assert decision.refusal is None and len(decision.delete) == ALWAYS_ALLOWED


async def test_entities_jira_hides_without_a_reason_are_refused_when_many() -> None:
    hidden = FakeProducer(default=Verdict.UNCONFIRMED)
    many = await review(BlueprintReview("issues", 1000, ids(40), [hidden]), 0.5)
    assert many.refusal is not None and "cannot confirm they are gone" in many.refusal
    few = await review(
        BlueprintReview("issues", 1000, ids(2), [FakeProducer(default=Verdict.UNCONFIRMED)]), 0.5
    )
    assert few.refusal is None and len(few.delete) == 2


async def test_uncheckable_identifiers_fall_back_to_the_share() -> None:
    small = await review(
        BlueprintReview("issues", 100, ids(40), [FakeProducer(default=Verdict.UNCHECKABLE)]), 0.5
    )
    assert small.refusal is None and len(small.delete) == 40
    # The log says why they may go, not only "confirmed 0".
    assert small.note.startswith(f"Jira confirmed 0 of a sample of {SAMPLE}; {SAMPLE} cannot")
    assert small.note.endswith("40% of the blueprint is within maxDeletionFraction 50%")
    large = await review(
        BlueprintReview("issues", 100, ids(60), [FakeProducer(default=Verdict.UNCHECKABLE)]), 0.5
    )
    assert large.refusal is not None and "above maxDeletionFraction 50%" in large.refusal


async def test_gone_must_hold_for_every_resource_writing_the_blueprint() -> None:
    gone = FakeProducer(label="issue (resource #5)")
    keeps = FakeProducer(label="issue (resource #6)", default=Verdict.SELECTED)
    decision = await review(BlueprintReview("issues", 100, ids(10), [gone, keeps]), 0.5)
    assert decision.refusal is not None


async def test_a_blueprint_no_longer_mapped_is_emptied() -> None:
    decision = await review(BlueprintReview("components", 18, ids(18), []), 0.5)
    assert decision.refusal is None and len(decision.delete) == 18
    assert "no resource of the mapping writes this blueprint" in decision.note


async def test_limit_one_deletes_without_confirmation() -> None:
    producer = FakeProducer(returned=0, default=Verdict.SELECTED)
    decision = await review(BlueprintReview("issues", 300, ids(300), [producer]), 1.0)
    assert decision.refusal is None and len(decision.delete) == 300
    assert producer.asked == []
