"""JSON rendering in Jira's REST v2 shapes, built as text from cached fragments.

Objects that repeat across issues (users, statuses, projects, priorities ...) are serialised
once per base URL; an issue is then a concatenation of field fragments, so a page costs time
proportional to its size rather than to a dict-building-then-dumping round trip.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote

from local_stack.jira_emulator import catalog as cat
from local_stack.jira_emulator import derived
from local_stack.jira_emulator.config import EmulatorConfig
from local_stack.jira_emulator.data import Issue, Project, Sprint, User, mix
from local_stack.jira_emulator.fields import Selection, field_names, field_schema
from local_stack.jira_emulator.issue_fields import NULL, field_renderers
from local_stack.jira_emulator.store import Store
from local_stack.jira_emulator.timefmt import Clock
from local_stack.jira_emulator.wire import js

ISSUE_EXPAND = "operations,versionedRepresentations,editmeta,changelog,renderedFields"
PROJECT_EXPAND = "description,lead,createdAt,createdBy,lastUpdatedAt,lastUpdatedBy,url,projectKeys"


class Renderer:
    """Serialises model objects for one base URL (fragments embed ``self`` links)."""

    def __init__(self, store: Store, config: EmulatorConfig, clock: Clock, base: str) -> None:
        self.store = store
        self.config = config
        self.clock = clock
        self.base = base
        self.api = f"{base}/rest/api/2"
        self._users: dict[int, str] = {}
        self._projects: dict[int, str] = {}
        self._status = [self._status_json(s) for s in cat.STATUSES]
        self._types = [self._type_json(t) for t in cat.ISSUE_TYPES]
        self._priorities = [
            js(
                {
                    "self": f"{self.api}/priority/{p.id}",
                    "iconUrl": base + p.icon,
                    "name": p.name,
                    "id": p.id,
                }
            )
            for p in cat.PRIORITIES
        ]
        self._resolutions = [
            js(
                {
                    "self": f"{self.api}/resolution/{r.id}",
                    "id": r.id,
                    "description": r.description,
                    "name": r.name,
                }
            )
            for r in cat.RESOLUTIONS
        ]
        self._components: dict[int, str] = {}
        self._versions: dict[int, str] = {}
        self._sprints: dict[int, str] = {}
        self.legacy_sprints = config.legacy_sprint_field
        self._strings: dict[str, str] = {}
        self._lists: dict[tuple[str, tuple[int | str, ...]], str] = {}
        self._plans: dict[tuple[str, ...], list[tuple[str, Callable[[Issue], str]]]] = {}
        self.renderers: dict[str, Callable[[Issue], str]] = field_renderers(self)

    def string(self, text: str) -> str:
        """JSON for a string that repeats across issues (summaries come from templates)."""
        cached = self._strings.get(text)
        if cached is None:
            cached = js(text)
            if len(self._strings) > 200_000:
                self._strings.clear()
            self._strings[text] = cached
        return cached

    def _array(self, key: tuple[str, tuple[int | str, ...]], build: Callable[[], str]) -> str:
        """JSON arrays of labels, components, versions: few distinct combinations."""
        cached = self._lists.get(key)
        if cached is None:
            cached = build()
            if len(self._lists) > 50_000:
                self._lists.clear()
            self._lists[key] = cached
        return cached

    def labels(self, labels: tuple[str, ...]) -> str:
        return self._array(("labels", labels), lambda: js(list(labels))) if labels else "[]"

    def components(self, ids: tuple[int, ...]) -> str:
        if not ids:
            return "[]"
        return self._array(
            ("components", ids), lambda: f"[{','.join(map(self.component_ref, ids))}]"
        )

    def versions(self, ids: tuple[int, ...]) -> str:
        if not ids:
            return "[]"
        return self._array(("versions", ids), lambda: f"[{','.join(map(self.version_ref, ids))}]")

    # ---- shared objects -----------------------------------------------------------------

    def _status_json(self, status: cat.Status) -> str:
        c = status.category
        return js(
            {
                "self": f"{self.api}/status/{status.id}",
                "description": status.description,
                "iconUrl": self.base + status.icon,
                "name": status.name,
                "id": status.id,
                "statusCategory": {
                    "self": f"{self.api}/statuscategory/{c.id}",
                    "id": c.id,
                    "key": c.key,
                    "colorName": c.color,
                    "name": c.name,
                },
            }
        )

    def _type_json(self, t: cat.IssueType) -> str:
        icon = self.base + (
            t.icon or f"/secure/viewavatar?size=xsmall&avatarId={t.avatar_id}&avatarType=issuetype"
        )
        body: dict[str, Any] = {
            "self": f"{self.api}/issuetype/{t.id}",
            "id": t.id,
            "description": t.description,
            "iconUrl": icon,
            "name": t.name,
            "subtask": t.subtask,
        }
        if not t.icon:
            body["avatarId"] = t.avatar_id
        return js(body)

    def issuetype_objects(self) -> list[Any]:
        return [json.loads(t) for t in self._types]

    def priority_objects(self) -> list[Any]:
        return [json.loads(p) for p in self._priorities]

    def avatar_urls(self, user: User) -> dict[str, str]:
        if user.avatar.startswith("g"):
            digest = user.avatar[1:]
            return {
                f"{s}x{s}": f"https://www.gravatar.com/avatar/{digest}?d=mm&s={s}"
                for s in (48, 24, 16, 32)
            }
        return self._hosted_avatars("useravatar", user.avatar[1:])

    def _hosted_avatars(self, servlet: str, avatar_id: object) -> dict[str, str]:
        """Avatar URLs served by Jira itself (``/secure/useravatar``, ``projectavatar``)."""
        url = f"{self.base}/secure/{servlet}?"
        return {
            "48x48": f"{url}avatarId={avatar_id}",
            "24x24": f"{url}size=small&avatarId={avatar_id}",
            "16x16": f"{url}size=xsmall&avatarId={avatar_id}",
            "32x32": f"{url}size=medium&avatarId={avatar_id}",
        }

    def user_self(self, user: User) -> str:
        return f"{self.api}/user?username={quote(user.name, safe='')}"

    def user_ref(self, idx: int) -> str:
        """A user inside an issue, comment or project (no locale/deleted)."""
        if idx < 0:
            return NULL
        cached = self._users.get(idx)
        if cached is None:
            user = self.store.users[idx]
            body: dict[str, Any] = {
                "self": self.user_self(user),
                "name": user.name,
                "key": user.key,
            }
            if user.email is not None:
                body["emailAddress"] = user.email
            body["avatarUrls"] = self.avatar_urls(user)
            body["displayName"] = user.display_name
            body["active"] = user.active
            body["timeZone"] = user.time_zone
            cached = js(body)
            self._users[idx] = cached
        return cached

    def invalidate_user(self, idx: int) -> None:
        self._users.pop(idx, None)

    def user_resource(self, user: User, *, full: bool = False) -> dict[str, Any]:
        """``/user``, ``/user/search``, ``/myself`` shape (adds deleted and locale)."""
        body: dict[str, Any] = {"self": self.user_self(user), "key": user.key, "name": user.name}
        if user.email is not None:
            body["emailAddress"] = user.email
        body["avatarUrls"] = self.avatar_urls(user)
        body["displayName"] = user.display_name
        body["active"] = user.active
        body["deleted"] = user.deleted
        body["timeZone"] = user.time_zone
        body["locale"] = user.locale
        if full:
            groups = 2 if user.idx < len(self.config.accounts) else 1
            body["groups"] = {"size": groups, "items": []}
            body["applicationRoles"] = {"size": 1, "items": []}
            body["expand"] = "groups,applicationRoles"
        return body

    def project_avatars(self, project: Project) -> dict[str, str]:
        return self._hosted_avatars("projectavatar", project.avatar_id)

    def project_category(self, project: Project) -> dict[str, str] | None:
        if project.category is None:
            return None
        cid = "10000" if project.category == "Engineering" else "10001"
        return {
            "self": f"{self.api}/projectCategory/{cid}",
            "id": cid,
            "name": project.category,
            "description": f"{project.category} projects",
        }

    def project_ref(self, idx: int) -> str:
        cached = self._projects.get(idx)
        if cached is None:
            project = self.store.projects[idx]
            body: dict[str, Any] = {
                "self": f"{self.api}/project/{project.id}",
                "id": str(project.id),
                "key": project.key,
                "name": project.name,
                "projectTypeKey": project.type_key,
                "avatarUrls": self.project_avatars(project),
            }
            category = self.project_category(project)
            if category:
                body["projectCategory"] = category
            cached = js(body)
            self._projects[idx] = cached
        return cached

    def project_list_item(self, project: Project, expand: frozenset[str]) -> dict[str, Any]:
        body: dict[str, Any] = {
            "expand": PROJECT_EXPAND,
            "self": f"{self.api}/project/{project.id}",
            "id": str(project.id),
            "key": project.key,
        }
        if "description" in expand:
            body["description"] = project.description
        if "lead" in expand:
            body["lead"] = json.loads(self.user_ref(project.lead))
        body["name"] = project.name
        body["avatarUrls"] = self.project_avatars(project)
        category = self.project_category(project)
        if category:
            body["projectCategory"] = category
        body["projectTypeKey"] = project.type_key
        if "url" in expand and project.url:
            body["url"] = project.url
        if "projectKeys" in expand:
            body["projectKeys"] = [project.key]
        if "issueTypes" in expand:
            body["issueTypes"] = self.issuetype_objects()
        body["archived"] = project.archived
        return body

    def project_full(self, project: Project) -> dict[str, Any]:
        data = self.store.data
        body: dict[str, Any] = {
            "expand": "description,lead,url,projectKeys",
            "self": f"{self.api}/project/{project.id}",
            "id": str(project.id),
            "key": project.key,
            "description": project.description,
            "lead": json.loads(self.user_ref(project.lead)),
            "components": [self.component_full(data.components[c]) for c in project.components],
            "issueTypes": self.issuetype_objects(),
        }
        if project.url:
            body["url"] = project.url
        body["assigneeType"] = "UNASSIGNED"
        body["versions"] = [json.loads(self.version_ref(v)) for v in project.versions]
        body["name"] = project.name
        body["roles"] = {
            role: f"{self.api}/project/{project.id}/role/{rid}"
            for role, rid in (("Developers", 10001), ("Administrators", 10002), ("Users", 10000))
        }
        body["avatarUrls"] = self.project_avatars(project)
        category = self.project_category(project)
        if category:
            body["projectCategory"] = category
        body["projectKeys"] = [project.key]
        body["projectTypeKey"] = project.type_key
        body["archived"] = project.archived
        return body

    def component_full(self, component: Any) -> dict[str, Any]:
        project = self.store.projects[component.project]
        body: dict[str, Any] = {
            "self": f"{self.api}/component/{component.id}",
            "id": str(component.id),
            "name": component.name,
            "description": component.description,
        }
        if component.lead >= 0:
            body["lead"] = json.loads(self.user_ref(component.lead))
        body["assigneeType"] = "PROJECT_DEFAULT"
        body["realAssigneeType"] = "PROJECT_DEFAULT"
        body["isAssigneeTypeValid"] = False
        body["project"] = project.key
        body["projectId"] = project.id
        body["archived"] = False
        return body

    def component_ref(self, cid: int) -> str:
        cached = self._components.get(cid)
        if cached is None:
            c = self.store.data.components[cid]
            cached = js(
                {
                    "self": f"{self.api}/component/{cid}",
                    "id": str(cid),
                    "name": c.name,
                    "description": c.description,
                }
            )
            self._components[cid] = cached
        return cached

    def version_ref(self, vid: int) -> str:
        cached = self._versions.get(vid)
        if cached is None:
            v = self.store.data.versions[vid]
            body: dict[str, Any] = {"self": f"{self.api}/version/{vid}", "id": str(vid)}
            if v.description:
                body["description"] = v.description
            body["name"] = v.name
            body["archived"] = v.archived
            body["released"] = v.released
            if v.start_ms is not None:
                body["startDate"] = self.clock.format_date(v.start_ms)
            if v.release_ms is not None:
                body["releaseDate"] = self.clock.format_date(v.release_ms)
                body["userReleaseDate"] = self.clock.format_user_date(v.release_ms)
            body["projectId"] = self.store.projects[v.project].id
            cached = js(body)
            self._versions[vid] = cached
        return cached

    def sprint_value(self, sid: int) -> str:
        cached = self._sprints.get(sid)
        if cached is None:
            s = self.store.data.sprints[sid]
            cached = (
                js(self._legacy_sprint(s)) if self.legacy_sprints else js(self._sprint_object(s))
            )
            self._sprints[sid] = cached
        return cached

    def _legacy_sprint(self, s: Sprint) -> str:
        """The 8.x/9.x Java toString: upper-case state, <null> for nulls, unescaped commas."""

        def value(ms: int | None) -> str:
            return "<null>" if ms is None else self.clock.format_colon(ms)

        return (
            f"com.atlassian.greenhopper.service.sprint.Sprint@{mix(s.id, 77):x}[id={s.id},"
            f"rapidViewId={s.board},state={s.state.upper()},name={s.name},"
            f"startDate={value(s.start_ms)},endDate={value(s.end_ms)},"
            f"completeDate={value(s.complete_ms)},activatedDate={value(s.activated_ms)},"
            f"sequence={s.sequence},goal={s.goal},autoStartStop=false,synced=false]"
        )

    def _sprint_object(self, s: Sprint) -> dict[str, Any]:
        body: dict[str, Any] = {"id": s.id, "name": s.name, "state": s.state, "boardId": s.board}
        if s.goal:
            body["goal"] = s.goal
        for key, ms in (
            ("startDate", s.start_ms),
            ("endDate", s.end_ms),
            ("completeDate", s.complete_ms),
        ):
            if ms is not None:
                body[key] = self.clock.format_colon(ms)
        return body

    # ---- issues -------------------------------------------------------------------------

    def issue_self(self, issue: Issue) -> str:
        return f"{self.api}/issue/{issue.id}"

    def issue_ref(self, issue: Issue) -> str:
        """Parent / sub-task reference: id, key, self and four navigator fields."""
        return (
            f'{{"id":"{issue.id}","key":{js(issue.key)},"self":"{self.issue_self(issue)}",'
            f'"fields":{{"summary":{self.string(issue.summary)},"status":{self._status[issue.status]},'
            f'"priority":{self._priorities[issue.priority]},"issuetype":{self._types[issue.type]}}}}}'
        )

    def _plan(self, fields: tuple[str, ...]) -> list[tuple[str, Callable[[Issue], str]]]:
        plan = self._plans.get(fields)
        if plan is None:
            plan = [(f'"{name}":', self.renderers[name]) for name in fields]
            self._plans[fields] = plan
        return plan

    def issue(
        self,
        issue: Issue,
        selection: Selection,
        *,
        names: bool = False,
        changelog_limit: int | None = None,
    ) -> str:
        if issue.parent:
            parts = [prefix + render(issue) for prefix, render in self._plan(selection.fields)]
        else:
            # `parent` is only present on sub-tasks.
            parts = [
                prefix + render(issue)
                for prefix, render in self._plan(selection.fields)
                if prefix != '"parent":'
            ]
        head = (
            f'{{"expand":"{ISSUE_EXPAND}","id":"{issue.id}","self":"{self.issue_self(issue)}",'
            f'"key":{js(issue.key)},"fields":{{{",".join(parts)}}}'
        )
        extras = []
        if "renderedFields" in selection.expand:
            extras.append(f'"renderedFields":{js(self.rendered_fields(issue, selection.fields))}')
        if names and "names" in selection.expand:
            extras.append(f'"names":{js(field_names(selection.fields))}')
        if names and "schema" in selection.expand:
            extras.append(f'"schema":{js(field_schema(selection.fields))}')
        if "changelog" in selection.expand:
            extras.append(f'"changelog":{self.changelog(issue, changelog_limit)}')
        if extras:
            return f"{head},{','.join(extras)}}}"
        return head + "}"

    def rendered_fields(self, issue: Issue, selected: Iterable[str]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in selected:
            value: Any = None
            if name == "description":
                text = derived.description(issue)
                value = (
                    None if text is None else "".join(f"<p>{p}</p>" for p in text.split("\r\n\r\n"))
                )
            elif name == "environment":
                env = derived.environment(issue)
                value = None if env is None else f"<p>{env}</p>"
            elif name in ("created", "updated"):
                value = self.clock.format_human(getattr(issue, name))
            elif name == "resolutiondate" and issue.resolved >= 0:
                value = self.clock.format_human(issue.resolved)
            elif name == "duedate" and issue.due >= 0:
                value = self.clock.format_user_date(issue.due)
            elif name == "comment":
                every = self.store.activity.comments_of(issue)
                shown = every[: self.config.embedded_comment_limit]
                value = {
                    "comments": [{"id": str(c.id), "body": f"<p>{c.body}</p>"} for c in shown],
                    "maxResults": len(shown),
                    "total": len(every),
                    "startAt": 0,
                }
            out[name] = value
        return out

    def statuses(self) -> str:
        """``/rest/api/2/status``: every status with its category, a bare array."""
        return f"[{','.join(self._status)}]"

    def changelog(self, issue: Issue, limit: int | None = None) -> str:
        """The changelog, oldest first. Search results embed at most ``limit`` histories (the
        most recent) with ``total`` still the full count; the issue resource gives all."""
        changes = derived.changelog(issue, self.store.users)
        total = len(changes)
        if limit is not None and total > limit:
            changes = changes[total - limit :]
        histories = [
            {
                "id": str(change.id),
                "author": json.loads(self.user_ref(change.author)),
                "created": self.clock.format(change.created),
                "items": [
                    {
                        "field": f,
                        # Custom fields are named by display name (Rank, Sprint), as in Jira.
                        "fieldtype": "custom" if f[:1].isupper() else "jira",
                        "from": fr,
                        "fromString": fs,
                        "to": to,
                        "toString": ts,
                    }
                    for f, fr, fs, to, ts in change.items
                ],
            }
            for change in changes
        ]
        return js(
            {
                "startAt": 0,
                "maxResults": len(histories),
                "total": total,
                "histories": histories,
            }
        )
