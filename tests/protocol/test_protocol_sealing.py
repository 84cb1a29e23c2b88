"""End-to-end sealing: who can open a payload, and that a ciphertext is bound to its place."""

from __future__ import annotations

import dataclasses

import pytest

from protocol import ProtocolError, Reason, compose, encode, open_sealed, pairwise_key, read_payload, seal
from protocol.crypto import Sealed

OTHER_ID = "019b76da-a801-7000-8000-000000000001"


def payload_reason(call) -> Reason:
    with pytest.raises(ProtocolError) as caught:
        call()
    return caught.value.reason


def test_pairwise_keys_agree_in_both_directions(alice, bob):
    assert pairwise_key(alice.keys.enc_secret, bob.keys.enc_public) == pairwise_key(
        bob.keys.enc_secret, alice.keys.enc_public
    )


def test_pairwise_keys_differ_from_one_peer_to_another(alice, bob, carol):
    assert alice.shared_with(bob) != alice.shared_with(carol)


def test_a_pairwise_key_is_32_bytes(alice, bob):
    assert len(alice.shared_with(bob)) == 32


def test_a_pairwise_key_with_an_encryption_key_of_the_wrong_length_is_refused(alice, bob):
    with pytest.raises(ProtocolError) as caught:
        pairwise_key(alice.keys.enc_secret, bob.keys.enc_public[:31])
    assert caught.value.reason is Reason.BAD_KEY_DOCUMENT


def test_every_recipient_opens_the_same_payload(alice, bob, carol, envelope, payload):
    opened = [
        read_payload(envelope, recipient=node.id, shared_key=node.shared_with(alice)) for node in (bob, carol)
    ]
    assert opened == [payload, payload]


def test_a_node_without_a_key_slot_is_refused_as_not_a_recipient(alice, dave, envelope):
    assert payload_reason(
        lambda: read_payload(envelope, recipient=dave.id, shared_key=dave.shared_with(alice))
    ) is Reason.NOT_A_RECIPIENT


def test_a_recipient_slot_does_not_open_with_another_nodes_pairwise_key(alice, bob, dave, envelope):
    assert payload_reason(
        lambda: read_payload(envelope, recipient=bob.id, shared_key=dave.shared_with(alice))
    ) is Reason.BAD_PAYLOAD


def test_a_wrapped_key_moved_into_another_recipients_slot_does_not_open(alice, bob, carol, envelope):
    # Even for the node whose pairwise key wrapped it: the wrap names its recipient.
    keys = {**envelope.sealed.keys, carol.id: envelope.sealed.keys[bob.id]}
    moved = dataclasses.replace(envelope, sealed=dataclasses.replace(envelope.sealed, keys=keys))
    assert payload_reason(
        lambda: read_payload(moved, recipient=carol.id, shared_key=bob.shared_with(alice))
    ) is Reason.BAD_PAYLOAD


def test_a_ciphertext_moved_into_an_envelope_with_another_id_does_not_open(alice, bob, envelope):
    moved = dataclasses.replace(envelope, id=OTHER_ID)
    assert payload_reason(
        lambda: read_payload(moved, recipient=bob.id, shared_key=bob.shared_with(alice))
    ) is Reason.BAD_PAYLOAD


def test_a_ciphertext_moved_under_another_originators_name_does_not_open(alice, bob, envelope):
    assert payload_reason(
        lambda: open_sealed(
            envelope.sealed, envelope_id=envelope.id, originator="fr-douane", recipient=bob.id,
            shared_key=bob.shared_with(alice),
        )
    ) is Reason.BAD_PAYLOAD


def test_a_ciphertext_moved_into_another_envelope_of_the_same_originator_does_not_open(
    alice, bob, envelope, now_ms
):
    other = compose(
        {"other": True}, type="alert", sender=alice.id, signer=alice.signer, kid=alice.keys.kid,
        recipients={bob.id: alice.slot_for(bob)}, now_ms=now_ms, envelope_id=OTHER_ID,
    )
    swapped = dataclasses.replace(
        other, sealed=Sealed(nonce=envelope.sealed.nonce, ciphertext=envelope.sealed.ciphertext,
                             keys=other.sealed.keys)
    )
    assert payload_reason(
        lambda: read_payload(swapped, recipient=bob.id, shared_key=bob.shared_with(alice))
    ) is Reason.BAD_PAYLOAD


def test_a_tampered_ciphertext_does_not_open(alice, bob, envelope):
    ct = envelope.sealed.ciphertext
    tampered = dataclasses.replace(
        envelope, sealed=dataclasses.replace(envelope.sealed, ciphertext=ct[:-1] + bytes([ct[-1] ^ 1]))
    )
    assert payload_reason(
        lambda: read_payload(tampered, recipient=bob.id, shared_key=bob.shared_with(alice))
    ) is Reason.BAD_PAYLOAD


def test_sealing_the_same_payload_twice_gives_different_ciphertexts(alice, bob, envelope):
    recipients = {bob.id: alice.slot_for(bob)}
    first, second = (
        seal(b"\x80", envelope_id=envelope.id, originator=alice.id, recipients=recipients) for _ in range(2)
    )
    assert first.ciphertext != second.ciphertext and first.nonce != second.nonce


def test_a_sealed_payload_carries_the_recipients_key_id_in_its_slot(bob, envelope):
    assert envelope.sealed.keys[bob.id].kid == bob.keys.kid


def _with_plaintext(envelope, alice, bob, plaintext: bytes):
    sealed = seal(plaintext, envelope_id=envelope.id, originator=alice.id,
                  recipients={bob.id: alice.slot_for(bob)})
    return dataclasses.replace(envelope, sealed=sealed)


def test_a_payload_that_is_not_a_map_is_refused_as_bad_payload(alice, bob, envelope):
    env = _with_plaintext(envelope, alice, bob, encode(["not", "a", "map"]))
    assert payload_reason(
        lambda: read_payload(env, recipient=bob.id, shared_key=bob.shared_with(alice))
    ) is Reason.BAD_PAYLOAD


def test_a_payload_in_non_canonical_form_is_refused_as_bad_payload(alice, bob, envelope):
    env = _with_plaintext(envelope, alice, bob, bytes.fromhex("82" "a16201" "a16102"))
    assert payload_reason(
        lambda: read_payload(env, recipient=bob.id, shared_key=bob.shared_with(alice))
    ) is Reason.BAD_PAYLOAD
