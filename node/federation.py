"""Federation routes: the key document, trust requests and envelope batches."""

from __future__ import annotations

import logging

from aiohttp import web

from protocol import ProtocolError, Reason, decode_keydoc, transport
from protocol.errors import STATUS_HINTS
from protocol.keydoc import MAX_KEYDOC_SIZE

from . import inbound
from .appkeys import SERVICES
from .clock import to_datetime
from .services import MSGPACK, WELL_KNOWN

log = logging.getLogger("ncen.federation")
routes = web.RouteTableDef()


def refuse(request: web.Request, exc: ProtocolError) -> web.Response:
    """A refused federation request: its status hint, reason code and detail, logged."""
    log.warning("refused %s %s from %s: %s %s", request.method, request.path, request.remote,
                exc.reason.value, exc.detail)
    return web.json_response({"error": exc.to_dict()}, status=exc.status_hint)


async def read_body(request: web.Request, limit: int) -> bytes:
    """The body, refused as too large before reading when the declared length says so."""
    if request.content_length is not None and request.content_length > limit:
        raise ProtocolError(Reason.TOO_LARGE, f"{request.content_length} bytes > {limit}")
    body = bytearray()
    try:
        # read(n) returns what has arrived so far, not n bytes: read until the end.
        while len(body) <= limit and (chunk := await request.content.readany()):
            body += chunk
    except ValueError as exc:
        raise ProtocolError(Reason.TOO_LARGE, str(exc)) from None
    if len(body) > limit:
        raise ProtocolError(Reason.TOO_LARGE, f"body larger than {limit} bytes")
    return bytes(body)


def _url(request: web.Request) -> str:
    return str(request.url)


@routes.get(WELL_KNOWN)
async def well_known(request: web.Request) -> web.Response:
    doc = request.app[SERVICES].keydoc()
    return web.json_response({**doc.to_json(), "document": doc.encode().hex()})


@routes.post("/federation/v1/trust")
async def trust_request(request: web.Request) -> web.Response:
    """A node asks for trust with its self-signed key document; it is not trusted yet,
    so the small, size-limited document is the one body read before authentication."""
    services = request.app[SERVICES]
    try:
        body = await read_body(request, MAX_KEYDOC_SIZE)
        node_id, kid = transport.signer_of(request.headers)
        doc = decode_keydoc(body)
        if (node_id, kid) != (doc.node_id, doc.kid):
            raise ProtocolError(Reason.SENDER_MISMATCH, "request not signed by the document's key")
        transport.verify_request(method=request.method, url=_url(request),
                                 headers=request.headers, body=body,
                                 public_key=doc.sign_public,
                                 now=to_datetime(services.clock.now_ms()))
        if doc.node_id == services.node_id:
            raise ProtocolError(Reason.SENDER_MISMATCH, "a node cannot ask itself for trust")
        existing = await services.store.get_peer(doc.node_id)
        if existing and existing.status == "revoked":
            raise ProtocolError(Reason.PEER_REVOKED, f"{doc.node_id} was revoked")
        status = await services.receive_trust_request(doc)
    except ProtocolError as exc:
        return refuse(request, exc)
    return web.json_response({"status": status.value, "node": services.node_id}, status=202)


@routes.post("/federation/v1/batch")
async def batch(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    try:
        body = await read_body(request, services.config["server"]["max_body_bytes"])
        peer = await inbound.authenticate(services, method=request.method, url=_url(request),
                                          headers=request.headers, body=body)
        result = await inbound.receive_batch(services, peer, body)
    except ProtocolError as exc:
        return refuse(request, exc)
    status = 200
    if result.results and all(r.outcome.value == "rejected" for r in result.results):
        status = STATUS_HINTS[Reason(result.results[0].reason)]
    elif result.results and all(r.outcome.value == "duplicate" for r in result.results):
        status = 409
    headers = {}
    first = next((r for r in result.results if r.reason), None)
    if status != 200 and first is not None:
        headers["Ncen-Reason"] = first.reason
    return web.Response(body=result.encode(), status=status, content_type=MSGPACK,
                        headers=headers)
