"""What the catalog should hold, computed straight from the emulator's Jira API and truth
oracle with plain Python (not with the integration's client or mappings)."""

from __future__ import annotations

from typing import Any

import httpx

from jira_server import blueprints
from jira_server.client.sprints import parse_sprint_value
from local_stack.stack import LOCAL_JIRA_TOKEN, LocalStack

ISSUE_FIELDS = (
    "project,assignee,reporter,parent,subtasks,fixVersions,summary,status,issuetype,priority,"
    "labels,components,created,updated,resolutiondate"
)


def jira_get(stack: LocalStack, path: str, **params: Any) -> Any:
    response = httpx.get(
        f"{stack.jira.url}/rest/api/2{path}",
        params=params,
        headers={"Authorization": f"Bearer {LOCAL_JIRA_TOKEN}"},
        timeout=60,
    )
    response.raise_for_status()
    return response.json()


def sprint_field(stack: LocalStack) -> str | None:
    for field in jira_get(stack, "/field"):
        if (field.get("schema") or {}).get("custom") == "com.pyxis.greenhopper.jira:gh-sprint":
            return str(field["id"])
    return None


def expected_issues(stack: LocalStack, jql: str) -> dict[str, dict[str, Any]]:
    """key -> {"title", "relations"} for every issue matching ``jql`` right now."""
    keys: list[str] = stack.jira_control.truth(jql)["keys"]
    sprints = sprint_field(stack)
    fields = ISSUE_FIELDS + (f",{sprints}" if sprints else "")
    expected: dict[str, dict[str, Any]] = {}
    for start in range(0, len(keys), 100):
        chunk = keys[start : start + 100]
        page = jira_get(
            stack, "/search", jql=f"key in ({','.join(chunk)})", fields=fields, maxResults=100
        )
        for issue in page["issues"]:
            f = issue["fields"]
            # create_issue_from_entity's label port-entity:<blueprint>:<identifier>
            source = next(
                (
                    label.removeprefix("port-entity:").split(":")
                    for label in f.get("labels") or []
                    if label.startswith("port-entity:")
                ),
                None,
            )
            expected[issue["key"]] = {
                "title": f["summary"],
                "status": f["status"]["name"],
                "properties": {
                    "status": f["status"]["name"],
                    "statusCategory": f["status"]["statusCategory"]["name"],
                    "issueType": f["issuetype"]["name"],
                    "priority": (f.get("priority") or {}).get("name"),
                    "labels": f.get("labels") or [],
                    "components": [c["name"] for c in f.get("components") or []],
                    "created": f["created"],
                    "updated": f["updated"],
                    "resolutionDate": f.get("resolutiondate"),
                    "sourceEntityBlueprint": source[0] if source else None,
                    "sourceEntityIdentifier": ":".join(source[1:]) if source else None,
                },
                "relations": {
                    "project": f["project"]["key"],
                    "assignee": (f.get("assignee") or {}).get("key"),
                    "reporter": (f.get("reporter") or {}).get("key"),
                    "parentIssue": (f.get("parent") or {}).get("key"),
                    "subtasks": [s["key"] for s in f.get("subtasks") or []],
                    "fixVersions": [v["id"] for v in f.get("fixVersions") or []],
                    "sprints": [
                        str(s["id"])
                        for s in parse_sprint_value(f.get(sprints) if sprints else None)
                    ],
                },
            }
    assert set(expected) == set(keys)
    return expected


# ---- every blueprint ------------------------------------------------------------------------

Expected = dict[str, dict[str, dict[str, Any]]]  # blueprint -> identifier -> entity parts
SPRINT_STATES = ("active", "future")  # the default sprint selector


def _entity(title: Any, properties: dict[str, Any], relations: dict[str, Any]) -> dict[str, Any]:
    return {"title": title, "properties": properties, "relations": relations}


def expected_catalog(stack: LocalStack, issue_jql: str) -> Expected:
    """What the default mapping must produce from Jira as it is now, blueprint by blueprint:
    title, every mapped property (but URLs) and every relation."""
    truth = stack.jira_control.truth(issue_jql)
    software = stack.jira_control.software_truth(issue_jql)
    expected: Expected = {blueprints.ISSUE: {}}
    for key, want in expected_issues(stack, issue_jql).items():
        expected[blueprints.ISSUE][key] = _entity(
            want["title"], want["properties"], want["relations"]
        )
    expected[blueprints.PROJECT] = {
        p["key"]: _entity(
            p["name"],
            {"projectType": p.get("projectTypeKey"), "description": p.get("description")},
            {"lead": (p.get("lead") or {}).get("key")},
        )
        for p in jira_get(stack, "/project", expand="description,lead")
    }
    assert set(expected[blueprints.PROJECT]) == set(truth["projects"])
    users: dict[str, dict[str, Any]] = {}
    # The default user selector includes the people who left (includeInactive: true).
    for u in _users(stack, truth["users"]):
        users[u["key"]] = _entity(
            u["displayName"],
            {
                "username": u["name"],
                "emailAddress": u.get("emailAddress"),
                "active": u["active"],
                "timeZone": u.get("timeZone"),
                "locale": u.get("locale"),
            },
            {},
        )
    expected[blueprints.USER] = users
    expected[blueprints.BOARD] = {
        str(b["id"]): _entity(
            b["name"], {"type": b["type"]}, {"project": b["location"]["projectKey"]}
        )
        for b in software["boards"]
    }
    expected[blueprints.SPRINT] = {
        str(s["id"]): _entity(
            s["name"],
            {
                "state": s["state"],
                "goal": s.get("goal"),
                "startDate": s.get("startDate"),
                "endDate": s.get("endDate"),
                "completeDate": s.get("completeDate"),
            },
            {"board": str(s["originBoardId"])},
        )
        for s in software["sprints"]
        if s["state"] in SPRINT_STATES
    }
    expected[blueprints.VERSION] = {
        v["id"]: _entity(
            f"{project} {v['name']}",
            {"released": v["released"], "archived": v["archived"]},
            {"project": project},
        )
        for project, versions in software["versions"].items()
        for v in versions
        if not v["archived"]
    }
    expected[blueprints.COMPONENT] = {
        c["id"]: _entity(
            f"{project} {c['name']}",
            {"description": c.get("description"), "assigneeType": c.get("assigneeType")},
            {"project": project, "lead": (c.get("lead") or {}).get("key")},
        )
        for project, components in software["components"].items()
        for c in components
    }
    return expected


def _users(stack: LocalStack, keys: list[str]) -> list[dict[str, Any]]:
    """The users with these keys: one ``/user/list`` call (DC 10.3+), else one per key."""
    wanted = set(keys)
    try:
        listed = jira_get(stack, "/user/list", maxResults=10_000)
    except httpx.HTTPStatusError:
        return [jira_get(stack, "/user", key=key) for key in keys]
    assert listed["isLast"]
    found = [u for u in listed["values"] if u["key"] in wanted]
    assert {u["key"] for u in found} == wanted
    return found


def relation_targets(expected: Expected) -> set[str]:
    """Every identifier an expected entity points at (placeholders may exist for these)."""
    targets: set[str] = set()
    for entities in expected.values():
        for entity in entities.values():
            for value in entity["relations"].values():
                targets.update(value if isinstance(value, list) else [value] if value else [])
    return targets
