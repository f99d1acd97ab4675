"""A throwaway Ocean integration for exercising the catalog with the real framework.

Its resync handlers return the items found in ``items.json`` in the integration directory
(rewritten by the test between runs); a kind listed under ``"raise"`` makes its handler
raise instead, to observe how the framework treats a failed kind.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

OWNER_BLUEPRINT = "probeOwner"
WIDGET_BLUEPRINT = "probeWidget"

_MAIN_PY = """
import json
from pathlib import Path
from typing import Any

from port_ocean.context.ocean import ocean


def _items(kind: str) -> list[dict[str, Any]]:
    data = json.loads(Path("items.json").read_text())
    if kind in data.get("raise", []):
        raise RuntimeError(f"probe handler for {kind} failed on purpose")
    return data[kind]


@ocean.on_resync("owner")
async def resync_owners(kind: str) -> list[dict[str, Any]]:
    return _items(kind)


@ocean.on_resync("widget")
async def resync_widgets(kind: str) -> list[dict[str, Any]]:
    return _items(kind)
"""

_PYPROJECT = """
[project]
name = "catalog-probe"
version = "0.1.0"
"""

_SPEC = """
title: Catalog probe
description: Throwaway integration used by the local catalog's tests
icon: Blueprint
features:
  - type: exporter
    section: Testing
    resources:
      - kind: owner
      - kind: widget
"""

# Only quoted placeholders: literal values here would beat the test's environment.
_CONFIG = """
integration:
  identifier: "{{ from env OCEAN__INTEGRATION__IDENTIFIER }}"
  type: "{{ from env OCEAN__INTEGRATION__TYPE }}"
"""

BLUEPRINTS: list[dict[str, Any]] = [
    {
        "identifier": OWNER_BLUEPRINT,
        "title": "Probe owner",
        "icon": "User",
        "schema": {
            "properties": {"email": {"title": "Email", "type": "string", "format": "email"}},
            "required": [],
        },
        "relations": {},
    },
    {
        "identifier": WIDGET_BLUEPRINT,
        "title": "Probe widget",
        "icon": "Blueprint",
        "schema": {
            "properties": {
                "size": {"type": "number", "title": "Size"},
                "color": {"type": "string", "enum": ["red", "green", "blue"]},
                "tags": {"type": "array", "items": {"type": "string"}},
                "launched": {"type": "string", "format": "date-time"},
                "homepage": {"type": "string", "format": "url"},
                "active": {"type": "boolean"},
            },
            "required": [],
        },
        "calculationProperties": {},
        "relations": {
            "owner": {
                "title": "Owner",
                "target": OWNER_BLUEPRINT,
                "required": False,
                "many": False,
            },
            "parts": {
                "title": "Parts",
                "target": WIDGET_BLUEPRINT,
                "required": False,
                "many": True,
            },
        },
    },
]

_APP_CONFIG = """
deleteDependentEntities: true
createMissingRelatedEntities: true
enableMergeEntity: true
resources:
  - kind: owner
    selector:
      query: 'true'
    port:
      entity:
        mappings:
          identifier: .id
          title: .name
          blueprint: '"probeOwner"'
          properties:
            email: .email
  - kind: widget
    selector:
      query: 'true'
    port:
      entity:
        mappings:
          identifier: .id
          title: .name
          blueprint: '"probeWidget"'
          properties:
            size: .size
            color: .color
            tags: .tags
            launched: .launched
            homepage: .homepage
            active: .active
          relations:
            owner: .owner
            parts: .parts // []
"""


def owner(number: int) -> dict[str, Any]:
    return {"id": f"owner-{number}", "name": f"Owner <{number}>", "email": f"o{number}@ex.com"}


def widget(number: int, owner_number: int | None = None) -> dict[str, Any]:
    return {
        "id": f"W-{number}",
        "name": f"Widget {number}",
        "size": number * 1.5,
        "color": ("red", "green", "blue")[number % 3],
        "tags": [f"t{number % 4}", "probe"],
        "launched": f"2024-01-{(number % 28) + 1:02d}T10:00:00+00:00",
        "homepage": f"https://example.com/widgets/{number}",
        "active": number % 2 == 0,
        "owner": f"owner-{owner_number}" if owner_number is not None else None,
        "parts": [f"W-{number - 1}"] if number > 1 else [],
    }


def write_items(directory: Path, items: dict[str, Any]) -> None:
    (directory / "items.json").write_text(json.dumps(items))


def write_probe_integration(
    directory: Path, items: dict[str, Any], *, actions: bool = False
) -> Path:
    """``actions=True`` declares ``actionsProcessingEnabled`` in the spec: without it the
    framework refuses ``OCEAN__ACTIONS_PROCESSOR__ENABLED=true`` at start-up."""
    resources = directory / ".port" / "resources"
    resources.mkdir(parents=True, exist_ok=True)
    (directory / "main.py").write_text(_MAIN_PY)
    (directory / "pyproject.toml").write_text(_PYPROJECT)
    (directory / "config.yaml").write_text(_CONFIG)
    spec = _SPEC + ("actionsProcessingEnabled: true\n" if actions else "")
    (directory / ".port" / "spec.yaml").write_text(spec)
    (resources / "blueprints.json").write_text(json.dumps(BLUEPRINTS, indent=2))
    (resources / "port-app-config.yml").write_text(_APP_CONFIG)
    write_items(directory, items)
    return directory
