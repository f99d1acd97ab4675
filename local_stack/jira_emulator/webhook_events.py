"""Webhook deliveries of the emulator: which changes a mutation made, which registrations
hear of them, the payloads, and the HTTP POSTs (in the background, with a timeout).

A mutation batch is bracketed by two snapshots; the difference gives the events:
created, deleted and updated issues (``rev`` or ``updated`` moved), and projects and users
whose state changed (``project_updated``/``user_updated``). An issue event goes to a
registration whose ``FILTERS`` JQL matches the issue as Jira evaluates it: after the change
for created issues, the last state for deleted ones, and before *or* after the change for
updates (``filter_match = "after"`` narrows that to the new state).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx

from local_stack.jira_emulator.data import History, Issue
from local_stack.jira_emulator.fields import ALL_FIELDS, Selection
from local_stack.jira_emulator.jql import JqlError
from local_stack.jira_emulator.render import Renderer
from local_stack.jira_emulator.state import EmulatorState
from local_stack.jira_emulator.wire import js

ISSUE_EVENTS = ("jira:issue_created", "jira:issue_updated", "jira:issue_deleted")
MAX_RECORDED = 2000


@dataclass
class Registration:
    id: int
    name: str
    url: str
    events: list[str]
    jql: str
    secret: str | None
    exclude_body: bool
    active: bool
    owner: str
    created_ms: int
    updated_ms: int


@dataclass
class DeliverySettings:
    """Knobs of ``PATCH /_emulator/webhooks/settings``."""

    non_admins: list[str] = field(default_factory=list)  # usernames refused with 403
    filter_match: str = "before_or_after"  # or "after": updates matched on the new state only
    duplicate: bool = False  # DC 10 delivers at least once: send every delivery twice
    timeout_seconds: float = 5.0
    paused: bool = False  # True: changes are not delivered at all (a disabled webhook)

    def update(self, changes: dict[str, Any]) -> None:
        known: dict[str, type | tuple[type, ...]] = {
            "non_admins": list,
            "filter_match": str,
            "duplicate": bool,
            "timeout_seconds": (int, float),
            "paused": bool,
        }
        for name, value in changes.items():
            expected = known.get(name)
            if expected is None:
                raise ValueError(f"unknown webhook setting {name!r}")
            if not isinstance(value, expected) or isinstance(value, bool) != (expected is bool):
                raise ValueError(f"{name} has the wrong type")
            names = value if isinstance(value, list) else []
            if name == "non_admins" and not all(isinstance(v, str) for v in names):
                raise ValueError("non_admins must be a list of usernames")
        if changes.get("filter_match", "after") not in ("after", "before_or_after"):
            raise ValueError("filter_match must be 'after' or 'before_or_after'")
        for name, value in changes.items():
            setattr(self, name, value)


@dataclass
class Outgoing:
    """One POST to make: the exact bytes and headers, and what to record about it."""

    url: str
    body: bytes
    headers: dict[str, str]
    record: dict[str, Any]


@dataclass
class Snapshot:
    issues: dict[int, tuple[int, Issue, int, int]]  # id -> (position, issue, rev, updated)
    matches: dict[int, int]  # registration id -> bitmask of matching positions
    projects: list[tuple[bool, str]]
    users: list[tuple[bool, bool, str]]


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class Deliveries:
    def __init__(self, state: EmulatorState) -> None:
        self.state = state
        self.settings = DeliverySettings()
        self.registrations: dict[int, Registration] = {}
        self.records: list[dict[str, Any]] = []
        self.base = "http://127.0.0.1"  # self links; updated from the requests seen
        self._next_delivery = 1
        self._tasks: set[asyncio.Task[None]] = set()
        self._lock = threading.Lock()
        # Tests may route deliveries elsewhere (e.g. httpx.MockTransport); None: the network.
        self.transport: httpx.AsyncBaseTransport | None = None

    # ---- filters ------------------------------------------------------------------------

    def check_jql(self, jql: str) -> None:
        """Raise JqlError like Jira does for a filter it cannot parse."""
        state = self.state
        viewer = state.viewer(state.caller_for(None))
        state.engine.compile(jql, viewer, state.clock, state.config.now_ms())

    def _mask(self, registration: Registration) -> int:
        state = self.state
        try:
            viewer = state.viewer(state.caller_for(registration.owner))
            compiled = state.engine.compile(
                registration.jql, viewer, state.clock, state.config.now_ms()
            )
        except (JqlError, ValueError):
            return 0
        return state.engine.evaluate(compiled.plan) & state.engine.visible_mask(viewer)

    def _listening(self, events: Iterable[str]) -> list[Registration]:
        wanted = set(events)
        return [r for r in self.registrations.values() if r.active and wanted & set(r.events)]

    # ---- change detection ---------------------------------------------------------------

    def snapshot(self) -> Snapshot | None:
        if self.settings.paused or not self._listening(
            [*ISSUE_EVENTS, "project_updated", "user_updated"]
        ):  # nothing to tell anyone: skip the O(issues) work
            return None
        store = self.state.store
        issues = {i.id: (p, i, i.rev, i.updated) for p, i in store.iter_alive()}
        matches = {r.id: self._mask(r) for r in self._listening(ISSUE_EVENTS)}
        projects = [(p.archived, p.name) for p in store.projects]
        users = [(u.active, u.deleted, u.display_name) for u in store.users]
        return Snapshot(issues, matches, projects, users)

    def changes(self, before: Snapshot) -> list[Outgoing]:
        store = self.state.store
        after_issues = {i.id: (p, i) for p, i in store.iter_alive()}
        after_masks = {r.id: self._mask(r) for r in self._listening(ISSUE_EVENTS)}
        renderer = self.state.renderer(self.base)
        out: list[Outgoing] = []
        for issue_id, (p, issue) in after_issues.items():
            old = before.issues.get(issue_id)
            if old is None:
                out += self._issue_event("jira:issue_created", issue, p, renderer, after_masks)
            elif (old[2], old[3]) != (issue.rev, issue.updated):
                masks = after_masks
                if self.settings.filter_match == "before_or_after":
                    masks = {k: v | before.matches.get(k, 0) for k, v in after_masks.items()}
                out += self._issue_event("jira:issue_updated", issue, p, renderer, masks)
        for issue_id, (p, issue, _, _) in before.issues.items():
            if issue_id not in after_issues:
                out += self._issue_event("jira:issue_deleted", issue, p, renderer, before.matches)
        for idx, project in enumerate(store.projects):
            if idx < len(before.projects) and before.projects[idx] != (
                project.archived,
                project.name,
            ):
                body = {"project": _project_payload(renderer, idx)}
                out += self._deliver("project_updated", body, None, {"project": project.key})
        for idx, user in enumerate(store.users):
            state = (user.active, user.deleted, user.display_name)
            if idx < len(before.users) and before.users[idx] != state:
                body = {"user": renderer.user_resource(user)}
                out += self._deliver("user_updated", body, None, {"user": user.key})
        return out

    def _issue_event(
        self, event: str, issue: Issue, position: int, renderer: Renderer, masks: dict[int, int]
    ) -> list[Outgoing]:
        hearing = [
            r
            for r in self._listening([event])
            if not r.jql.strip() or (masks.get(r.id, 0) >> position) & 1
        ]
        if not hearing:
            return []
        body: dict[str, Any] = {
            "issue_event_type_name": _event_type(event, issue),
            "user": json.loads(renderer.user_ref(self.state.author())),
            "issue": json.loads(renderer.issue(issue, Selection(tuple(ALL_FIELDS), frozenset()))),
        }
        if event == "jira:issue_updated" and issue.history:
            body["changelog"] = _changelog(issue.history[-1])
        return self._deliver(event, body, hearing, {"issue": issue.key})

    # ---- outgoing -----------------------------------------------------------------------

    def _deliver(
        self,
        event: str,
        body: dict[str, Any],
        hearing: list[Registration] | None,
        about: dict[str, str],
    ) -> list[Outgoing]:
        payload = {"timestamp": self.state.config.now_ms(), "webhookEvent": event, **body}
        raw = js(payload).encode("utf-8")
        out = []
        for registration in hearing if hearing is not None else self._listening([event]):
            content = b"" if registration.exclude_body else raw
            out.append(
                self.outgoing(
                    registration.url,
                    content,
                    self.signing_secret(registration),
                    {"webhookId": registration.id, "webhookEvent": event, **about},
                )
            )
        return out

    def signing_secret(self, registration: Registration) -> str | None:
        """Data Center 10+ signs when SECRET is set; 9.x and older never sign."""
        if self.state.config.version_numbers[0] < 10:
            return None
        return registration.secret or None

    def outgoing(
        self,
        url: str,
        body: bytes,
        secret: str | None,
        record: dict[str, Any],
        *,
        signature: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Outgoing:
        sent = {"Content-Type": "application/json; charset=UTF-8", **(headers or {})}
        if signature is not None:
            sent["X-Hub-Signature"] = signature
        elif secret:
            sent["X-Hub-Signature"] = sign(secret, body)
        record = {**record, "url": url, "signed": "X-Hub-Signature" in sent}
        return Outgoing(url, body, sent, record)

    def send(self, batch: list[Outgoing]) -> list[int]:
        """Record and start the POSTs in the background; returns the delivery ids."""
        if not batch:
            return []
        copies = 2 if self.settings.duplicate else 1
        jobs: list[tuple[Outgoing, dict[str, Any]]] = []
        with self._lock:
            for item in batch:
                for attempt in range(1, copies + 1):
                    record = {
                        **item.record,
                        "id": self._next_delivery,
                        "attempt": attempt,
                        "status": None,
                        "error": None,
                        "queuedAt": int(time.time() * 1000),
                    }
                    self._next_delivery += 1
                    self.records.append(record)
                    jobs.append((item, record))
            del self.records[:-MAX_RECORDED]
        coroutine = self._post_all(jobs)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # in-process use without a loop (tests calling state.mutate)
            threading.Thread(target=asyncio.run, args=(coroutine,), daemon=True).start()
        else:
            task = loop.create_task(coroutine)
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return [record["id"] for _, record in jobs]

    async def _post_all(self, jobs: list[tuple[Outgoing, dict[str, Any]]]) -> None:
        timeout = httpx.Timeout(self.settings.timeout_seconds)
        async with httpx.AsyncClient(
            timeout=timeout, follow_redirects=False, transport=self.transport
        ) as http:
            await asyncio.gather(*(self._post(http, item, record) for item, record in jobs))

    async def _post(self, http: httpx.AsyncClient, item: Outgoing, record: dict[str, Any]) -> None:
        try:
            response = await http.post(item.url, content=item.body, headers=item.headers)
        except httpx.HTTPError as exc:
            record["error"] = f"{type(exc).__name__}: {exc}"
        else:
            record["status"] = response.status_code
        record["doneAt"] = int(time.time() * 1000)

    async def settle(self) -> None:
        """Wait for the deliveries started on this loop (in-process tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def pending(self) -> int:
        return sum(1 for r in self.records if r["status"] is None and r["error"] is None)


def _event_type(event: str, issue: Issue) -> str:
    if event != "jira:issue_updated":
        return event.removeprefix("jira:")
    fields = {item[0] for item in issue.history[-1].items} if issue.history else set()
    if "status" in fields:
        return "issue_generic"  # a workflow transition
    if fields == {"assignee"}:
        return "issue_assigned"
    return "issue_updated"


def _changelog(entry: History) -> dict[str, Any]:
    return {
        "id": str(entry.id),
        "items": [
            {
                "field": name,
                "fieldtype": "jira",
                "from": old_id,
                "fromString": old,
                "to": new_id,
                "toString": new,
            }
            for name, old_id, old, new_id, new in entry.items
        ],
    }


def _project_payload(renderer: Renderer, idx: int) -> dict[str, Any]:
    """What Jira sends for a project event: a short reference (id as a number)."""
    ref: dict[str, Any] = json.loads(renderer.project_ref(idx))
    project = renderer.store.projects[idx]
    ref["id"] = project.id
    ref["projectLead"] = json.loads(renderer.user_ref(project.lead))
    return ref
