"""Everything one emulator instance holds, with the in-process control API.

``app.state`` is what tests drive directly (set faults, mutate, ask for the truth); the
HTTP control routes are thin wrappers over these methods, so both behave identically.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from local_stack.jira_emulator.activity import Activity
from local_stack.jira_emulator.auth import Authenticator, Caller
from local_stack.jira_emulator.config import EmulatorConfig, apply_settings, settings_json
from local_stack.jira_emulator.data import generate
from local_stack.jira_emulator.faults import FaultConfig, FaultEngine
from local_stack.jira_emulator.query import QueryEngine, Viewer
from local_stack.jira_emulator.render import Renderer
from local_stack.jira_emulator.stats import Stats
from local_stack.jira_emulator.store import MutationError, Store
from local_stack.jira_emulator.timefmt import Clock


class EmulatorState:
    def __init__(self, config: EmulatorConfig) -> None:
        usernames = tuple(a.username for a in config.accounts)
        spec = config.dataset
        if spec.accounts != usernames:
            spec = dataclasses.replace(spec, accounts=usernames)
        self.config = config
        self.data = generate(spec)
        self.store = Store(self.data, config.now_ms)
        self.activity = self.store.activity = Activity(self.store)
        self.engine = QueryEngine(self.store)
        self.clock = Clock(config.time_zone)
        self.faults = FaultEngine(config.faults)
        self.auth = Authenticator(config, self.store)
        self.stats = Stats(config.search_log_limit)
        self._renderers: dict[str, Renderer] = {}

    # ---- per-request helpers ------------------------------------------------------------

    def renderer(self, base: str) -> Renderer:
        renderer = self._renderers.get(base)
        if renderer is None or renderer.legacy_sprints != self.config.legacy_sprint_field:
            if len(self._renderers) > 8:
                self._renderers.clear()
            renderer = Renderer(self.store, self.config, self.clock, base)
            self._renderers[base] = renderer
        return renderer

    def forget_rendered_users(self) -> None:
        """User fragments embed ``active``: drop them after a user changes."""
        self._renderers.clear()

    def viewer(self, caller: Caller) -> Viewer:
        if caller.user is None or not self.config.browse_projects:
            return Viewer(None if caller.user is None else caller.user.idx, frozenset())
        hidden = {key.upper() for key in self.config.hidden_projects}
        visible = frozenset(p.idx for p in self.store.projects if p.key.upper() not in hidden)
        return Viewer(caller.user.idx, visible)

    def author(self) -> int:
        """Who control-API changes are made by: the first account (user 0 if it is missing)."""
        user = self.store.find_user(self.config.accounts[0].username)
        return 0 if user is None else user.idx

    def caller_for(self, username: str | None) -> Caller:
        """The caller the truth oracle evaluates as (default: the first account)."""
        if username == "anonymous":
            return Caller(None, "anonymous")
        name = username or self.config.accounts[0].username
        user = self.store.find_user(name)
        if user is None:
            raise MutationError(f"no user {name!r}")
        return Caller(user, "basic")

    # ---- control API --------------------------------------------------------------------

    def set_faults(
        self, faults: FaultConfig | dict[str, Any], *, merge: bool = False
    ) -> FaultConfig:
        if isinstance(faults, dict):
            faults = FaultConfig.from_json(faults, self.faults.config if merge else None)
        self.config.faults = faults
        self.faults.reset(faults)
        return faults

    def reset_lockout(self, username: str | None = None) -> None:
        """What logging in through the browser (answering the CAPTCHA) does."""
        self.auth.reset(username)

    def reset_stats(self) -> None:
        self.stats.reset()

    def settings(self) -> dict[str, Any]:
        return settings_json(self.config)

    def update_settings(self, changes: dict[str, Any]) -> dict[str, Any]:
        apply_settings(self.config, changes)
        return self.settings()

    def mutate(self, ops: list[dict[str, Any]]) -> dict[str, Any]:
        from local_stack.jira_emulator.mutations import apply_ops

        results = apply_ops(self, ops)
        return {"dataVersion": self.store.version, "results": results}

    def truth(self, jql: str = "", as_user: str | None = None) -> dict[str, Any]:
        """What a perfect client would see right now: the oracle for test assertions.

        Issues come in the query's ORDER BY, or ascending id when it has none; projects
        and users are everything the caller may list (users regardless of active)."""
        caller = self.caller_for(as_user)
        viewer = self.viewer(caller)
        compiled = self.engine.compile(jql, viewer, self.clock, self.config.now_ms())
        if not compiled.explicit_order:
            compiled = dataclasses.replace(compiled, order=(("id", False),))
        _, positions = self.engine.page(compiled, viewer, 0, len(self.store.issues) + 1)
        issues = [self.store.issues[p] for p in positions]
        projects = [self.store.projects[p] for p in sorted(viewer.projects)]
        users = [u for u in self.store.users if not u.deleted] if caller.user else []
        return {
            "dataVersion": self.store.version,
            "jql": jql,
            "total": len(issues),
            "keys": [i.key for i in issues if i is not None],
            "ids": [str(i.id) for i in issues if i is not None],
            "projects": [p.key for p in projects if not p.archived],
            "archivedProjects": [p.key for p in projects if p.archived],
            "users": [u.key for u in users],
            "activeUsers": [u.key for u in users if u.active],
        }

    def health(self) -> dict[str, Any]:
        alive = sum(1 for i in self.store.issues if i is not None)
        return {
            "status": "ok",
            "version": self.config.version,
            "dataVersion": self.store.version,
            "issues": alive,
            "projects": len(self.store.projects),
            "users": len(self.store.users),
            "anchor": self.data.anchor_ms,
        }
