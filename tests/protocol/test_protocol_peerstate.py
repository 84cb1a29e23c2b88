"""The trust state of a peer: every (status, action) pair, allowed or refused as bad_state.

The expected table is written out here, independently of the module's own, so a change
to the trust machine shows up as a failing test and a change to this spec.
"""

from __future__ import annotations

import itertools

import pytest

from protocol import PeerAction, PeerStatus, ProtocolError, Reason, transition
from protocol.peerstate import REFUSAL_REASON

S, A = PeerStatus, PeerAction
UNKNOWN = None  # a node we have never heard of

ALLOWED: dict[tuple[PeerStatus | None, PeerAction], PeerStatus] = {
    (UNKNOWN, A.REQUEST): S.REQUESTED,
    (UNKNOWN, A.RECEIVE_REQUEST): S.PENDING,
    (S.REQUESTED, A.REQUEST): S.REQUESTED,
    (S.REQUESTED, A.RECEIVE_REQUEST): S.PENDING,
    (S.REQUESTED, A.APPROVED_BY_PEER): S.APPROVED,
    (S.REQUESTED, A.REFUSED_BY_PEER): S.REFUSED,
    (S.REQUESTED, A.REVOKE): S.REVOKED,
    (S.PENDING, A.REQUEST): S.PENDING,
    (S.PENDING, A.RECEIVE_REQUEST): S.PENDING,
    (S.PENDING, A.APPROVE): S.APPROVED,
    (S.PENDING, A.REFUSE): S.REFUSED,
    (S.PENDING, A.REVOKE): S.REVOKED,
    (S.APPROVED, A.REFUSED_BY_PEER): S.REFUSED,
    (S.APPROVED, A.SUSPEND): S.SUSPENDED,
    (S.APPROVED, A.REVOKE): S.REVOKED,
    (S.SUSPENDED, A.RESUME): S.APPROVED,
    (S.SUSPENDED, A.REVOKE): S.REVOKED,
    (S.REFUSED, A.REQUEST): S.REQUESTED,
    (S.REFUSED, A.RECEIVE_REQUEST): S.PENDING,
    (S.REFUSED, A.REVOKE): S.REVOKED,
}

ALL_PAIRS = list(itertools.product([UNKNOWN, *PeerStatus], PeerAction))
REFUSED_PAIRS = [pair for pair in ALL_PAIRS if pair not in ALLOWED]


def _id(pair) -> str:
    status, action = pair
    return f"{status.value if status else 'unknown'}-{action.value}"


@pytest.mark.parametrize("pair", list(ALLOWED), ids=[_id(p) for p in ALLOWED])
def test_an_allowed_action_moves_a_peer_to_the_status_in_the_table(pair):
    status, action = pair
    assert transition(status, action) is ALLOWED[pair]


@pytest.mark.parametrize("pair", REFUSED_PAIRS, ids=[_id(p) for p in REFUSED_PAIRS])
def test_any_other_action_is_refused_as_bad_state(pair):
    status, action = pair
    with pytest.raises(ProtocolError) as caught:
        transition(status, action)
    assert caught.value.reason is Reason.BAD_STATE


@pytest.mark.parametrize("action", list(PeerAction))
def test_a_revoked_peer_stays_revoked_whatever_happens(action):
    with pytest.raises(ProtocolError):
        transition(S.REVOKED, action)


def test_a_refusal_of_an_action_names_the_action_and_the_status():
    with pytest.raises(ProtocolError) as caught:
        transition(S.REVOKED, A.APPROVE)
    assert caught.value.detail == "cannot approve a peer that is revoked"


def test_a_refusal_of_an_action_on_an_unknown_node_calls_it_unknown():
    with pytest.raises(ProtocolError) as caught:
        transition(UNKNOWN, A.APPROVE)
    assert caught.value.detail == "cannot approve a peer that is unknown"


def test_a_bad_state_is_answered_with_a_409():
    with pytest.raises(ProtocolError) as caught:
        transition(S.SUSPENDED, A.SUSPEND)
    assert caught.value.status_hint == 409


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (S.REQUESTED, Reason.UNTRUSTED_SENDER),
        (S.PENDING, Reason.PEER_PENDING),
        (S.SUSPENDED, Reason.PEER_SUSPENDED),
        (S.REFUSED, Reason.PEER_REFUSED),
        (S.REVOKED, Reason.PEER_REVOKED),
    ],
)
def test_messages_from_a_peer_that_is_not_approved_are_refused_with_the_reason_for_its_status(
    status, reason
):
    assert REFUSAL_REASON[status] is reason


def test_messages_from_an_approved_peer_are_not_refused():
    assert S.APPROVED not in REFUSAL_REASON
