"""The README's jq expression that relates a pull request or deployment to Jira issues by the
keys in its title, branch and commit messages, run exactly as documented with jq."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jq
import pytest
import yaml

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def documented_expression() -> str:
    block = README.split("<!-- jira-key-expression -->", 1)[1].split("<!-- /", 1)[0]
    body = block.split("```yaml", 1)[1].split("```", 1)[0]
    expression: str = yaml.safe_load(body)["jiraIssues"]
    return expression


PROGRAM = jq.compile(documented_expression())


def keys(**pull_request: Any) -> list[str]:
    result: list[str] = PROGRAM.input_value(pull_request).first()
    return result


@pytest.mark.parametrize(
    ("pull_request", "expected"),
    [
        ({"title": "ABC-123: fix login"}, ["ABC-123"]),
        ({"title": "Fix login", "head": {"ref": "feature/abc-123-login-timeout"}}, ["ABC-123"]),
        ({"title": "[PLAT-7] Retry uploads (ABC-9, abc-10)"}, ["ABC-10", "ABC-9", "PLAT-7"]),
        ({"body": "See https://jira.example.com/browse/ABC-42?focusedCommentId=1"}, ["ABC-42"]),
        ({"head": {"ref": "bugfix/ABC-5_null_pointer"}}, ["ABC-5"]),
        (
            {
                "title": "Release",
                "commits": [{"message": "ABC-1 first"}, {"message": "abc-1 again"}],
            },
            ["ABC-1"],
        ),
        ({"title": "Read files as UTF-8, dates as ISO-8601, hashes as SHA-256"}, []),
        ({"title": "preABC-12 and ABC-0 and ABC-12345678x"}, []),
        ({"title": "XABC-3 is not ABC-3x"}, []),
        ({"title": "Bump lib from 1.2-3 to 1.2-4", "head": {"ref": "dependabot/npm/lib-1.2"}}, []),
        ({"title": None, "head": {"ref": None}, "body": None}, []),
        (
            {"title": "Multi-line\nbody", "body": "Closes ABC-77.\nRefs PLAT-8; PLAT-8"},
            ["ABC-77", "PLAT-8"],
        ),
    ],
)
def test_keys_are_found_where_people_write_them(
    pull_request: dict[str, Any], expected: list[str]
) -> None:
    assert keys(**pull_request) == expected
