"""spec.yaml carries the top-level keys Port's own integrations have (docs link, form
mapping, SaaS availability), consistent with the image's labels."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
SPEC = yaml.safe_load((ROOT / ".port/spec.yaml").read_text())


def test_docs_link_is_the_readme_of_the_images_source() -> None:
    source = re.search(r"^ARG SOURCE=(\S+)$", (ROOT / "Dockerfile").read_text(), re.M)
    assert source is not None
    assert SPEC["docs"] == f"{source[1]}#readme"


def test_form_mapping_and_self_hosted_only() -> None:
    assert SPEC["formMappingEnabled"] is True
    assert SPEC["saas"] == {"enabled": False}
    assert SPEC["actionsProcessingEnabled"] is True
    assert {"title", "description", "icon", "features", "configurations"} <= set(SPEC)


def test_sensitive_settings_are_marked() -> None:
    sensitive = {c["name"] for c in SPEC["configurations"] if c.get("sensitive")}
    expected = {"token", "password", "customHeaders", "webhookSecret"}
    expected |= {"proxyUrl", "clientKeyPassword"}
    assert expected <= sensitive
