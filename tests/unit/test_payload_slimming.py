"""Slimming raw issues to the keys the mapping names, verified on the first page."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from jira_server.mapping.slimming import PayloadSlimmer, slim_pages

ISSUE: dict[str, Any] = {
    "id": "1",
    "key": "A-1",
    "self": "http://jira/rest/api/2/issue/1",
    "fields": {
        "assignee": {"key": "u1", "avatarUrls": {"48x48": "http://a"}, "displayName": "U"},
        "status": {"name": "Open", "iconUrl": "http://i", "statusCategory": {"name": "To Do"}},
        "labels": ["x"],
    },
}
EXPRESSIONS = [
    ".key",
    ".fields.assignee.key",
    ".fields.status.statusCategory.name",
    ".fields.labels",
]


def test_slim_keeps_only_named_keys() -> None:
    assert PayloadSlimmer(EXPRESSIONS).slim(ISSUE) == {
        "key": "A-1",
        "fields": {
            "assignee": {"key": "u1"},
            # "name" is named (statusCategory.name), so it is kept wherever it occurs.
            "status": {"name": "Open", "statusCategory": {"name": "To Do"}},
            "labels": ["x"],
        },
    }


def test_quoted_keys_count_as_named() -> None:
    slim = PayloadSlimmer(['.fields.assignee.avatarUrls["48x48"]']).slim(ISSUE)
    assert slim["fields"]["assignee"]["avatarUrls"] == {"48x48": "http://a"}


def test_verification_accepts_a_mapping_that_names_what_it_reads() -> None:
    assert PayloadSlimmer(EXPRESSIONS).verify([ISSUE])


def test_verification_refuses_whole_objects_and_generic_traversal() -> None:
    assert not PayloadSlimmer([*EXPRESSIONS, ".fields.assignee"]).verify([ISSUE])
    assert not PayloadSlimmer([*EXPRESSIONS, ".fields.status | keys"]).verify([ISSUE])
    assert not PayloadSlimmer(["[.. | strings] | length"]).verify([ISSUE])


async def pages(*items: list[dict[str, Any]]) -> AsyncIterator[list[dict[str, Any]]]:
    for page in items:
        yield page


async def test_first_page_stays_whole_and_later_pages_are_slimmed() -> None:
    out = [p async for p in slim_pages(pages([ISSUE], [ISSUE]), PayloadSlimmer(EXPRESSIONS))]
    assert out[0] == [ISSUE]
    assert "avatarUrls" not in out[1][0]["fields"]["assignee"]


async def test_failed_verification_turns_slimming_off_for_the_run() -> None:
    slimmer = PayloadSlimmer([".fields.assignee"])
    out = [p async for p in slim_pages(pages([ISSUE], [ISSUE]), slimmer)]
    assert out == [[ISSUE], [ISSUE]]


def test_keys_read_only_at_the_root_are_dropped_below_it() -> None:
    issue = {"self": "http://jira/issue/1", "fields": {"status": {"self": "x", "name": "Open"}}}
    slimmer = PayloadSlimmer(['(.self | sub("/issue.*"; ""))', ".fields.status.name"])
    assert slimmer.slim(issue) == {
        "self": "http://jira/issue/1",
        "fields": {"status": {"name": "Open"}},
    }
    # Named after another key too: kept wherever it occurs.
    both = PayloadSlimmer([".self", ".fields.status.self"])
    assert both.slim(issue)["fields"]["status"] == {"self": "x"}
