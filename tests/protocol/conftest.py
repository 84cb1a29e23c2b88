"""Shared fixtures for the tests of the pure protocol core: fixed keys, a fixed clock.

Nothing here reads the clock or generates a key: every node's keys are derived from
fixed bytes, and every time is a constant, so a failure reproduces exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from protocol import Envelope, NodeKeys, Signer, compose, pairwise_key

#: 2026-01-01T00:00:00Z in epoch milliseconds: the tests' "now".
NOW_MS = 1_767_225_600_000
#: A UUIDv7 created at NOW_MS.
ENVELOPE_ID = "019b76da-a800-7765-b886-d10522ff080f"


@dataclass(frozen=True)
class Node:
    """A test node: an id and one generation of fixed keys."""

    id: str
    keys: NodeKeys

    @property
    def signer(self) -> Signer:
        return Signer(self.keys.sign_secret)

    def shared_with(self, other: Node) -> bytes:
        return pairwise_key(self.keys.enc_secret, other.keys.enc_public)

    def slot_for(self, recipient: Node) -> tuple[str, bytes]:
        """What an originator passes to ``compose`` for one recipient: (their kid, shared key)."""
        return recipient.keys.kid, self.shared_with(recipient)


def _node(node_id: str, first: int) -> Node:
    sign_secret, enc_secret = bytes(range(first, first + 32)), bytes(range(first + 32, first + 64))
    return Node(node_id, NodeKeys(sign_secret=sign_secret, enc_secret=enc_secret))


@pytest.fixture(scope="session")
def now_ms() -> int:
    return NOW_MS


@pytest.fixture(scope="session")
def alice() -> Node:
    """The originator in most tests."""
    return _node("nl-customs", 0)


@pytest.fixture(scope="session")
def bob() -> Node:
    return _node("be-customs", 64)


@pytest.fixture(scope="session")
def carol() -> Node:
    return _node("fr-douane", 128)


@pytest.fixture(scope="session")
def dave() -> Node:
    """A node that is never a recipient."""
    return _node("de-zoll", 192)


@pytest.fixture(scope="session")
def payload() -> dict:
    return {
        "kind": "seizure",
        "hs": "2402",
        "quantity": {"value": "1250.5", "unit": "KGM"},
        "notes": ["concealed in pallets", "x-ray"],
        "photo": b"\x89PNG\r\n",
    }


@pytest.fixture(scope="session")
def envelope(alice: Node, bob: Node, carol: Node, payload: dict) -> Envelope:
    """An alert from alice to bob and carol, created at NOW_MS, with an evaluation."""
    return compose(
        payload,
        type="alert",
        sender=alice.id,
        signer=alice.signer,
        kid=alice.keys.kid,
        recipients={bob.id: alice.slot_for(bob), carol.id: alice.slot_for(carol)},
        now_ms=NOW_MS,
        tlp="AMBER",
        evaluation="B2",
        envelope_id=ENVELOPE_ID,
    )


@pytest.fixture(scope="session")
def wire(envelope: Envelope) -> bytes:
    """The envelope's bytes as they cross the wire."""
    return envelope.encode()
