"""Batches of envelopes, and the per-envelope answer to one."""

from __future__ import annotations

from typing import Any

import pytest

from protocol import (
    Batch,
    BatchResult,
    EnvelopeResult,
    Outcome,
    ProtocolError,
    Reason,
    decode,
    decode_batch,
    decode_batch_result,
    encode,
)
from protocol.batch import MAX_BATCH_ENVELOPES

TXN = "019b76da-a800-7001-8000-00000000000a"


def batch_map(**changes: Any) -> dict[str, Any]:
    m: dict[str, Any] = {"v": 1, "txn": TXN, "from": "nl-customs", "envs": [b"\x80"]}
    m.update(changes)
    return m


def batch_reason(data: bytes) -> Reason:
    with pytest.raises(ProtocolError) as caught:
        decode_batch(data)
    return caught.value.reason


def test_a_batch_round_trips_through_encode_and_decode(wire):
    batch = Batch(txn=TXN, sender="nl-customs", envelopes=(wire, wire[:10]))
    assert decode_batch(batch.encode()) == batch


def test_a_batch_carries_each_envelope_as_its_exact_bytes(wire):
    batch = Batch(txn=TXN, sender="nl-customs", envelopes=(wire,))
    assert decode(batch.encode())["envs"] == [wire]


def test_a_batch_of_the_maximum_number_of_envelopes_is_accepted():
    batch = Batch(txn=TXN, sender="nl-customs", envelopes=(b"\x80",) * MAX_BATCH_ENVELOPES)
    assert len(decode_batch(batch.encode()).envelopes) == MAX_BATCH_ENVELOPES


def test_a_batch_of_more_than_the_maximum_number_of_envelopes_is_refused_as_too_many():
    assert batch_reason(encode(batch_map(envs=[b"\x80"] * (MAX_BATCH_ENVELOPES + 1)))) is Reason.TOO_MANY


def test_an_empty_batch_is_refused_as_too_many():
    assert batch_reason(encode(batch_map(envs=[]))) is Reason.TOO_MANY


@pytest.mark.parametrize(
    "txn", ["", "not-a-uuid", "0b2f8e7c-1b2a-4c3d-8e9f-0a1b2c3d4e5f", TXN.upper(), 7, b"txn"]
)
def test_a_batch_with_a_transaction_id_that_is_not_a_uuidv7_is_refused_as_bad_field(txn):
    assert batch_reason(encode(batch_map(txn=txn))) is Reason.BAD_FIELD


@pytest.mark.parametrize("sender", ["NL", "x", "group:west", 1])
def test_a_batch_with_a_bad_sender_id_is_refused_as_bad_field(sender):
    assert batch_reason(encode(batch_map(**{"from": sender}))) is Reason.BAD_FIELD


@pytest.mark.parametrize("envs", [b"\x80", ["\x80"], [b"\x80", 1], {"0": b"\x80"}])
def test_a_batch_whose_envelopes_are_not_a_list_of_byte_strings_is_refused_as_bad_field(envs):
    assert batch_reason(encode(batch_map(envs=envs))) is Reason.BAD_FIELD


@pytest.mark.parametrize("version", [0, 2, "1", True])
def test_a_batch_of_another_format_version_is_refused_as_unsupported_version(version):
    assert batch_reason(encode(batch_map(v=version))) is Reason.UNSUPPORTED_VERSION


def test_a_batch_with_an_unknown_field_is_refused_as_bad_field():
    assert batch_reason(encode(batch_map(extra=1))) is Reason.BAD_FIELD


def test_a_batch_missing_a_field_is_refused_as_bad_field():
    m = batch_map()
    del m["txn"]
    assert batch_reason(encode(m)) is Reason.BAD_FIELD


def test_a_batch_that_is_not_a_map_is_refused_as_bad_field():
    assert batch_reason(encode([TXN])) is Reason.BAD_FIELD


def test_a_batch_over_the_size_limit_is_refused_as_too_large():
    data = encode(batch_map())
    with pytest.raises(ProtocolError) as caught:
        decode_batch(data, max_size=len(data) - 1)
    assert caught.value.reason is Reason.TOO_LARGE


# -- the answer ------------------------------------------------------------------------------

RESULT = BatchResult(
    txn=TXN,
    results=(
        EnvelopeResult(index=0, id="019b76da-a800-7765-b886-d10522ff080f", outcome=Outcome.ACCEPTED),
        EnvelopeResult(index=1, id="019b76da-a801-7000-8000-000000000001", outcome=Outcome.DUPLICATE,
                       reason="duplicate"),
        EnvelopeResult.rejected(2, None, ProtocolError(Reason.EXPIRED, "expired at 1")),
    ),
)


def test_a_batch_result_round_trips_through_encode_and_decode():
    assert decode_batch_result(RESULT.encode()) == RESULT


def test_a_rejected_envelope_result_carries_the_errors_reason_and_detail():
    assert (RESULT.results[2].outcome, RESULT.results[2].reason, RESULT.results[2].detail) == (
        Outcome.REJECTED, "expired", "expired at 1",
    )


def test_an_empty_batch_result_round_trips():
    empty = BatchResult(txn=TXN, results=())
    assert decode_batch_result(empty.encode()) == empty


def _answer(**changes: Any) -> dict[str, Any]:
    m: dict[str, Any] = {"txn": TXN, "results": [], "receipt": b""}
    m.update(changes)
    return m


def _result_map(**changes: Any) -> dict[str, Any]:
    r: dict[str, Any] = {"i": 0, "id": "", "o": "accepted", "r": "", "d": ""}
    r.update(changes)
    return _answer(results=[r])


def test_a_well_formed_batch_result_map_decodes():
    assert decode_batch_result(encode(_result_map())).results[0].outcome is Outcome.ACCEPTED


def test_a_batch_result_carries_the_receivers_receipt_as_bytes(wire):
    answer = BatchResult(txn=TXN, results=RESULT.results, receipt=wire)
    assert decode_batch_result(answer.encode()).receipt == wire


BAD_RESULTS: dict[str, Any] = {
    "not a map": [TXN, []],
    "txn missing": {"results": [], "receipt": b""},
    "receipt missing": {"txn": TXN, "results": []},
    "an unknown field": _answer(extra=1),
    "txn an int": _answer(txn=1),
    "receipt that is text": _answer(receipt=""),
    "results a map": _answer(results={"i": 0}),
    "results a string": _answer(results="accepted"),
    "a result that is a list": _answer(results=[[0, "", "accepted", "", ""]]),
    "a result missing its outcome": _answer(results=[{"i": 0, "id": "", "r": "", "d": ""}]),
    "an unknown outcome": _result_map(o="lost"),
    "an index that is text": _result_map(i="0"),
    "an index that is a bool": _result_map(i=True),
    "an index that is a list": _result_map(i=[0]),
    "a negative index": _result_map(i=-1),
    "an id that is bytes": _result_map(id=b"x"),
    "a reason that is a list": _result_map(r=["expired"]),
    "a detail that is an int": _result_map(d=5),
    "an outcome that is a list": _result_map(o=["accepted"]),
}


@pytest.mark.parametrize("value", BAD_RESULTS.values(), ids=BAD_RESULTS.keys())
def test_a_malformed_batch_result_is_refused_as_bad_field(value):
    with pytest.raises(ProtocolError) as caught:
        decode_batch_result(encode(value))
    assert caught.value.reason is Reason.BAD_FIELD
