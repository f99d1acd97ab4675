"""Builders for Jira Server REST v2 bodies, shaped like real responses (see the contract
fixtures described in the README's testing section): ``self`` links, avatarUrls, string ids,
``+0000`` offsets, ``JIRAUSER<n>`` keys next to legacy lower-cased keys."""

from __future__ import annotations

from typing import Any

BASE = "http://jira.example.test"


def avatars(kind: str, avatar_id: int) -> dict[str, str]:
    path = "projectavatar" if kind == "project" else "useravatar"
    return {
        "48x48": f"{BASE}/secure/{path}?avatarId={avatar_id}",
        "24x24": f"{BASE}/secure/{path}?size=small&avatarId={avatar_id}",
        "16x16": f"{BASE}/secure/{path}?size=xsmall&avatarId={avatar_id}",
        "32x32": f"{BASE}/secure/{path}?size=medium&avatarId={avatar_id}",
    }


def user(
    key: str,
    name: str,
    display_name: str,
    *,
    active: bool = True,
    email: str | None = "",
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "self": f"{BASE}/rest/api/2/user?username={name}",
        "key": key,
        "name": name,
        "avatarUrls": avatars("user", 10122),
        "displayName": display_name,
        "active": active,
        "deleted": False,
        "timeZone": "Europe/Berlin",
        "locale": "en_US",
    }
    if email is not None:
        body["emailAddress"] = email or f"{name.lower()}@example.test"
    return body


def project(
    project_id: int, key: str, name: str, *, lead: dict[str, Any] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "expand": "description,lead,createdAt,createdBy,lastUpdatedAt,lastUpdatedBy,url,projectKeys",
        "self": f"{BASE}/rest/api/2/project/{project_id}",
        "id": str(project_id),
        "key": key,
        "name": name,
        "avatarUrls": avatars("project", 10324),
        "projectTypeKey": "software",
        "archived": False,
    }
    if lead is not None:
        body["lead"] = lead
        body["description"] = f"{name} project"
    return body


STATUS_CATEGORIES = {
    "new": {"id": 2, "key": "new", "colorName": "default", "name": "To Do"},
    "indeterminate": {
        "id": 4,
        "key": "indeterminate",
        "colorName": "inprogress",
        "name": "In Progress",
    },
    "done": {"id": 3, "key": "done", "colorName": "success", "name": "Done"},
}


def issue(
    issue_id: int,
    key: str,
    summary: str,
    *,
    project_body: dict[str, Any],
    status: str = "To Do",
    category: str = "new",
    issue_type: str = "Story",
    priority: str | None = "Medium",
    assignee: dict[str, Any] | None = None,
    reporter: dict[str, Any] | None = None,
    labels: list[str] | None = None,
    components: list[str] | None = None,
    parent: dict[str, Any] | None = None,
    subtasks: list[dict[str, Any]] | None = None,
    created: str = "2025-04-10T17:14:56.000+0000",
    updated: str = "2025-04-11T09:00:01.000+0000",
    resolutiondate: str | None = None,
    extra_fields: dict[str, Any] | None = None,
) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "issuetype": {
            "self": f"{BASE}/rest/api/2/issuetype/10001",
            "id": "10001",
            "description": "",
            "iconUrl": f"{BASE}/images/icons/issuetypes/story.svg",
            "name": issue_type,
            "subtask": issue_type == "Sub-task",
        },
        "project": {k: project_body[k] for k in ("self", "id", "key", "name", "avatarUrls")},
        "summary": summary,
        "status": {
            "self": f"{BASE}/rest/api/2/status/10000",
            "description": "",
            "iconUrl": f"{BASE}/",
            "name": status,
            "id": "10000",
            "statusCategory": {
                "self": f"{BASE}/rest/api/2/statuscategory/{STATUS_CATEGORIES[category]['id']}",
                **STATUS_CATEGORIES[category],
            },
        },
        "priority": None
        if priority is None
        else {"self": f"{BASE}/rest/api/2/priority/3", "name": priority, "id": "3"},
        "labels": labels or [],
        "components": [
            {"self": f"{BASE}/rest/api/2/component/1{i}", "id": f"1{i}", "name": name}
            for i, name in enumerate(components or [])
        ],
        "assignee": assignee,
        "reporter": reporter,
        "subtasks": subtasks or [],
        "created": created,
        "updated": updated,
        "resolutiondate": resolutiondate,
        "description": "A long description nobody maps. " * 20,
        "customfield_10100": "0|hzzzzz:",
        **(extra_fields or {}),
    }
    if parent is not None:
        fields["parent"] = parent
    return {
        "expand": "operations,versionedRepresentations,editmeta,changelog,renderedFields",
        "id": str(issue_id),
        "self": f"{BASE}/rest/api/2/issue/{issue_id}",
        "key": key,
        "fields": fields,
    }


def issue_ref(body: dict[str, Any]) -> dict[str, Any]:
    """The short form Jira uses for ``parent`` and ``subtasks`` entries."""
    fields = body["fields"]
    return {
        "id": body["id"],
        "key": body["key"],
        "self": body["self"],
        "fields": {
            "summary": fields["summary"],
            "status": fields["status"],
            "priority": fields["priority"],
            "issuetype": fields["issuetype"],
        },
    }


SPRINT_FIELD = "customfield_10104"


def board(
    board_id: int, name: str, board_type: str, project_body: dict[str, Any] | None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": board_id,
        "self": f"{BASE}/rest/agile/1.0/board/{board_id}",
        "name": name,
        "type": board_type,
    }
    if project_body is not None:
        body["location"] = {
            "projectId": int(project_body["id"]),
            "displayName": f"{project_body['name']} ({project_body['key']})",
            "projectName": project_body["name"],
            "projectKey": project_body["key"],
            "projectTypeKey": "software",
            "name": f"{project_body['name']} ({project_body['key']})",
        }
    return body


def sprint(sprint_id: int, name: str, state: str, board_id: int) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": sprint_id,
        "self": f"{BASE}/rest/agile/1.0/sprint/{sprint_id}",
        "state": state,
        "name": name,
        "originBoardId": board_id,
        "goal": "Ship it, then rest" if state == "active" else "",
    }
    if state != "future":
        body["startDate"] = "2025-04-01T09:00:00.000+02:00"
        body["endDate"] = "2025-04-15T09:00:00.000+02:00"
    if state == "closed":
        body["completeDate"] = "2025-04-15T17:30:00.000+02:00"
    return body


def legacy_sprint_text(body: dict[str, Any]) -> str:
    """The Java toString Jira 8.x/9.x put in the sprint custom field."""

    def value(key: str) -> str:
        found = body.get(key)
        return "<null>" if found is None else str(found)

    return (
        "com.atlassian.greenhopper.service.sprint.Sprint@1c3ef2b"
        f"[id={body['id']},rapidViewId={body['originBoardId']},state={body['state'].upper()},"
        f"name={body['name']},startDate={value('startDate')},endDate={value('endDate')},"
        f"completeDate={value('completeDate')},activatedDate=<null>,sequence={body['id']},"
        f"goal={body.get('goal') or ''},autoStartStop=false,synced=false]"
    )


def version(
    version_id: int, name: str, project_body: dict[str, Any], *, released: bool = False
) -> dict[str, Any]:
    return {
        "self": f"{BASE}/rest/api/2/version/{version_id}",
        "id": str(version_id),
        "description": f"Release {name}",
        "name": name,
        "archived": False,
        "released": released,
        "releaseDate": "2025-03-31",
        "overdue": False,
        "userReleaseDate": "31/Mar/25",
        "projectId": int(project_body["id"]),
    }


def component(
    component_id: int, name: str, project_body: dict[str, Any], *, lead: dict[str, Any] | None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "self": f"{BASE}/rest/api/2/component/{component_id}",
        "id": str(component_id),
        "name": name,
        "description": f"The {name} component",
        "assigneeType": "PROJECT_DEFAULT",
        "realAssigneeType": "PROJECT_DEFAULT",
        "isAssigneeTypeValid": False,
        "project": project_body["key"],
        "projectId": int(project_body["id"]),
    }
    if lead is not None:
        body["lead"] = lead
    return body
