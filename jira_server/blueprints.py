"""The blueprint identifiers this integration creates, and the install-time rendering of the
default resources (``.port/resources``) for a ``blueprintPrefix`` and an
``instanceNamespace``.

The files in ``.port/resources`` name every blueprint with ``DEFAULT_PREFIX``
(``jiraServerSyncIssue``...): not ``jiraServer``, which Port's own jira-server integration
uses (on a catalog that already has its blueprints, installation would not update them and
our extra properties and relations would silently not exist). A custom prefix rewrites every
word of those files that starts with ``DEFAULT_PREFIX`` followed by a capital letter, so a
blueprint added to the files later needs no change here.

An instance namespace makes every identifier the default mapping produces (and every relation
target) ``<namespace>:<Jira's key or id>``, so two Jira instances share one catalog. It is
written into the mapping text itself, not applied in Python: Port's own processor (the
``dsp`` processing mode) applies the mapping as it is stored.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import yaml

from jira_server.errors import SettingsError

DEFAULT_PREFIX = "jiraServerSync"
# The blueprint of each kind, with the default prefix (tests and tools name them by these).
USER = f"{DEFAULT_PREFIX}User"
PROJECT = f"{DEFAULT_PREFIX}Project"
BOARD = f"{DEFAULT_PREFIX}Board"
SPRINT = f"{DEFAULT_PREFIX}Sprint"
VERSION = f"{DEFAULT_PREFIX}Version"
COMPONENT = f"{DEFAULT_PREFIX}Component"
ISSUE = f"{DEFAULT_PREFIX}Issue"
COMMENT = f"{DEFAULT_PREFIX}Comment"
WORKLOG = f"{DEFAULT_PREFIX}Worklog"
BY_KIND = {
    "user": USER,
    "project": PROJECT,
    "board": BOARD,
    "sprint": SPRINT,
    "version": VERSION,
    "component": COMPONENT,
    "issue": ISSUE,
    "comment": COMMENT,
    "worklog": WORKLOG,
}
# Port's own jira-server integration: its blueprints, for the migration (README).
PORT_JIRA_SERVER_BLUEPRINTS = ("jiraServerProject", "jiraServerUser", "jiraServerIssue")

# Port's blueprint identifiers: letters, digits, @ _ = -; the longest suffix is "Component".
_PREFIX_RE = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,19}")
_NAMESPACE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}")
# A word of the resource files that is a default blueprint identifier.
_DEFAULT_ID_RE = re.compile(rf"(?<![A-Za-z0-9_]){DEFAULT_PREFIX}(?=[A-Z])")
NAMESPACE_SEPARATOR = ":"
RESOURCE_FILES = ("blueprints.json", "port-app-config.yml", "actions.json")


def validate_prefix(value: str | None, setting: str) -> str:
    """``blueprintPrefix``: empty means the default."""
    if value is None or not value.strip():
        return DEFAULT_PREFIX
    prefix = value.strip()
    if not _PREFIX_RE.fullmatch(prefix):
        raise SettingsError(
            f"{setting} must start with a letter and have at most 20 letters, digits or "
            f"underscores (it starts every blueprint identifier, e.g. {prefix!r}Issue), "
            f"got {prefix!r}"
        )
    return prefix


def validate_namespace(value: str | None, setting: str) -> str:
    """``instanceNamespace``: empty means none (Jira's keys and ids as they are)."""
    if value is None or not value.strip():
        return ""
    namespace = value.strip()
    if not _NAMESPACE_RE.fullmatch(namespace):
        raise SettingsError(
            f"{setting} must be at most 32 letters, digits, '_', '.' or '-', starting with a "
            f"letter or digit (identifiers become <namespace>:<key>), got {namespace!r}"
        )
    return namespace


def blueprint(kind: str, prefix: str = DEFAULT_PREFIX) -> str:
    return with_prefix(BY_KIND[kind], prefix)


def with_prefix(text: str, prefix: str) -> str:
    """``text`` with every default blueprint identifier in it renamed to ``prefix``."""
    return text if prefix == DEFAULT_PREFIX else _DEFAULT_ID_RE.sub(prefix, text)


def namespaced(identifier: str, namespace: str) -> str:
    return f"{namespace}{NAMESPACE_SEPARATOR}{identifier}" if namespace else identifier


def without_namespace(identifier: str, namespace: str) -> str | None:
    """Jira's key or id in a namespaced identifier; None when it is another instance's."""
    if not namespace:
        return identifier
    head = f"{namespace}{NAMESPACE_SEPARATOR}"
    return identifier[len(head) :] if identifier.startswith(head) else None


def _renamed(value: Any, prefix: str) -> Any:
    if isinstance(value, str):
        return with_prefix(value, prefix)
    if isinstance(value, list):
        return [_renamed(v, prefix) for v in value]
    if isinstance(value, dict):
        return {k: _renamed(v, prefix) for k, v in value.items()}
    return value


def namespaced_expression(expression: str, namespace: str) -> str:
    """A mapping expression whose result (a key, an id, a list of them, or null) is
    namespaced; null stays null so a missing relation stays missing."""
    head = json.dumps(f"{namespace}{NAMESPACE_SEPARATOR}")
    return (
        f'({expression}) | if type == "array" then map({head} + tostring) '
        f"elif . == null then null else {head} + tostring end"
    )


def split_namespaced(expression: str) -> tuple[str, str] | None:
    """(namespace, inner expression) of an expression ``namespaced_expression`` wrote, else
    None: the delta run lists tens of thousands of issues and reads ``.key`` directly."""
    match = _NAMESPACED_RE.fullmatch(expression.strip())
    if match is None:
        return None
    head = json.loads(match["head"])
    if match["again"] != match["head"] or not head.endswith(NAMESPACE_SEPARATOR):
        return None
    return head[: -len(NAMESPACE_SEPARATOR)], match["inner"]


_NAMESPACED_RE = re.compile(
    r'\((?P<inner>.*)\) \| if type == "array" then map\((?P<head>"[^"\\]*") \+ tostring\) '
    r'elif \. == null then null else (?P<again>"[^"\\]*") \+ tostring end',
    re.S,
)


def namespace_missing(
    kind: str, position: int | None, identifier: Any, namespace: str
) -> str | None:
    """Why a resource's identifier ignores ``instanceNamespace`` (it would write over the
    entities of another instance with the same keys), or None. An identifier counts as
    namespaced when it contains the namespace as a string literal, ``"legacy:``."""
    if not namespace:
        return None
    head = f"{namespace}{NAMESPACE_SEPARATOR}"
    text = identifier if isinstance(identifier, str) else json.dumps(identifier)
    if f'"{head}' in text or f"'{head}" in text:
        return None
    return (
        f"instanceNamespace is {namespace!r} but the identifier of {kind}"
        + ("" if position is None else f" (resource #{position})")
        + f" does not add it ({text[:80]!r}): its entities would overwrite those of "
        f'another Jira instance with the same keys. Prefix identifier and relations with "{head}" '
        "(see the README, Enterprise networks) or clear instanceNamespace"
    )


def namespaced_mapping(config: dict[str, Any], namespace: str) -> dict[str, Any]:
    """The port app config with every resource's identifier and relations namespaced."""
    if not namespace:
        return config
    for resource in config.get("resources") or []:
        mappings = resource.get("port", {}).get("entity", {}).get("mappings", {})
        if isinstance(mappings.get("identifier"), str):
            mappings["identifier"] = namespaced_expression(mappings["identifier"], namespace)
        relations = mappings.get("relations") or {}
        for name, expression in relations.items():
            if isinstance(expression, str):
                relations[name] = namespaced_expression(expression, namespace)
    return config


def namespaced_actions(actions: list[Any], namespace: str, installation: str) -> list[Any]:
    """Actions of one instance among several: their own identifiers, this installation as
    their backend, and Jira's key read back from a namespaced entity identifier."""
    if not namespace:
        return actions
    head = f"{namespace}{NAMESPACE_SEPARATOR}"
    for action in actions:
        if not isinstance(action, dict):
            continue
        action["identifier"] = f"{namespace.replace('.', '_')}_{action['identifier']}"
        if action.get("title"):
            action["title"] = f"{action['title']} ({namespace})"
        method = action.get("invocationMethod") or {}
        method["installationId"] = installation
        properties = method.get("integrationActionExecutionProperties") or {}
        for name, template in properties.items():
            if isinstance(template, str) and ".identifier }}" in template:
                properties[name] = template.replace(
                    ".identifier }}", f".identifier | ltrimstr({json.dumps(head)}) }}}}"
                )
    return actions


def render_resources(
    source: Path, prefix: str, namespace: str, installation: str, target: Path | None = None
) -> Path | None:
    """A copy of the resources directory ``source`` for this prefix and namespace, or None
    when both are the defaults (``source`` is then used as it is)."""
    if prefix == DEFAULT_PREFIX and not namespace:
        return None
    if not source.is_dir():
        return None  # nothing to install; the framework warns about the missing directory
    target = target or Path(tempfile.mkdtemp(prefix="jira-server-sync-resources-"))
    shutil.copytree(source, target, dirs_exist_ok=True)
    blueprints_file, mapping_file, actions_file = (target / name for name in RESOURCE_FILES)
    if blueprints_file.is_file():
        blueprints = _renamed(json.loads(blueprints_file.read_text()), prefix)
        blueprints_file.write_text(json.dumps(blueprints, indent=2) + "\n")
    if mapping_file.is_file():
        config = _renamed(yaml.safe_load(mapping_file.read_text()), prefix)
        mapping_file.write_text(
            yaml.safe_dump(namespaced_mapping(config, namespace), sort_keys=False)
        )
    if actions_file.is_file():
        actions = _renamed(json.loads(actions_file.read_text()), prefix)
        actions = namespaced_actions(actions, namespace, installation)
        actions_file.write_text(json.dumps(actions, indent=2) + "\n")
    return target
