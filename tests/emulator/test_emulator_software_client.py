"""The integration's own client against the emulator in-process: boards, sprints, versions,
components, the field preflight and sprint enrichment agree with the software truth."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from jira_server.client.rest_client import JiraServerClient
from jira_server.mapping.enrichment import add_sprints
from jira_server.mapping.fields import mapping_expressions, requested_fields
from jira_server.settings import load_settings
from local_stack.jira_emulator import EmulatorApp
from local_stack.jira_emulator.inprocess import DEFAULT_BASE_URL, EmulatorTransport

from .helpers import TOKEN

MAPPING = Path(__file__).resolve().parents[2] / ".port" / "resources" / "port-app-config.yml"


def default_issue_fields() -> list[str]:
    config = yaml.safe_load(MAPPING.read_text())
    issue = next(r for r in config["resources"] if r["kind"] == "issue")
    expressions = [*mapping_expressions(issue["port"]["entity"]["mappings"])]
    return requested_fields(None, [*expressions, issue["selector"].get("query") or ""])


async def flatten(pages: AsyncIterator[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    return [item async for page in pages for item in page]


def jira_client(app: EmulatorApp) -> JiraServerClient:
    settings = load_settings(
        {"jira_server_host": DEFAULT_BASE_URL, "token": TOKEN, "max_concurrent_requests": 3}
    )
    return JiraServerClient(settings, transport=EmulatorTransport(app))


async def test_client_fetches_agile_versions_components_like_the_truth(app: EmulatorApp) -> None:
    # A small page cap makes the client follow isLast over several pages of each list.
    app.software.settings.update({"agile_max_results": 2})
    truth = app.software.truth()
    client = jira_client(app)
    try:
        boards = await flatten(client.fetch_boards())
        assert [{k: v for k, v in b.items() if k != "self"} for b in boards] == truth["boards"]
        kanban = await flatten(client.fetch_boards(board_type="kanban"))
        assert [b["id"] for b in kanban] == [
            b["id"] for b in truth["boards"] if b["type"] == "kanban"
        ]

        sprints = await flatten(client.fetch_sprints(states=["active", "future"]))
        expected = [s for s in truth["sprints"] if s["state"] in ("active", "future")]
        assert [(s["id"], s["originBoardId"], s["state"]) for s in sprints] == [
            (s["id"], s["originBoardId"], s["state"]) for s in expected
        ]
        assert len({s["originBoardId"] for s in sprints}) == 3  # every scrum board

        versions = await flatten(client.fetch_versions())
        assert sorted((v["__projectKey"], v["id"]) for v in versions) == sorted(
            (key, v["id"]) for key, vs in truth["versions"].items() for v in vs if not v["archived"]
        )
        with_archived = await flatten(client.fetch_versions(include_archived=True))
        assert len(with_archived) == sum(len(vs) for vs in truth["versions"].values())

        components = await flatten(client.fetch_components())
        assert sorted((c["__projectKey"], c["id"]) for c in components) == sorted(
            (key, c["id"]) for key, cs in truth["components"].items() for c in cs
        )

        assert await client.unknown_fields(default_issue_fields()) == {}
        assert await client.unknown_fields(["*all"]) == {}
        unknown = await client.unknown_fields(["summary", "customfield_99999"])
        assert list(unknown) == ["customfield_99999"]
        assert unknown["customfield_99999"].startswith(".fields.customfield_99999")
        assert await client.sprint_field_ids() == [truth["sprintField"]]
    finally:
        await client.aclose()
    routes = app.state.stats.to_json(searches=False)["routes"]
    assert routes["GET /rest/agile/1.0/board"] == 3 + 1 + 3  # all, kanban, before sprints
    assert routes["GET /rest/agile/1.0/board/{boardId}/sprint"] == 3 * 2  # 3 sprints a board
    assert routes["GET /rest/api/2/field"] == 1  # fetched once, then cached by the client
    assert "GET /rest/agile/1.0/board/{boardId}" not in routes


@pytest.mark.parametrize("form", ["legacy", "json"])
async def test_client_issue_sprints_match_the_truth(app: EmulatorApp, form: str) -> None:
    app.state.update_settings({"sprint_field": form})
    truth = app.software.truth("sprint is not EMPTY")
    client = jira_client(app)
    try:
        sprint_fields = await client.sprint_field_ids()
        fields = [*default_issue_fields(), *sprint_fields]
        issues = []
        async for page in client.fetch_issues("sprint is not EMPTY", fields=fields):
            add_sprints(page, sprint_fields)
            issues.extend(page)
    finally:
        await client.aclose()
    assert {i["key"]: [s["id"] for s in i["__sprints"]] for i in issues} == {
        key: entry["sprints"] for key, entry in truth["issues"].items()
    }
    assert {i["key"]: [v["id"] for v in i["fields"]["fixVersions"]] for i in issues} == {
        key: entry["fixVersions"] for key, entry in truth["issues"].items()
    }
