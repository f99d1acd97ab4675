"""The real Jira bodies are found beside the project root, as CI lays the clone out, and a
missing folder fails in CI instead of skipping the checks that need it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import fixtures


def test_fixtures_are_looked_up_relative_to_the_project_root() -> None:
    assert fixtures.PROJECT_ROOT.parent / "shared" / "jira-fixtures" == fixtures.FIXTURES
    assert (fixtures.PROJECT_ROOT / "integration.py").is_file()


def test_a_missing_fixture_fails_in_ci(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(fixtures, "FIXTURES", tmp_path / "absent")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI must provide"):
        fixtures.load_fixture("issue_dc_port.json")


def test_a_missing_fixture_skips_outside_ci(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(fixtures, "FIXTURES", tmp_path / "absent")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception):
        fixtures.load_fixture("issue_dc_port.json")


def test_ci_has_the_fixtures() -> None:
    if not fixtures.in_ci():
        pytest.skip("only CI is required to have ../shared/jira-fixtures")
    assert len(list(fixtures.FIXTURES.glob("*.json"))) >= 10
