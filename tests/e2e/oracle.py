"""What the catalog should hold, computed straight from the emulator's Jira API and truth
oracle with plain Python (not with the integration's client or mappings)."""

from __future__ import annotations

from typing import Any

import httpx

from jira_server.sprints import parse_sprint_value
from local_stack.stack import LOCAL_JIRA_TOKEN, LocalStack

ISSUE_FIELDS = "project,assignee,reporter,parent,subtasks,fixVersions,summary,status"


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
            expected[issue["key"]] = {
                "title": f["summary"],
                "status": f["status"]["name"],
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
