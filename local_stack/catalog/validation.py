"""Blueprint definitions and entity checks against them, compiled once per blueprint version.

Port validates entity properties with JSON schema (ajv). This module checks the subset the
blueprints here use: type, format (date-time, url, email), enum, pattern, length and range
limits, array items, required; null is accepted for a property that is not required.
Date-times are ISO 8601 / RFC 3339 with an offset: ``Z``, ``+00:00`` or ``+0000`` (ajv's
date-time format allows the offset without a colon, and Port's own Jira mappings send Jira's
``2024-01-31T09:00:00.000+0000`` unchanged).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeGuard

PROPERTY_TYPES = frozenset({"string", "number", "integer", "boolean", "array", "object"})
BLUEPRINT_ID_RE = re.compile(r"^[A-Za-z0-9@_=\-]+$")
PROPERTY_NAME_RE = re.compile(r"^[A-Za-z0-9@_=\-]+$")
_ID_EXTRA_CHARS = frozenset("0123456789@_.+:\\/='-")
_DATE_TIME_RE = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:?\d{2})$"
)
_URL_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://[^\s/?#]+[^\s]*$")
_EMAIL_RE = re.compile(r"^[^\s@]+@[^\s@]+\.[^\s@]+$")

Check = Callable[[Any], str | None]


def is_valid_entity_identifier(value: Any) -> TypeGuard[str]:
    """Port's pattern ``^(?!\\.{1,2}$)[\\p{L}0-9@_.+:\\\\/='-]+$``, at most 1000 characters."""
    if not isinstance(value, str) or not 0 < len(value) <= 1000 or value in (".", ".."):
        return False
    return all(ch in _ID_EXTRA_CHARS or ch.isalpha() for ch in value)


def _check_format(fmt: str) -> Check | None:
    if fmt == "date-time":

        def date_time(value: Any) -> str | None:
            if not _DATE_TIME_RE.match(value):
                return 'must match format "date-time" (RFC 3339, e.g. 2024-01-31T09:00:00+00:00)'
            try:
                datetime.fromisoformat(value.replace("z", "Z"))
            except ValueError:
                return 'must match format "date-time"'
            return None

        return date_time
    if fmt == "url":
        return lambda v: None if _URL_RE.match(v) else 'must match format "url"'
    if fmt == "email":
        return lambda v: None if _EMAIL_RE.match(v) else 'must match format "email"'
    return None  # other Port formats (markdown, yaml, user, team, timer...) are plain strings


_TYPE_PREDICATES: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
}


def _type_check(type_name: str) -> Check:
    predicate = _TYPE_PREDICATES[type_name]
    message = f"must be {type_name}"
    return lambda value: None if predicate(value) else message


def compile_value_schema(schema: dict[str, Any]) -> list[Check]:
    """Checks for one value (a property or an array item); run in order, first error wins."""
    checks: list[Check] = []
    type_name = schema.get("type")
    if type_name in PROPERTY_TYPES:
        checks.append(_type_check(type_name))
    if type_name == "string":
        if (fmt := schema.get("format")) and (fmt_check := _check_format(str(fmt))):
            checks.append(fmt_check)
        if isinstance(pattern := schema.get("pattern"), str):
            regex = re.compile(pattern)
            checks.append(lambda v: None if regex.search(v) else f'must match pattern "{pattern}"')
        if isinstance(min_len := schema.get("minLength"), int):
            checks.append(lambda v: None if len(v) >= min_len else f"must be >= {min_len} chars")
        if isinstance(max_len := schema.get("maxLength"), int):
            checks.append(lambda v: None if len(v) <= max_len else f"must be <= {max_len} chars")
    if type_name in ("number", "integer"):
        if isinstance(minimum := schema.get("minimum"), int | float):
            checks.append(lambda v: None if v >= minimum else f"must be >= {minimum}")
        if isinstance(maximum := schema.get("maximum"), int | float):
            checks.append(lambda v: None if v <= maximum else f"must be <= {maximum}")
    if isinstance(enum := schema.get("enum"), list):
        allowed = list(enum)
        checks.append(lambda v: None if v in allowed else f"must be one of {allowed}")
    if type_name == "array" and isinstance(items := schema.get("items"), dict):
        item_checks = compile_value_schema(items)

        def each_item(value: Any) -> str | None:
            for index, item in enumerate(value):
                for check in item_checks:
                    if (problem := check(item)) is not None:
                        return f"item {index} {problem}"
            return None

        checks.append(each_item)
    return checks


@dataclass(frozen=True)
class RelationSpec:
    target: str
    many: bool
    required: bool


@dataclass
class CompiledBlueprint:
    identifier: str
    property_checks: dict[str, list[Check]]
    required: frozenset[str]
    relations: dict[str, RelationSpec]
    property_formats: dict[str, str] = field(default_factory=dict)

    @property
    def property_names(self) -> list[str]:
        return list(self.property_checks)

    def property_errors(self, properties: dict[str, Any]) -> list[str]:
        errors: list[str] = []
        for name, value in properties.items():
            checks = self.property_checks.get(name)
            if checks is None:
                errors.append(
                    f'The property "{name}" does not exist in blueprint "{self.identifier}"'
                )
                continue
            if value is None:
                continue  # required-ness is checked below, null is otherwise fine
            for check in checks:
                if (problem := check(value)) is not None:
                    errors.append(f'property "{name}" {problem}')
                    break
        for name in sorted(self.required):
            if properties.get(name) is None:
                errors.append(f'property "{name}" is required')
        return errors

    def relation_errors(self, relations: dict[str, Any]) -> list[str]:
        errors: list[str] = []
        for name, value in relations.items():
            spec = self.relations.get(name)
            if spec is None:
                errors.append(
                    f'The relation "{name}" does not exist in blueprint "{self.identifier}"'
                )
            elif isinstance(value, dict):
                errors.append(f'relation "{name}": search relations are not supported here')
            elif value is None:
                continue
            elif spec.many:
                if not isinstance(value, list) or not all(
                    is_valid_entity_identifier(v) for v in value
                ):
                    errors.append(
                        f'relation "{name}" is "many": must be an array of entity identifiers'
                    )
            elif not is_valid_entity_identifier(value):
                errors.append(f'relation "{name}" must be a single entity identifier')
        for name, spec in self.relations.items():
            if spec.required and relations.get(name) in (None, []):
                errors.append(f'relation "{name}" is required')
        return errors


def compile_blueprint(raw: dict[str, Any]) -> CompiledBlueprint:
    schema = raw.get("schema") or {}
    props: dict[str, Any] = schema.get("properties") or {}
    relations = raw.get("relations") or {}
    return CompiledBlueprint(
        identifier=str(raw["identifier"]),
        property_checks={name: compile_value_schema(spec) for name, spec in props.items()},
        required=frozenset(schema.get("required") or []),
        relations={
            name: RelationSpec(
                target=str(rel.get("target")),
                many=bool(rel.get("many", False)),
                required=bool(rel.get("required", False)),
            )
            for name, rel in relations.items()
        },
        property_formats={
            name: str(spec.get("format")) for name, spec in props.items() if spec.get("format")
        },
    )


def blueprint_definition_errors(raw: dict[str, Any]) -> list[str]:
    """Problems with a blueprint body itself (Port answers 422 for these)."""
    errors: list[str] = []
    identifier = raw.get("identifier")
    if not isinstance(identifier, str) or not BLUEPRINT_ID_RE.match(identifier):
        errors.append('"identifier" must match pattern "^[A-Za-z0-9@_=\\-]+$"')
    if "title" in raw and not isinstance(raw["title"], str):
        errors.append('"title" must be string')
    schema = raw.get("schema")
    if not isinstance(schema, dict) or not isinstance(schema.get("properties"), dict):
        errors.append('"schema" must be an object with "properties"')
        return errors
    for name, spec in schema["properties"].items():
        if not PROPERTY_NAME_RE.match(name):
            errors.append(f'property name "{name}" is invalid')
        if not isinstance(spec, dict) or spec.get("type") not in PROPERTY_TYPES:
            errors.append(f'property "{name}" must have a "type" in {sorted(PROPERTY_TYPES)}')
        elif isinstance(pattern := spec.get("pattern"), str):
            try:
                re.compile(pattern)
            except re.error:
                errors.append(f'property "{name}" has an invalid pattern')
    required = schema.get("required", [])
    if not isinstance(required, list) or not all(r in schema["properties"] for r in required):
        errors.append('"schema.required" must list existing properties')
    relations = raw.get("relations", {})
    if not isinstance(relations, dict):
        errors.append('"relations" must be an object')
    else:
        for name, rel in relations.items():
            if not isinstance(rel, dict) or not isinstance(rel.get("target"), str):
                errors.append(f'relation "{name}" must have a "target" blueprint')
            elif not isinstance(rel.get("many", False), bool):
                errors.append(f'relation "{name}": "many" must be boolean')
    return errors
