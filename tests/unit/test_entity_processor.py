"""The joint-program entity processor gives exactly what Ocean's own JQ processor gives.

Both run here side by side on the same raw items (emulator responses, all fields) and the
same mappings: the project's defaults and mappings built to hit every corner of Ocean's
semantics (errors, empty and multiple outputs, false, comments, quotes, env, non-boolean
selectors). Ocean's processor really runs, forked pool included.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import httpx
import pytest
import yaml
from loguru import logger
from port_ocean.context.ocean import PortOceanContext
from port_ocean.core.handlers.entity_processor import jq_entity_processor, jq_entity_processor_sync
from port_ocean.core.handlers.entity_processor.jq_entity_processor import JQEntityProcessor
from port_ocean.core.handlers.port_app_config.models import ResourceConfig
from port_ocean.core.ocean_types import CalculationResult

from jira_server.mapping import entity_processor
from jira_server.mapping.entity_processor import JointProgramEntityProcessor, joint_program_text
from local_stack.jira_emulator import Account, DatasetSpec, EmulatorConfig, create_app

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_RESOURCES: list[dict[str, Any]] = yaml.safe_load(
    (ROOT / ".port/resources/port-app-config.yml").read_text()
)["resources"]


# The processors keep the context they are given but read Ocean's through `ocean` (patched).
NO_CONTEXT = cast(PortOceanContext, None)


class BlueprintUnavailable:
    async def get_blueprint(self, *_: Any, **__: Any) -> Any:
        raise RuntimeError("no catalog in this test")


@pytest.fixture
def ocean_config(monkeypatch: pytest.MonkeyPatch) -> SimpleNamespace:
    """The slice of Ocean's context both processors read, patched where they read it."""
    config = SimpleNamespace(
        allow_environment_variables_jq_access=False,
        process_in_queue_max_workers=2,
        process_in_queue_timeout=60,
    )
    fake = SimpleNamespace(config=config, port_client=BlueprintUnavailable())
    for module in (jq_entity_processor, jq_entity_processor_sync, entity_processor):
        monkeypatch.setattr(module, "ocean", fake)
    monkeypatch.setenv("JIRA_TEST_SECRET", "s3cret-value")
    return config


@pytest.fixture(scope="module")
def raw_items() -> dict[str, list[dict[str, Any]]]:
    """Real emulator responses for the kinds that come straight from one endpoint."""
    app = create_app(
        EmulatorConfig(
            dataset=DatasetSpec(projects=3, users=40, issues=300, seed=7),
            accounts=[Account("bot", token="tok")],
        )
    )
    headers = {"Authorization": "Bearer tok"}
    with_transport = httpx.AsyncClient(
        transport=httpx.ASGITransport(app), base_url="http://jira", headers=headers
    )

    async def fetch() -> dict[str, list[dict[str, Any]]]:
        async with with_transport as jira:
            issues = await jira.post(
                "/rest/api/2/search",
                json={"jql": "ORDER BY id", "maxResults": 1000, "fields": ["*all"]},
            )
            users = await jira.get("/rest/api/2/user/list", params={"maxResults": 1000})
            projects = await jira.get("/rest/api/2/project")
            boards = await jira.get("/rest/agile/1.0/board")
            return {
                "issue": issues.json()["issues"],
                "user": users.json()["values"],
                "project": projects.json(),
                "board": boards.json()["values"],
            }

    return asyncio.run(fetch())


def resource(kind: str, mappings: dict[str, Any], query: str = "true") -> ResourceConfig:
    return ResourceConfig.parse_obj(
        {"kind": kind, "selector": {"query": query}, "port": {"entity": {"mappings": mappings}}}
    )


def default_resource(kind: str) -> ResourceConfig:
    found = next(r for r in DEFAULT_RESOURCES if r["kind"] == kind)
    return ResourceConfig.parse_obj(
        {"kind": kind, "selector": {"query": "true"}, "port": found["port"]}
    )


def comparable(result: CalculationResult) -> dict[str, Any]:
    return {
        "passed": [e.dict() for e in result.entity_selector_diff.passed],
        "failed": [e.dict() for e in result.entity_selector_diff.failed],
        "errors": [(type(e).__name__, str(e)) for e in result.errors],
        "misconfigured": result.misconfigured_entity_keys,
    }


async def both(
    mapping: ResourceConfig, items: list[dict[str, Any]], parse_all: bool = False
) -> tuple[dict[str, Any], dict[str, Any], JointProgramEntityProcessor]:
    stock = JQEntityProcessor(NO_CONTEXT)
    joint = JointProgramEntityProcessor(NO_CONTEXT)
    expected = await stock._parse_items(mapping, copy.deepcopy(items), parse_all)
    got = await joint._parse_items(mapping, copy.deepcopy(items), parse_all)
    return comparable(expected), comparable(got), joint


@pytest.mark.parametrize("kind", ["issue", "user", "project", "board"])
async def test_default_mappings_match_ocean_and_never_need_its_path(
    ocean_config: SimpleNamespace, raw_items: dict[str, list[dict[str, Any]]], kind: str
) -> None:
    expected, got, joint = await both(default_resource(kind), raw_items[kind])
    assert got == expected
    assert len(got["passed"]) == len(raw_items[kind]) > 0
    assert joint.items_mapped_by_framework == 0
    # the shipped mappings are within what pyjq models: no jq call per item
    assert joint.items_mapped_in_python == len(raw_items[kind])


# Each line exercises one rule of Ocean's per-expression evaluation.
CORNER_CASE_MAPPING: dict[str, Any] = {
    "identifier": ".key",
    "title": ".fields.summary # a trailing comment",
    "blueprint": '"jiraIssue"',
    "properties": {
        "firstLabel": ".fields.labels[]",  # several outputs: the first counts
        "noOutput": '.fields.labels[] | select(. == "no-such-label")',  # none: null
        "isFalse": ".fields.labels | length > 1000",  # false stays false
        # an error: null and a warning (for every third issue)
        "raises": 'if (.id | tonumber) % 3 == 0 then error("every third") else 1 end',
        "defined": "def shout: ascii_upcase; .key | shout",
        "quoted": ".key + '-suffix'",
        "envRead": "env.JIRA_TEST_SECRET",
        "envVar": "$ENV.JIRA_TEST_SECRET",
        "doesNotCompile": ".key | | .id",
    },
    "relations": {
        "project": ".fields.project.key",
        "missing": ".fields.nope",
        "search": {
            "combinator": '"and"',
            "rules": [{"property": '"$identifier"', "operator": '"="', "value": ".key"}],
        },
    },
}


@pytest.mark.parametrize("env_access", [False, True])
async def test_corner_cases_match_ocean(
    ocean_config: SimpleNamespace, raw_items: dict[str, list[dict[str, Any]]], env_access: bool
) -> None:
    ocean_config.allow_environment_variables_jq_access = env_access
    items = raw_items["issue"][:60]
    expected, got, joint = await both(resource("issue", CORNER_CASE_MAPPING), items)
    assert got == expected
    # The third of the items whose expression raises went through Ocean's own code.
    assert joint.items_mapped_by_framework == sum(1 for i in items if int(i["id"]) % 3 == 0)
    raised = {e["identifier"]: e["properties"]["raises"] for e in got["passed"]}
    assert raised == {i["key"]: None if int(i["id"]) % 3 == 0 else 1 for i in items}
    first = got["passed"][0]["properties"]
    assert first["isFalse"] is False and first["noOutput"] is None
    assert first["envRead"] == ("s3cret-value" if env_access else None)
    assert "properties.raises" in got["misconfigured"]


@pytest.mark.parametrize("parse_all", [False, True])
async def test_selector_verdicts_match_ocean(
    ocean_config: SimpleNamespace, raw_items: dict[str, list[dict[str, Any]]], parse_all: bool
) -> None:
    mapping = resource(
        "issue",
        default_resource("issue").port.entity.mappings.dict(exclude_unset=True),
        query='.fields.status.statusCategory.key != "done"',
    )
    expected, got, _ = await both(mapping, raw_items["issue"], parse_all)
    assert got == expected
    assert got["passed"] and (bool(got["failed"]) is parse_all)


@pytest.mark.parametrize("query", [".key", "empty", '.fields.labels[] | . == "x"'])
async def test_selectors_that_are_not_one_boolean_fail_as_in_ocean(
    ocean_config: SimpleNamespace, raw_items: dict[str, list[dict[str, Any]]], query: str
) -> None:
    mapping = resource(
        "issue",
        {"identifier": ".key", "blueprint": '"jiraIssue"', "properties": {"s": ".fields.summary"}},
        query,
    )
    expected, got, _ = await both(mapping, raw_items["issue"][:20])
    # Ocean evaluates a bad selector twice per item (once per half of its split mapping) and
    # reports both; here it is reported once per item, as its first half reports it.
    assert len(expected["errors"]) == 2 * len(got["errors"]) > 0
    assert set(got.pop("errors")) <= set(expected.pop("errors"))
    assert got == expected


async def test_items_that_are_not_plain_json_match_ocean(ocean_config: SimpleNamespace) -> None:
    items: list[dict[str, Any]] = [
        {"key": "A-1", "when": datetime(2026, 1, 2, tzinfo=UTC)},
        {"key": "A-2"},
    ]
    mapping = resource("x", {"identifier": ".key", "blueprint": '"b"', "title": ".when"})
    expected, got, joint = await both(mapping, items)
    assert got == expected and got["passed"][0]["title"] is not None
    assert joint.items_mapped_by_framework == 1


async def test_items_python_cannot_reproduce_are_mapped_by_jq(
    ocean_config: SimpleNamespace,
) -> None:
    """pyjq declines per item (a float written as text, a regex on non-ASCII text): those
    items take the joint jq program, the others stay in Python, and the whole equals Ocean."""
    items: list[dict[str, Any]] = [
        {"key": "A-1", "s": "plain text", "n": 3},
        {"key": "A-2", "s": "ünïcode text", "n": 3},
        {"key": "A-3", "s": "plain", "n": 2.5},
        {"key": "A-4", "s": "text again", "n": 1},
    ]
    mapping = resource(
        "x",
        {
            "identifier": ".key",
            "blueprint": '"b"',
            "title": '.s | sub("t[a-z]+t"; "T")',
            "properties": {"n": ".n | tostring", "has": '.s | test("^pl")'},
        },
    )
    expected, got, joint = await both(mapping, items)
    assert got == expected
    assert [e["title"] for e in got["passed"]] == ["plain T", "ünïcode T", "plain", "T again"]
    assert joint.items_mapped_in_python == 2 and joint.items_mapped_by_framework == 0


def test_joint_program_keeps_each_expression_apart() -> None:
    text = joint_program_text({"identifier": ".key # c", "p": {"x": ".a"}}, "true", False)
    assert text.startswith("def env: {}; {} as $ENV | ")
    assert '"identifier": [first((.key # c\n))][0]' in text
    assert '"p": {"x": [first((.a\n))][0]}' in text


@pytest.fixture
def warnings() -> Iterator[list[str]]:
    seen: list[str] = []
    sink = logger.add(lambda m: seen.append(m.record["message"]), level="WARNING")
    yield seen
    logger.remove(sink)


async def test_a_failing_expression_is_reported_as_ocean_reports_it(
    ocean_config: SimpleNamespace, warnings: list[str]
) -> None:
    joint = JointProgramEntityProcessor(NO_CONTEXT)
    mapping = resource(
        "x", {"identifier": ".key", "blueprint": '"b"', "title": ".t | ascii_downcase"}
    )
    await joint._parse_items(mapping, [{"key": "A-1", "t": 5}])
    assert any(
        "Search failed for field 'title' - pattern: .t | ascii_downcase" in w for w in warnings
    )


async def test_a_large_batch_lets_the_event_loop_run_while_it_is_mapped(
    ocean_config: SimpleNamespace, raw_items: dict[str, list[dict[str, Any]]]
) -> None:
    joint = JointProgramEntityProcessor(NO_CONTEXT)
    items = raw_items["issue"] * 40  # 12,000 issues: many 20 ms stretches even on a fast machine
    ticks: list[float] = []
    mapping_done = asyncio.Event()

    async def ticker() -> None:
        while not mapping_done.is_set():
            ticks.append(time.monotonic())
            await asyncio.sleep(0)

    async def map_all() -> CalculationResult:
        try:
            return await joint._parse_items(default_resource("issue"), items)
        finally:
            mapping_done.set()

    started = time.monotonic()
    result, _ = await asyncio.gather(map_all(), ticker())
    took = time.monotonic() - started
    assert len(result.entity_selector_diff.passed) == len(items)
    # The loop ran other tasks all along, not only before and after the mapping.
    assert len(ticks) > 5
    assert max(b - a for a, b in itertools.pairwise(ticks)) < max(0.25, took / 3)
