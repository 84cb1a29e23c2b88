"""Properties over many inputs: canonical round trips, and decoders that fail only as protocol errors.

A peer controls every byte it sends us. Whatever those bytes are (random, a real message
with a byte flipped, inserted or deleted, or a real message with any part of its
structure replaced), a decoder either returns a message that re-encodes to exactly those
bytes or raises a ``ProtocolError``: never a KeyError, TypeError, IndexError,
UnicodeDecodeError or any other exception that would become a 500.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import Any

import msgpack
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from protocol import (
    Batch,
    BatchResult,
    EnvelopeResult,
    KeyDocument,
    Outcome,
    ProtocolError,
    Reason,
    decode,
    decode_batch,
    decode_batch_result,
    decode_envelope,
    decode_keydoc,
    encode,
)
from protocol.codec import INT_MAX, INT_MIN

nfc_text = st.text(max_size=20).map(lambda s: unicodedata.normalize("NFC", s))
json_like = st.recursive(
    st.none() | st.booleans() | st.integers(INT_MIN, INT_MAX) | nfc_text | st.binary(max_size=40),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(nfc_text, children, max_size=5),
    max_leaves=30,
)
#: What a mutation puts in place of a node: small, so the decoders meet it quickly.
small_json_like = st.recursive(
    st.none() | st.booleans() | st.integers(INT_MIN, INT_MAX) | nfc_text | st.binary(max_size=70),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(nfc_text, children, max_size=3),
    max_leaves=6,
)
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value


# -- the canonical codec ---------------------------------------------------------------------


@FUZZ
@given(json_like)
def test_any_json_like_value_round_trips_through_encode_and_decode(value):
    assert decode(encode(value)) == value


@FUZZ
@given(json_like)
def test_any_decoded_value_re_encodes_to_the_same_bytes(value):
    data = encode(value)
    assert encode(decode(data)) == data


@FUZZ
@given(json_like)
def test_canonical_encoding_is_what_msgpack_emits_for_the_value_with_sorted_keys(value):
    assert encode(value) == msgpack.packb(_sorted(value), use_bin_type=True)


@FUZZ
@given(json_like)
def test_a_value_packed_with_unsorted_keys_decodes_only_if_it_was_already_canonical(value):
    data = msgpack.packb(value, use_bin_type=True)
    if data == encode(value):
        assert decode(data) == value
    else:
        with pytest.raises(ProtocolError) as caught:
            decode(data)
        assert caught.value.reason is Reason.NON_CANONICAL


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=200))
def test_arbitrary_bytes_decode_to_a_canonical_value_or_raise_a_protocol_error(data):
    try:
        value = decode(data)
    except ProtocolError:
        return
    assert encode(value) == data


# -- the message decoders --------------------------------------------------------------------


def _keydoc_bytes(node) -> bytes:
    return KeyDocument(
        node_id=node.id, name="Douane Nederland", country="NL", languages=("nl", "en"),
        url="https://ncen.douane.example", sign_public=node.keys.sign_public,
        enc_public=node.keys.enc_public, issued=1_767_225_600_000,
    ).signed(node.signer).encode()


def _batch_bytes(wire: bytes) -> bytes:
    return Batch(txn="019b76da-a800-7001-8000-00000000000a", sender="nl-customs", envelopes=(wire,)).encode()


def _result_bytes() -> bytes:
    return BatchResult(
        txn="019b76da-a800-7001-8000-00000000000a",
        results=(
            EnvelopeResult(index=0, id="019b76da-a800-7765-b886-d10522ff080f", outcome=Outcome.ACCEPTED),
            EnvelopeResult(index=1, id=None, outcome=Outcome.REJECTED, reason="expired", detail="at 1"),
        ),
    ).encode()


def _keeps_bytes(decoded: Any, data: bytes) -> bool:
    return decoded.encode() == data


def _well_typed(result: BatchResult) -> bool:
    return isinstance(result.txn, str) and isinstance(result.receipt, bytes) and all(
        type(r.index) is int and r.index >= 0 and (r.id is None or isinstance(r.id, str))
        and isinstance(r.outcome, Outcome) and isinstance(r.reason, str) and isinstance(r.detail, str)
        for r in result.results
    )


DECODERS: dict[str, tuple[Callable[[bytes], Any], Callable[[Any, bytes], bool]]] = {
    # name: (decoder, what must hold of a message it accepts)
    "envelope": (decode_envelope, _keeps_bytes),
    "keydoc": (decode_keydoc, _keeps_bytes),
    "batch": (decode_batch, _keeps_bytes),
    # An envelope result may carry keys this version does not know, so the answer need
    # not re-encode identically; what it holds must still be of the right types.
    "batch result": (decode_batch_result, lambda result, _data: _well_typed(result)),
}


@pytest.fixture(scope="module")
def valid_messages(alice, wire) -> dict[str, bytes]:
    return {
        "envelope": wire,
        "keydoc": _keydoc_bytes(alice),
        "batch": _batch_bytes(wire),
        "batch result": _result_bytes(),
    }


def _check_decoder(name: str, data: bytes) -> None:
    decoder, holds = DECODERS[name]
    try:
        decoded = decoder(data)
    except ProtocolError:
        return
    assert holds(decoded, data)


def test_the_valid_messages_used_for_fuzzing_decode(valid_messages):
    for name, data in valid_messages.items():
        decoder, holds = DECODERS[name]
        assert holds(decoder(data), data)


@pytest.mark.parametrize("name", DECODERS)
@FUZZ
@given(data=st.binary(max_size=300))
def test_a_decoder_given_arbitrary_bytes_raises_nothing_but_protocol_errors(name, data):
    _check_decoder(name, data)


@st.composite
def byte_mutations(draw, data: bytes) -> bytes:
    """data with one to three bytes flipped, inserted, deleted or replaced."""
    for _ in range(draw(st.integers(1, 3))):
        pos = draw(st.integers(0, max(len(data) - 1, 0)))
        kind = draw(st.sampled_from(["flip", "insert", "delete", "replace"]))
        if kind == "flip":
            data = data[:pos] + bytes([data[pos] ^ (1 << draw(st.integers(0, 7)))]) + data[pos + 1 :]
        elif kind == "insert":
            data = data[:pos] + bytes([draw(st.integers(0, 255))]) + data[pos:]
        elif kind == "delete":
            data = data[:pos] + data[pos + 1 :]
        else:
            data = data[:pos] + bytes([draw(st.integers(0, 255))]) + data[pos + 1 :]
    return data


@pytest.mark.parametrize("name", DECODERS)
@FUZZ
@given(st.data())
def test_a_decoder_given_a_real_message_with_bytes_mutated_raises_nothing_but_protocol_errors(
    valid_messages, name, data
):
    _check_decoder(name, data.draw(byte_mutations(valid_messages[name])))


def _mutate_tree(data: st.DataObject, value: Any) -> Any:
    """value with one node somewhere in it deleted, replaced, or given a new sibling."""
    if isinstance(value, dict) and value and data.draw(st.booleans()):
        key = data.draw(st.sampled_from(sorted(value)))
        action = data.draw(st.sampled_from(["descend", "delete", "add"]))
        out = dict(value)
        if action == "descend":
            out[key] = _mutate_tree(data, value[key])
        elif action == "delete":
            del out[key]
        else:
            out[data.draw(nfc_text)] = data.draw(small_json_like)
        return out
    if isinstance(value, list) and value and data.draw(st.booleans()):
        index = data.draw(st.integers(0, len(value) - 1))
        return [*value[:index], _mutate_tree(data, value[index]), *value[index + 1 :]]
    return data.draw(small_json_like)


@pytest.mark.parametrize("name", DECODERS)
@FUZZ
@given(st.data())
def test_a_decoder_given_a_real_message_with_its_structure_mutated_raises_nothing_but_protocol_errors(
    valid_messages, name, data
):
    mutated = _mutate_tree(data, decode(valid_messages[name]))
    _check_decoder(name, encode(mutated))
