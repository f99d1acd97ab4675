"""A simple workflow shared by every project: which transitions an issue offers now.

Modelled on Jira Software's simplified workflows: named transitions that lead to a target
status, offered depending on the current status category. A transition to the status the
issue is already in is never offered (Jira hides it as well).
"""

from __future__ import annotations

from dataclasses import dataclass

from local_stack.jira_emulator import catalog as cat


@dataclass(frozen=True)
class Transition:
    id: str
    name: str
    to: int  # index into catalog.STATUSES
    from_categories: frozenset[str]  # status category keys it starts from


_OPEN = frozenset({cat.NEW.key, cat.IN_PROGRESS.key})
TRANSITIONS: tuple[Transition, ...] = (
    Transition("11", "Back to To Do", cat.STATUS_TODO, _OPEN),
    Transition("21", "Start Progress", cat.STATUS_IN_PROGRESS, _OPEN),
    Transition("41", "Request Review", cat.STATUS_IN_REVIEW, _OPEN),
    Transition("31", "Done", cat.STATUS_DONE, _OPEN),
    Transition("51", "Reopen", cat.STATUS_REOPENED, frozenset({cat.DONE.key})),
)


def available(status: int) -> list[Transition]:
    """The transitions offered to an issue in ``status`` (an index into STATUSES)."""
    category = cat.STATUSES[status].category.key
    return [t for t in TRANSITIONS if category in t.from_categories and t.to != status]


def by_id(transition_id: str) -> Transition | None:
    return next((t for t in TRANSITIONS if t.id == transition_id), None)
