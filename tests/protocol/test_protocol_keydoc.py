"""The self-signed key document, key ids and fingerprints."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import pytest

from protocol import KeyDocument, ProtocolError, Reason, SignatureError, decode, decode_keydoc, encode
from protocol.crypto import fingerprint, key_id
from protocol.keydoc import MAX_KEYDOC_SIZE

FINGERPRINT_RE = re.compile(r"^[A-Z2-7]{4}(-[A-Z2-7]{4}){7}$")


@pytest.fixture(scope="module")
def doc(alice) -> KeyDocument:
    return KeyDocument(
        node_id=alice.id, name="Douane Nederland", country="NL", languages=("nl", "en"),
        url="https://ncen.douane.example", sign_public=alice.keys.sign_public,
        enc_public=alice.keys.enc_public, issued=1_767_225_600_000,
    ).signed(alice.signer)


def rewired(doc: KeyDocument, **changes: Any) -> bytes:
    m = decode(doc.encode())
    m.update(changes)
    return encode(m)


def keydoc_reason(data: bytes) -> Reason:
    with pytest.raises(ProtocolError) as caught:
        decode_keydoc(data)
    return caught.value.reason


def test_a_signed_key_document_decodes_to_itself(doc):
    assert decode_keydoc(doc.encode()) == doc


def test_a_key_document_names_the_key_id_of_its_signing_key(alice, doc):
    assert doc.kid == alice.keys.kid == "56475aa75463474c"


def test_a_key_id_is_16_hex_characters_of_the_signing_keys_sha256(alice):
    assert key_id(alice.keys.sign_public) == "56475aa75463474c"


def test_a_fingerprint_is_eight_groups_of_four_base32_characters(alice):
    assert FINGERPRINT_RE.match(alice.keys.fingerprint)


def test_the_fingerprint_of_fixed_keys_is_stable(alice):
    assert alice.keys.fingerprint == "LOMI-VUPK-6QWL-RQDA-TCDZ-4V2C-MMQ7-F4AJ"


def test_the_fingerprint_covers_the_encryption_key(alice, bob):
    assert fingerprint(alice.keys.sign_public, bob.keys.enc_public) != alice.keys.fingerprint


def test_the_fingerprint_covers_the_signing_key(alice, bob):
    assert fingerprint(bob.keys.sign_public, alice.keys.enc_public) != alice.keys.fingerprint


def test_a_key_document_shows_the_fingerprint_of_its_keys(alice, doc):
    assert doc.fingerprint == doc.to_json()["fingerprint"] == alice.keys.fingerprint


def test_node_keys_never_show_their_secrets_in_their_repr(alice):
    assert alice.keys.sign_secret.hex() not in repr(alice.keys) and "56475aa75463474c" in repr(alice.keys)


@pytest.mark.parametrize(
    "changes",
    [
        {"name": "Douane Belgique"},
        {"url": "https://evil.example"},
        {"country": "BE"},
        {"langs": ["en"]},
        {"ts": 1_767_225_600_001},
        {"id": "be-customs"},
    ],
    ids=["name", "url", "country", "languages", "issued", "node id"],
)
def test_a_key_document_with_a_signed_field_changed_is_refused_as_bad_signature(doc, changes):
    assert keydoc_reason(rewired(doc, **changes)) is Reason.BAD_SIGNATURE


def test_a_key_document_with_its_encryption_key_swapped_is_refused_as_bad_signature(bob, doc):
    assert keydoc_reason(rewired(doc, enc=bob.keys.enc_public)) is Reason.BAD_SIGNATURE


def test_a_key_document_signed_by_another_key_is_refused_as_bad_signature(bob, doc):
    forged = dataclasses.replace(doc, signature=b"").signed(bob.signer)
    with pytest.raises(SignatureError) as caught:
        decode_keydoc(forged.encode())
    assert caught.value.reason is Reason.BAD_SIGNATURE


def test_an_unsigned_key_document_is_refused_as_bad_signature(doc):
    assert keydoc_reason(rewired(doc, sig=b"")) is Reason.BAD_SIGNATURE


BAD_DOCUMENTS: dict[str, dict[str, Any]] = {
    "a bad node id": {"id": "NL"},
    "an empty name": {"name": ""},
    "a lower-case country": {"country": "nl"},
    "a three-letter country": {"country": "NLD"},
    "no languages": {"langs": []},
    "a language name instead of a code": {"langs": ["dutch"]},
    "languages not a list": {"langs": "nl"},
    "an ftp url": {"url": "ftp://ncen.douane.example"},
    "a signing key of 31 bytes": {"sign": b"\x00" * 31},
    "an encryption key that is text": {"enc": "00" * 32},
    "an issued time that is text": {"ts": "1767225600000"},
    "an issued time that is a bool": {"ts": True},
    "a signature that is text": {"sig": "x" * 64},
}


@pytest.mark.parametrize("changes", BAD_DOCUMENTS.values(), ids=BAD_DOCUMENTS.keys())
def test_a_key_document_with_a_bad_field_is_refused_as_bad_key_document(doc, changes):
    assert keydoc_reason(rewired(doc, **changes)) is Reason.BAD_KEY_DOCUMENT


def test_a_key_document_with_an_unknown_field_is_refused_as_bad_key_document(doc):
    assert keydoc_reason(rewired(doc, extra=1)) is Reason.BAD_KEY_DOCUMENT


def test_a_key_document_missing_a_field_is_refused_as_bad_key_document(doc):
    m = decode(doc.encode())
    del m["url"]
    assert keydoc_reason(encode(m)) is Reason.BAD_KEY_DOCUMENT


def test_a_key_document_that_is_not_msgpack_is_refused_as_bad_key_document():
    assert keydoc_reason(b"\xc1") is Reason.BAD_KEY_DOCUMENT


def test_a_key_document_over_the_size_limit_is_refused_as_bad_key_document(doc):
    assert keydoc_reason(rewired(doc, name="x" * MAX_KEYDOC_SIZE)) is Reason.BAD_KEY_DOCUMENT


@pytest.mark.parametrize("version", [0, 2, "1", True])
def test_a_key_document_of_another_format_version_is_refused_as_unsupported_version(doc, version):
    assert keydoc_reason(rewired(doc, v=version)) is Reason.UNSUPPORTED_VERSION


def test_a_key_document_with_an_invalid_field_cannot_exist(doc):
    with pytest.raises(ProtocolError) as caught:
        dataclasses.replace(doc, url="ncen.douane.example")
    assert caught.value.reason is Reason.BAD_KEY_DOCUMENT
