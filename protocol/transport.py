"""Request signing for federation HTTP: RFC 9421 HTTP Message Signatures, Ed25519.

Every federation request covers its method, target URI, content type and a
Content-Digest (RFC 9530, SHA-256) of the body; the key id is ``NODE_ID#KID``. The
receiver resolves the key from its own trust store, so an unknown or untrusted node
is refused before its body is parsed. Pure: the clock and the keys are arguments.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from http_message_signatures import HTTPMessageSigner, HTTPMessageVerifier, algorithms
from http_message_signatures.digests import ContentDigest
from http_message_signatures.exceptions import HTTPMessageSignaturesException, InvalidSignature

from .errors import ProtocolError, Reason

COVERED = ("@method", "@target-uri", "content-type", "content-digest")
SIGNATURE_TAG = "ncen-federation"
MAX_REQUEST_AGE = datetime.timedelta(minutes=5)


class _Headers(dict[str, str]):
    """Case-insensitive enough for the library: we store lower-case names."""

    def __setitem__(self, key: str, value: str) -> None:
        super().__setitem__(key.lower(), value)

    def __delitem__(self, key: str) -> None:
        super().__delitem__(key.lower())

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and super().__contains__(key.lower())


class _Message:
    def __init__(self, method: str, url: str, headers: Mapping[str, str]) -> None:
        self.method = method.upper()
        self.url = url
        self.headers = _Headers({k.lower(): v for k, v in headers.items()})


class _KeyResolver:
    def __init__(
        self,
        private: bytes | None = None,
        public: Callable[[str], bytes] | None = None,
    ) -> None:
        self._private = private
        self._public = public

    def resolve_private_key(self, key_id: str) -> Ed25519PrivateKey:
        assert self._private is not None
        return Ed25519PrivateKey.from_private_bytes(self._private)

    def resolve_public_key(self, key_id: str) -> Ed25519PublicKey:
        assert self._public is not None
        return Ed25519PublicKey.from_public_bytes(self._public(key_id))


def make_key_id(node_id: str, kid: str) -> str:
    return f"{node_id}#{kid}"


def split_key_id(key_id: str) -> tuple[str, str]:
    node_id, sep, kid = key_id.partition("#")
    if not sep or not node_id or not kid:
        raise ProtocolError(Reason.BAD_REQUEST_SIGNATURE, "key id must be NODE#KID")
    return node_id, kid


def sign_request(
    *,
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    node_id: str,
    kid: str,
    sign_secret: bytes,
    now: datetime.datetime,
) -> dict[str, str]:
    """The headers to send: the given ones plus Content-Digest, Signature-Input, Signature."""
    msg = _Message(method, url, headers)
    signer = HTTPMessageSigner(
        signature_algorithm=algorithms.ED25519, key_resolver=_KeyResolver(private=sign_secret)
    )
    signer.sign(
        msg,
        key_id=make_key_id(node_id, kid),
        created=now,
        tag=SIGNATURE_TAG,
        covered_component_ids=COVERED,
        body=body,
    )
    return dict(msg.headers)


def signer_of(headers: Mapping[str, str]) -> tuple[str, str]:
    """(node id, kid) that a request claims to be signed by, read before any verification.

    Only used to find the key; nothing is trusted until ``verify_request`` succeeds.
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    sig_input = lowered.get("signature-input")
    if not sig_input or "signature" not in lowered:
        raise ProtocolError(Reason.BAD_REQUEST_SIGNATURE, "request is not signed")
    marker = 'keyid="'
    start = sig_input.find(marker)
    if start < 0 or sig_input.count(marker) != 1:
        raise ProtocolError(Reason.BAD_REQUEST_SIGNATURE, "exactly one signature with a keyid")
    end = sig_input.find('"', start + len(marker))
    if end < 0:
        raise ProtocolError(Reason.BAD_REQUEST_SIGNATURE, "malformed Signature-Input")
    return split_key_id(sig_input[start + len(marker) : end])


class _Verifier(HTTPMessageVerifier):
    """The library's verifier, with the clock as an argument instead of read inside."""

    def __init__(self, *, now: datetime.datetime, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._now = now

    @staticmethod
    def _time(params: Any, name: str) -> datetime.datetime:
        value = params[name]
        if type(value) is not int:
            raise InvalidSignature(f'Parameter "{name}" must be a Structured Field Integer')
        try:
            return datetime.datetime.fromtimestamp(value, tz=datetime.UTC)
        except (OverflowError, OSError, ValueError) as exc:
            raise InvalidSignature(f'Malformed "{name}" parameter') from exc

    def validate_created_and_expires(self, sig_input: Any, max_age: datetime.timedelta | None = None) -> None:
        params = sig_input.params
        if "created" not in params:
            raise InvalidSignature('Signature is missing a required "created" parameter')
        created = self._time(params, "created")
        if created > self._now + self.max_clock_skew:
            raise InvalidSignature('Signature "created" parameter is set to a time in the future')
        if "expires" in params and self._time(params, "expires") < self._now - self.max_clock_skew:
            raise InvalidSignature('Signature "expires" parameter is set to a time in the past')
        if max_age is not None and created + max_age < self._now - self.max_clock_skew:
            raise InvalidSignature(f"Signature age exceeds maximum allowable age {max_age}")


def verify_request(
    *,
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    public_key: bytes,
    now: datetime.datetime,
) -> None:
    """Raise ProtocolError unless the request is signed by public_key over its exact body
    (``now`` is the receiver's clock)."""
    msg = _Message(method, url, headers)
    # The digest first, by itself, so that a body changed in transit is told apart from
    # a bad signature by what failed rather than by an error's wording.
    if not {"signature", "signature-input"} <= msg.headers.keys():
        raise ProtocolError(Reason.BAD_REQUEST_SIGNATURE, "request is not signed")
    digests = [v for k, v in headers.items() if k.lower() == "content-digest"]
    if len(digests) != 1:
        raise ProtocolError(Reason.BAD_DIGEST, "exactly one Content-Digest field is required")
    try:
        ContentDigest.verify(digests[0], body)
    except (InvalidSignature, HTTPMessageSignaturesException) as exc:
        raise ProtocolError(Reason.BAD_DIGEST, str(exc)[:200]) from exc
    verifier = _Verifier(
        now=now,
        signature_algorithm=algorithms.ED25519,
        key_resolver=_KeyResolver(public=lambda _kid: public_key),
    )
    try:
        verifier.verify(
            msg,
            max_age=MAX_REQUEST_AGE,
            expect_tag=SIGNATURE_TAG,
            require_components=COVERED,
            body=body,
        )
    except (InvalidSignature, HTTPMessageSignaturesException, ValueError) as exc:
        raise ProtocolError(Reason.BAD_REQUEST_SIGNATURE, str(exc)[:200]) from exc
