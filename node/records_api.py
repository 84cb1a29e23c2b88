"""The records part of the local JSON API: /api/v1/records/{type}[/{id}], and bulk import.

``{type}`` is ``case``, ``person`` or ``entity``. A refused record is answered 422 with
``{"error": {"reason": "record_invalid", "detail", "problems": [{path, code, given,
expected}, ...]}}`` listing every problem. Authentication and the other errors are
api.py's (its middleware covers every /api/ path). openapi.yaml documents each route.
"""

from __future__ import annotations

from aiohttp import web

from storage.records import RecordQuery

from .api import body_json, reader_language
from .appkeys import RECORDS
from .importer import ImportRow
from .services import ServiceError

routes = web.RouteTableDef()
MAX_IMPORT_RECORDS = 10_000


def _query(request: web.Request) -> RecordQuery:
    q = request.query

    def number(name: str, default: int) -> int:
        try:
            return int(q.get(name, default))
        except ValueError:
            raise ServiceError(f"{name} must be an integer") from None

    return RecordQuery(
        text=q.get("q") or q.get("text"), identifier=q.get("identifier"),
        country=q.get("country"), date_from=q.get("date_from"), date_to=q.get("date_to"),
        link=q.get("link"), offence_type=q.get("offence_type"), commodity=q.get("commodity"),
        origin=q.get("origin"), include_deleted=q.get("include_deleted") in ("1", "true"),
        limit=number("limit", 50), offset=number("offset", 0),
    )


@routes.get("/api/v1/records/{type}")
async def search(request: web.Request) -> web.Response:
    found = await request.app[RECORDS].search(request.match_info["type"], _query(request))
    return web.json_response({"total": found.total,
                              "items": [r.to_json() for r in found.items]})


@routes.post("/api/v1/records/{type}")
async def create(request: web.Request) -> web.Response:
    stored = await request.app[RECORDS].add(await body_json(request),
                                            record_type=request.match_info["type"])
    return web.json_response(stored.to_json(), status=201,
                             headers={"Location": f"{request.path}/{stored.id}"})


@routes.post("/api/v1/records/{type}/import")
async def bulk_import(request: web.Request) -> web.Response:
    data = await body_json(request)
    records = data.get("records")
    source = data.get("source_system")
    if not isinstance(source, str) or not source:
        raise ServiceError("give the source system's name as `source_system`")
    if not isinstance(records, list) or not 0 < len(records) <= MAX_IMPORT_RECORDS:
        raise ServiceError(f"`records` must be a list of 1 to {MAX_IMPORT_RECORDS} records")
    rows = [ImportRow(n, r.get("id") if isinstance(r, dict) else None, r)
            for n, r in enumerate(records, 1)]
    report = await request.app[RECORDS].import_rows(
        rows, record_type=request.match_info["type"], source_system=source)
    return web.json_response(report.to_json())


@routes.get("/api/v1/records/{type}/{id}")
async def show(request: web.Request) -> web.Response:
    view = await request.app[RECORDS].get(request.match_info["type"], request.match_info["id"],
                                          lang=reader_language(request))
    return web.json_response(view)


@routes.put("/api/v1/records/{type}/{id}")
async def update(request: web.Request) -> web.Response:
    stored = await request.app[RECORDS].update(request.match_info["type"],
                                               request.match_info["id"], await body_json(request))
    return web.json_response(stored.to_json())


@routes.delete("/api/v1/records/{type}/{id}")
async def delete(request: web.Request) -> web.Response:
    await request.app[RECORDS].delete(request.match_info["type"], request.match_info["id"])
    return web.Response(status=204)
