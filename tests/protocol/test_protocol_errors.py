"""The error family: stable reason codes, and a 4xx for every one of them."""

from __future__ import annotations

import pytest

from protocol import DecodeError, ProtocolError, Reason, SignatureError
from protocol.errors import STATUS_HINTS

#: The wire contract: a reason code is never renamed or removed.
WIRE_REASONS = {
    "bad_encoding", "non_canonical", "bad_field", "bad_signature", "bad_request_signature",
    "bad_digest", "bad_payload", "unknown_sender", "untrusted_sender", "peer_pending",
    "peer_suspended", "peer_revoked", "peer_refused", "sender_mismatch", "unknown_key", "expired",
    "future_dated", "duplicate", "conflict", "too_large", "too_many", "unsupported_version",
    "unsupported_type", "not_a_recipient", "bad_key_document", "bad_state",
}


def test_every_reason_code_of_the_wire_contract_still_exists():
    assert WIRE_REASONS <= {reason.value for reason in Reason}


@pytest.mark.parametrize("reason", list(Reason))
def test_every_reason_is_answered_with_a_4xx_never_a_5xx(reason):
    assert 400 <= ProtocolError(reason).status_hint <= 499


@pytest.mark.parametrize(
    ("reason", "status"),
    [
        (Reason.BAD_ENCODING, 400),
        (Reason.BAD_SIGNATURE, 401),
        (Reason.PEER_REVOKED, 403),
        (Reason.DUPLICATE, 409),
        (Reason.TOO_LARGE, 413),
        (Reason.EXPIRED, 422),
    ],
)
def test_a_reason_carries_its_documented_status_hint(reason, status):
    assert STATUS_HINTS[reason] == status


def test_a_protocol_error_is_sent_to_a_peer_as_its_reason_and_detail():
    error = ProtocolError(Reason.EXPIRED, "expired at 5")
    assert error.to_dict() == {"reason": "expired", "detail": "expired at 5"}


def test_a_protocol_error_accepts_its_reason_as_the_wire_code():
    assert ProtocolError("too_many").reason is Reason.TOO_MANY


def test_a_protocol_error_refuses_a_reason_code_that_does_not_exist():
    with pytest.raises(ValueError):
        ProtocolError("no_such_reason")


@pytest.mark.parametrize("kind", [DecodeError, SignatureError])
def test_decode_and_signature_errors_are_protocol_errors(kind):
    assert isinstance(kind(Reason.BAD_FIELD), ProtocolError)
