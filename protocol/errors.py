"""The protocol's one error family.

Every way a message can be wrong has a member with a stable reason code (sent to the
peer and written to the log) and a status hint that the HTTP layer turns into a 4xx
in one place. Reason codes are part of the wire contract: never rename one.
"""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    """Stable reason codes, as they appear on the wire and in logs."""

    BAD_ENCODING = "bad_encoding"
    NON_CANONICAL = "non_canonical"
    BAD_FIELD = "bad_field"
    BAD_SIGNATURE = "bad_signature"
    BAD_REQUEST_SIGNATURE = "bad_request_signature"
    BAD_DIGEST = "bad_digest"
    BAD_PAYLOAD = "bad_payload"
    UNKNOWN_SENDER = "unknown_sender"
    UNTRUSTED_SENDER = "untrusted_sender"
    PEER_PENDING = "peer_pending"
    PEER_SUSPENDED = "peer_suspended"
    PEER_REVOKED = "peer_revoked"
    PEER_REFUSED = "peer_refused"
    SENDER_MISMATCH = "sender_mismatch"
    UNKNOWN_KEY = "unknown_key"
    EXPIRED = "expired"
    FUTURE_DATED = "future_dated"
    DUPLICATE = "duplicate"
    CONFLICT = "conflict"
    TOO_LARGE = "too_large"
    TOO_MANY = "too_many"
    UNSUPPORTED_VERSION = "unsupported_version"
    UNSUPPORTED_TYPE = "unsupported_type"
    NOT_A_RECIPIENT = "not_a_recipient"
    BAD_KEY_DOCUMENT = "bad_key_document"
    BAD_STATE = "bad_state"
    RECORD_INVALID = "record_invalid"


#: The HTTP status each reason is answered with (all 4xx: a bad message is never a 5xx).
STATUS_HINTS: dict[Reason, int] = {
    Reason.BAD_ENCODING: 400,
    Reason.NON_CANONICAL: 400,
    Reason.BAD_FIELD: 400,
    Reason.BAD_SIGNATURE: 401,
    Reason.BAD_REQUEST_SIGNATURE: 401,
    Reason.BAD_DIGEST: 401,
    Reason.BAD_PAYLOAD: 400,
    Reason.UNKNOWN_SENDER: 401,
    Reason.UNTRUSTED_SENDER: 403,
    Reason.PEER_PENDING: 403,
    Reason.PEER_SUSPENDED: 403,
    Reason.PEER_REVOKED: 403,
    Reason.PEER_REFUSED: 403,
    Reason.SENDER_MISMATCH: 403,
    Reason.UNKNOWN_KEY: 401,
    Reason.EXPIRED: 422,
    Reason.FUTURE_DATED: 422,
    Reason.DUPLICATE: 409,
    Reason.CONFLICT: 409,
    Reason.TOO_LARGE: 413,
    Reason.TOO_MANY: 413,
    Reason.UNSUPPORTED_VERSION: 400,
    Reason.UNSUPPORTED_TYPE: 400,
    Reason.NOT_A_RECIPIENT: 403,
    Reason.BAD_KEY_DOCUMENT: 400,
    Reason.BAD_STATE: 409,
    Reason.RECORD_INVALID: 422,
}


class ProtocolError(Exception):
    """A message or request that breaks a rule of the wire format or of trust."""

    reason: Reason = Reason.BAD_FIELD

    def __init__(self, reason: Reason | str, detail: str = "") -> None:
        self.reason = Reason(reason)
        self.detail = detail
        super().__init__(f"{self.reason.value}: {detail}" if detail else self.reason.value)

    @property
    def status_hint(self) -> int:
        """The HTTP status this error is answered with."""
        return STATUS_HINTS[self.reason]

    def to_dict(self) -> dict[str, str]:
        """The error as it is sent back to a peer."""
        return {"reason": self.reason.value, "detail": self.detail}


class DecodeError(ProtocolError):
    """Bytes that are not a well-formed, canonical message."""


class SignatureError(ProtocolError):
    """A signature that does not verify, or a key that cannot be found."""
