"""What one run did: every failure of every phase, the counts per blueprint, the exit code.

A run object owns one ``RunOutcome`` (no module state): the phases record into it, the
deletion guard reads ``failed`` before deleting anything, and the integration turns
``exit_code`` into the process's exit status for a ONCE run.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum

from loguru import logger


class ExitCode(IntEnum):
    OK = 0
    RUN_FAILED = 1
    BAD_SETTINGS = 2


class Phase(StrEnum):
    """Where a failure happened; the order is the order of a run."""

    CONFIG = "mapping"
    PLAN = "planning"
    PREFLIGHT = "checks before the sync"
    CATALOG_READ = "reading the catalog"
    FETCH = "reading Jira"
    MAP = "mapping"
    WRITE = "writing to the catalog"
    RECONCILE = "reconciliation"
    DELETE = "deleting from the catalog"
    STATE = "recording the sync state"


@dataclass(frozen=True)
class Failure:
    phase: Phase
    scope: str  # a kind ("issue #6"), a blueprint, or "all kinds"
    message: str

    def describe(self) -> str:
        return f"{self.scope} ({self.phase}): {self.message}"


@dataclass
class BlueprintCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    failed: int = 0

    def line(self) -> str:
        return (
            f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged, "
            f"{self.deleted} deleted" + (f", {self.failed} NOT written" if self.failed else "")
        )


@dataclass
class RunOutcome:
    failures: list[Failure] = field(default_factory=list)
    counts: dict[str, BlueprintCounts] = field(default_factory=dict)
    # Why deletions were skipped, when they were (a failure, or a refusal of the guard).
    deletion_skipped: str | None = None

    def fail(self, phase: Phase, scope: str, message: str) -> Failure:
        failure = Failure(phase, scope, message)
        self.failures.append(failure)
        logger.error(f"Sync failure, this run deletes nothing: {failure.describe()}")
        return failure

    @property
    def failed(self) -> bool:
        return bool(self.failures)

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.RUN_FAILED if self.failures else ExitCode.OK

    def blueprint(self, name: str) -> BlueprintCounts:
        return self.counts.setdefault(name, BlueprintCounts())

    def summary(self) -> str:
        if not self.failures:
            return "no failures"
        by_phase = Counter(f.phase for f in self.failures)
        head = ", ".join(f"{n} in {phase}" for phase, n in by_phase.items())
        return f"{len(self.failures)} failure(s) ({head}): " + "; ".join(
            f.describe() for f in self.failures
        )
