"""Entity writes through the API: bulk result shape, merge, relations, deletes."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest

from local_stack.catalog import create_app
from local_stack.catalog.catalog import Catalog

from .helpers import OCEAN_UA, SERVICE_BP, USER_BP, bulk, service, signed_in

pytestmark = pytest.mark.usefixtures("blueprints")


async def _entity(api: httpx.AsyncClient, blueprint: str, identifier: str) -> httpx.Response:
    return await api.get(f"/v1/blueprints/{blueprint}/entities/{identifier}")


async def test_bulk_upsert_result_shape_and_stored_entity(api: httpx.AsyncClient) -> None:
    response = await bulk(api, "service", [service("a", replicas=2), service("b")])
    assert response.status_code == 200
    assert response.json() == {
        "ok": True,
        "entities": [
            {"identifier": "a", "index": 0, "created": True},
            {"identifier": "b", "index": 1, "created": True},
        ],
        "errors": [],
    }
    again = await bulk(api, "service", [service("a", replicas=3)])
    assert again.json()["entities"] == [{"identifier": "a", "index": 0, "created": False}]

    entity = (await _entity(api, "service", "a")).json()["entity"]
    assert entity["identifier"] == "a" and entity["blueprint"] == "service"
    assert entity["title"] == "Service a"
    # Every schema property and relation is present, null when unset.
    assert entity["properties"]["replicas"] == 3
    assert entity["properties"]["url"] is None
    assert entity["relations"] == {"owner": None, "maintainers": None, "dependsOn": None}
    assert entity["createdAt"].endswith("Z") and entity["updatedAt"] >= entity["createdAt"]
    assert entity["updatedBy"] == OCEAN_UA


async def test_bulk_limits(api: httpx.AsyncClient, catalog: Catalog) -> None:
    too_many = await bulk(api, "service", [service(f"s{i}") for i in range(21)])
    assert too_many.status_code == 422
    assert too_many.json()["error"] == "invalid_request"
    empty = await bulk(api, "service", [])
    assert empty.status_code == 422
    huge = await bulk(api, "service", [service("big", meta={"blob": "x" * (1024 * 1024)})])
    assert huge.status_code == 413
    unknown_bp = await bulk(api, "nothing", [service("a")])
    assert unknown_bp.status_code == 404
    assert unknown_bp.json() == {
        "ok": False,
        "error": "not_found",
        "message": 'Blueprint with identifier "nothing" was not found',
    }
    assert catalog.store.count_entities("service") == 0


async def test_merge_keeps_unmentioned_fields(api: httpx.AsyncClient) -> None:
    await bulk(api, "service", [service("m", replicas=1, public=True)])
    await bulk(
        api,
        "service",
        [{"identifier": "m", "properties": {"replicas": 5}}],
        merge="true",
    )
    entity = (await _entity(api, "service", "m")).json()["entity"]
    assert entity["properties"]["replicas"] == 5
    assert entity["properties"]["public"] is True
    assert entity["title"] == "Service m"

    # Without merge the entity is replaced: required "tier" missing now fails.
    replaced = await bulk(api, "service", [{"identifier": "m", "properties": {"replicas": 6}}])
    assert replaced.status_code == 207
    assert 'property "tier" is required' in replaced.json()["errors"][0]["message"]


async def test_upsert_false_conflicts(api: httpx.AsyncClient) -> None:
    await bulk(api, "service", [service("c")])
    response = await api.post(
        "/v1/blueprints/service/entities", params={"upsert": "false"}, json=service("c")
    )
    assert response.status_code == 409
    assert response.json()["error"] == "identifier_taken"


async def test_single_upsert_created_then_updated(api: httpx.AsyncClient) -> None:
    url = "/v1/blueprints/service/entities"
    first = await api.post(url, params={"upsert": "true"}, json=service("one"))
    assert first.status_code == 201
    assert first.json()["ok"] is True
    assert first.json()["entity"]["identifier"] == "one"
    second = await api.post(url, params={"upsert": "true"}, json=service("one"))
    assert second.status_code == 200


async def test_validation_only_writes_nothing(api: httpx.AsyncClient, catalog: Catalog) -> None:
    response = await bulk(api, "service", [service("v")], validation_only="true")
    assert response.json()["entities"] == [{"identifier": "v", "index": 0, "created": True}]
    assert catalog.store.count_entities("service") == 0


async def test_missing_relation_target_is_404_per_entity(api: httpx.AsyncClient) -> None:
    entity = {**service("r"), "relations": {"owner": "ghost"}}
    response = await bulk(api, "service", [entity])
    assert response.status_code == 207
    [error] = response.json()["errors"]
    assert (error["statusCode"], error["error"]) == (404, "not_found")
    assert '"ghost" of blueprint "user"' in error["message"]

    single = await api.post(
        "/v1/blueprints/service/entities", params={"upsert": "true"}, json=entity
    )
    # The framework treats exactly this (404 + not_found) as "retry after its dependency".
    assert single.status_code == 404
    assert single.json()["error"] == "not_found"


async def test_create_missing_related_entities(api: httpx.AsyncClient, catalog: Catalog) -> None:
    entities = [
        {**service("x"), "relations": {"owner": "alice", "dependsOn": ["y", "z"]}},
        {**service("y"), "relations": {"maintainers": ["alice", "bob"]}},
    ]
    response = await bulk(api, "service", entities, create_missing_related_entities="true")
    assert response.status_code == 200, response.text
    assert catalog.store.existing_identifiers("user", ["alice", "bob"]) == {"alice", "bob"}
    bare = (await _entity(api, "user", "alice")).json()["entity"]
    assert bare["title"] is None and bare["properties"] == {"email": None}
    # "y" was created bare by "x" and then fully written by its own item.
    y = (await _entity(api, "service", "y")).json()["entity"]
    assert y["title"] == "Service y" and y["relations"]["maintainers"] == ["alice", "bob"]
    assert catalog.store.entity_exists("service", "z")
    assert catalog.stats.related_entities_created == 4  # alice, y, z, bob


async def test_delete_single_and_bulk(api: httpx.AsyncClient) -> None:
    await bulk(api, "service", [service(f"d{i}") for i in range(4)])
    deleted = await api.delete(
        "/v1/blueprints/service/entities/d0", params={"delete_dependents": "false"}
    )
    assert deleted.status_code == 200 and deleted.json() == {"ok": True}
    missing = await api.delete(
        "/v1/blueprints/service/entities/d0", params={"delete_dependents": "false"}
    )
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"

    response = await api.post(
        "/v1/blueprints/service/bulk/entities/delete",
        params={"delete_dependents": "true"},
        json={"entities": ["d1", "d2", "nope"]},
    )
    assert response.status_code == 200
    assert response.json() == {"ok": True, "deletedEntities": ["d1", "d2"]}
    assert (await _entity(api, "service", "d3")).status_code == 200


async def test_identifier_with_slash_round_trips(api: httpx.AsyncClient) -> None:
    await bulk(api, "service", [service("team/api+v2")])
    # The framework quotes identifiers with quote_plus: "/" -> %2F, "+" -> %2B.
    got = await _entity(api, "service", "team%2Fapi%2Bv2")
    assert got.status_code == 200 and got.json()["entity"]["identifier"] == "team/api+v2"
    deleted = await api.delete(
        "/v1/blueprints/service/entities/team%2Fapi%2Bv2", params={"delete_dependents": "false"}
    )
    assert deleted.status_code == 200


async def test_required_relation_dependents(api: httpx.AsyncClient, catalog: Catalog) -> None:
    await bulk(api, "service", [service("core"), service("edge")])
    await bulk(
        api,
        "deployment",
        [
            {"identifier": "dep1", "relations": {"service": "core"}},
            {"identifier": "dep2", "relations": {"service": "edge"}},
        ],
    )
    blocked = await api.post(
        "/v1/blueprints/service/bulk/entities/delete",
        params={"delete_dependents": "false"},
        json={"entities": ["core", "edge"]},
    )
    assert blocked.status_code == 422
    assert blocked.json()["error"] == "has_dependents"
    assert catalog.store.count_entities("service") == 2  # nothing deleted

    cascade = await api.post(
        "/v1/blueprints/service/bulk/entities/delete",
        params={"delete_dependents": "true"},
        json={"entities": ["core"]},
    )
    assert cascade.json()["deletedEntities"] == ["core"]
    assert catalog.store.existing_identifiers("deployment", ["dep1", "dep2"]) == {"dep2"}
    assert catalog.stats.dependents_deleted == 1


async def test_optional_relation_is_cleared_not_cascaded(
    api: httpx.AsyncClient, catalog: Catalog
) -> None:
    await bulk(api, "user", [{"identifier": "u1"}, {"identifier": "u2"}])
    await bulk(
        api,
        "service",
        [{**service("s"), "relations": {"owner": "u1", "maintainers": ["u1", "u2"]}}],
    )
    before = (await _entity(api, "service", "s")).json()["entity"]
    response = await api.delete(
        "/v1/blueprints/user/entities/u1", params={"delete_dependents": "false"}
    )
    assert response.status_code == 200
    after = (await _entity(api, "service", "s")).json()["entity"]
    assert after["relations"]["owner"] is None
    assert after["relations"]["maintainers"] == ["u2"]
    assert after["updatedAt"] == before["updatedAt"]
    assert catalog.store.incoming_edges(("user", "u1")) == []


async def test_delete_all_entities_reports_completed_migration(api: httpx.AsyncClient) -> None:
    await bulk(api, "service", [service("a"), service("b")])
    response = await api.delete(
        "/v1/blueprints/service/all-entities", params={"delete_blueprint": "false"}
    )
    migration_id = response.json()["migrationId"]
    migration = (await api.get(f"/v1/migrations/{migration_id}")).json()["migration"]
    assert migration["status"] == "COMPLETED" and migration["sourceBlueprint"] == "service"
    listed = await api.get("/v1/blueprints/service/entities")
    assert listed.json()["entities"] == []


async def test_noop_upsert_moves_updated_at_unless_configured(api: httpx.AsyncClient) -> None:
    await bulk(api, "service", [service("same")])
    first = (await _entity(api, "service", "same")).json()["entity"]["updatedAt"]
    await asyncio.sleep(0.002)
    await bulk(api, "service", [service("same")])
    assert (await _entity(api, "service", "same")).json()["entity"]["updatedAt"] > first

    app = create_app(touch_unchanged=False)
    async with signed_in(app) as client:
        for blueprint in (USER_BP, SERVICE_BP):
            await client.post("/v1/blueprints", json=blueprint)
        await bulk(client, "service", [service("same")])
        kept = (await _entity(client, "service", "same")).json()["entity"]["updatedAt"]
        await asyncio.sleep(0.002)
        noop = await bulk(client, "service", [service("same")])
        assert noop.json()["entities"] == [{"identifier": "same", "index": 0, "created": False}]
        assert (await _entity(client, "service", "same")).json()["entity"]["updatedAt"] == kept
        await bulk(client, "service", [service("same", replicas=2)])
        assert (await _entity(client, "service", "same")).json()["entity"]["updatedAt"] > kept


async def test_project_blueprints_are_accepted(api: httpx.AsyncClient) -> None:
    """The integration's own ``.port/resources/blueprints.json``, created the way the
    framework does it: bare blueprints first, then a patch with the relations."""
    path = Path(__file__).resolve().parents[2] / ".port" / "resources" / "blueprints.json"
    definitions = json.loads(path.read_text())
    for definition in definitions:
        bare = {k: v for k, v in definition.items() if k != "relations"}
        assert (await api.post("/v1/blueprints", json=bare)).status_code == 200
    for definition in definitions:
        patched = await api.patch(f"/v1/blueprints/{definition['identifier']}", json=definition)
        assert patched.status_code == 200, patched.text
        relations = patched.json()["blueprint"]["relations"]
        assert all({"many", "required", "target"} <= set(r) for r in relations.values())
