"""Read-only HTML view of the catalog: counts, per-blueprint tables, entity pages.

Everything shown comes from synced data, so every value is escaped and only http(s) URLs
become links.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from local_stack.catalog.catalog import Catalog
from local_stack.catalog.routing import catalog_of
from local_stack.catalog.store import EntityRecord
from local_stack.catalog.validation import CompiledBlueprint

INDEX_ROWS_PER_BLUEPRINT = 100

_STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5rem;color:#1d2330}
table{border-collapse:collapse;margin:.5rem 0 1.5rem;font-size:.85rem}
th,td{border:1px solid #ccd;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#eef0f6}td.null{color:#99a}nav a{margin-right:1rem}
h2{margin-top:2rem}.muted{color:#667}
"""


def _e(value: Any) -> str:
    return escape(str(value), quote=True)


def _href(*segments: str) -> str:
    return "/" + "/".join(quote(s, safe="") for s in segments)


def entity_href(blueprint: str, identifier: str) -> str:
    return _href("blueprints", blueprint, "entities", identifier)


def _page(title: str, body: str) -> HTMLResponse:
    return HTMLResponse(
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{_e(title)}</title><style>{_STYLE}</style></head><body>"
        f"<nav><a href='/'>Catalog</a></nav><h1>{_e(title)}</h1>{body}</body></html>"
    )


def _not_found(message: str) -> HTMLResponse:
    response = _page("Not found", f"<p>{_e(message)}</p>")
    response.status_code = 404
    return response


def _value_cell(value: Any, fmt: str | None = None) -> str:
    if value is None:
        return "<td class='null'>—</td>"
    if fmt == "url" and isinstance(value, str) and value.startswith(("http://", "https://")):
        return f"<td><a href='{_e(value)}' rel='noopener noreferrer'>{_e(value)}</a></td>"
    if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        return f"<td>{_e(', '.join(str(v) for v in value))}</td>"
    if isinstance(value, dict | list):
        return f"<td><code>{_e(json.dumps(value, ensure_ascii=False))}</code></td>"
    if isinstance(value, bool):
        return f"<td>{'true' if value else 'false'}</td>"
    return f"<td>{_e(value)}</td>"


def _relation_cell(target_bp: str, value: Any) -> str:
    targets = value if isinstance(value, list) else [] if value is None else [value]
    if not targets:
        return "<td class='null'>—</td>"
    links = ", ".join(
        f"<a href='{_e(entity_href(target_bp, str(t)))}'>{_e(t)}</a>" for t in targets
    )
    return f"<td>{links}</td>"


def _entity_table(records: list[EntityRecord], blueprint: CompiledBlueprint | None) -> str:
    props = blueprint.property_names if blueprint else []
    relations = blueprint.relations if blueprint else {}
    formats = blueprint.property_formats if blueprint else {}
    head = "".join(f"<th>{_e(name)}</th>" for name in ["title", "identifier", *props])
    head += "".join(f"<th>→ {_e(name)}</th>" for name in relations)
    rows = []
    for record in records:
        cells = [
            _value_cell(record.title),
            f"<td><a href='{_e(entity_href(record.blueprint, record.identifier))}'>"
            f"{_e(record.identifier)}</a></td>",
        ]
        cells += [_value_cell(record.properties.get(p), formats.get(p)) for p in props]
        cells += [
            _relation_cell(spec.target, record.relations.get(name))
            for name, spec in relations.items()
        ]
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _integrations_block(catalog: Catalog) -> str:
    docs = catalog.store.list_docs("integration")
    if not docs:
        return "<p class='muted'>No integration has registered yet.</p>"
    rows = []
    for doc in docs:
        state = doc.get("resyncState") or {}
        rows.append(
            "<tr>"
            + "".join(
                _value_cell(v)
                for v in (
                    doc.get("installationId"),
                    doc.get("installationAppType"),
                    doc.get("version"),
                    state.get("status"),
                    state.get("lastResyncStart"),
                    state.get("lastResyncEnd"),
                )
            )
            + "</tr>"
        )
    head = "".join(
        f"<th>{h}</th>"
        for h in ("integration", "type", "version", "resync", "last start", "last end")
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


async def index(request: Request) -> Response:
    catalog = catalog_of(request)
    counts = catalog.store.counts_by_blueprint()
    blueprints = catalog.store.list_blueprints()
    summary = "".join(
        f"<tr><td><a href='{_e(_href('blueprints', bp['identifier']))}'>"
        f"{_e(bp.get('title') or bp['identifier'])}</a></td><td>{_e(bp['identifier'])}</td>"
        f"<td>{counts.get(bp['identifier'], 0)}</td></tr>"
        for bp in blueprints
    )
    sections = []
    for bp in blueprints:
        identifier = bp["identifier"]
        total = counts.get(identifier, 0)
        records = catalog.store.list_entities(identifier, limit=INDEX_ROWS_PER_BLUEPRINT)
        note = (
            f"<p class='muted'>Showing {len(records)} of {total}. "
            f"<a href='{_e(_href('blueprints', identifier))}'>All entities</a></p>"
            if total > len(records)
            else ""
        )
        sections.append(
            f"<h2>{_e(bp.get('title') or identifier)} <span class='muted'>({total})</span></h2>"
            f"{note}{_entity_table(records, catalog.blueprint(identifier))}"
        )
    body = (
        _integrations_block(catalog)
        + "<table><thead><tr><th>blueprint</th><th>identifier</th><th>entities</th></tr>"
        + f"</thead><tbody>{summary}</tbody></table>"
        + "".join(sections)
    )
    return _page("Local catalog", body)


async def blueprint_page(request: Request) -> Response:
    catalog = catalog_of(request)
    identifier = str(request.path_params["blueprint"])
    compiled = catalog.blueprint(identifier)
    if compiled is None:
        return _not_found(f"No blueprint {identifier}.")
    size = catalog.settings.html_page_size
    total = catalog.store.count_entities(identifier)
    try:
        page = max(1, int(request.query_params.get("page", "1")))
    except ValueError:
        page = 1
    records = catalog.store.list_entities(identifier, limit=size, offset=(page - 1) * size)
    base = _href("blueprints", identifier)
    pager = [f"<span class='muted'>{total} entities, page {page}</span>"]
    if page > 1:
        pager.append(f"<a href='{_e(base)}?page={page - 1}'>previous</a>")
    if page * size < total:
        pager.append(f"<a href='{_e(base)}?page={page + 1}'>next</a>")
    return _page(
        f"{identifier}", "<p>" + " ".join(pager) + "</p>" + _entity_table(records, compiled)
    )


async def entity_page(request: Request) -> Response:
    catalog = catalog_of(request)
    blueprint = str(request.path_params["blueprint"])
    identifier = str(request.path_params["identifier"])
    record = catalog.store.get_entity(blueprint, identifier)
    compiled = catalog.blueprint(blueprint)
    if record is None:
        return _not_found(f"No entity {identifier} in {blueprint}.")
    formats = compiled.property_formats if compiled else {}
    rows = [
        f"<tr><th>{_e(k)}</th>{_value_cell(v)}</tr>"
        for k, v in (
            ("blueprint", record.blueprint),
            ("identifier", record.identifier),
            ("title", record.title),
            ("datasource", record.datasource),
        )
    ]
    names = compiled.property_names if compiled else list(record.properties)
    rows += [
        f"<tr><th>{_e(n)}</th>{_value_cell(record.properties.get(n), formats.get(n))}</tr>"
        for n in names
    ]
    if compiled:
        rows += [
            f"<tr><th>→ {_e(n)}</th>{_relation_cell(s.target, record.relations.get(n))}</tr>"
            for n, s in compiled.relations.items()
        ]
    incoming = catalog.store.incoming_edges(record.key, limit=1000)
    referenced = "".join(
        f"<li><a href='{_e(entity_href(src_bp, src_id))}'>{_e(src_id)}</a> "
        f"<span class='muted'>({_e(src_bp)}.{_e(rel)})</span></li>"
        for src_bp, src_id, rel in incoming
    )
    body = f"<table>{''.join(rows)}</table>"
    if referenced:
        body += f"<h2>Referenced by</h2><ul>{referenced}</ul>"
    return _page(record.title or record.identifier, body)


async def favicon(request: Request) -> Response:
    """Browsers ask for it; answering keeps it out of the unknown-route warnings."""
    return Response(status_code=204)


ROUTES: list[Route] = [
    Route("/", index, methods=["GET"]),
    Route("/favicon.ico", favicon, methods=["GET"]),
    Route("/blueprints/{blueprint}", blueprint_page, methods=["GET"]),
    Route("/blueprints/{blueprint}/entities/{identifier:path}", entity_page, methods=["GET"]),
]
