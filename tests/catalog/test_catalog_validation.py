"""Blueprint schema checks: unit level and as the 422 bodies the API returns."""

from __future__ import annotations

import httpx
import pytest

from local_stack.catalog.validation import (
    blueprint_definition_errors,
    compile_blueprint,
    is_valid_entity_identifier,
)

from .helpers import SERVICE_BP, bulk, service

COMPILED = compile_blueprint(SERVICE_BP)


@pytest.mark.parametrize(
    ("properties", "expected"),
    [
        ({"tier": "gold"}, []),
        ({"tier": "gold", "url": None, "replicas": None}, []),  # null is fine when optional
        ({"tier": None}, ['property "tier" is required']),
        ({}, ['property "tier" is required']),
        ({"tier": "bronze"}, ["property \"tier\" must be one of ['gold', 'silver']"]),
        ({"tier": "gold", "replicas": "3"}, ['property "replicas" must be number']),
        ({"tier": "gold", "replicas": True}, ['property "replicas" must be number']),
        ({"tier": "gold", "public": "yes"}, ['property "public" must be boolean']),
        ({"tier": "gold", "labels": "a"}, ['property "labels" must be array']),
        ({"tier": "gold", "labels": ["a", 1]}, ['property "labels" item 1 must be string']),
        ({"tier": "gold", "meta": []}, ['property "meta" must be object']),
        ({"tier": "gold", "url": "example.com"}, ['property "url" must match format "url"']),
        ({"tier": "gold", "code": "abc"}, ['property "code" must match pattern "^[A-Z]+$"']),
        (
            {"tier": "gold", "color": "red"},
            ['The property "color" does not exist in blueprint "service"'],
        ),
    ],
)
def test_property_errors(properties: dict[str, object], expected: list[str]) -> None:
    assert COMPILED.property_errors(properties) == expected


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("2024-01-31T09:00:00+00:00", True),
        ("2024-01-31T09:00:00.123Z", True),
        ("2024-01-31T09:00:00.123+0530", True),  # Jira's offset form, accepted like ajv does
        ("2024-01-31T09:00:00.123+05", False),
        ("2024-01-31", False),
        ("2024-02-31T09:00:00Z", False),
        ("yesterday", False),
    ],
)
def test_date_time_format(value: str, valid: bool) -> None:
    errors = COMPILED.property_errors({"tier": "gold", "deployed": value})
    assert (errors == []) is valid, errors


def test_relation_errors() -> None:
    assert COMPILED.relation_errors({"owner": "u1", "maintainers": ["u1", "u2"]}) == []
    assert COMPILED.relation_errors({"owner": None, "maintainers": None}) == []
    assert COMPILED.relation_errors({"owner": ["u1"]}) == [
        'relation "owner" must be a single entity identifier'
    ]
    assert COMPILED.relation_errors({"maintainers": "u1"}) == [
        'relation "maintainers" is "many": must be an array of entity identifiers'
    ]
    assert COMPILED.relation_errors({"boss": "u1"}) == [
        'The relation "boss" does not exist in blueprint "service"'
    ]


def test_entity_identifier_pattern() -> None:
    for good in ("PROJ-1", "a.b", "user@example.com", "jürgen", "a/b", "x+y:z='1'"):
        assert is_valid_entity_identifier(good), good
    for bad in ("", ".", "..", "has space", "semi;colon", "x" * 1001, 5, None):
        assert not is_valid_entity_identifier(bad), bad


def test_blueprint_definition_errors() -> None:
    assert blueprint_definition_errors(SERVICE_BP) == []
    broken = {
        "identifier": "bad id",
        "schema": {"properties": {"x": {"type": "text"}}, "required": ["y"]},
        "relations": {"r": {"many": False}},
    }
    errors = blueprint_definition_errors(broken)
    assert any('"identifier" must match' in e for e in errors)
    assert any('property "x" must have a "type"' in e for e in errors)
    assert any('"schema.required"' in e for e in errors)
    assert any('relation "r" must have a "target"' in e for e in errors)


@pytest.mark.usefixtures("blueprints")
async def test_api_reports_schema_mismatch_per_entity(api: httpx.AsyncClient) -> None:
    response = await bulk(
        api,
        "service",
        [service("ok"), service("bad", replicas="many", color="red"), {"identifier": "x y"}],
    )
    assert response.status_code == 207
    body = response.json()
    assert body["entities"] == [{"identifier": "ok", "index": 0, "created": True}]
    bad, unnamed = body["errors"]
    assert bad["index"] == 1 and bad["identifier"] == "bad"
    assert (bad["statusCode"], bad["error"]) == (422, "schema_mismatch")
    assert 'property "replicas" must be number' in bad["message"]
    assert 'The property "color" does not exist' in bad["message"]
    assert unnamed["index"] == 2 and unnamed["statusCode"] == 422
    assert "identifier" in unnamed["message"]


@pytest.mark.usefixtures("blueprints")
async def test_single_upsert_422_body(api: httpx.AsyncClient) -> None:
    response = await api.post(
        "/v1/blueprints/service/entities",
        params={"upsert": "true"},
        json=service("s1", url="not a url"),
    )
    assert response.status_code == 422
    assert response.json() == {
        "ok": False,
        "error": "schema_mismatch",
        "message": 'property "url" must match format "url"',
    }


async def test_invalid_blueprint_is_rejected(api: httpx.AsyncClient) -> None:
    response = await api.post(
        "/v1/blueprints", json={"identifier": "x", "schema": {"properties": {"a": {}}}}
    )
    assert response.status_code == 422
    assert response.json()["ok"] is False
    response = await api.post(
        "/v1/blueprints",
        json={
            "identifier": "x",
            "schema": {"properties": {}},
            "relations": {"r": {"target": "nowhere", "many": False, "required": False}},
        },
    )
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
