"""The generator: deterministic, realistic mixes, and ids that interleave projects."""

from __future__ import annotations

import itertools
import json
import re
import time

from local_stack.jira_emulator import DatasetSpec, EmulatorApp, create_app
from local_stack.jira_emulator.data import generate
from local_stack.jira_emulator.inprocess import emulator_client

from .helpers import ANCHOR, ANCHOR_MS, DAY_MS, bearer, make_config


def test_same_seed_same_data_and_different_seed_differs() -> None:
    spec = DatasetSpec(projects=4, users=60, issues=300, seed=3, anchor=ANCHOR)
    first, second = generate(spec), generate(spec)
    assert first.issues == second.issues
    assert first.users == second.users
    assert [p.key for p in first.projects] == [p.key for p in second.projects]
    other = generate(DatasetSpec(projects=4, users=60, issues=300, seed=4, anchor=ANCHOR))
    assert [i.summary for i in other.issues] != [i.summary for i in first.issues]


async def test_same_seed_gives_byte_identical_responses() -> None:
    bodies = []
    for _ in range(2):
        app = create_app(make_config())
        async with emulator_client(app, headers=bearer()) as http:
            response = await http.post(
                "/rest/api/2/search",
                json={
                    "jql": "ORDER BY id",
                    "maxResults": 40,
                    "fields": ["*all"],
                    "expand": ["changelog"],
                },
            )
            bodies.append(response.content)
    assert bodies[0] == bodies[1]


def test_ids_interleave_projects_and_keys_follow_creation(app: EmulatorApp) -> None:
    issues = [i for i in app.state.store.issues if i is not None]
    ids = [i.id for i in issues]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    # Real Jira allocates ids globally and keys per project: id order mixes projects.
    switches = sum(1 for a, b in itertools.pairwise(issues) if a.project != b.project)
    assert switches > len(issues) // 4
    for project in app.state.store.projects:
        numbers = [i.num for i in issues if i.project == project.idx]
        assert numbers == sorted(numbers)
        assert all(i.key == f"{project.key}-{i.num}" for i in issues if i.project == project.idx)


def test_users_mix_key_styles_inactive_and_missing_email(make_app) -> None:
    app = make_app(dataset=DatasetSpec(projects=3, users=400, issues=50, seed=1, anchor=ANCHOR))
    users = app.state.store.users
    modern = [u for u in users if re.fullmatch(r"JIRAUSER\d+", u.key)]
    legacy = [u for u in users if not u.key.startswith("JIRAUSER")]
    assert modern and legacy
    assert all(u.key == u.name.lower() for u in legacy)
    assert any(u.key != u.name for u in legacy), "some legacy names are mixed case"
    assert any(not u.active for u in users)
    assert any(u.email is None for u in users)
    assert len({u.name.lower() for u in users}) == len(users)


def test_projects_issue_mix_and_dates(app: EmulatorApp) -> None:
    store = app.state.store
    assert any(p.archived for p in store.projects)
    assert all(p.components and p.versions and p.boards for p in store.projects)
    assert any(s.state == "active" for s in store.data.sprints.values())
    issues = [i for i in store.issues if i is not None]
    recent = [i for i in issues if i.created >= ANCHOR_MS - 7 * DAY_MS]
    assert len(recent) >= len(issues) // 20, "a good share was created in the last week"
    assert min(i.created for i in issues) < ANCHOR_MS - 365 * DAY_MS
    assert all(i.created <= i.updated <= ANCHOR_MS for i in issues)
    subtasks = [i for i in issues if i.parent]
    assert subtasks and all(store.issue_by_key_or_id(str(i.parent)) for i in subtasks)
    assert any(i.assignee < 0 for i in issues)
    done = [i for i in issues if i.resolution >= 0]
    assert done and all(0 <= i.resolved <= i.updated for i in done)


async def test_full_issue_size_is_realistic(client) -> None:
    response = await client.post(
        "/rest/api/2/search", json={"jql": "ORDER BY id", "maxResults": 300, "fields": ["*all"]}
    )
    issues = response.json()["issues"]
    sizes = [len(json.dumps(i, separators=(",", ":"))) for i in issues]
    average = sum(sizes) / len(sizes)
    # The Development summary alone is ~2.5 kB, as in the real DC issue of the fixtures.
    assert 6_000 <= average <= 13_000, average
    custom = [k for k in issues[0]["fields"] if k.startswith("customfield_")]
    assert len(custom) >= 25
    ranks = [i["fields"]["customfield_10100"] for i in issues]
    assert all(re.fullmatch(r"0\|[0-9a-z]{6}:", r) for r in ranks)
    assert ranks[0] == "0|hzzzzz:"


def test_generation_is_fast() -> None:
    started = time.perf_counter()
    data = generate(DatasetSpec(projects=10, users=500, issues=20_000, seed=1, anchor=ANCHOR))
    assert len(data.issues) == 20_000
    # 100k issues take ~1.5 s on the reference machine; generous bound against slow CI.
    assert time.perf_counter() - started < 10
