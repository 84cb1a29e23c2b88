"""Keys, fingerprints, signatures and end-to-end sealing. Pure: keys are arguments.

Sealing: a fresh 32-byte content key per message encrypts the payload with
XChaCha20-Poly1305; the content key is wrapped for each recipient with the pairwise
key of (originator X25519 secret, recipient X25519 public), precomputed once per peer
(``pairwise_key``), so a message costs symmetric work only. Both encryptions carry
associated data naming the envelope id, the originator and (for a wrap) the recipient:
a ciphertext moved into another envelope or another recipient's slot does not open.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from functools import lru_cache

import nacl.bindings as sodium
import nacl.exceptions
import nacl.public
import nacl.signing
import nacl.utils

from .errors import ProtocolError, Reason, SignatureError

NONCE_SIZE = sodium.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
KEY_SIZE = sodium.crypto_aead_xchacha20poly1305_ietf_KEYBYTES


def key_id(sign_public: bytes) -> str:
    """Short id of a signing key: 16 hex characters of its SHA-256."""
    return hashlib.sha256(sign_public).hexdigest()[:16]


def fingerprint(sign_public: bytes, enc_public: bytes) -> str:
    """What administrators compare out of band: 32 base32 characters in groups of four."""
    digest = hashlib.sha256(b"ncen-fingerprint\0" + sign_public + enc_public).digest()
    text = base64.b32encode(digest).decode("ascii")[:32]
    return "-".join(text[i : i + 4] for i in range(0, 32, 4))


@dataclass(frozen=True, slots=True)
class NodeKeys:
    """One generation of a node's secret keys (signing and encryption)."""

    sign_secret: bytes  # 32-byte Ed25519 seed
    enc_secret: bytes  # 32-byte X25519 secret
    # Derived once: key derivation costs as much as a signature.
    sign_public: bytes = field(init=False, repr=False)
    enc_public: bytes = field(init=False, repr=False)
    kid: str = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if len(self.sign_secret) != 32 or len(self.enc_secret) != 32:
            raise ValueError("node keys are two 32-byte secrets")
        sign_public = bytes(nacl.signing.SigningKey(self.sign_secret).verify_key)
        object.__setattr__(self, "sign_public", sign_public)
        object.__setattr__(
            self, "enc_public", bytes(nacl.public.PrivateKey(self.enc_secret).public_key)
        )
        object.__setattr__(self, "kid", key_id(sign_public))

    @classmethod
    def generate(cls) -> NodeKeys:
        return cls(
            sign_secret=bytes(nacl.signing.SigningKey.generate()),
            enc_secret=bytes(nacl.public.PrivateKey.generate()),
        )

    @property
    def signing_key(self) -> nacl.signing.SigningKey:
        return nacl.signing.SigningKey(self.sign_secret)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.sign_public, self.enc_public)

    def __repr__(self) -> str:  # never show secrets, even in a traceback
        return f"NodeKeys(kid={self.kid})"


class Signer:
    """Signs with one Ed25519 key, reusing the expanded key across calls."""

    def __init__(self, sign_secret: bytes) -> None:
        self._key = nacl.signing.SigningKey(sign_secret)

    def sign(self, message: bytes) -> bytes:
        return self._key.sign(message).signature


@lru_cache(maxsize=1024)
def _verify_key(public: bytes) -> nacl.signing.VerifyKey:
    return nacl.signing.VerifyKey(public)


def verify_signature(public: bytes, message: bytes, signature: bytes) -> None:
    """Raise SignatureError unless signature is public's Ed25519 signature of message."""
    if len(public) != 32 or len(signature) != 64:
        raise SignatureError(Reason.BAD_SIGNATURE, "malformed key or signature")
    try:
        _verify_key(public).verify(message, signature)
    except (nacl.exceptions.BadSignatureError, ValueError, TypeError) as exc:
        raise SignatureError(Reason.BAD_SIGNATURE, "signature does not verify") from exc


def pairwise_key(my_enc_secret: bytes, their_enc_public: bytes) -> bytes:
    """The symmetric key two nodes share (X25519 + HSalsa20), computed once per peer."""
    if len(their_enc_public) != 32:
        raise ProtocolError(Reason.BAD_KEY_DOCUMENT, "encryption key must be 32 bytes")
    return sodium.crypto_box_beforenm(their_enc_public, my_enc_secret)


def _payload_ad(envelope_id: str, originator: str) -> bytes:
    return b"ncen-payload\0" + envelope_id.encode() + b"\0" + originator.encode()


def _wrap_ad(envelope_id: str, originator: str, recipient: str) -> bytes:
    return (
        b"ncen-wrap\0" + envelope_id.encode() + b"\0" + originator.encode() + b"\0"
        + recipient.encode()
    )


@dataclass(frozen=True, slots=True)
class WrappedKey:
    """The content key wrapped for one recipient key."""

    kid: str  # the recipient's signing key id of the generation whose enc key was used
    nonce: bytes
    wrapped: bytes


@dataclass(frozen=True, slots=True)
class Sealed:
    """A sealed payload: ciphertext plus one wrapped content key per recipient."""

    nonce: bytes
    ciphertext: bytes
    keys: dict[str, WrappedKey]


def seal(
    plaintext: bytes,
    *,
    envelope_id: str,
    originator: str,
    recipients: dict[str, tuple[str, bytes]],
) -> Sealed:
    """Encrypt plaintext for recipients {node id: (their key id, pairwise key)}."""
    content_key = nacl.utils.random(KEY_SIZE)
    nonce = nacl.utils.random(NONCE_SIZE)
    ciphertext = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(
        plaintext, _payload_ad(envelope_id, originator), nonce, content_key
    )
    keys = {}
    for recipient, (kid, shared) in recipients.items():
        wrap_nonce = nacl.utils.random(NONCE_SIZE)
        wrapped = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(
            content_key, _wrap_ad(envelope_id, originator, recipient), wrap_nonce, shared
        )
        keys[recipient] = WrappedKey(kid=kid, nonce=wrap_nonce, wrapped=wrapped)
    return Sealed(nonce=nonce, ciphertext=ciphertext, keys=keys)


def open_sealed(
    sealed: Sealed,
    *,
    envelope_id: str,
    originator: str,
    recipient: str,
    shared_key: bytes,
) -> bytes:
    """Decrypt our slot of a sealed payload; raise ProtocolError(bad_payload) on any failure."""
    slot = sealed.keys.get(recipient)
    if slot is None:
        raise ProtocolError(Reason.NOT_A_RECIPIENT, f"no key slot for {recipient}")
    try:
        content_key = sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(
            slot.wrapped, _wrap_ad(envelope_id, originator, recipient), slot.nonce, shared_key
        )
        return sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(
            sealed.ciphertext, _payload_ad(envelope_id, originator), sealed.nonce, content_key
        )
    except (nacl.exceptions.CryptoError, ValueError, TypeError) as exc:
        raise ProtocolError(Reason.BAD_PAYLOAD, "payload does not decrypt for this recipient") from exc
