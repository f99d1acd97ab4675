"""The emulator's changelogs (consistent with each issue's status and resolution, truncated in
search results like Jira), ``/rest/api/2/status`` and the Development summary, checked
against real bodies where one exists."""

from __future__ import annotations

from typing import Any

import httpx

from jira_server.client.development import parse_dev_summary
from jira_server.mapping.lifecycle import StatusCatalog, lifecycle, status_changes

from .helpers import load_fixture


async def search(client: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    response = await client.post("/rest/api/2/search", json=body)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


async def test_statuses_have_categories_like_real_ones(client: httpx.AsyncClient) -> None:
    statuses = (await client.get("/rest/api/2/status")).json()
    real = load_fixture("issue_dc_port.json")["fields"]["status"]
    assert statuses and all(set(real) <= set(s) for s in statuses)
    assert all(set(real["statusCategory"]) == set(s["statusCategory"]) for s in statuses)
    assert {s["statusCategory"]["key"] for s in statuses} == {"new", "indeterminate", "done"}


async def test_histories_end_in_the_current_status_and_resolution(
    client: httpx.AsyncClient,
) -> None:
    page = await search(
        client,
        jql="order by id",
        maxResults=300,
        fields=["status", "resolution", "resolutiondate", "created"],
        expand=["changelog"],
    )
    catalog = StatusCatalog((await client.get("/rest/api/2/status")).json())
    lengths, reopened = [], 0
    real_item_keys = set(
        load_fixture("issue_with_changelog_jrjc_jira5.json")["changelog"]["histories"][0]["items"][
            0
        ]
    )
    for issue in page["issues"]:
        fields, changelog = issue["fields"], issue["changelog"]
        lengths.append(changelog["total"])
        for history in changelog["histories"]:
            assert all(set(item) == real_item_keys for item in history["items"])
        changes = status_changes(changelog["histories"])
        if changelog["total"] > len(changelog["histories"]):
            continue  # truncated: checked below
        if changes:
            assert changes[-1].to_id == fields["status"]["id"], issue["key"]
        metrics = lifecycle(issue, catalog)
        reopened += metrics["reopenings"] > 0
        if fields["resolution"] is not None:
            assert changes and changes[-1].at_text == fields["resolutiondate"], issue["key"]
            assert metrics["leadTimeHours"] is not None and metrics["leadTimeHours"] >= 0
            assert metrics["cycleTimeHours"] is not None
            assert 0 <= metrics["cycleTimeHours"] <= metrics["leadTimeHours"]
        else:
            assert metrics["leadTimeHours"] is None
    assert reopened > 0
    assert sum(lengths) / len(lengths) > 3 and max(lengths) > 100


async def test_search_truncates_long_changelogs_and_the_issue_resource_does_not(
    client: httpx.AsyncClient,
) -> None:
    page = await search(
        client, jql="order by id", maxResults=600, fields=["status"], expand=["changelog"]
    )
    long = [i for i in page["issues"] if i["changelog"]["total"] > 100]
    assert long
    embedded = long[0]["changelog"]
    assert len(embedded["histories"]) == embedded["maxResults"] == 100
    full = (
        await client.get(f"/rest/api/2/issue/{long[0]['key']}", params={"expand": "changelog"})
    ).json()["changelog"]
    assert len(full["histories"]) == full["total"] == embedded["total"]
    assert full["histories"][-100:] == embedded["histories"]  # the most recent ones


async def test_a_known_history_is_served_as_set(client: httpx.AsyncClient) -> None:
    op = {
        "op": "set_history",
        "keys": ["PLAT-2"],
        "created": "2024-03-01T00:00:00+00:00",
        "steps": [
            ["2024-03-01T08:00:00+00:00", "In Progress"],
            ["2024-03-02T08:00:00+00:00", "Done"],
            ["2024-03-02T10:00:00+00:00", "Reopened"],
            ["2024-03-02T12:00:00+00:00", "Done"],
        ],
    }
    assert (await client.post("/_emulator/mutate", json=op)).status_code == 200
    issue = (await client.get("/rest/api/2/issue/PLAT-2", params={"expand": "changelog"})).json()
    catalog = StatusCatalog((await client.get("/rest/api/2/status")).json())
    metrics = lifecycle(issue, catalog)
    assert issue["fields"]["status"]["name"] == "Done" and issue["fields"]["resolution"]
    assert metrics["leadTimeHours"] == 36.0 and metrics["cycleTimeHours"] == 28.0
    assert metrics["reopenings"] == 1 and metrics["statusChanges"] == 4
    assert metrics["timeInStatusHours"] == {
        "To Do": 8.0,
        "In Progress": 24.0,
        "Done": 2.0,
        "Reopened": 2.0,
    }
    bad = {**op, "steps": [["2024-02-01T00:00:00+00:00", "Done"]]}
    assert (await client.post("/_emulator/mutate", json=bad)).status_code == 400


async def test_development_summaries_parse_like_real_ones(client: httpx.AsyncClient) -> None:
    real = load_fixture("issue_dc_port.json")["fields"]["customfield_10000"]
    page = await search(
        client, jql="order by id", maxResults=200, fields=["customfield_10000", "status"]
    )
    parsed = [parse_dev_summary(i["fields"]["customfield_10000"]) for i in page["issues"]]
    assert parse_dev_summary(real)["pullRequests"]["count"] == 0
    merged = [p for p in parsed if p["pullRequests"]["merged"]]
    opened = [p for p in parsed if p["pullRequests"]["open"]]
    assert merged and opened
    assert all(p["commits"] == 3 * p["pullRequests"]["count"] for p in parsed)
    # The same sections, in the same order, as the real value.
    sections = [
        "pullrequest=",
        "build=",
        "review=",
        "deployment-environment=",
        "repository=",
        "branch=",
    ]
    value = page["issues"][0]["fields"]["customfield_10000"]
    assert [value.index(s) for s in sections] == sorted(value.index(s) for s in sections)
    assert [real.index(s) for s in sections] == sorted(real.index(s) for s in sections)
