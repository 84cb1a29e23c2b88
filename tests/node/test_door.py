"""The federation door: every way a request or an envelope can be wrong, one test per rule.

Each test plays a remote node with a FakePeer against the real app over loopback, sends
something broken, and checks the answer (the reason's 4xx and code), the log, and that
nothing was stored; then a good sentinel message from the same peer is accepted, which
shows that the refusal changed nothing (see ARCHITECTURE.md, "Invariants at the
federation door").
"""

from __future__ import annotations

import asyncio
import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import msgpack
import pytest
from fakepeer import BATCH_PATH, DROP, MSGPACK, TRUST_PATH, Answer, FakePeer, now_ms

from node.messages import simple_alert
from protocol import (
    TLP,
    Envelope,
    MessageType,
    NodeKeys,
    PeerAction,
    PeerStatus,
    Reason,
    Signer,
    codec,
    decode_envelope,
    read_payload,
    seal,
)
from protocol.batch import MAX_BATCH_ENVELOPES
from protocol.envelope import SIGNATURE_CONTEXT
from protocol.keydoc import CONTEXT as KEYDOC_CONTEXT
from protocol.keydoc import MAX_KEYDOC_SIZE

if TYPE_CHECKING:  # conftest is pytest's to import; a second one lives in tests/processes
    from conftest import NodeUnderTest

DAY_MS = 24 * 3600 * 1000


def fields(env: Envelope) -> dict:
    """An envelope's wire map (short keys, sorted)."""
    return codec.decode(env.encode())


def packed(m: dict) -> bytes:
    """msgpack of m as given: no canonical checks, keys in m's order."""
    return msgpack.packb(m, use_bin_type=True)


def signed_map(peer: FakePeer, m: dict) -> dict:
    """m with a good signature over its (plain msgpack) signing input, sorted."""
    unsigned = {k: m[k] for k in sorted(m) if k not in ("sig", "via")}
    sig = Signer(peer.keys.sign_secret).sign(SIGNATURE_CONTEXT + packed(unsigned))
    return {**unsigned, "sig": sig, "via": []}


def keydoc_wire(peer: FakePeer, **changes) -> bytes:
    """Our key document with fields changed (DROP leaves one out), self-signed again."""
    m = codec.decode(peer.keydoc().encode())
    for name, value in changes.items():
        if value is DROP:
            del m[name]
        else:
            m[name] = value
    unsigned = {k: v for k, v in m.items() if k != "sig"}
    return codec.encode({**unsigned, "sig": Signer(peer.keys.sign_secret).sign(
        KEYDOC_CONTEXT + codec.encode(unsigned))})


async def raw_request(node: NodeUnderTest, head: bytes, *pieces: bytes) -> Answer:
    """Send a request head and body pieces (a pause between them) as they are over a
    socket; read the answer (with a Content-Length)."""
    reader, writer = await asyncio.open_connection(node.client.host, node.client.port)
    try:
        writer.write(head)
        for piece in pieces:
            await writer.drain()
            await asyncio.sleep(0.05)
            writer.write(piece)
        await writer.drain()
        status_line = await reader.readline()
        headers: dict[str, str] = {}
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            headers[name.strip().title()] = value.strip()
        payload = await reader.readexactly(int(headers.get("Content-Length", "0")))
    finally:
        writer.close()
    return Answer(int(status_line.split()[1]), headers, payload)


# -- who is asking: refused before the body is parsed ------------------------------------


async def test_a_request_that_is_not_signed_is_refused_as_bad_request_signature(node, peer):
    answer = await peer.send(peer.envelope(), signed=False)
    await node.assert_refused(answer, Reason.BAD_REQUEST_SIGNATURE)
    await node.assert_sentinel_accepted(peer)


async def test_a_request_from_an_unknown_node_is_refused_as_unknown_sender_before_its_body_is_parsed(
    node, peer, make_peer
):
    stranger = await make_peer("it-dogane", status=None)
    answer = await stranger.post(BATCH_PATH, b"\xc1 this is not msgpack")
    await node.assert_refused(answer, Reason.UNKNOWN_SENDER)
    await node.assert_refused(await stranger.send(stranger.envelope()), Reason.UNKNOWN_SENDER)
    assert stranger.requests == []  # and the node did not call it back
    await node.assert_sentinel_accepted(peer)


async def test_a_node_refused_as_unknown_is_refused_as_pending_once_it_has_asked_for_trust(
    node, make_peer
):
    stranger = await make_peer("it-dogane", status=None)
    await node.assert_refused(await stranger.send(stranger.envelope()), Reason.UNKNOWN_SENDER)
    assert (await stranger.ask_trust()).status == 202
    await node.assert_refused(await stranger.send(stranger.envelope()), Reason.PEER_PENDING)
    await node.approve(stranger.node_id)
    await node.assert_sentinel_accepted(stranger)


async def test_a_request_signed_with_a_key_id_the_peer_does_not_have_is_refused_as_unknown_key(node, peer):
    answer = await peer.send(peer.envelope(), kid="0123456789abcdef")
    await node.assert_refused(answer, Reason.UNKNOWN_KEY)
    await node.assert_sentinel_accepted(peer)


async def test_a_peer_awaiting_our_approval_is_refused_as_peer_pending(node, make_peer):
    peer = await make_peer(status=PeerStatus.PENDING)
    answer = await peer.post(BATCH_PATH, b"\xc1 not parsed")
    await node.assert_refused(answer, Reason.PEER_PENDING)
    await node.assert_refused(await peer.send(peer.envelope()), Reason.PEER_PENDING)
    await node.approve(peer.node_id)
    await node.assert_sentinel_accepted(peer)


async def test_a_suspended_peer_is_refused_as_peer_suspended(node, make_peer):
    peer = await make_peer(status=PeerStatus.SUSPENDED)
    await node.assert_refused(await peer.send(peer.envelope()), Reason.PEER_SUSPENDED)
    assert await node.change(peer.node_id, PeerAction.RESUME) is PeerStatus.APPROVED
    await node.assert_sentinel_accepted(peer)


async def test_a_revoked_peer_is_refused_as_peer_revoked(node, make_peer):
    peer = await make_peer(status=PeerStatus.REVOKED)
    await node.assert_refused(await peer.send(peer.envelope()), Reason.PEER_REVOKED)
    await node.assert_sentinel_accepted(await make_peer("pt-at"))


async def test_a_refused_peer_is_refused_as_peer_refused(node, make_peer):
    peer = await make_peer(status=PeerStatus.REFUSED)
    await node.assert_refused(await peer.send(peer.envelope()), Reason.PEER_REFUSED)
    _, payload = await peer.wait_for(MessageType.TRUST_REFUSE)
    assert payload == {"reason": ""}
    assert (await peer.ask_trust()).status == 202  # a refused node may ask again
    await node.approve(peer.node_id)
    await node.assert_sentinel_accepted(peer)


async def test_an_alert_from_a_node_that_has_not_approved_us_yet_is_refused_as_untrusted_sender(
    node, make_peer
):
    peer = await make_peer(status=PeerStatus.REQUESTED)
    await node.assert_refused(await peer.send(peer.envelope()), Reason.UNTRUSTED_SENDER)
    approval = peer.envelope({"keydoc": peer.keydoc().encode()}, type=MessageType.TRUST_APPROVE,
                             tlp=TLP.CLEAR)
    answer = await peer.send(approval)
    assert (answer.status, answer.outcomes) == (200, [("accepted", "")])
    await node.assert_newly_stored((peer.node_id, approval.id))
    assert await node.status_of(peer.node_id) is PeerStatus.APPROVED
    await node.assert_sentinel_accepted(peer)


# -- the request signature and its Content-Digest ----------------------------------------


def _minutes(n: int) -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=n)


BAD_REQUEST_SIGNATURES = {
    "signed with another key": lambda: {"sign_with": NodeKeys.generate()},
    "signed for another path": lambda: {"signed_path": TRUST_PATH},
    "signed for another method": lambda: {"method": "PUT"},
    "signed ten minutes ago": lambda: {"signed_at": _minutes(-10)},
    "signed ten minutes ahead": lambda: {"signed_at": _minutes(10)},
    "without the federation tag": lambda: {"tag": None},
    "content type not covered": lambda: {"covered": ("@method", "@target-uri", "content-digest")},
    "a malformed Signature field": lambda: {"headers": {"Signature": "sig=:AAAA:"}},
}


@pytest.mark.parametrize("way", BAD_REQUEST_SIGNATURES.values(), ids=BAD_REQUEST_SIGNATURES.keys())
async def test_a_request_whose_signature_does_not_verify_is_refused_as_bad_request_signature(
    node, peer, way
):
    answer = await peer.send(peer.envelope(), **way())
    await node.assert_refused(answer, Reason.BAD_REQUEST_SIGNATURE)
    await node.assert_sentinel_accepted(peer)


@pytest.mark.parametrize("way", ["body changed after signing", "digest not covered",
                                 "digest header missing"])
async def test_a_body_that_does_not_match_its_signed_digest_is_refused_as_bad_digest(node, peer, way):
    body = peer.batch(peer.envelope())
    if way == "body changed after signing":
        answer = await peer.post(BATCH_PATH, peer.batch(peer.envelope()), signed_body=body)
    elif way == "digest not covered":
        answer = await peer.post(BATCH_PATH, body, covered=("@method", "@target-uri", "content-type"))
    else:
        headers = peer.sign_headers(peer.node_url + BATCH_PATH, body)
        del headers["content-digest"]
        answer = await peer.post(BATCH_PATH, body, signed=False, headers=headers)
    await node.assert_refused(answer, Reason.BAD_DIGEST)
    await node.assert_sentinel_accepted(peer)


# -- size limits: before anything else ---------------------------------------------------


async def test_a_request_declaring_more_than_max_body_bytes_is_refused_as_too_large_unread(node, peer):
    limit = node.services.config["server"]["max_body_bytes"]
    head = (f"POST {BATCH_PATH} HTTP/1.1\r\nHost: {node.client.host}:{node.client.port}\r\n"
            f"Content-Type: {MSGPACK}\r\nContent-Length: {limit + 1}\r\n"
            "Connection: close\r\n\r\n").encode()
    answer = await raw_request(node, head)  # the body is never sent: it must not be awaited
    await node.assert_refused(answer, Reason.TOO_LARGE)
    await node.assert_sentinel_accepted(peer)


async def test_a_chunked_body_over_max_body_bytes_is_refused_as_too_large(node, peer):
    limit = node.services.config["server"]["max_body_bytes"]

    async def chunks():
        for _ in range(limit // 4096 + 1):
            yield b"\0" * 4096

    async with peer.http.post(node.url + BATCH_PATH, data=chunks(),
                              headers={"Content-Type": MSGPACK}) as resp:
        answer = Answer(resp.status, dict(resp.headers), await resp.read())
    await node.assert_refused(answer, Reason.TOO_LARGE)
    await node.assert_sentinel_accepted(peer)


async def test_a_batch_of_more_than_200_envelopes_is_refused_as_too_many(node, peer):
    envelopes = [peer.envelope(simple_alert(f"n{i}", "en", alert_id=f"alert-{i}"))
                 for i in range(MAX_BATCH_ENVELOPES + 1)]
    await node.assert_refused(await peer.send(*envelopes), Reason.TOO_MANY)
    await node.assert_sentinel_accepted(peer)


async def test_a_batch_that_arrives_in_pieces_is_read_whole(node, peer):
    env = peer.envelope()
    body = peer.batch(env)
    url = peer.node_url + BATCH_PATH
    signed = peer.sign_headers(url, body)
    head = "".join(f"{k}: {v}\r\n" for k, v in signed.items())
    head = (f"POST {BATCH_PATH} HTTP/1.1\r\nHost: {node.client.host}:{node.client.port}\r\n"
            f"{head}Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
    answer = await raw_request(node, head, body[:100], body[100:])
    assert answer.status == 200, answer.body
    assert answer.outcomes == [("accepted", "")]
    await node.assert_newly_stored((peer.node_id, env.id))


async def test_a_batch_of_200_envelopes_is_accepted_whole(node, peer):
    envelopes = [peer.envelope(simple_alert(f"n{i}", "en", alert_id=f"alert-{i}"))
                 for i in range(MAX_BATCH_ENVELOPES)]
    answer = await peer.send(*envelopes)
    assert answer.status == 200, answer.body[:300]
    assert answer.outcomes == [("accepted", "")] * MAX_BATCH_ENVELOPES
    await node.assert_newly_stored(*[(peer.node_id, e.id) for e in envelopes])


# -- the batch: decoded only once authenticated ------------------------------------------


async def test_a_batch_that_is_not_msgpack_is_refused_as_bad_encoding(node, peer):
    await node.assert_refused(await peer.post(BATCH_PATH, b"\xc1 not msgpack"), Reason.BAD_ENCODING)
    await node.assert_sentinel_accepted(peer)


async def test_a_batch_not_in_canonical_form_is_refused_as_non_canonical(node, peer):
    m = codec.decode(peer.batch(peer.envelope()))
    body = packed({k: m[k] for k in sorted(m, reverse=True)})
    await node.assert_refused(await peer.post(BATCH_PATH, body), Reason.NON_CANONICAL)
    await node.assert_sentinel_accepted(peer)


async def test_a_batch_with_a_malformed_transaction_id_is_refused_as_bad_field(node, peer):
    m = codec.decode(peer.batch(peer.envelope()))
    body = codec.encode({**m, "txn": "not-a-uuid"})
    await node.assert_refused(await peer.post(BATCH_PATH, body), Reason.BAD_FIELD)
    await node.assert_sentinel_accepted(peer)


async def test_a_batch_of_another_format_version_is_refused_as_unsupported_version(node, peer):
    m = codec.decode(peer.batch(peer.envelope()))
    body = codec.encode({**m, "v": 2})
    await node.assert_refused(await peer.post(BATCH_PATH, body), Reason.UNSUPPORTED_VERSION)
    await node.assert_sentinel_accepted(peer)


async def test_a_batch_whose_sender_is_not_the_request_signer_is_refused_as_sender_mismatch(
    node, peer, make_peer
):
    other = await make_peer("pt-at")
    answer = await peer.send(peer.envelope(), sender=other.node_id)
    await node.assert_refused(answer, Reason.SENDER_MISMATCH)
    await node.assert_sentinel_accepted(peer)


# -- each envelope: strict decoding ------------------------------------------------------


def _duplicate_key(env: Envelope) -> bytes:
    raw = env.encode()
    assert raw[0] == 0x80 | 14  # a fixmap of the 14 envelope fields
    return bytes([0x80 | 15]) + raw[1:] + packed("tlp") + packed("RED")


def _deep(depth: int) -> list:
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


BAD_ENCODINGS = {
    "not msgpack": lambda env: b"\xc1",
    "trailing bytes": lambda env: env.encode() + b"\0",
    "a float": lambda env: packed({**fields(env), "cat": 1.5}),
    "a duplicate map key": _duplicate_key,
    "an extension type": lambda env: packed({**fields(env), "cat": msgpack.ExtType(1, b"x")}),
    "a non-string map key": lambda env: packed({**fields(env), 7: "seven"}),
    "an integer out of range": lambda env: packed({**fields(env), "cat": 2**64 - 1}),
    "deep nesting": lambda env: packed({**fields(env), "hc": _deep(40)}),
}


@pytest.mark.parametrize("make", BAD_ENCODINGS.values(), ids=BAD_ENCODINGS.keys())
async def test_an_envelope_that_is_not_strict_msgpack_is_refused_as_bad_encoding(node, peer, make):
    answer = await peer.send(make(peer.envelope()))
    await node.assert_refused(answer, Reason.BAD_ENCODING)
    await node.assert_sentinel_accepted(peer)


def _nfd(peer: FakePeer, env: Envelope) -> bytes:
    m = fields(env)
    m["hc"] = [{"c": "H3", "t": "cafe\u0301"}]  # "café", decomposed
    return packed(signed_map(peer, m))


NON_CANONICAL = {
    "keys out of order": lambda peer, env: packed(dict(sorted(fields(env).items(), reverse=True))),
    "a wide integer": lambda peer, env: env.encode().replace(b"\xa3cat\x01", b"\xa3cat\xcc\x01"),
    "a long string header": lambda peer, env: env.encode().replace(b"\xa3tlp", b"\xd9\x03tlp"),
    "text not in NFC": _nfd,
}


@pytest.mark.parametrize("make", NON_CANONICAL.values(), ids=NON_CANONICAL.keys())
async def test_a_signed_envelope_not_in_canonical_form_is_refused_as_non_canonical(node, peer, make):
    env = peer.envelope()
    raw = make(peer, env)
    assert raw != env.encode()
    await node.assert_refused(await peer.send(raw), Reason.NON_CANONICAL)
    await node.assert_sentinel_accepted(peer)


BAD_FIELDS = {
    "a missing field": {"exp": DROP},
    "an unknown field": {"extra": "x"},
    "an unknown TLP label": {"tlp": "PURPLE"},
    "an id that is not a UUIDv7": {"id": "not-a-uuid"},
    "recipients that are maps": {"to": [{"node": "fr-douane"}]},
    "recipients that repeat": {"to": ["fr-douane", "fr-douane"]},
    "a lifetime over 400 days": {"exp": "+401d"},
    "a short signature": {"sig": b"short"},
    "a payload without key slots": {"pl": {"n": b"\0" * 24, "ct": b"\0" * 32}},
}


@pytest.mark.parametrize("changes", BAD_FIELDS.values(), ids=BAD_FIELDS.keys())
async def test_an_envelope_with_a_malformed_field_is_refused_as_bad_field(node, peer, changes):
    env = peer.envelope()
    if changes.get("exp") == "+401d":
        changes = {"exp": env.created + 401 * DAY_MS}
    await node.assert_refused(await peer.send(peer.wire(env, **changes)), Reason.BAD_FIELD)
    await node.assert_sentinel_accepted(peer)


@pytest.mark.parametrize("version", [2, True], ids=["2", "true"])
async def test_an_envelope_of_another_format_version_is_refused_as_unsupported_version(
    node, peer, version
):
    answer = await peer.send(peer.wire(peer.envelope(), v=version))
    await node.assert_refused(answer, Reason.UNSUPPORTED_VERSION)
    await node.assert_sentinel_accepted(peer)


async def test_an_envelope_of_a_type_we_do_not_take_is_refused_as_unsupported_type(node, peer):
    raw = peer.wire(peer.envelope(), typ="telegram")
    await node.assert_refused(await peer.send(raw), Reason.UNSUPPORTED_TYPE)
    await node.assert_sentinel_accepted(peer)


# -- each envelope: who sent it, to whom, when -------------------------------------------


async def test_an_envelope_whose_originator_is_not_the_request_signer_is_refused_as_sender_mismatch(
    node, peer, make_peer
):
    other = await make_peer("pt-at")
    theirs = other.envelope()  # signed by pt-at, carried by es-aduana
    claimed = peer.wire(peer.envelope(), from_=other.node_id)  # signed by es-aduana, "from" pt-at
    answer = await peer.send(theirs, claimed)
    await node.assert_refused(answer, Reason.SENDER_MISMATCH)
    assert answer.outcomes == [("rejected", "sender_mismatch")] * 2
    await node.assert_sentinel_accepted(peer)


async def test_an_envelope_not_addressed_to_us_is_refused_as_not_a_recipient(node, peer):
    env = peer.envelope(to=["pt-at"])  # sealed for us all the same
    await node.assert_refused(await peer.send(env), Reason.NOT_A_RECIPIENT)
    await node.assert_sentinel_accepted(peer)


async def test_an_envelope_addressed_to_us_without_a_key_slot_for_us_is_refused_as_not_a_recipient(
    node, peer
):
    shared = peer.seal_slots()[node.node_id][1]
    env = peer.envelope(to=[node.node_id], slots={"pt-at": ("0123456789abcdef", shared)})
    await node.assert_refused(await peer.send(env), Reason.NOT_A_RECIPIENT)
    await node.assert_sentinel_accepted(peer)


async def test_an_expired_envelope_is_refused_as_expired(node, peer):
    env = peer.envelope(created=now_ms() - 2 * DAY_MS, lifetime_ms=DAY_MS)
    await node.assert_refused(await peer.send(env), Reason.EXPIRED)
    await node.assert_sentinel_accepted(peer)


async def test_an_envelope_dated_beyond_the_clock_skew_is_refused_as_future_dated(node, peer):
    skew_ms = node.services.config["federation"]["clock_skew_seconds"] * 1000
    env = peer.envelope(created=now_ms() + skew_ms + 60_000)
    await node.assert_refused(await peer.send(env), Reason.FUTURE_DATED)
    await node.assert_sentinel_accepted(peer)


@pytest.mark.parametrize("whose", ["the originator's", "our"])
async def test_an_envelope_naming_a_key_that_is_not_known_is_refused_as_unknown_key(node, peer, whose):
    if whose == "our":  # sealed to a key id of ours that does not exist
        shared = peer.seal_slots()[node.node_id][1]
        env = peer.envelope(slots={node.node_id: ("0123456789abcdef", shared)})
    else:  # signed with a key the peer never announced
        env = peer.envelope(keys=NodeKeys.generate())
    await node.assert_refused(await peer.send(env), Reason.UNKNOWN_KEY)
    await node.assert_sentinel_accepted(peer)


@pytest.mark.parametrize("way", ["signed with another key", "changed after signing"])
async def test_an_envelope_whose_signature_does_not_verify_is_refused_as_bad_signature(node, peer, way):
    if way == "signed with another key":
        raw = peer.envelope(sign_with=NodeKeys.generate()).encode()
    else:
        env = peer.envelope(tlp=TLP.AMBER)
        raw = peer.wire(env, tlp="CLEAR", sig=env.signature)
    await node.assert_refused(await peer.send(raw), Reason.BAD_SIGNATURE)
    await node.assert_sentinel_accepted(peer)


def _payload_moved_from_another_envelope(peer: FakePeer) -> bytes:
    donor = peer.envelope(simple_alert("for another envelope", "en", alert_id="alert-donor"))
    return peer.wire(peer.envelope(), pl=fields(donor)["pl"])


def _payload_from_another_recipients_slot(peer: FakePeer) -> bytes:
    env = peer.envelope(slots=peer.seal_slots(names=["pt-at"]), to=["fr-douane"])
    pl = fields(env)["pl"]
    return peer.wire(env, pl={**pl, "k": {"fr-douane": pl["k"]["pt-at"]}})


def _payload_that_is_not_a_map(peer: FakePeer) -> bytes:
    env = peer.envelope()
    sealed = seal(codec.encode(["not", "a", "map"]), envelope_id=env.id, originator=peer.node_id,
                  recipients=peer.seal_slots())
    return Envelope(**{**{f: getattr(env, f) for f in Envelope.__dataclass_fields__},
                       "sealed": sealed, "raw": b""}).signed(Signer(peer.keys.sign_secret)).encode()


BAD_PAYLOADS = {
    "ciphertext moved from another envelope": _payload_moved_from_another_envelope,
    "key slot moved from another recipient": _payload_from_another_recipients_slot,
    "plaintext that is not a map": _payload_that_is_not_a_map,
    "receipt without ids": lambda peer: peer.envelope(
        {"kind": "delivered"}, type=MessageType.RECEIPT, tlp=TLP.CLEAR).encode(),
}


@pytest.mark.parametrize("make", BAD_PAYLOADS.values(), ids=BAD_PAYLOADS.keys())
async def test_a_payload_that_does_not_open_or_apply_is_refused_as_bad_payload(node, peer, make):
    await node.assert_refused(await peer.send(make(peer)), Reason.BAD_PAYLOAD)
    await node.assert_sentinel_accepted(peer)


# -- replays and conflicts ---------------------------------------------------------------


async def test_a_replayed_envelope_is_answered_as_duplicate_and_stored_once(node, peer):
    env = peer.envelope()
    assert (await peer.send(env)).outcomes == [("accepted", "")]
    await node.assert_newly_stored((peer.node_id, env.id))
    answer = await peer.send(env)
    assert (answer.status, answer.headers.get("Ncen-Reason")) == (409, "duplicate")
    assert answer.outcomes == [("duplicate", "duplicate")]
    assert answer.result().results[0].id == env.id
    await node.assert_newly_stored()
    await node.assert_sentinel_accepted(peer)


async def test_an_envelope_relayed_with_a_longer_relay_path_is_still_a_duplicate(node, peer):
    env = peer.envelope()
    await peer.send(env)
    await node.assert_newly_stored((peer.node_id, env.id))
    relayed = env.with_hop("it-hub", now_ms())
    answer = await peer.send(relayed)
    assert answer.status == 409
    assert answer.outcomes == [("duplicate", "duplicate")]
    assert (await node.stored())[(peer.node_id, env.id)] == env.encode()
    await node.assert_sentinel_accepted(peer)


async def test_an_envelope_repeated_within_one_batch_is_answered_as_duplicate_and_stored_once(
    node, peer
):
    env = peer.envelope()
    answer = await peer.send(env, env)
    assert answer.status == 200
    assert answer.outcomes == [("accepted", ""), ("duplicate", "duplicate")]
    await node.assert_newly_stored((peer.node_id, env.id))
    await node.assert_sentinel_accepted(peer)


async def test_the_same_id_with_other_content_is_a_conflict_and_the_first_stands(node, peer):
    first = peer.envelope(simple_alert("first", "en", alert_id="alert-1"))
    await peer.send(first)
    await node.assert_newly_stored((peer.node_id, first.id))
    second = peer.envelope(simple_alert("second", "en", alert_id="alert-2"), envelope_id=first.id)
    await node.assert_refused(await peer.send(second), Reason.CONFLICT)
    assert (await node.stored())[(peer.node_id, first.id)] == first.encode()
    # Within one batch too: the first of the two is kept.
    third = peer.envelope(simple_alert("third", "en", alert_id="alert-3"))
    fourth = peer.envelope(simple_alert("fourth", "en", alert_id="alert-4"), envelope_id=third.id)
    answer = await peer.send(third, fourth)
    assert answer.outcomes == [("accepted", ""), ("rejected", "conflict")]
    assert any("conflict" in line for line in node.refusals_logged())
    await node.assert_newly_stored((peer.node_id, third.id))
    assert (await node.stored())[(peer.node_id, third.id)] == third.encode()
    await node.assert_sentinel_accepted(peer)


async def test_a_mixed_batch_stores_only_the_good_envelopes_and_answers_each(node, peer):
    good = [peer.envelope(simple_alert("one", "en", alert_id="alert-1")),
            peer.envelope(simple_alert("two", "en", alert_id="alert-2"))]
    forged = peer.envelope(sign_with=NodeKeys.generate())
    expired = peer.envelope(created=now_ms() - 2 * DAY_MS, lifetime_ms=DAY_MS)
    answer = await peer.send(good[0], forged, b"\xc1", good[1], expired)
    assert answer.status == 200
    assert answer.outcomes == [("accepted", ""), ("rejected", "bad_signature"),
                               ("rejected", "bad_encoding"), ("accepted", ""),
                               ("rejected", "expired")]
    results = answer.result().results
    assert [r.index for r in results] == [0, 1, 2, 3, 4]
    assert [r.id for r in results] == [good[0].id, forged.id, None, good[1].id, expired.id]
    logged = node.refusals_logged()
    for reason in ("bad_signature", "bad_encoding", "expired"):
        assert any(reason in line for line in logged), logged
    await node.assert_newly_stored(*[(peer.node_id, e.id) for e in good])
    await node.assert_sentinel_accepted(peer)


async def test_an_accepted_alert_is_acknowledged_with_a_signed_delivery_receipt(node, peer):
    env = peer.envelope()
    answer = await peer.send(env)
    assert answer.outcomes == [("accepted", "")]
    receipt = decode_envelope(answer.result().receipt)
    receipt.verify(peer.node.sign_public)
    assert (receipt.type, receipt.sender, receipt.recipients) == (
        MessageType.RECEIPT, node.node_id, (peer.node_id,))
    payload = read_payload(receipt, recipient=peer.node_id,
                           shared_key=peer.seal_slots()[node.node_id][1])
    assert payload == {"kind": "delivered", "ids": [env.id]}
    await node.assert_newly_stored((peer.node_id, env.id))


# -- the trust door ----------------------------------------------------------------------


async def _asks_trust_after_refusal(node: NodeUnderTest, stranger: FakePeer) -> None:
    """The trust door's sentinel: nothing was pinned, and a good request is taken."""
    assert await node.status_of(stranger.node_id) is None
    answer = await stranger.ask_trust()
    assert (answer.status, answer.json()["status"]) == (202, "pending")


BAD_KEY_DOCUMENTS = {
    "not msgpack": lambda peer: b"\xc1",
    "a missing field": lambda peer: keydoc_wire(peer, name=DROP),
    "a bad country code": lambda peer: keydoc_wire(peer, country="Italia"),
    "a URL that is not HTTP": lambda peer: keydoc_wire(peer, url="ftp://example.org"),
    "a short encryption key": lambda peer: keydoc_wire(peer, enc=b"\1" * 16),
}


@pytest.mark.parametrize("make", BAD_KEY_DOCUMENTS.values(), ids=BAD_KEY_DOCUMENTS.keys())
async def test_a_trust_request_with_a_malformed_key_document_is_refused_as_bad_key_document(
    node, make_peer, make
):
    stranger = await make_peer("it-dogane", status=None)
    await node.assert_refused(await stranger.ask_trust(make(stranger)), Reason.BAD_KEY_DOCUMENT)
    await _asks_trust_after_refusal(node, stranger)


async def test_a_trust_request_over_16_kib_is_refused_as_too_large(node, make_peer):
    stranger = await make_peer("it-dogane", status=None)
    answer = await stranger.ask_trust(b"\0" * (MAX_KEYDOC_SIZE + 1))
    await node.assert_refused(answer, Reason.TOO_LARGE)
    await _asks_trust_after_refusal(node, stranger)


@pytest.mark.parametrize("who", ["another key", "another node", "the node itself"])
async def test_a_trust_request_not_signed_by_its_documents_key_is_refused_as_sender_mismatch(
    node, make_peer, who
):
    stranger = await make_peer("it-dogane", status=None)
    if who == "another key":
        answer = await stranger.ask_trust(keys=NodeKeys.generate())
    elif who == "another node":
        answer = await stranger.ask_trust(node_id="pt-at")
    else:
        answer = await stranger.ask_trust(stranger.keydoc(node_id=node.node_id), node_id=node.node_id)
    await node.assert_refused(answer, Reason.SENDER_MISMATCH)
    await _asks_trust_after_refusal(node, stranger)


async def test_a_trust_request_whose_document_is_not_self_signed_is_refused_as_bad_signature(
    node, make_peer
):
    stranger = await make_peer("it-dogane", status=None)
    forged = stranger.keydoc(sign_with=NodeKeys.generate())
    await node.assert_refused(await stranger.ask_trust(forged), Reason.BAD_SIGNATURE)
    await _asks_trust_after_refusal(node, stranger)


async def test_a_replayed_trust_request_changes_nothing(node, make_peer):
    peer = await make_peer(status=PeerStatus.PENDING)
    body = peer.keydoc().encode()
    headers = peer.sign_headers(peer.node_url + TRUST_PATH, body)
    first = await peer.post(TRUST_PATH, body, signed=False, headers=headers)
    assert (first.status, first.json()["status"]) == (202, "pending")
    await node.approve(peer.node_id)
    keys = (await node.services.store.get_peer(peer.node_id)).keys
    again = await peer.post(TRUST_PATH, body, signed=False, headers=headers)
    assert (again.status, again.json()["status"]) == (202, "approved")
    after = await node.services.store.get_peer(peer.node_id)
    assert (after.status, after.keys) == (PeerStatus.APPROVED, keys)
    await node.assert_sentinel_accepted(peer)


async def test_a_trust_request_never_replaces_an_approved_peers_pinned_key(node, peer):
    pinned = (await node.services.store.get_peer(peer.node_id)).keys
    new = NodeKeys.generate()
    answer = await peer.ask_trust(peer.keydoc(new), keys=new)
    await node.assert_refused(answer, Reason.BAD_STATE)
    assert (await node.services.store.get_peer(peer.node_id)).keys == pinned
    await node.assert_sentinel_accepted(peer)


async def test_a_trust_request_never_replaces_the_key_we_pinned_when_we_asked_for_trust(node, make_peer):
    peer = await make_peer(status=PeerStatus.REQUESTED)
    pinned = await node.services.store.get_peer(peer.node_id)
    impostor = await make_peer(peer.node_id, status=None)  # same id, its own keys and URL
    answer = await impostor.ask_trust()
    after = await node.services.store.get_peer(peer.node_id)
    assert (after.status, after.url, after.keys) == (pinned.status, pinned.url, pinned.keys), answer


async def test_a_trust_request_from_a_suspended_peer_is_refused_as_bad_state(node, make_peer):
    peer = await make_peer(status=PeerStatus.SUSPENDED)
    await node.assert_refused(await peer.ask_trust(), Reason.BAD_STATE)
    assert await node.status_of(peer.node_id) is PeerStatus.SUSPENDED
    await node.change(peer.node_id, PeerAction.RESUME)
    await node.assert_sentinel_accepted(peer)


async def test_a_trust_request_from_a_revoked_peer_is_refused_as_peer_revoked(node, make_peer):
    peer = await make_peer(status=PeerStatus.REVOKED)
    await node.assert_refused(await peer.ask_trust(), Reason.PEER_REVOKED)
    assert await node.status_of(peer.node_id) is PeerStatus.REVOKED
    await node.assert_sentinel_accepted(await make_peer("pt-at"))


async def test_an_approval_naming_another_key_is_refused_as_bad_key_document(node, make_peer):
    peer = await make_peer(status=PeerStatus.REQUESTED)
    other = peer.keydoc(NodeKeys.generate())
    approval = peer.envelope({"keydoc": other.encode()}, type=MessageType.TRUST_APPROVE,
                             tlp=TLP.CLEAR)
    await node.assert_refused(await peer.send(approval), Reason.BAD_KEY_DOCUMENT)
    assert await node.status_of(peer.node_id) is PeerStatus.REQUESTED
    good = peer.envelope({"keydoc": peer.keydoc().encode()}, type=MessageType.TRUST_APPROVE,
                         tlp=TLP.CLEAR)
    assert (await peer.send(good)).outcomes == [("accepted", "")]
    await node.assert_newly_stored((peer.node_id, good.id))
    await node.assert_sentinel_accepted(peer)


# -- what an alert carries ---------------------------------------------------------------


def _bad_alert() -> dict:
    payload = simple_alert("Contenedor sospechoso", "es", alert_id="alert-bad")
    fields = payload["record"]["fields"]
    fields["urgency"] = "Whenever"  # not a CAP urgency
    fields["severity"] = 3  # wrong type
    del fields["certainty"]  # required
    return payload


async def test_an_alert_whose_record_breaks_the_catalog_is_refused_as_record_invalid_listing_every_problem(
    node, peer
):
    answer = await peer.send(peer.envelope(_bad_alert()))
    await node.assert_refused(answer, Reason.RECORD_INVALID)
    detail = answer.result().results[0].detail
    for problem in ("record.fields.urgency: unknown_code", "record.fields.severity: wrong_type",
                    "record.fields.certainty: missing_required"):
        assert problem in detail, detail
    await node.assert_sentinel_accepted(peer)


async def test_an_alert_carrying_a_record_it_does_not_announce_is_refused_as_record_invalid(
    node, peer
):
    payload = simple_alert("Persona", "es", alert_id="alert-p")
    payload["carried"] = [{"type": "person", "id": "p-1", "catalog_version": 1,
                           "fields": {"names": []}}]
    await node.assert_refused(await peer.send(peer.envelope(payload)), Reason.RECORD_INVALID)
    await node.assert_sentinel_accepted(peer)


async def test_an_alert_from_a_newer_catalog_is_accepted_and_its_unknown_codes_are_flagged(
    node, peer
):
    payload = simple_alert("Nuevo tipo de alerta", "es", alert_id="alert-new", catalog_version=9)
    payload["record"]["fields"]["urgency"] = "Imminent"  # a code our catalog does not know yet
    env = peer.envelope(payload)
    answer = await peer.send(env)
    assert answer.outcomes == [("accepted", "")], answer.body[:300]
    await node.assert_newly_stored((peer.node_id, env.id))
    status, inbox = await node.api("GET", "/api/v1/inbox?lang=fr")
    assert status == 200
    alert = next(m for m in inbox if m["id"] == env.id)["rendered"]["alert"]
    assert alert["newer_catalog"] is True and alert["has_unknown"] is True
    urgency = next(f for f in alert["fields"] if f["name"] == "urgency")["values"][0]
    assert (urgency["code"], urgency["unknown"], urgency["label"]["text"]) == (
        "Imminent", True, "Imminent")
    certainty = next(f for f in alert["fields"] if f["name"] == "certainty")["values"][0]
    assert certainty["label"] == {"text": "Probable (probabilité > ~50 %)", "lang": "fr",
                                  "fallback": False}
    assert not certainty["unknown"]


# -- the checklist itself ----------------------------------------------------------------


def test_every_reason_code_is_provoked_at_the_door():
    source = Path(__file__).read_text(encoding="utf-8")
    untested = [r.value for r in Reason
                if f"Reason.{r.name})" not in source and f'"{r.value}")' not in source]
    assert untested == []

