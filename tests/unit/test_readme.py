"""The README's configuration table and first commands stay true to the spec and Makefile."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def env_name(camel: str) -> str:
    return "OCEAN__INTEGRATION__CONFIG__" + re.sub(r"(?<!^)([A-Z])", r"_\1", camel).upper()


def table_rows() -> dict[str, tuple[str, str]]:
    section = README.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 4 and cells[0].startswith("`") and cells[1].startswith("`OCEAN"):
            rows[cells[0].strip("`")] = (cells[1].strip("`"), cells[2].strip("`"))
    return rows


def test_configuration_table_matches_the_spec() -> None:
    spec = yaml.safe_load((ROOT / ".port/spec.yaml").read_text())["configurations"]
    rows = table_rows()
    assert set(rows) == {c["name"] for c in spec}
    for setting in spec:
        variable, default = rows[setting["name"]]
        assert variable == env_name(setting["name"])
        expected = "" if setting.get("default") is None else str(setting["default"]).lower()
        assert default.lower() == expected, setting["name"]


def test_first_screen_names_the_two_commands_and_they_exist() -> None:
    first_screen = "\n".join(README.splitlines()[:12])
    assert "make demo" in first_screen and "make test" in first_screen
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^demo:", makefile, re.M) and re.search(r"^test:", makefile, re.M)
    assert "make test" in (ROOT / ".ci/run").read_text()
