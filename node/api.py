"""The local JSON API for users and tools: /api/v1/..., bearer token.

The token is in DATA_DIR/api-token (mode 0600), made at init. Every route calls a node
service; errors come back as {"error": {"reason", "detail"}} with a 4xx status.
"""

from __future__ import annotations

import hmac
from typing import Any

import orjson
from aiohttp import web

from protocol import PeerAction
from translation import SUPPORTED_LANGUAGES, best_language, normalise_language

from .appkeys import API_TOKEN, DELIVERY, SERVICES
from .services import RecordProblems, ServiceError

routes = web.RouteTableDef()


def error(status: int, reason: str, detail: str) -> web.Response:
    return web.json_response({"error": {"reason": reason, "detail": detail}}, status=status)


@web.middleware
async def api_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    if not request.path.startswith("/api/"):
        return await handler(request)
    given = request.headers.get("Authorization", "")
    expected = "Bearer " + request.app[API_TOKEN]
    if not hmac.compare_digest(given.encode(), expected.encode()):
        return error(401, "unauthorized", "a valid bearer token is required")
    try:
        return await handler(request)
    except RecordProblems as exc:
        return web.json_response({"error": {"reason": "record_invalid", "detail": str(exc),
                                            "problems": exc.to_json()}}, status=exc.status)
    except ServiceError as exc:
        return error(exc.status, "refused", str(exc))


async def body_json(request: web.Request) -> dict[str, Any]:
    try:
        # orjson: a bulk send of a thousand records parses several times faster, and it
        # refuses what JSON text should not hold (lone surrogates, invalid UTF-8).
        data = orjson.loads(await request.read())
    except orjson.JSONDecodeError as exc:
        raise ServiceError(f"the body is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ServiceError("the body must be a JSON object")
    return data


@routes.get("/api/v1/node")
async def node_info(request: web.Request) -> web.Response:
    return web.json_response(request.app[SERVICES].keydoc().to_json())


@routes.get("/api/v1/peers")
async def peers(request: web.Request) -> web.Response:
    rows = await request.app[SERVICES].store.list_peers(request.query.get("status"))
    return web.json_response([p.to_json() for p in rows])


@routes.post("/api/v1/peers")
async def peer_request(request: web.Request) -> web.Response:
    data = await body_json(request)
    if not isinstance(data.get("url"), str):
        raise ServiceError("give the peer's URL as {\"url\": ...}")
    peer = await request.app[SERVICES].request_trust(data["url"], actor="api")
    return web.json_response(peer.to_json(), status=201)


@routes.post("/api/v1/peers/{peer_id}/{action}")
async def peer_action(request: web.Request) -> web.Response:
    name = request.match_info["action"]
    actions = {a.value: a for a in (PeerAction.APPROVE, PeerAction.REFUSE, PeerAction.SUSPEND,
                                     PeerAction.RESUME, PeerAction.REVOKE)}
    if name not in actions:
        raise ServiceError(f"action must be one of {sorted(actions)}", 404)
    data = await body_json(request) if request.can_read_body else {}
    peer = await request.app[SERVICES].change_peer(
        request.match_info["peer_id"], actions[name], reason=str(data.get("reason", "")),
        actor="api")
    return web.json_response(peer.to_json())


def _message_args(data: dict[str, Any]) -> dict[str, Any]:
    to = data.get("to")
    if isinstance(to, str):
        to = [to]
    if not isinstance(to, list) or not all(isinstance(t, str) for t in to):
        raise ServiceError("`to` must be a peer id or a list of peer ids")
    if not isinstance(data.get("payload"), dict):
        raise ServiceError("`payload` must be a JSON object")
    return dict(to=to, payload=data["payload"], type=data.get("type", "alert"),
                tlp=data.get("tlp", "AMBER"), handling=data.get("handling", []),
                evaluation=data.get("evaluation"))


@routes.post("/api/v1/messages")
async def send(request: web.Request) -> web.Response:
    data = await body_json(request)
    eid = await request.app[SERVICES].send(actor="api", **_message_args(data))
    return web.json_response({"id": eid}, status=202)


@routes.post("/api/v1/messages/bulk")
async def send_bulk(request: web.Request) -> web.Response:
    data = await body_json(request)
    messages = data.get("messages")
    if not isinstance(messages, list) or not messages or len(messages) > 1000:
        raise ServiceError("`messages` must be a list of 1 to 1000 messages")
    ids = await request.app[SERVICES].send_many([_message_args(m) for m in messages],
                                                actor="api")
    return web.json_response({"ids": ids}, status=202)


@routes.get("/api/v1/inbox")
async def inbox(request: web.Request) -> web.Response:
    """Received messages; rendered in ?lang= or, failing that, the Accept-Language."""
    limit = _int_query(request, "limit", 100)
    lang = reader_language(request)
    return web.json_response(await request.app[SERVICES].inbox(limit=limit, lang=lang))


def reader_language(request: web.Request) -> str | None:
    """The reader's language: ?lang=, else Accept-Language; None when neither is given."""
    if "lang" in request.query:
        lang = normalise_language(request.query["lang"])
        if lang is None:
            raise ServiceError(f"unknown language {request.query['lang']!r}; "
                               f"one of: {', '.join(SUPPORTED_LANGUAGES)}")
        return lang
    header = request.headers.get("Accept-Language")
    return best_language(header) if header else None


@routes.post("/api/v1/inbox/{envelope_id}/read")
async def mark_read(request: web.Request) -> web.Response:
    changed = await request.app[SERVICES].mark_read(request.match_info["envelope_id"],
                                                    actor="api")
    return web.json_response({"changed": changed})


@routes.get("/api/v1/outbox")
async def outbox(request: web.Request) -> web.Response:
    rows = await request.app[SERVICES].outbox(state=request.query.get("state"),
                                              limit=_int_query(request, "limit", 100))
    return web.json_response(rows)


@routes.post("/api/v1/outbox/retry")
async def retry(request: web.Request) -> web.Response:
    data = await body_json(request) if request.can_read_body else {}
    n = await request.app[SERVICES].retry_dead(peer_id=data.get("peer"),
                                               envelope_id=data.get("id"), actor="api")
    return web.json_response({"requeued": n})


@routes.get("/api/v1/delivery")
async def delivery(request: web.Request) -> web.Response:
    counts = await request.app[SERVICES].store.outbox_counts()
    return web.json_response({"by_peer": counts.by_peer,
                              "delivered_since_start": request.app[DELIVERY].delivered})


@routes.post("/api/v1/keys/rotate")
async def rotate(request: web.Request) -> web.Response:
    key, told = await request.app[SERVICES].rotate_keys(actor="api")
    return web.json_response({"kid": key.kid, "fingerprint": key.keys.fingerprint,
                              "announced_to": told})


def _int_query(request: web.Request, name: str, default: int) -> int:
    try:
        value = int(request.query.get(name, default))
    except ValueError:
        raise ServiceError(f"{name} must be an integer") from None
    if not 0 < value <= 10_000:
        raise ServiceError(f"{name} must be between 1 and 10000")
    return value
