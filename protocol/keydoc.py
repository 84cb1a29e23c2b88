"""The node's public key document: who a node is, where it listens, and its keys.

Self-signed by the signing key it names. Served at ``/.well-known/ncen-node``, sent
with a trust request, and carried (signed by the old key) in a key rotation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from . import codec
from .crypto import Signer, fingerprint, key_id, verify_signature
from .envelope import FORMAT_VERSION, NODE_ID_RE
from .errors import ProtocolError, Reason

CONTEXT = b"ncen-keydoc-v1\0"
MAX_KEYDOC_SIZE = 16 * 1024
COUNTRY_RE = re.compile(r"^[A-Z]{2}$")
LANG_RE = re.compile(r"^[a-z]{2,3}$")

_FIELDS = {"v", "id", "name", "country", "langs", "url", "sign", "enc", "ts", "sig"}


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyDocument:
    node_id: str
    name: str
    country: str
    languages: tuple[str, ...]
    url: str
    sign_public: bytes
    enc_public: bytes
    issued: int  # epoch ms
    signature: bytes = b""

    def __post_init__(self) -> None:
        def need(ok: bool, what: str) -> None:
            if not ok:
                raise ProtocolError(Reason.BAD_KEY_DOCUMENT, what)

        need(isinstance(self.node_id, str) and bool(NODE_ID_RE.match(self.node_id)), "bad node id")
        need(isinstance(self.name, str) and 0 < len(self.name) <= 200, "bad name")
        need(isinstance(self.country, str) and bool(COUNTRY_RE.match(self.country)), "bad country")
        need(
            0 < len(self.languages) <= 16
            and all(isinstance(x, str) and LANG_RE.match(x) for x in self.languages),
            "bad languages",
        )
        need(
            isinstance(self.url, str) and self.url.startswith(("http://", "https://"))
            and len(self.url) <= 500,
            "bad url",
        )
        need(isinstance(self.sign_public, bytes) and len(self.sign_public) == 32, "bad sign key")
        need(isinstance(self.enc_public, bytes) and len(self.enc_public) == 32, "bad enc key")
        need(isinstance(self.issued, int) and not isinstance(self.issued, bool), "bad issued")

    @property
    def kid(self) -> str:
        return key_id(self.sign_public)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.sign_public, self.enc_public)

    def _unsigned(self) -> dict[str, Any]:
        return {
            "v": FORMAT_VERSION, "id": self.node_id, "name": self.name, "country": self.country,
            "langs": list(self.languages), "url": self.url, "sign": self.sign_public,
            "enc": self.enc_public, "ts": self.issued,
        }

    def signed(self, signer: Signer) -> KeyDocument:
        return replace(self, signature=signer.sign(CONTEXT + codec.encode(self._unsigned())))

    def encode(self) -> bytes:
        return codec.encode({**self._unsigned(), "sig": self.signature})

    def to_json(self) -> dict[str, Any]:
        """A readable view (keys in hex) for the API and the console."""
        return {
            "id": self.node_id, "name": self.name, "country": self.country,
            "languages": list(self.languages), "url": self.url, "kid": self.kid,
            "sign_public": self.sign_public.hex(), "enc_public": self.enc_public.hex(),
            "fingerprint": self.fingerprint, "issued": self.issued,
        }


def decode_keydoc(data: bytes) -> KeyDocument:
    """Decode a key document and check its self-signature."""
    try:
        m = codec.decode(data, max_size=MAX_KEYDOC_SIZE)
    except ProtocolError as exc:
        raise ProtocolError(Reason.BAD_KEY_DOCUMENT, exc.detail) from exc
    if not isinstance(m, dict) or set(m) != _FIELDS:
        raise ProtocolError(Reason.BAD_KEY_DOCUMENT, "key document fields are wrong")
    if m["v"] != FORMAT_VERSION or isinstance(m["v"], bool):
        raise ProtocolError(Reason.UNSUPPORTED_VERSION, f"format version {m['v']!r}")
    if not isinstance(m["langs"], list) or not isinstance(m["sig"], bytes):
        raise ProtocolError(Reason.BAD_KEY_DOCUMENT, "key document fields are wrong")
    doc = KeyDocument(
        node_id=m["id"], name=m["name"], country=m["country"], languages=tuple(m["langs"]),
        url=m["url"], sign_public=m["sign"], enc_public=m["enc"], issued=m["ts"],
        signature=m["sig"],
    )
    verify_signature(doc.sign_public, CONTEXT + codec.encode(doc._unsigned()), doc.signature)
    return doc
