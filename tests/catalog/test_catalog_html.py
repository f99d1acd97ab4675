"""The read-only HTML pages: counts, escaping, relation links, caps and paging."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette

from local_stack.catalog import create_app

from .helpers import bulk, service, signed_in

pytestmark = pytest.mark.usefixtures("blueprints")

EVIL = "<script>alert('x')</script>"


async def test_index_escapes_and_links_relations(
    api: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    await bulk(api, "user", [{"identifier": "u1", "title": f"Mallory {EVIL}"}])
    written = await bulk(
        api,
        "service",
        [
            {
                **service("api", labels=[EVIL], url="javascript://alert(1)"),
                "title": f'"{EVIL}',
                "relations": {"owner": "u1"},
            },
            {**service("web", url="https://example.com/?a=1&b=2")},
        ],
    )
    assert written.status_code == 200, written.text
    page = await anon.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    assert "<td>service</td><td>2</td>" in html  # counts table
    assert "href='/blueprints/user/entities/u1'" in html
    assert "href='https://example.com/?a=1&amp;b=2'" in html
    assert "href='javascript" not in html  # non-http(s) URLs are not links


async def test_entity_page_shows_incoming_relations(
    api: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    await bulk(api, "user", [{"identifier": "u1"}])
    await bulk(api, "service", [{**service("api"), "relations": {"maintainers": ["u1"]}}])
    page = await anon.get("/blueprints/user/entities/u1")
    assert page.status_code == 200
    assert "Referenced by" in page.text and "href='/blueprints/service/entities/api'" in page.text
    assert (await anon.get("/blueprints/user/entities/nobody")).status_code == 404
    assert (await anon.get("/blueprints/nothing")).status_code == 404


async def test_large_blueprint_is_capped_and_paged() -> None:
    app: Starlette = create_app(html_page_size=50)
    async with signed_in(app) as client:
        await client.post(
            "/v1/blueprints", json={"identifier": "thing", "schema": {"properties": {}}}
        )
        for start in range(0, 120, 20):
            await bulk(
                client, "thing", [{"identifier": f"t{i:03d}"} for i in range(start, start + 20)]
            )
        index = (await client.get("/")).text
        assert "Showing 100 of 120" in index and index.count("/blueprints/thing/entities/") == 100
        page3 = (await client.get("/blueprints/thing", params={"page": "3"})).text
        assert "t119" in page3 and "t099" not in page3 and "next" not in page3
        page1 = (await client.get("/blueprints/thing")).text
        assert page1.count("/blueprints/thing/entities/") == 50 and "?page=2" in page1
