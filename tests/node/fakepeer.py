"""FakePeer: the remote side of the federation door, played by a test.

After Complement's fake homeserver: it holds its own keys, signs whatever a test asks
(broken things included: another key, another URL, a body changed after signing, a map
in the wrong order), and runs a small server that records every request the node under
test makes to it. A request it cannot accept is written to ``problems``; the fixture
that made the peer fails the test when any is left.
"""

from __future__ import annotations

import asyncio
import base64
import datetime
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from http_message_signatures import HTTPMessageSigner, algorithms

from node.messages import simple_alert
from protocol import (
    TLP,
    Batch,
    BatchResult,
    Envelope,
    EnvelopeResult,
    KeyDocument,
    MessageType,
    NodeKeys,
    Outcome,
    ProtocolError,
    Signer,
    codec,
    compose,
    decode_batch,
    decode_batch_result,
    decode_envelope,
    decode_keydoc,
    new_envelope_id,
    pairwise_key,
    read_payload,
    transport,
)
from protocol.envelope import SIGNATURE_CONTEXT

MSGPACK = "application/msgpack"
WELL_KNOWN = "/.well-known/ncen-node"
TRUST_PATH = "/federation/v1/trust"
BATCH_PATH = "/federation/v1/batch"

#: Pass as a field value to ``FakePeer.wire`` to leave the field out.
DROP = object()


def now_ms() -> int:
    return int(datetime.datetime.now(datetime.UTC).timestamp() * 1000)


@dataclass(frozen=True)
class Answer:
    """What the node under test answered, read in full."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "").split(";")[0]

    def json(self) -> Any:
        return json.loads(self.body)

    def result(self) -> BatchResult:
        assert self.content_type == MSGPACK, (self.status, self.body[:300])
        return decode_batch_result(self.body)

    @property
    def outcomes(self) -> list[tuple[str, str]]:
        """(outcome, reason) of each envelope of a batch answer, in order."""
        return [(r.outcome.value, r.reason) for r in self.result().results]


@dataclass(frozen=True)
class Recorded:
    """A request the node under test made to the fake peer."""

    method: str
    path: str
    headers: Mapping[str, str]
    body: bytes


@dataclass
class FakePeer:
    """A remote node under the test's control."""

    node_id: str = "es-aduana"
    name: str = "Agencia Tributaria - Aduanas"
    country: str = "ES"
    keys: NodeKeys = field(default_factory=NodeKeys.generate)
    #: Every request the node under test made to us.
    requests: list[Recorded] = field(default_factory=list)
    #: Envelopes (with their opened payloads) the node under test delivered to us.
    received: list[tuple[Envelope, dict[str, Any]]] = field(default_factory=list)
    #: Requests we could not accept; the test fails when any is left.
    problems: list[str] = field(default_factory=list)
    #: The node under test as its key document says, and where it listens.
    node: KeyDocument | None = None
    node_url: str = ""
    _server: TestServer | None = None
    _http: aiohttp.ClientSession | None = None
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)

    # -- life cycle ---------------------------------------------------------------------

    async def start(self) -> FakePeer:
        app = web.Application()
        app.router.add_get(WELL_KNOWN, self._well_known)
        app.router.add_post(TRUST_PATH, self._trust)
        app.router.add_post(BATCH_PATH, self._batch)
        app.router.add_route("*", "/{tail:.*}", self._unexpected)
        self._server = TestServer(app, host="127.0.0.1")
        await self._server.start_server()
        self._http = aiohttp.ClientSession()
        return self

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
        if self._server is not None:
            await self._server.close()

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the fake peer first"
        return str(self._server.make_url("/")).rstrip("/")

    async def connect(self, node_url: str) -> KeyDocument:
        """Read the node under test's key document from its well-known URL."""
        self.node_url = node_url.rstrip("/")
        async with self.http.get(self.node_url + WELL_KNOWN) as resp:
            assert resp.status == 200
            self.node = decode_keydoc(bytes.fromhex((await resp.json())["document"]))
        return self.node

    @property
    def http(self) -> aiohttp.ClientSession:
        assert self._http is not None, "start() the fake peer first"
        return self._http

    # -- what we sign -------------------------------------------------------------------

    def keydoc(self, keys: NodeKeys | None = None, *, sign_with: NodeKeys | None = None,
               **fields: Any) -> KeyDocument:
        """Our key document (for keys, default ours), self-signed unless sign_with is given."""
        keys = keys or self.keys
        doc = KeyDocument(
            node_id=self.node_id, name=self.name, country=self.country, languages=("es",),
            url=self.url, sign_public=keys.sign_public, enc_public=keys.enc_public,
            issued=now_ms(),
        )
        doc = replace(doc, **fields)
        return doc.signed(Signer((sign_with or keys).sign_secret))

    def seal_slots(self, keys: NodeKeys | None = None,
                   names: Iterable[str] | None = None) -> dict[str, tuple[str, bytes]]:
        """Key slots for the node under test (under each of names, default its id)."""
        assert self.node is not None, "connect() to the node first"
        keys = keys or self.keys
        shared = pairwise_key(keys.enc_secret, self.node.enc_public)
        return {name: (self.node.kid, shared) for name in (names or [self.node.node_id])}

    def envelope(
        self,
        payload: Mapping[str, Any] | None = None,
        *,
        type: MessageType | str = MessageType.ALERT,
        keys: NodeKeys | None = None,
        sign_with: NodeKeys | None = None,
        sender: str | None = None,
        to: Iterable[str] | None = None,
        slots: Mapping[str, tuple[str, bytes]] | None = None,
        created: int | None = None,
        lifetime_ms: int = 24 * 3600 * 1000,
        envelope_id: str | None = None,
        tlp: TLP | str = TLP.AMBER,
    ) -> Envelope:
        """A well-formed envelope for the node under test, changed only where asked.

        keys: the generation whose key id and encryption key are used (default ours);
        sign_with: the key that actually signs (default keys).
        """
        keys = keys or self.keys
        signing = sign_with or keys
        env = compose(
            simple_alert("sentinel", "en", alert_id="alert-sentinel") if payload is None else payload,
            type=type, sender=sender or self.node_id, signer=Signer(signing.sign_secret),
            kid=keys.kid, recipients=slots or self.seal_slots(keys),
            now_ms=now_ms() if created is None else created, tlp=tlp,
            lifetime_ms=lifetime_ms, addressed_to=to, envelope_id=envelope_id,
        )
        return env

    def wire(self, env: Envelope, *, sign_with: NodeKeys | None = None, **changes: Any) -> bytes:
        """The envelope's bytes with fields changed (wire names; DROP leaves one out),
        signed again so that only the change breaks a rule."""
        m = codec.decode(env.encode())
        for name, value in changes.items():
            name = name.rstrip("_")  # from_=..., for the wire name "from"
            if value is DROP:
                m.pop(name, None)
            else:
                m[name] = value
        unsigned = {k: v for k, v in m.items() if k not in ("sig", "via")}
        if "sig" in changes:
            sig = m.get("sig")
        else:
            sig = Signer((sign_with or self.keys).sign_secret).sign(
                SIGNATURE_CONTEXT + codec.encode(unsigned)
            )
        out = dict(unsigned)
        if sig is not None:
            out["sig"] = sig
        if "via" in m:
            out["via"] = m["via"]
        return codec.encode(out)

    def batch(self, *envelopes: Envelope | bytes, sender: str | None = None,
              txn: str | None = None) -> bytes:
        """A batch body of envelopes (each an Envelope or its exact bytes)."""
        return Batch(
            txn=txn or new_envelope_id(now_ms()), sender=sender or self.node_id,
            envelopes=tuple(e.encode() if isinstance(e, Envelope) else e for e in envelopes),
        ).encode()

    def sign_headers(
        self,
        url: str,
        body: bytes,
        *,
        method: str = "POST",
        keys: NodeKeys | None = None,
        sign_with: NodeKeys | None = None,
        node_id: str | None = None,
        kid: str | None = None,
        signed_at: datetime.datetime | None = None,
        covered: tuple[str, ...] | None = None,
        tag: str | None = transport.SIGNATURE_TAG,
    ) -> dict[str, str]:
        """RFC 9421 headers for a request, as our node would sign it, or broken on request.

        keys: whose key id is named (default ours); sign_with: whose key signs (default
        keys); covered: other components (no Content-Digest unless named); tag: the
        signature's application tag (None: none).
        """
        keys = keys or self.keys
        secret = (sign_with or keys).sign_secret
        node_id = node_id or self.node_id
        kid = kid or keys.kid
        signed_at = signed_at or datetime.datetime.now(datetime.UTC)
        if covered is None and tag == transport.SIGNATURE_TAG:
            return transport.sign_request(
                method=method, url=url, headers={"Content-Type": MSGPACK}, body=body,
                node_id=node_id, kid=kid, sign_secret=secret, now=signed_at,
            )
        msg = _Request(method, url, {"content-type": MSGPACK})
        digest = covered is None or "content-digest" in covered
        if digest:
            msg.headers["content-digest"] = _content_digest(body)
        HTTPMessageSigner(signature_algorithm=algorithms.ED25519, key_resolver=_Key(secret)).sign(
            msg, key_id=transport.make_key_id(node_id, kid), created=signed_at, tag=tag,
            covered_component_ids=covered or transport.COVERED, use_existing_digest=digest,
        )
        return dict(msg.headers)

    # -- what we send -------------------------------------------------------------------

    async def post(
        self,
        path: str,
        body: bytes,
        *,
        signed: bool = True,
        signed_body: bytes | None = None,
        signed_path: str | None = None,
        headers: Mapping[str, str] | None = None,
        **signing: Any,
    ) -> Answer:
        """POST body to the node under test, signed (see sign_headers) unless signed=False.

        signed_body / signed_path: sign other bytes or another path than those sent;
        headers: added or replaced after signing.
        """
        url = self.node_url + path
        sent_headers = {"content-type": MSGPACK}
        if signed:
            sign_url = self.node_url + (signed_path or path)
            sent_headers = self.sign_headers(
                sign_url, body if signed_body is None else signed_body, **signing
            )
        sent_headers.update({name.lower(): value for name, value in (headers or {}).items()})
        async with self.http.post(url, data=body, headers=sent_headers) as resp:
            return Answer(resp.status, dict(resp.headers), await resp.read())

    async def send(self, *envelopes: Envelope | bytes, sender: str | None = None,
                   **post: Any) -> Answer:
        """POST one batch of envelopes to the node under test."""
        return await self.post(BATCH_PATH, self.batch(*envelopes, sender=sender), **post)

    async def ask_trust(self, doc: KeyDocument | bytes | None = None, **post: Any) -> Answer:
        """POST a trust request carrying our (or the given) key document."""
        doc = doc or self.keydoc()
        body = doc if isinstance(doc, bytes) else doc.encode()
        return await self.post(TRUST_PATH, body, **post)

    # -- what the node under test sends us ----------------------------------------------

    async def wait_for(self, type: MessageType, timeout: float = 5.0) -> tuple[Envelope, dict]:
        """The first envelope of this type the node under test delivered to us."""
        async with asyncio.timeout(timeout):
            while True:
                for env, payload in self.received:
                    if env.type is type:
                        return env, payload
                self._arrived.clear()
                await self._arrived.wait()

    def _record(self, request: web.Request, body: bytes) -> None:
        self.requests.append(Recorded(request.method, request.path, dict(request.headers), body))

    async def _well_known(self, request: web.Request) -> web.Response:
        self._record(request, b"")
        doc = self.keydoc()
        return web.json_response({**doc.to_json(), "document": doc.encode().hex()})

    async def _trust(self, request: web.Request) -> web.Response:
        body = await request.read()
        self._record(request, body)
        try:
            doc = decode_keydoc(body)
            transport.verify_request(method="POST", url=str(request.url), headers=request.headers,
                                     body=body, public_key=doc.sign_public,
                                     now=datetime.datetime.now(datetime.UTC))
        except ProtocolError as exc:
            self.problems.append(f"trust request from the node under test: {exc}")
            return web.json_response({"error": exc.to_dict()}, status=exc.status_hint)
        return web.json_response({"status": "pending", "node": self.node_id}, status=202)

    async def _batch(self, request: web.Request) -> web.Response:
        body = await request.read()
        self._record(request, body)
        try:
            assert self.node is not None, "the node under test sent a batch before we met it"
            node_id, kid = transport.signer_of(request.headers)
            assert (node_id, kid) == (self.node.node_id, self.node.kid), (node_id, kid)
            transport.verify_request(method="POST", url=str(request.url), headers=request.headers,
                                     body=body, public_key=self.node.sign_public,
                                     now=datetime.datetime.now(datetime.UTC))
            batch = decode_batch(body)
            results = []
            shared = pairwise_key(self.keys.enc_secret, self.node.enc_public)
            for index, raw in enumerate(batch.envelopes):
                env = decode_envelope(raw)
                env.verify(self.node.sign_public)
                payload = read_payload(env, recipient=self.node_id, shared_key=shared)
                self.received.append((env, payload))
                results.append(EnvelopeResult(index=index, id=env.id, outcome=Outcome.ACCEPTED))
        except (ProtocolError, AssertionError) as exc:
            self.problems.append(f"batch from the node under test: {exc!r}")
            return web.json_response({"error": {"reason": "bad", "detail": str(exc)}}, status=400)
        self._arrived.set()
        return web.Response(body=BatchResult(txn=batch.txn, results=tuple(results)).encode(),
                            content_type=MSGPACK)

    async def _unexpected(self, request: web.Request) -> web.Response:
        self._record(request, await request.read())
        self.problems.append(f"unexpected request {request.method} {request.path}")
        return web.json_response({"error": {"reason": "not_found", "detail": ""}}, status=404)


class _Request:
    """The message shape http_message_signatures signs."""

    def __init__(self, method: str, url: str, headers: dict[str, str]) -> None:
        self.method = method
        self.url = url
        self.headers = transport._Headers(headers)


class _Key:
    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def resolve_private_key(self, key_id: str) -> Ed25519PrivateKey:
        return Ed25519PrivateKey.from_private_bytes(self._secret)


def _content_digest(body: bytes) -> str:
    return "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode() + ":"

