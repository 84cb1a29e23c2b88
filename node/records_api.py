"""The records part of the local JSON API: /api/v1/records/{type}[/{id}], and bulk import.

``{type}`` is ``case``, ``person`` or ``entity``. A refused record is answered 422 with
``{"error": {"reason": "record_invalid", "detail", "problems": [{path, code, given,
expected}, ...]}}`` listing every problem. Authentication and the other errors are
api.py's (its middleware covers every /api/ path). openapi.yaml documents each route.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable

from aiohttp import web

from storage.records import RecordQuery
from translation import best_language

from .api import body_json
from .appkeys import RECORDS
from .record_prep import ImportRow
from .records import RecordRefused
from .services import ServiceError

routes = web.RouteTableDef()
MAX_IMPORT_RECORDS = 10_000

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _refusals(handler: Handler) -> Handler:
    """A refused record is answered 422 with its problems, not only a message."""

    @functools.wraps(handler)
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except RecordRefused as exc:
            return web.json_response(
                {"error": {"reason": "record_invalid", "detail": str(exc).splitlines()[0],
                           "problems": exc.problems}}, status=422)

    return wrapped


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


def _lang(request: web.Request) -> str | None:
    """The reader's language: ?lang=, else Accept-Language, else none (raw record only)."""
    if request.query.get("lang"):
        return request.query["lang"]
    header = request.headers.get("Accept-Language")
    return best_language(header) if header else None


@routes.get("/api/v1/records/{type}")
async def search(request: web.Request) -> web.Response:
    found = await request.app[RECORDS].search(request.match_info["type"], _query(request))
    return web.json_response({"total": found.total,
                              "items": [r.to_json() for r in found.items]})


@routes.post("/api/v1/records/{type}")
@_refusals
async def create(request: web.Request) -> web.Response:
    stored = await request.app[RECORDS].add(await body_json(request),
                                            record_type=request.match_info["type"])
    return web.json_response(stored.to_json(), status=201,
                             headers={"Location": f"{request.path}/{stored.id}"})


@routes.post("/api/v1/records/{type}/import")
@_refusals
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
                                          lang=_lang(request))
    return web.json_response(view)


@routes.put("/api/v1/records/{type}/{id}")
@_refusals
async def update(request: web.Request) -> web.Response:
    stored = await request.app[RECORDS].update(request.match_info["type"],
                                               request.match_info["id"], await body_json(request))
    return web.json_response(stored.to_json())


@routes.delete("/api/v1/records/{type}/{id}")
async def delete(request: web.Request) -> web.Response:
    await request.app[RECORDS].delete(request.match_info["type"], request.match_info["id"])
    return web.Response(status=204)
