"""The trust state of a peer, as a transition table.

``requested``: we asked them and wait for their approval. ``pending``: they asked us
and wait for our administrator. ``approved`` peers exchange messages; ``suspended``
ones are held (their messages refused, ours kept in the outbox); ``refused`` and
``revoked`` are ended (a refused peer may ask again; a revoked one may not).
"""

from __future__ import annotations

from enum import StrEnum

from .errors import ProtocolError, Reason


class PeerStatus(StrEnum):
    REQUESTED = "requested"
    PENDING = "pending"
    APPROVED = "approved"
    SUSPENDED = "suspended"
    REFUSED = "refused"
    REVOKED = "revoked"


class PeerAction(StrEnum):
    REQUEST = "request"  # we send a trust request
    RECEIVE_REQUEST = "receive_request"  # they send us one
    APPROVE = "approve"  # our administrator approves their request
    APPROVED_BY_PEER = "approved_by_peer"  # they approved ours
    REFUSE = "refuse"
    REFUSED_BY_PEER = "refused_by_peer"
    SUSPEND = "suspend"
    RESUME = "resume"
    REVOKE = "revoke"


S, A = PeerStatus, PeerAction
_NEW = None

#: (current status or None for an unknown node, action) -> new status
TRANSITIONS: dict[tuple[PeerStatus | None, PeerAction], PeerStatus] = {
    (_NEW, A.REQUEST): S.REQUESTED,
    (S.REQUESTED, A.REQUEST): S.REQUESTED,
    (S.REFUSED, A.REQUEST): S.REQUESTED,
    (S.PENDING, A.REQUEST): S.PENDING,
    (_NEW, A.RECEIVE_REQUEST): S.PENDING,
    (S.PENDING, A.RECEIVE_REQUEST): S.PENDING,
    (S.REFUSED, A.RECEIVE_REQUEST): S.PENDING,
    (S.REQUESTED, A.RECEIVE_REQUEST): S.PENDING,
    (S.PENDING, A.APPROVE): S.APPROVED,
    (S.REQUESTED, A.APPROVED_BY_PEER): S.APPROVED,
    (S.PENDING, A.REFUSE): S.REFUSED,
    (S.REQUESTED, A.REFUSED_BY_PEER): S.REFUSED,
    (S.APPROVED, A.REFUSED_BY_PEER): S.REFUSED,
    (S.APPROVED, A.SUSPEND): S.SUSPENDED,
    (S.SUSPENDED, A.RESUME): S.APPROVED,
    (S.REQUESTED, A.REVOKE): S.REVOKED,
    (S.PENDING, A.REVOKE): S.REVOKED,
    (S.APPROVED, A.REVOKE): S.REVOKED,
    (S.SUSPENDED, A.REVOKE): S.REVOKED,
    (S.REFUSED, A.REVOKE): S.REVOKED,
}

#: Why a peer's messages are refused, by its status (approved peers are not refused).
REFUSAL_REASON: dict[PeerStatus, Reason] = {
    S.REQUESTED: Reason.UNTRUSTED_SENDER,
    S.PENDING: Reason.PEER_PENDING,
    S.SUSPENDED: Reason.PEER_SUSPENDED,
    S.REFUSED: Reason.PEER_REFUSED,
    S.REVOKED: Reason.PEER_REVOKED,
}


def transition(current: PeerStatus | None, action: PeerAction) -> PeerStatus:
    """The status after action, or ProtocolError(bad_state) if it is not allowed."""
    try:
        return TRANSITIONS[(current, action)]
    except KeyError:
        shown = current.value if current else "unknown"
        raise ProtocolError(
            Reason.BAD_STATE, f"cannot {action.value} a peer that is {shown}"
        ) from None
