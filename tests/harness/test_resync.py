"""Full resyncs of project, user and issue through the real framework (port-ocean's
integration-testing harness) against a Jira Server v2 mock; asserts the exact entities."""

from __future__ import annotations

from typing import Any

from jira_server import blueprints
from tests.support import jira_mock
from tests.support.harness import booted, default_mapping, resource


def by_blueprint(entities: list[dict[str, Any]], blueprint: str) -> dict[str, dict[str, Any]]:
    return {e["identifier"]: e for e in entities if e["blueprint"] == blueprint}


async def test_default_mapping_pushes_exact_entities() -> None:
    jira = jira_mock.sample_jira()
    jira.search_cap = 2  # Jira lowers maxResults silently: forces several pages
    async with booted(jira.transport()) as harness:
        result = await harness.trigger_resync()

    assert result.errors == []
    users = by_blueprint(result.upserted_entities, blueprints.USER)
    # Inactive carol is synced by default: issues still name people who left.
    assert set(users) == {"JIRAUSER10100", "bob.legacy", "JIRAUSER10102"}
    assert users["JIRAUSER10102"]["properties"]["active"] is False
    assert users["bob.legacy"] == {
        "identifier": "bob.legacy",
        "blueprint": blueprints.USER,
        "title": "Bob Legacy",
        "properties": {
            "username": "Bob.Legacy",
            "emailAddress": None,
            "active": True,
            "timeZone": "Europe/Berlin",
            "locale": "en_US",
            "avatarUrl": "http://jira.example.test/secure/useravatar?avatarId=10122",
        },
    }

    projects = by_blueprint(result.upserted_entities, blueprints.PROJECT)
    assert projects == {
        "CORE": {
            "identifier": "CORE",
            "blueprint": blueprints.PROJECT,
            "title": "Core Platform",
            "properties": {
                "url": "http://jira.example.test/browse/CORE",
                "projectType": "software",
                "description": "Core Platform project",
                "archived": False,
            },
            "relations": {"lead": "JIRAUSER10100"},
        }
    }

    issues = by_blueprint(result.upserted_entities, blueprints.ISSUE)
    assert set(issues) == {"CORE-1", "CORE-2", "CORE-3", "OLD-1", "OLD-2", "OLD-3"}
    assert issues["CORE-1"] == {
        "identifier": "CORE-1",
        "blueprint": blueprints.ISSUE,
        "title": "Build the thing",
        "properties": {
            "url": "http://jira.example.test/browse/CORE-1",
            "status": "In Progress",
            "statusCategory": "In Progress",
            "issueType": "Story",
            "priority": "High",
            "labels": ["backend", "q3"],
            "components": ["api", "db"],
            "created": "2025-04-10T17:14:56.000+0000",
            "updated": "2025-04-11T09:00:01.000+0000",
            "resolutionDate": None,
            "sourceEntityBlueprint": None,
            "sourceEntityIdentifier": None,
            # No changelog, no linked code: the computed fields still give their values.
            "leadTimeHours": None,
            "cycleTimeHours": None,
            "reopenings": 0,
            "pullRequests": 0,
            "pullRequestState": None,
            "builds": 0,
            "failedBuilds": 0,
            "commits": 0,
        },
        "relations": {
            "project": "CORE",
            "assignee": "JIRAUSER10100",
            "reporter": "bob.legacy",
            "parentIssue": None,
            "subtasks": ["CORE-2", "CORE-3"],
            # Parsed from Jira 9's legacy Sprint@...[..] strings in the sprint field.
            "sprints": ["6", "7"],
            "fixVersions": ["20001", "20002"],
        },
    }
    assert issues["CORE-3"]["properties"]["resolutionDate"] == "2025-05-01T12:00:00.000-0700"
    assert issues["CORE-3"]["relations"] == {
        "project": "CORE",
        "assignee": "bob.legacy",
        "reporter": "JIRAUSER10100",
        "parentIssue": "CORE-1",
        "subtasks": [],
        "sprints": ["7"],  # from a JSON sprint object
        "fixVersions": [],
    }
    assert issues["CORE-2"]["properties"]["priority"] is None
    assert issues["CORE-2"]["relations"]["assignee"] is None


async def test_issue_pages_follow_effective_page_size_and_keyset() -> None:
    jira = jira_mock.sample_jira()
    jira.search_cap = 2
    async with booted(jira.transport()) as harness:
        result = await harness.trigger_resync()
    assert result.errors == []
    # The first request asks for the configured page size; Jira answers with 2 and every
    # later page request uses the effective value and an id bound instead of startAt.
    # (the comment kind's searches, fields=comment, page on their own)
    searches = [s for s in jira.searches if "comment" not in (s.get("fields") or [])]
    assert searches[0]["maxResults"] == 1000
    later = [s for s in searches[1:] if s.get("fields") != ["id"]]
    assert later and all(s["maxResults"] == 2 and s["startAt"] == 0 for s in later)
    assert all("ORDER BY id ASC" in s["jql"] for s in later)
    keys = [e["identifier"] for e in result.upserted_entities if e["blueprint"] == blueprints.ISSUE]
    assert len(keys) == len(set(keys)) == 6


async def test_user_list_falls_back_to_user_search_on_404() -> None:
    jira = jira_mock.sample_jira()
    jira.user_search_cap = 1  # one user per /user/search page
    transport = jira.transport()
    async with booted(transport) as harness:
        result = await harness.trigger_resync()
    assert result.errors == []
    paths = [(c.request.url.path, c.response.status_code) for c in transport.calls]
    assert ("/rest/api/2/user/list", 404) in paths
    searches = [
        c.request.url.params
        for c in transport.calls
        if c.request.url.path.endswith("/user/search") and "startAt" in c.request.url.params
    ]  # (the preflight's one-user probe has no startAt)
    assert [p["startAt"] for p in searches] == ["0", "1", "2", "3"]
    assert all(p["username"] == "." and p["includeInactive"] == "true" for p in searches)
    users = by_blueprint(result.upserted_entities, blueprints.USER)
    assert set(users) == {"JIRAUSER10100", "bob.legacy", "JIRAUSER10102"}


async def test_user_list_cursor_pages_and_include_inactive() -> None:
    jira = jira_mock.sample_jira()
    jira.has_user_list = True
    jira.user_list_page = 2
    transport = jira.transport()
    mapping = default_mapping()
    resource(mapping, "user")["selector"]["includeInactive"] = True
    async with booted(transport, mapping=mapping) as harness:
        result = await harness.trigger_resync()
    assert result.errors == []
    cursors = [
        c.request.url.params.get("cursor")
        for c in transport.calls
        if c.request.url.path.endswith("/user/list")
        and c.request.url.params.get("maxResults") != "1"  # not the preflight's probe
    ]
    assert cursors == [None, "2"]
    assert not any(c.request.url.path.endswith("/user/search") for c in transport.calls)
    users = by_blueprint(result.upserted_entities, blueprints.USER)
    assert set(users) == {"JIRAUSER10100", "bob.legacy", "JIRAUSER10102"}
    assert users["JIRAUSER10102"]["properties"]["active"] is False


async def test_selector_jql_fields_and_expand_reach_jira() -> None:
    jira = jira_mock.sample_jira()
    transport = jira.transport()
    mapping = default_mapping()
    issue = resource(mapping, "issue")
    issue["selector"].update(
        {"jql": "project = CORE ORDER BY rank", "fields": "summary,status", "expand": "changelog"}
    )
    issue["port"]["entity"]["mappings"] = {
        "identifier": ".key",
        "title": ".fields.summary",
        "blueprint": '"jiraServerSyncIssue"',
        "properties": {"status": ".fields.status.name"},
    }
    project = resource(mapping, "project")
    project["selector"].update({"expand": "lead", "includeArchived": True})
    async with booted(transport, mapping=mapping) as harness:
        result = await harness.trigger_resync()
    assert result.errors == []
    first = jira.searches[0]
    # The user's ORDER BY is replaced by the id order that keyset paging needs.
    assert first["jql"] == "(project = CORE) ORDER BY id ASC"
    assert first["fields"] == ["summary", "status"]
    assert first["expand"] == ["changelog"]
    project_calls = [
        c.request.url.params
        for c in transport.calls
        if c.request.url.path.endswith("/project") and "includeArchived" in c.request.url.params
    ]  # (the preflight counts visible projects without parameters)
    assert project_calls[0]["expand"] == "lead"
    assert project_calls[0]["includeArchived"] == "true"
    projects = by_blueprint(result.upserted_entities, blueprints.PROJECT)
    assert set(projects) == {"CORE", "OLD"}
    assert projects["OLD"]["properties"]["description"] is None  # not expanded
    assert projects["OLD"]["relations"]["lead"] == "bob.legacy"


async def test_fields_are_derived_from_the_mappings() -> None:
    jira = jira_mock.sample_jira()
    mapping = default_mapping()
    issue = resource(mapping, "issue")
    issue["port"]["entity"]["mappings"]["properties"]["storyPoints"] = (
        '.fields["customfield_10002"]'
    )
    async with booted(jira.transport(), mapping=mapping) as harness:
        result = await harness.trigger_resync()
    assert result.errors == []
    assert jira.searches[0]["fields"] == [
        "assignee",
        "components",
        "created",
        "customfield_10002",
        "fixVersions",
        "issuetype",
        "labels",
        "parent",
        "priority",
        "project",
        "reporter",
        "resolutiondate",
        "status",
        "subtasks",
        "summary",
        "updated",
        "customfield_10104",  # the sprint field, found in /field, for .__sprints
    ]


async def test_mapping_that_reads_whole_fields_object_asks_for_all() -> None:
    jira = jira_mock.sample_jira()
    mapping = default_mapping()
    resource(mapping, "issue")["port"]["entity"]["mappings"]["properties"]["fieldCount"] = (
        ".fields | keys | length"
    )
    async with booted(jira.transport(), mapping=mapping) as harness:
        result = await harness.trigger_resync()
    assert result.errors == []
    assert jira.searches[0]["fields"] == ["*all"]


async def test_agile_kinds_versions_and_components() -> None:
    jira = jira_mock.sample_jira()
    jira.agile_page = 1  # several startAt pages without a "total"
    transport = jira.transport()
    async with booted(transport) as harness:
        result = await harness.trigger_resync()
    assert result.errors == []
    boards = by_blueprint(result.upserted_entities, blueprints.BOARD)
    assert boards == {
        "4": {
            "identifier": "4",
            "blueprint": blueprints.BOARD,
            "title": "CORE board",
            "properties": {
                "url": "http://jira.example.test/secure/RapidBoard.jspa?rapidView=4",
                "type": "scrum",
            },
            "relations": {"project": "CORE"},
        },
        "5": {
            "identifier": "5",
            "blueprint": blueprints.BOARD,
            "title": "Support",
            "properties": {
                "url": "http://jira.example.test/secure/RapidBoard.jspa?rapidView=5",
                "type": "kanban",
            },
            "relations": {"project": None},
        },
    }
    sprints = by_blueprint(result.upserted_entities, blueprints.SPRINT)
    assert set(sprints) == {"7", "8"}  # default selector: active,future
    assert sprints["7"] == {
        "identifier": "7",
        "blueprint": blueprints.SPRINT,
        "title": "Sprint 7, the big one",
        "properties": {
            "state": "active",
            "goal": "Ship it, then rest",
            "startDate": "2025-04-01T09:00:00.000+02:00",
            "endDate": "2025-04-15T09:00:00.000+02:00",
            "completeDate": None,
        },
        "relations": {"board": "4"},
    }
    # The kanban board is never asked for sprints (Jira answers 400 there).
    sprint_paths = {c.request.url.path for c in transport.calls if "/sprint" in c.request.url.path}
    assert sprint_paths == {"/rest/agile/1.0/board/4/sprint"}

    versions = by_blueprint(result.upserted_entities, blueprints.VERSION)
    assert versions["20001"] == {
        "identifier": "20001",
        "blueprint": blueprints.VERSION,
        "title": "CORE 1.0",
        "properties": {
            "description": "Release 1.0",
            "released": True,
            "archived": False,
            "startDate": None,
            "releaseDate": "2025-03-31",
            "overdue": False,
            "url": "http://jira.example.test/projects/CORE/versions/20001",
        },
        "relations": {"project": "CORE"},
    }
    components = by_blueprint(result.upserted_entities, blueprints.COMPONENT)
    assert components == {
        "30001": {
            "identifier": "30001",
            "blueprint": blueprints.COMPONENT,
            "title": "CORE api",
            "properties": {"description": "The api component", "assigneeType": "PROJECT_DEFAULT"},
            "relations": {"project": "CORE", "lead": "JIRAUSER10100"},
        }
    }


async def test_sprint_selector_states_reach_jira() -> None:
    jira = jira_mock.sample_jira()
    mapping = default_mapping()
    resource(mapping, "sprint")["selector"]["state"] = "closed"
    transport = jira.transport()
    async with booted(transport, mapping=mapping) as harness:
        result = await harness.trigger_resync()
    assert result.errors == []
    assert set(by_blueprint(result.upserted_entities, blueprints.SPRINT)) == {"6"}
    states = {
        c.request.url.params.get("state")
        for c in transport.calls
        if c.request.url.path.endswith("/sprint")
    }
    assert states == {"closed"}
