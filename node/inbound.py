"""The federation door: what happens to a batch from the first byte to the commit.

Order of checks (cheap first, nothing decoded before it is authenticated):
size limit (aiohttp and here) -> who claims to sign -> is that a peer we trust ->
request signature and Content-Digest over the exact bytes -> batch decoding -> for each
envelope: decoding (strict, canonical), originator is the signer, we are a recipient,
times, originator's signature, replay or conflict, payload opens for us, type rules.
Accepted envelopes, their effects and the delivery receipts commit in one transaction
before the answer is sent. A rejected envelope changes nothing and is logged with why.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from protocol import (
    TLP,
    BatchResult,
    Envelope,
    EnvelopeResult,
    MessageType,
    Outcome,
    PeerAction,
    PeerStatus,
    ProtocolError,
    Reason,
    decode_batch,
    decode_envelope,
    decode_keydoc,
    read_payload,
    transport,
)
from protocol.codec import pack_decoded
from protocol.peerstate import REFUSAL_REASON, TRANSITIONS
from storage.nodestore import KeyRow, NewReceived, NodeTx, PeerRow
from translation import Catalog

from . import catalogs, messages
from .clock import to_datetime
from .services import NodeServices

log = logging.getLogger("ncen.federation")

TRUST_TYPES = {MessageType.TRUST_APPROVE, MessageType.TRUST_REFUSE}
PEER_CHANGING = TRUST_TYPES | {MessageType.KEY_ROTATE}
#: Types whose arrival is acknowledged to the originator with a delivery receipt.
RECEIPTED = {MessageType.ALERT, MessageType.BULLETIN}


@dataclass
class _BatchState:
    peer: PeerRow
    keys: dict[str, KeyRow]
    seen: dict[str, bytes] = field(default_factory=dict)


async def authenticate(
    services: NodeServices, *, method: str, url: str, headers: Mapping[str, str], body: bytes
) -> PeerRow:
    """The peer that signed this request, or ProtocolError. The body is not parsed."""
    node_id, kid = transport.signer_of(headers)
    peer = await services.peer(node_id)
    if peer is None:
        raise ProtocolError(Reason.UNKNOWN_SENDER, f"{node_id} is not a known peer")
    status = PeerStatus(peer.status)
    # A node we asked for trust may answer with its approval or refusal, nothing else
    # (checked per envelope); every other status but approved is refused here.
    if status not in (PeerStatus.APPROVED, PeerStatus.REQUESTED):
        raise ProtocolError(REFUSAL_REASON[status], f"{node_id} is {status.value}")
    key = peer.valid_keys(services.clock.now_ms()).get(kid)
    if key is None:
        raise ProtocolError(Reason.UNKNOWN_KEY, f"no valid key {kid} for {node_id}")
    transport.verify_request(method=method, url=url, headers=headers, body=body,
                             public_key=key.sign_public,
                             now=to_datetime(services.clock.now_ms()))
    return peer


async def receive_batch(services: NodeServices, peer: PeerRow, body: bytes) -> BatchResult:
    """Process an authenticated batch body from peer; commit, then return the results."""
    batch = decode_batch(body, max_size=services.config["server"]["max_body_bytes"])
    if batch.sender != peer.node_id:
        raise ProtocolError(Reason.SENDER_MISMATCH, "batch sender is not the request signer")
    now = services.clock.now_ms()
    state = _BatchState(peer=peer, keys=peer.valid_keys(now))
    results: list[EnvelopeResult | None] = []
    candidates: list[tuple[int, Envelope, dict, bytes]] = []
    for index, raw in enumerate(batch.envelopes):
        eid = None
        try:
            env = decode_envelope(raw)
            eid = env.id
            payload = _check_envelope(services, state, env, now)
            digest = hashlib.sha256(env.signing_input()).digest()
            if eid in state.seen:
                if state.seen[eid] != digest:
                    raise ProtocolError(Reason.CONFLICT, "same id, other content in the batch")
                # A replay is answered as a duplicate wherever it comes from.
                results.append(EnvelopeResult(index=index, id=eid, outcome=Outcome.DUPLICATE,
                                              reason=Reason.DUPLICATE.value))
                continue
            state.seen[eid] = digest
            candidates.append((index, env, payload, digest))
            results.append(None)
        except ProtocolError as exc:
            _log_rejection(peer.node_id, eid, exc)
            results.append(EnvelopeResult.rejected(index, eid, exc))
    await _keep_carried_records(services, peer, candidates)

    def commit(tx: NodeTx) -> tuple[list[tuple[int, Envelope, dict, bytes]], list[str]]:
        known = tx.known_received([(peer.node_id, e.id) for _, e, _, _ in candidates])
        fresh: list[tuple[int, Envelope, dict, bytes]] = []
        held: list[str] = []  # ids we hold now, accepted or duplicate, to acknowledge
        for index, env, payload, digest in candidates:
            prior = known.get((peer.node_id, env.id))
            if prior is None:
                fresh.append((index, env, payload, digest))
                results[index] = EnvelopeResult(index=index, id=env.id, outcome=Outcome.ACCEPTED)
            elif prior == digest:
                results[index] = EnvelopeResult(index=index, id=env.id, outcome=Outcome.DUPLICATE,
                                                reason=Reason.DUPLICATE.value)
            else:
                exc = ProtocolError(Reason.CONFLICT, "same id, other content: the first stands")
                _log_rejection(peer.node_id, env.id, exc)
                results[index] = EnvelopeResult.rejected(index, env.id, exc)
                continue
            if env.type in RECEIPTED:
                held.append(env.id)
        _commit(services, tx, peer, fresh, now)
        return fresh, held

    fresh, held = await services.store.write(commit)
    if any(env.type in PEER_CHANGING for _, env, _, _ in fresh):
        services.forget_peer(peer.node_id)
    # The delivery receipt travels back inline; a retried batch (answered as duplicates,
    # e.g. after a lost answer) gets its receipt again.
    receipt = b""
    if held:
        receipt = services.compose_for([peer], {"kind": "delivered", "ids": held},
                                       type=MessageType.RECEIPT, tlp=TLP.CLEAR).encode()
    return BatchResult(txn=batch.txn, results=tuple(r for r in results if r is not None),
                       receipt=receipt)


async def _keep_carried_records(services: NodeServices, peer: PeerRow,
                                candidates: list[tuple[int, Envelope, dict, bytes]]) -> None:
    """Store the records that alerts carry in the records databases, under their origin,
    before the batch is acknowledged (storing them again on a retry changes nothing)."""
    if services.records is None:
        return
    carried = [r for _, env, payload, _ in candidates if env.type in RECEIPTED
               for r in payload.get("carried", [])]
    if carried:
        for answer in await services.records.receive(carried, origin=peer.node_id):
            if answer["outcome"] in ("refused", "conflict"):
                log.warning("record %s from %s not kept: %s %s", answer["id"], peer.node_id,
                            answer["outcome"], answer["problems"])


def open_receipt(services: NodeServices, peer: PeerRow, raw: bytes) -> list[tuple[str, str, str, int, str]]:
    """The receipt rows of a signed receipt that came back inline from peer."""
    env = decode_envelope(raw)
    if env.type is not MessageType.RECEIPT:
        raise ProtocolError(Reason.UNSUPPORTED_TYPE, "an inline receipt must be a receipt")
    now = services.clock.now_ms()
    payload = _check_envelope(services, _BatchState(peer=peer, keys=peer.valid_keys(now)), env, now)
    return [(i, peer.node_id, payload["kind"], env.created, env.id) for i in payload["ids"]]


def _check_envelope(services: NodeServices, state: _BatchState, env: Envelope, now: int) -> dict:
    peer = state.peer
    if env.sender != peer.node_id:
        raise ProtocolError(Reason.SENDER_MISMATCH, f"originator {env.sender} did not sign the request")
    if services.node_id not in env.recipients:
        raise ProtocolError(Reason.NOT_A_RECIPIENT, f"{services.node_id} is not a recipient")
    env.check_times(now, max_skew_ms=services.config["federation"]["clock_skew_seconds"] * 1000)
    key = state.keys.get(env.kid)
    if key is None:
        raise ProtocolError(Reason.UNKNOWN_KEY, f"no valid key {env.kid} for {env.sender}")
    env.verify(key.sign_public)
    if peer.status != PeerStatus.APPROVED and env.type not in TRUST_TYPES:
        raise ProtocolError(Reason.UNTRUSTED_SENDER, f"{peer.node_id} is not approved yet")
    slot = env.sealed.keys.get(services.node_id)
    if slot is None:
        raise ProtocolError(Reason.NOT_A_RECIPIENT, "addressed to us, but sealed for others only")
    own = services.own_key(slot.kid)
    if own is None:
        raise ProtocolError(Reason.UNKNOWN_KEY, "payload is not sealed to a key of ours")
    payload = read_payload(env, recipient=services.node_id,
                           shared_key=services.shared_key(own, key.enc_public))
    _check_payload(env, payload, peer, services.catalog)
    if env.type is MessageType.CATALOG_UPDATE:
        authority = services.config["catalog"]["authority"]
        if env.sender != authority:
            raise ProtocolError(Reason.UNTRUSTED_SENDER,
                                f"{env.sender} is not the catalog authority ({authority or 'none'})")
        # Installed (checked whole, then renamed into place) before the batch commits; a
        # retry of the same update after a crash is then answered as already held.
        if catalogs.check_update(payload, services.catalog) > services.catalog.version:
            services.catalog = catalogs.install(services.config.data_dir, payload,
                                                services.catalog)
    if env.type is MessageType.KEY_ROTATE:
        # Later envelopes of the same batch may already be signed with the new key.
        doc = _keydoc_of(payload, env.sender)
        state.keys[doc.kid] = KeyRow(doc.kid, doc.sign_public, doc.enc_public, None)
    return payload


def _check_payload(env: Envelope, payload: dict, peer: PeerRow, catalog: Catalog) -> None:
    """Refuse a node-to-node message whose payload we could not apply."""
    if env.type in RECEIPTED:
        messages.check(payload, catalog)
    elif env.type is MessageType.RECEIPT:
        ids = payload.get("ids")
        if payload.get("kind") not in ("delivered", "read") or not isinstance(ids, list) or not all(
            isinstance(i, str) for i in ids
        ):
            raise ProtocolError(Reason.BAD_PAYLOAD, "a receipt has a kind and a list of ids")
    elif env.type is MessageType.TRUST_APPROVE:
        doc = _keydoc_of(payload, peer.node_id)
        if doc.sign_public != peer.current_key.sign_public:
            raise ProtocolError(Reason.BAD_KEY_DOCUMENT, "approval names another key")
    elif env.type is MessageType.KEY_ROTATE:
        _keydoc_of(payload, peer.node_id)
        if not isinstance(payload.get("grace_until"), int):
            raise ProtocolError(Reason.BAD_PAYLOAD, "grace_until must be epoch ms")


def _keydoc_of(payload: dict, node_id: str):
    raw = payload.get("keydoc")
    if not isinstance(raw, bytes):
        raise ProtocolError(Reason.BAD_PAYLOAD, "a key document is expected")
    doc = decode_keydoc(raw)
    if doc.node_id != node_id:
        raise ProtocolError(Reason.BAD_KEY_DOCUMENT, "key document of another node")
    return doc


def _commit(services: NodeServices, tx: NodeTx, peer: PeerRow,
            fresh: list[tuple[int, Envelope, dict, bytes]], now: int) -> None:
    rows = []
    for _, env, payload, digest in fresh:
        rows.append(NewReceived(
            origin=env.sender, envelope_id=env.id, type=env.type.value, digest=digest,
            tlp=env.tlp.value, catalog=env.catalog, created_at=env.created,
            expires_at=env.expires, received_at=now,
            via=env.relay[-1].node if env.relay else env.sender, envelope=env.raw,
            payload=pack_decoded(payload),
        ))
        _apply(services, tx, peer, env, payload, now)
    tx.insert_received(rows)


def _apply(services: NodeServices, tx: NodeTx, peer: PeerRow, env: Envelope,
           payload: dict, now: int) -> None:
    """The effect of a node-to-node message on our state, inside the batch's transaction."""
    if env.type is MessageType.RECEIPT:
        tx.add_receipts([(i, peer.node_id, payload["kind"], env.created, env.id)
                         for i in payload["ids"]])
    elif env.type in TRUST_TYPES:
        action = (PeerAction.APPROVED_BY_PEER if env.type is MessageType.TRUST_APPROVE
                  else PeerAction.REFUSED_BY_PEER)
        status = TRANSITIONS.get((PeerStatus(peer.status), action))
        if status is None:  # e.g. an approval arriving after we revoked: nothing to do
            log.info("%s from %s ignored: peer is %s", env.type.value, peer.node_id, peer.status)
            return
        reason = str(payload.get("reason", ""))[:500]
        tx.set_peer_status(peer.node_id, status.value, reason, now)
        tx.audit(at=now, actor=peer.node_id, action=f"peer.{action.value}",
                 subject=peer.node_id, detail={"reason": reason})
    elif env.type is MessageType.CATALOG_UPDATE:
        tx.audit(at=now, actor=peer.node_id, action="catalog.installed",
                 subject=str(services.catalog.version))
    elif env.type is MessageType.KEY_ROTATE:
        doc = _keydoc_of(payload, peer.node_id)
        # A peer may not keep an old key alive longer than our own policy allows.
        limit = now + int(services.config["keys"]["rotation_grace_days"] * 86_400_000)
        tx.add_peer_key(peer.node_id, doc.kid, doc.sign_public, doc.enc_public, now,
                        retire_others_at=min(payload["grace_until"], limit))
        tx.audit(at=now, actor=peer.node_id, action="peer.key_rotated",
                 subject=peer.node_id, detail={"kid": doc.kid})


def _log_rejection(peer: str, eid: str | None, exc: ProtocolError) -> None:
    log.warning("rejected envelope %s from %s: %s %s", eid or "?", peer, exc.reason.value,
                exc.detail)
