"""Confirmations for the kinds read in full: projects, users, boards, sprints, versions and
components. Each looks the object up by its id or key and says whether the resource's
selector would still select it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from jira_server.kinds.base import KindSupport, lookup_all
from jira_server.mapping.fields import split_csv
from jira_server.sync.guard import Confirmation, Verdict

Lookup = Callable[[str], Awaitable[dict[str, Any]]]


class _LookupSupport(KindSupport):
    """Fetch each object; 404 and "not selected" are explained, the rest is still selected."""

    gone_on_404: bool = True

    def lookup(self) -> Lookup:
        raise NotImplementedError

    def why_not_selected(self, found: dict[str, Any]) -> str | None:
        """Why the selector leaves this object out, or None when it selects it."""
        return None

    async def confirm_natural(self, naturals: dict[str, str]) -> dict[str, Confirmation]:
        lookup = self.lookup()
        identifiers = list(naturals)
        found = await lookup_all(
            lookup, [naturals[i] for i in identifiers], self.client.settings.max_concurrent_requests
        )
        verdicts: dict[str, Confirmation] = {}
        for identifier, item in zip(identifiers, found, strict=True):
            if item is None:
                verdicts[identifier] = (
                    Confirmation(Verdict.GONE, "deleted in Jira")
                    if self.gone_on_404
                    else Confirmation(
                        Verdict.UNCONFIRMED,
                        "Jira answers 404 (deleted, or no longer visible to the sync user)",
                    )
                )
                continue
            reason = self.why_not_selected(item)
            verdicts[identifier] = (
                Confirmation(Verdict.GONE, reason)
                if reason
                else Confirmation(Verdict.SELECTED, "Jira still lists it, but the read did not")
            )
        return verdicts


class ProjectSupport(_LookupSupport):
    kind = "project"
    natural_fields = ("key", "id")
    # A project the user can no longer browse answers 404 just like a deleted one.
    gone_on_404 = False

    def lookup(self) -> Lookup:
        return self.client.fetch_project

    def why_not_selected(self, found: dict[str, Any]) -> str | None:
        if found.get("archived") and not self.resource.selector.include_archived:
            return "archived (includeArchived is false)"
        return None


class UserSupport(_LookupSupport):
    kind = "user"
    natural_fields = ("key", "name")

    def lookup(self) -> Lookup:
        field = self.shape.field if self.shape else "key"

        async def fetch(value: str) -> dict[str, Any]:
            if field == "name":
                return await self.client.fetch_user(username=value)
            return await self.client.fetch_user(key=value)

        return fetch

    def why_not_selected(self, found: dict[str, Any]) -> str | None:
        if found.get("deleted"):
            return "deleted in Jira"
        if not found.get("active") and not self.resource.selector.include_inactive:
            return "deactivated (includeInactive is false)"
        return None


class BoardSupport(_LookupSupport):
    kind = "board"

    def lookup(self) -> Lookup:
        return self.client.fetch_board

    def why_not_selected(self, found: dict[str, Any]) -> str | None:
        wanted = self.resource.selector.board_type
        if wanted and found.get("type") != wanted:
            return f"a {found.get('type')} board (boardType is {wanted})"
        return None


class SprintSupport(_LookupSupport):
    kind = "sprint"

    def lookup(self) -> Lookup:
        return self.client.fetch_sprint

    def why_not_selected(self, found: dict[str, Any]) -> str | None:
        states = {s.lower() for s in split_csv(self.resource.selector.state)}
        state = str(found.get("state", "")).lower()
        if states and state not in states:
            return f"{state} (the selector syncs {', '.join(sorted(states))} sprints)"
        return None


class VersionSupport(_LookupSupport):
    kind = "version"

    def lookup(self) -> Lookup:
        return self.client.fetch_version

    def why_not_selected(self, found: dict[str, Any]) -> str | None:
        selector = self.resource.selector
        if found.get("archived") and not selector.include_archived:
            return "archived (includeArchived is false)"
        if found.get("released") and not selector.include_released:
            return "released (includeReleased is false)"
        return None


class ComponentSupport(_LookupSupport):
    kind = "component"

    def lookup(self) -> Lookup:
        return self.client.fetch_component
