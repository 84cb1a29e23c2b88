"""The envelope: a node-pair round trip, what the signature covers, and what cannot exist."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import msgpack
import pytest

from protocol import (
    TLP,
    Handling,
    HandlingCode,
    Hop,
    MessageType,
    ProtocolError,
    Reason,
    SignatureError,
    compose,
    decode,
    decode_envelope,
    encode,
    new_envelope_id,
    read_payload,
)
from protocol.compose import MAX_PAYLOAD_SIZE
from protocol.envelope import MAX_LIFETIME_MS, MAX_RECIPIENTS, MAX_RELAY_HOPS

OTHER_ID = "019b76da-a801-7000-8000-000000000001"
SKEW_MS = 5 * 60 * 1000


def rewire(wire: bytes, change: Callable[[dict[str, Any]], None]) -> bytes:
    """The envelope's wire map with one change, re-encoded canonically."""
    m = decode(wire)
    change(m)
    return encode(m)


def reason_of(data: bytes) -> Reason:
    with pytest.raises(ProtocolError) as caught:
        decode_envelope(data)
    return caught.value.reason


# -- the round trip --------------------------------------------------------------------------


def test_a_composed_envelope_decodes_verifies_and_opens_for_its_recipient(alice, bob, wire, payload):
    received = decode_envelope(wire)
    received.verify(alice.keys.sign_public)
    assert read_payload(received, recipient=bob.id, shared_key=bob.shared_with(alice)) == payload


def test_a_decoded_envelope_equals_the_one_composed(envelope, wire):
    assert decode_envelope(wire) == envelope


def test_a_decoded_envelope_keeps_the_exact_bytes_it_was_decoded_from(wire):
    assert decode_envelope(wire).raw == wire


def test_a_decoded_envelope_re_encodes_to_the_bytes_received(wire):
    assert decode_envelope(wire).encode() == wire


def test_compose_names_the_key_holders_as_recipients_by_default(envelope, bob, carol):
    assert set(envelope.recipients) == {bob.id, carol.id} == set(envelope.sealed.keys)


def test_compose_can_address_a_group_while_sealing_for_its_members(alice, bob, carol, now_ms):
    env = compose(
        {"x": 1}, type="bulletin", sender=alice.id, signer=alice.signer, kid=alice.keys.kid,
        recipients={bob.id: alice.slot_for(bob), carol.id: alice.slot_for(carol)},
        now_ms=now_ms, addressed_to=["group:west-europe"],
    )
    assert env.recipients == ("group:west-europe",)


def test_compose_stamps_the_creation_time_and_the_lifetime(alice, bob, now_ms):
    env = compose(
        {"x": 1}, type="alert", sender=alice.id, signer=alice.signer, kid=alice.keys.kid,
        recipients={bob.id: alice.slot_for(bob)}, now_ms=now_ms, lifetime_ms=3_600_000,
    )
    assert (env.created, env.expires) == (now_ms, now_ms + 3_600_000)


def test_compose_refuses_a_payload_over_the_size_limit_as_too_large(alice, bob, now_ms):
    with pytest.raises(ProtocolError) as caught:
        compose(
            {"blob": b"\x00" * MAX_PAYLOAD_SIZE}, type="alert", sender=alice.id, signer=alice.signer,
            kid=alice.keys.kid, recipients={bob.id: alice.slot_for(bob)}, now_ms=now_ms,
        )
    assert caught.value.reason is Reason.TOO_LARGE


def test_an_envelope_id_is_a_uuidv7_carrying_its_creation_time(now_ms):
    eid = new_envelope_id(now_ms)
    assert eid[14] == "7" and int(eid.replace("-", "")[:12], 16) == now_ms


def test_envelope_ids_sort_in_the_order_they_were_created(now_ms):
    ids = [new_envelope_id(now_ms + step) for step in (0, 1, 1000, 86_400_000)]
    assert sorted(ids) == ids


@pytest.mark.parametrize(
    ("tlp", "label"),
    [
        (TLP.CLEAR, "TLP:CLEAR"),
        (TLP.GREEN, "TLP:GREEN"),
        (TLP.AMBER, "TLP:AMBER"),
        (TLP.AMBER_STRICT, "TLP:AMBER+STRICT"),
        (TLP.RED, "TLP:RED"),
    ],
)
def test_tlp_labels_are_the_first_tlp_2_labels(tlp, label):
    assert tlp.label == label


# -- what the signature covers ---------------------------------------------------------------


def _set(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda m: m.__setitem__(key, value)


def _flip_first(data: bytes) -> bytes:
    return bytes([data[0] ^ 1]) + data[1:]


SIGNED_FIELD_CHANGES: dict[str, Callable[[dict[str, Any]], None]] = {
    "id": _set("id", OTHER_ID),
    "typ": _set("typ", "bulletin"),
    "from": _set("from", "fr-douane"),
    "kid": _set("kid", "0123456789abcdef"),
    "to: a recipient added": lambda m: m["to"].append("de-zoll"),
    "to: a recipient removed": lambda m: m["to"].pop(),
    "to: the order": lambda m: m["to"].reverse(),
    "ts": lambda m: m.__setitem__("ts", m["ts"] - 1),
    "exp": lambda m: m.__setitem__("exp", m["exp"] + 1),
    "tlp": _set("tlp", "RED"),
    "hc: a condition added": _set("hc", [{"c": "H2", "t": ""}]),
    "ev: changed": _set("ev", "A1"),
    "ev: removed": lambda m: m.pop("ev"),
    "cat": _set("cat", 2),
    "pl.n": lambda m: m["pl"].__setitem__("n", _flip_first(m["pl"]["n"])),
    "pl.ct": lambda m: m["pl"].__setitem__("ct", _flip_first(m["pl"]["ct"])),
    "pl.k: a slot removed": lambda m: m["pl"]["k"].pop("fr-douane"),
    "pl.k: a slot's kid": lambda m: m["pl"]["k"]["be-customs"].__setitem__("kid", "0123456789abcdef"),
    "pl.k: a slot's nonce": lambda m: m["pl"]["k"]["be-customs"].__setitem__(
        "n", _flip_first(m["pl"]["k"]["be-customs"]["n"])
    ),
    "pl.k: a slot's wrapped key": lambda m: m["pl"]["k"]["be-customs"].__setitem__(
        "w", _flip_first(m["pl"]["k"]["be-customs"]["w"])
    ),
    "sig": lambda m: m.__setitem__("sig", _flip_first(m["sig"])),
}


@pytest.mark.parametrize("change", SIGNED_FIELD_CHANGES.values(), ids=SIGNED_FIELD_CHANGES.keys())
def test_an_envelope_with_any_signed_field_changed_fails_verification_as_bad_signature(alice, wire, change):
    tampered = decode_envelope(rewire(wire, change))
    with pytest.raises(SignatureError) as caught:
        tampered.verify(alice.keys.sign_public)
    assert caught.value.reason is Reason.BAD_SIGNATURE


def test_the_signature_covers_the_format_version(alice, envelope):
    with pytest.raises(SignatureError):
        dataclasses.replace(envelope, version=2).verify(alice.keys.sign_public)


def test_an_evaluation_added_to_an_envelope_without_one_fails_verification(alice, bob, now_ms):
    env = compose(
        {"x": 1}, type="alert", sender=alice.id, signer=alice.signer, kid=alice.keys.kid,
        recipients={bob.id: alice.slot_for(bob)}, now_ms=now_ms,
    )
    tampered = decode_envelope(rewire(env.encode(), _set("ev", "A1")))
    with pytest.raises(SignatureError):
        tampered.verify(alice.keys.sign_public)


def test_an_envelope_does_not_verify_with_another_nodes_key(bob, envelope):
    with pytest.raises(SignatureError) as caught:
        envelope.verify(bob.keys.sign_public)
    assert caught.value.reason is Reason.BAD_SIGNATURE


def test_an_unsigned_envelope_does_not_verify(alice, envelope):
    with pytest.raises(SignatureError):
        dataclasses.replace(envelope, signature=b"").verify(alice.keys.sign_public)


def test_a_relayed_envelope_still_verifies_after_each_hop(alice, envelope, now_ms):
    relayed = envelope.with_hop("hub-eu", now_ms + 10).with_hop("hub-world", now_ms + 20)
    received = decode_envelope(relayed.encode())
    received.verify(alice.keys.sign_public)
    assert received.relay == (Hop(node="hub-eu", ts=now_ms + 10), Hop(node="hub-world", ts=now_ms + 20))


def test_a_decoded_envelope_with_a_hop_added_verifies_without_a_round_trip(alice, wire, now_ms):
    decode_envelope(wire).with_hop("hub-eu", now_ms).verify(alice.keys.sign_public)


def test_the_relay_path_can_be_rewritten_on_the_wire_without_breaking_the_signature(alice, wire, now_ms):
    rewritten = decode_envelope(rewire(wire, _set("via", [{"node": "hub-eu", "ts": now_ms}])))
    rewritten.verify(alice.keys.sign_public)


def test_a_hub_cannot_add_a_hop_beyond_the_hop_limit(envelope, now_ms):
    full = envelope
    for n in range(MAX_RELAY_HOPS):
        full = full.with_hop(f"hub-{n}", now_ms + n)
    with pytest.raises(ProtocolError) as caught:
        full.with_hop("hub-last", now_ms)
    assert caught.value.reason is Reason.BAD_FIELD


def test_adding_a_hop_forgets_the_bytes_the_envelope_was_decoded_from(wire, now_ms):
    assert decode_envelope(wire).with_hop("hub-eu", now_ms).raw == b""


# -- an invalid envelope cannot exist --------------------------------------------------------

INVALID_FIELDS: dict[str, dict[str, Any]] = {
    "id not a uuid": {"id": "not-a-uuid"},
    "id a uuidv4": {"id": "0b2f8e7c-1b2a-4c3d-8e9f-0a1b2c3d4e5f"},
    "id in upper case": {"id": "019B76DA-A800-7765-B886-D10522FF080F"},
    "sender in upper case": {"sender": "NL-customs"},
    "sender one character": {"sender": "n"},
    "sender a group": {"sender": "group:west"},
    "kid not hex": {"kid": "zzzzzzzzzzzzzzzz"},
    "kid too short": {"kid": "56475aa7"},
    "no recipients": {"recipients": ()},
    "too many recipients": {"recipients": tuple(f"node-{n}" for n in range(MAX_RECIPIENTS + 1))},
    "a repeated recipient": {"recipients": ("be-customs", "be-customs")},
    "a bad recipient id": {"recipients": ("be-customs", "Group:west")},
    "a recipient that is not text": {"recipients": (["be-customs"],)},
    "created zero": {"created": 0},
    "created a bool": {"created": True},
    "expires at creation": {"expires": 1_767_225_600_000},
    "expires before creation": {"expires": 1_767_225_599_999},
    "a lifetime over the limit": {"expires": 1_767_225_600_000 + MAX_LIFETIME_MS + 1},
    "catalog zero": {"catalog": 0},
    "an unknown TLP": {"tlp": "PURPLE"},
    "a TLP written as its label": {"tlp": "TLP:RED"},
    "an evaluation out of the grid": {"evaluation": "E6"},
    "an evaluation of one character": {"evaluation": "B"},
    "too many relay hops": {"relay": tuple(Hop(node=f"hub-{n}", ts=1) for n in range(MAX_RELAY_HOPS + 1))},
}


@pytest.mark.parametrize("change", INVALID_FIELDS.values(), ids=INVALID_FIELDS.keys())
def test_an_envelope_with_an_invalid_field_cannot_exist(envelope, change):
    with pytest.raises(ProtocolError) as caught:
        dataclasses.replace(envelope, **change)
    assert caught.value.reason is Reason.BAD_FIELD


def test_an_envelope_of_an_unknown_type_cannot_exist(envelope):
    with pytest.raises(ProtocolError) as caught:
        dataclasses.replace(envelope, type="gossip")
    assert caught.value.reason is Reason.UNSUPPORTED_TYPE


def test_an_envelope_expiring_at_the_end_of_the_maximum_lifetime_can_exist(envelope):
    longest = dataclasses.replace(envelope, expires=envelope.created + MAX_LIFETIME_MS)
    assert longest.expires - longest.created == MAX_LIFETIME_MS


def test_a_handling_condition_h3_without_its_restriction_text_cannot_exist():
    with pytest.raises(ValueError):
        Handling(code=HandlingCode.H3, text="  ")


def test_an_unknown_handling_code_cannot_exist():
    with pytest.raises(ValueError):
        Handling(code="H9")


def test_handling_text_over_2000_characters_cannot_exist():
    with pytest.raises(ValueError):
        Handling(code=HandlingCode.H3, text="x" * 2001)


def test_a_type_and_tlp_given_as_text_become_their_enum_members(envelope):
    env = dataclasses.replace(envelope, type="bulletin", tlp="AMBER+STRICT")
    assert (env.type, env.tlp) == (MessageType.BULLETIN, TLP.AMBER_STRICT)


# -- decoding refuses ------------------------------------------------------------------------


def test_an_envelope_with_an_unknown_field_is_refused_as_bad_field(wire):
    assert reason_of(rewire(wire, _set("zz", 1))) is Reason.BAD_FIELD


REQUIRED_FIELDS = ["v", "id", "typ", "from", "kid", "to", "ts", "exp", "tlp", "hc", "cat", "pl", "sig", "via"]


@pytest.mark.parametrize("key", REQUIRED_FIELDS)
def test_an_envelope_missing_a_required_field_is_refused_as_bad_field(wire, key):
    assert reason_of(rewire(wire, lambda m: m.pop(key))) is Reason.BAD_FIELD


@pytest.mark.parametrize("version", [0, 2, -1, "1", True, None, b"\x01", [1]])
def test_an_envelope_of_another_format_version_is_refused_as_unsupported_version(wire, version):
    assert reason_of(rewire(wire, _set("v", version))) is Reason.UNSUPPORTED_VERSION


def test_an_envelope_of_an_unknown_type_is_refused_as_unsupported_type(wire):
    assert reason_of(rewire(wire, _set("typ", "gossip"))) is Reason.UNSUPPORTED_TYPE


WRONG_FIELDS: dict[str, Callable[[dict[str, Any]], None]] = {
    "id an int": _set("id", 1),
    "typ an int": _set("typ", 1),
    "to a string": _set("to", "be-customs"),
    "to holding a list": _set("to", [["be-customs"]]),
    "to holding a map": _set("to", [{"a": 1}]),
    "ts a string": _set("ts", "1767225600000"),
    "ts a bool": _set("ts", True),
    "cat a bool": _set("cat", True),
    "tlp unknown": _set("tlp", "WHITE"),
    "hc not a list": _set("hc", {"c": "H0", "t": ""}),
    "hc with an unknown code": _set("hc", [{"c": "H4", "t": ""}]),
    "hc H3 without text": _set("hc", [{"c": "H3", "t": ""}]),
    "hc with a text that is not text": _set("hc", [{"c": "H0", "t": 1}]),
    "hc with an extra key": _set("hc", [{"c": "H0", "t": "", "x": 1}]),
    "hc with a code that is a list": _set("hc", [{"c": ["H0"], "t": ""}]),
    "ev null": _set("ev", None),
    "ev a bool": _set("ev", False),
    "ev out of the grid": _set("ev", "F7"),
    "sig of 63 bytes": lambda m: m.__setitem__("sig", m["sig"][:63]),
    "sig a string": _set("sig", "x" * 64),
    "via not a list": _set("via", {}),
    "via with a bad node": _set("via", [{"node": "HUB", "ts": 1}]),
    "via with a time that is not an int": _set("via", [{"node": "hub-eu", "ts": "1"}]),
    "pl not a map": _set("pl", b"x"),
    "pl with an extra key": lambda m: m["pl"].__setitem__("x", 1),
    "pl.n of 12 bytes": lambda m: m["pl"].__setitem__("n", b"\x00" * 12),
    "pl.ct too short": lambda m: m["pl"].__setitem__("ct", b"\x00" * 15),
    "pl.k empty": lambda m: m["pl"].__setitem__("k", {}),
    "pl.k with a bad recipient": lambda m: m["pl"]["k"].__setitem__("BE", m["pl"]["k"]["be-customs"]),
    "pl.k with a slot that is a list": lambda m: m["pl"]["k"].__setitem__("be-customs", []),
    "pl.k with a slot kid that is bytes": lambda m: m["pl"]["k"]["be-customs"].__setitem__("kid", b"k"),
    "pl.k with a wrapped key of 47 bytes": lambda m: m["pl"]["k"]["be-customs"].__setitem__(
        "w", m["pl"]["k"]["be-customs"]["w"][:47]
    ),
}


@pytest.mark.parametrize("change", WRONG_FIELDS.values(), ids=WRONG_FIELDS.keys())
def test_an_envelope_with_a_field_of_the_wrong_shape_is_refused_as_bad_field(wire, change):
    assert reason_of(rewire(wire, change)) is Reason.BAD_FIELD


def test_an_envelope_that_is_not_a_map_is_refused_as_bad_encoding():
    assert reason_of(encode(["v", 1])) is Reason.BAD_ENCODING


def test_an_envelope_in_a_non_canonical_form_is_refused_as_non_canonical(wire):
    # The same map with its keys in reverse order: identical content, other bytes.
    m = decode(wire)
    reordered = msgpack.packb(dict(reversed(list(m.items()))), use_bin_type=True)
    assert reason_of(reordered) is Reason.NON_CANONICAL


def test_an_envelope_over_the_size_limit_is_refused_as_too_large(wire):
    with pytest.raises(ProtocolError) as caught:
        decode_envelope(wire, max_size=len(wire) - 1)
    assert caught.value.reason is Reason.TOO_LARGE


# -- times -----------------------------------------------------------------------------------


def test_an_envelope_is_accepted_until_its_expiry(envelope):
    envelope.check_times(envelope.expires - 1, max_skew_ms=SKEW_MS)


def test_an_envelope_is_refused_as_expired_from_its_expiry_time(envelope):
    with pytest.raises(ProtocolError) as caught:
        envelope.check_times(envelope.expires, max_skew_ms=SKEW_MS)
    assert caught.value.reason is Reason.EXPIRED


def test_an_envelope_created_within_the_allowed_skew_ahead_is_accepted(envelope):
    envelope.check_times(envelope.created - SKEW_MS, max_skew_ms=SKEW_MS)


def test_an_envelope_created_beyond_the_allowed_skew_ahead_is_refused_as_future_dated(envelope):
    with pytest.raises(ProtocolError) as caught:
        envelope.check_times(envelope.created - SKEW_MS - 1, max_skew_ms=SKEW_MS)
    assert caught.value.reason is Reason.FUTURE_DATED

