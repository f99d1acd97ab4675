"""Keys and ids from payloads: strict patterns before anything reaches a URL."""

from __future__ import annotations

from typing import Any

import pytest

from jira_server.client.rest_client import path_segment
from jira_server.webhooks.validation import (
    InvalidReference,
    issue_key,
    issue_ref,
    numeric_id,
    project_key,
    project_ref,
    user_name,
    user_ref,
)

HOSTILE = [
    "../../admin",
    "ABC-1/../x",
    "ABC-1/..%2Fx",
    "ABC-1%2F..%2Fadmin",
    "%2e%2e%2fadmin",
    "http://evil.example/ABC-1",
    "//evil.example/ABC-1",
    "ABC-1?expand=x",
    "ABC-1#frag",
    "ABC-1\n",
    "ABC-1\r\nHost: evil",
    " ABC-1",
    "ABC-1 ",
    "ABC-1;x",
    "ABC-1\\..\\x",
    "ABC-\uff11",  # a full-width digit one
]


@pytest.mark.parametrize("key", ["ABC-1", "A-10", "PLAT_2-123", "X9-99999"])
def test_valid_issue_keys(key: str) -> None:
    assert issue_key(key) == key


@pytest.mark.parametrize(
    "key", [*HOSTILE, "", "abc-1", "ABC-0", "ABC-01", "ABC", "1ABC-1", "ABC--1", "A" * 300 + "-1"]
)
def test_hostile_or_malformed_issue_keys_are_refused(key: str) -> None:
    with pytest.raises(InvalidReference):
        issue_key(key)


@pytest.mark.parametrize("value", [None, 12, 1.5, True, ["ABC-1"], {"key": "ABC-1"}])
def test_non_strings_are_never_keys(value: Any) -> None:
    with pytest.raises(InvalidReference):
        issue_key(value)


@pytest.mark.parametrize("value", ["10001", 10001, "1"])
def test_numeric_ids(value: Any) -> None:
    assert numeric_id(value) == str(value)


@pytest.mark.parametrize(
    "value", ["0", "-1", "10001/../1", "1e5", " 1", "1 ", "0x10", "١٢", True, 1.0, "9" * 19]
)
def test_bad_ids_are_refused(value: Any) -> None:
    with pytest.raises(InvalidReference):
        numeric_id(value)


@pytest.mark.parametrize("key", ["PLAT", "A", "AB_9"])
def test_project_keys(key: str) -> None:
    assert project_key(key) == key


@pytest.mark.parametrize("key", [*HOSTILE, "plat", "1AB", "AB-1", "", "AB/CD"])
def test_bad_project_keys(key: str) -> None:
    with pytest.raises(InvalidReference):
        project_key(key)


@pytest.mark.parametrize(
    "name", ["JIRAUSER10000", "jdoe", "j.doe", "j_doe", "j-doe", "jane@example.com", "a+b"]
)
def test_user_names(name: str) -> None:
    assert user_name(name) == name


@pytest.mark.parametrize(
    "name", [*HOSTILE, "", "a/b", "a b", "a?b=1", "a&b", "..", ".hidden", "a%2Fb"]
)
def test_bad_user_names(name: str) -> None:
    with pytest.raises(InvalidReference):
        user_name(name)


def test_path_segment_encodes_every_reserved_character() -> None:
    assert path_segment("a/b?c#d%e f") == "a%2Fb%3Fc%23d%25e%20f"
    assert path_segment("ABC-1") == "ABC-1"


def test_issue_ref_prefers_the_id_and_validates_both() -> None:
    ref = issue_ref({"issue": {"id": "10001", "key": "ABC-7", "fields": {"x": "../.."}}})
    assert (ref.id, ref.key, ref.lookup) == ("10001", "ABC-7", "10001")
    assert issue_ref({"issue": {"key": "ABC-7"}}).lookup == "ABC-7"
    bads: list[dict[str, Any]] = [
        {},
        {"issue": "ABC-1"},
        {"issue": {}},
        {"issue": {"id": "10001", "key": "../../admin"}},
        {"issue": {"id": "1/../2", "key": "ABC-1"}},
    ]
    for bad in bads:
        with pytest.raises(InvalidReference):
            issue_ref(bad)


def test_project_and_user_refs() -> None:
    assert project_ref({"project": {"id": 10000, "key": "ES"}}).lookup == "10000"
    assert project_ref({"project": {"key": "ES"}}).lookup == "ES"
    assert user_ref({"user": {"key": "JIRAUSER1", "name": "jdoe"}}) is not None
    with pytest.raises(InvalidReference):
        project_ref({"project": {"key": "ES/../../x"}})
    with pytest.raises(InvalidReference):
        user_ref({"user": {"name": "../admin"}})
    with pytest.raises(InvalidReference):
        user_ref({"user": {}})
