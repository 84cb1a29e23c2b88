"""The envelope: the signed unit on the wire.

Wire form (canonical msgpack map; short keys, sorted on encoding):

====== ===================================================================
key    meaning
====== ===================================================================
v      format version (int, ``FORMAT_VERSION``)
id     UUIDv7 string, unique per originator, time-ordered
typ    message type (``MessageType``)
from   originator node id
kid    key id of the originator's signing key
to     recipients: node ids, or ``group:NAME`` ids for a hub to expand
ts     created, epoch milliseconds
exp    expires, epoch milliseconds
tlp    FIRST TLP 2.0 label
hc     handling conditions, SIENA style: list of {"c": "H0".."H3", "t": text}
ev     source and information evaluation, e.g. "B2" (optional)
cat    catalog version the payload is coded against
pl     sealed payload: {"n": nonce, "ct": ciphertext, "k": {recipient: {"kid", "n", "w"}}}
sig    Ed25519 signature of the originator (64 bytes)
via    relay path: list of {"node": id, "ts": ms}; NOT signed, so hubs can extend it
====== ===================================================================

The signature covers ``b"ncen-envelope-v1\\0"`` followed by the canonical encoding of
the map without ``sig`` and ``via``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, NoReturn

import uuid_utils

from . import codec
from .crypto import Sealed, Signer, WrappedKey, verify_signature
from .errors import DecodeError, ProtocolError, Reason

FORMAT_VERSION = 1
SIGNATURE_CONTEXT = b"ncen-envelope-v1\0"
MAX_ENVELOPE_SIZE = 1 << 20  # 1 MiB
MAX_RECIPIENTS = 256
MAX_RELAY_HOPS = 8
MAX_LIFETIME_MS = 400 * 24 * 3600 * 1000

NODE_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
GROUP_ID_RE = re.compile(r"^group:[a-z0-9][a-z0-9-]{0,62}$")
KID_RE = re.compile(r"^[0-9a-f]{16}$")
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


class MessageType(StrEnum):
    ALERT = "alert"
    BULLETIN = "bulletin"
    RECEIPT = "receipt"
    TRUST_APPROVE = "trust.approve"
    TRUST_REFUSE = "trust.refuse"
    KEY_ROTATE = "key.rotate"
    CATALOG_UPDATE = "catalog.update"


class TLP(StrEnum):
    """FIRST TLP 2.0. Labels are never translated."""

    CLEAR = "CLEAR"
    GREEN = "GREEN"
    AMBER = "AMBER"
    AMBER_STRICT = "AMBER+STRICT"
    RED = "RED"

    @property
    def label(self) -> str:
        return f"TLP:{self.value}"


class HandlingCode(StrEnum):
    """Handling conditions in the style of Europol's SIENA."""

    H0 = "H0"  # use for crime prevention and enforcement only
    H1 = "H1"  # not to be used in court without the owner's permission
    H2 = "H2"  # not to be passed on without the owner's permission
    H3 = "H3"  # other restrictions, given as text


_TYPES: dict[str, MessageType] = {t.value: t for t in MessageType}
_TLPS: dict[str, TLP] = {t.value: t for t in TLP}

SOURCE_RELIABILITY = ("A", "B", "C", "X")
INFORMATION_RELIABILITY = ("1", "2", "3", "4")


@dataclass(frozen=True, slots=True, kw_only=True)
class Handling:
    code: HandlingCode
    text: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "code", HandlingCode(self.code))
        if self.code is HandlingCode.H3 and not self.text.strip():
            raise ValueError("handling condition H3 needs its restriction as text")
        if not isinstance(self.text, str):
            raise ValueError("handling text must be text")
        if len(self.text) > 2000:
            raise ValueError("handling text is longer than 2000 characters")
        try:
            codec.check_text(self.text)
        except DecodeError as exc:
            raise ValueError(f"handling text: {exc.detail}") from None


@dataclass(frozen=True, slots=True, kw_only=True)
class Hop:
    node: str
    ts: int

    def __post_init__(self) -> None:
        _check(isinstance(self.node, str) and bool(NODE_ID_RE.match(self.node)), "bad hop node")
        _check(_is_int(self.ts), "bad hop time")


def new_envelope_id(now_ms: int) -> str:
    """A UUIDv7 for an envelope created at now_ms."""
    return str(uuid_utils.uuid7(nanoseconds=now_ms * 1_000_000))


@dataclass(frozen=True, slots=True, kw_only=True)
class Envelope:
    """A decoded (or about to be encoded) envelope. Invalid field values cannot exist."""

    id: str
    type: MessageType
    sender: str
    kid: str
    recipients: tuple[str, ...]
    created: int
    expires: int
    tlp: TLP
    catalog: int
    sealed: Sealed
    handling: tuple[Handling, ...] = ()
    evaluation: str | None = None
    signature: bytes = b""
    relay: tuple[Hop, ...] = ()
    version: int = FORMAT_VERSION
    #: The exact bytes this envelope was decoded from (empty for one built locally).
    raw: bytes = field(default=b"", compare=False, repr=False)
    #: The signed bytes as decoded (empty: computed from the fields). Like ``raw``, it
    #: describes the bytes received: an envelope changed with ``replace`` must reset both.
    signed_bytes: bytes = field(default=b"", compare=False, repr=False)

    def __post_init__(self) -> None:
        # Plain conditions, not helper calls: this runs for every envelope made or
        # received, and a well-formed one passes each test once, building no message.
        if type(self.id) is not str or UUID_RE.match(self.id) is None:
            _bad("id must be a UUIDv7")
        if type(self.sender) is not str or NODE_ID_RE.match(self.sender) is None:
            _bad("bad sender id")
        if type(self.kid) is not str or KID_RE.match(self.kid) is None:
            _bad("bad key id")
        recipients = self.recipients
        if not 0 < len(recipients) <= MAX_RECIPIENTS:
            _bad("recipients must be 1..256 ids")
        for r in recipients:
            if type(r) is not str or (NODE_ID_RE.match(r) or GROUP_ID_RE.match(r)) is None:
                _bad(f"bad recipient id {r!r}")
        if len(recipients) > 1 and len(set(recipients)) != len(recipients):
            _bad("recipients repeat")
        if type(self.created) is not int or self.created <= 0:
            _bad("created must be epoch ms")
        if type(self.expires) is not int:
            _bad("expires must be epoch ms")
        if not self.created < self.expires <= self.created + MAX_LIFETIME_MS:
            _bad("bad lifetime")
        if type(self.catalog) is not int or not 0 < self.catalog < 2**31:
            _bad("bad catalog version")
        if self.evaluation is not None and not _valid_evaluation(self.evaluation):
            _bad("bad evaluation")
        if len(self.relay) > MAX_RELAY_HOPS:
            _bad("relay path too long")
        _check_sealed(self.sealed)
        kind = _TYPES.get(self.type) if isinstance(self.type, str) else None
        if kind is None:
            raise ProtocolError(Reason.UNSUPPORTED_TYPE, f"unknown type {self.type!r}")
        object.__setattr__(self, "type", kind)
        tlp = _TLPS.get(self.tlp) if isinstance(self.tlp, str) else None
        if tlp is None:
            raise ProtocolError(Reason.BAD_FIELD, f"unknown TLP label {self.tlp!r}")
        object.__setattr__(self, "tlp", tlp)

    # -- wire form ---------------------------------------------------------------------

    def _signed_map(self) -> dict[str, Any]:
        """The signed fields as a map in canonical (sorted) key order.

        Every value was checked when the envelope was made (ids and codes are ASCII, the
        handling texts NFC), so the map packs as it is, without a canonical walk."""
        m: dict[str, Any] = {"cat": self.catalog}
        if self.evaluation is not None:
            m["ev"] = self.evaluation
        m["exp"] = self.expires
        m["from"] = self.sender
        m["hc"] = [{"c": h.code.value, "t": h.text} for h in self.handling]
        m["id"] = self.id
        m["kid"] = self.kid
        m["pl"] = {
            "ct": self.sealed.ciphertext,
            "k": {
                r: {"kid": w.kid, "n": w.nonce, "w": w.wrapped}
                for r, w in sorted(self.sealed.keys.items())
            },
            "n": self.sealed.nonce,
        }
        m["tlp"] = self.tlp.value
        m["to"] = list(self.recipients)
        m["ts"] = self.created
        m["typ"] = self.type.value
        m["v"] = self.version
        return m

    def signing_input(self) -> bytes:
        """The bytes the originator's signature covers."""
        return self.signed_bytes or SIGNATURE_CONTEXT + codec.pack_decoded(self._signed_map())

    def signed(self, signer: Signer) -> Envelope:
        """This envelope with the originator's signature."""
        signature = signer.sign(self.signing_input())
        # A copy with only the signature changed: every other field was checked when this
        # envelope was made, so the copy skips __post_init__ (replace() would redo it).
        copy = object.__new__(Envelope)
        for name in Envelope.__slots__:
            object.__setattr__(copy, name, getattr(self, name))
        object.__setattr__(copy, "signature", signature)
        return copy

    def encode(self) -> bytes:
        m = self._signed_map()
        wire: dict[str, Any] = {}
        for k, v in m.items():  # "sig" sorts between "pl" and "tlp", "via" after "v"
            if k == "tlp":
                wire["sig"] = self.signature
            wire[k] = v
        wire["via"] = [{"node": h.node, "ts": h.ts} for h in self.relay]
        return codec.pack_decoded(wire)

    def with_hop(self, node: str, ts: int) -> Envelope:
        """The envelope as a hub relays it: the signature is untouched."""
        if len(self.relay) >= MAX_RELAY_HOPS:
            raise ProtocolError(Reason.BAD_FIELD, "hop limit reached")
        return replace(self, relay=(*self.relay, Hop(node=node, ts=ts)), raw=b"",
                       signed_bytes=self.signing_input())

    def verify(self, sign_public: bytes) -> None:
        """Raise SignatureError unless the originator's signature verifies with this key."""
        verify_signature(sign_public, self.signing_input(), self.signature)

    def check_times(self, now_ms: int, *, max_skew_ms: int) -> None:
        """Refuse an envelope that has expired or is dated too far in the future."""
        if self.expires <= now_ms:
            raise ProtocolError(Reason.EXPIRED, f"expired at {self.expires}")
        if self.created > now_ms + max_skew_ms:
            raise ProtocolError(Reason.FUTURE_DATED, "created beyond the allowed clock skew")


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _valid_evaluation(ev: Any) -> bool:
    return (
        isinstance(ev, str)
        and len(ev) == 2
        and ev[0] in SOURCE_RELIABILITY
        and ev[1] in INFORMATION_RELIABILITY
    )


def _check_sealed(sealed: Sealed) -> None:
    if type(sealed.nonce) is not bytes or len(sealed.nonce) != 24:
        _bad("payload nonce must be 24 bytes")
    if type(sealed.ciphertext) is not bytes or len(sealed.ciphertext) < 16:
        _bad("payload ciphertext too short")
    if type(sealed.keys) is not dict or not 0 < len(sealed.keys) <= MAX_RECIPIENTS:
        _bad("bad key slots")
    for recipient, slot in sealed.keys.items():
        if type(recipient) is not str or NODE_ID_RE.match(recipient) is None:
            _bad("bad key slot recipient")
        if type(slot.kid) is not str or KID_RE.match(slot.kid) is None:
            _bad("bad slot kid")
        if type(slot.nonce) is not bytes or len(slot.nonce) != 24:
            _bad("bad slot nonce")
        if type(slot.wrapped) is not bytes or len(slot.wrapped) != 48:
            _bad("bad wrapped key")


def _bad(detail: str) -> NoReturn:
    raise ProtocolError(Reason.BAD_FIELD, detail)


def _check(ok: bool, detail: str) -> None:
    if not ok:
        raise ProtocolError(Reason.BAD_FIELD, detail)


_REQUIRED = {"v", "id", "typ", "from", "kid", "to", "ts", "exp", "tlp", "hc", "cat", "pl", "sig", "via"}
_OPTIONAL = {"ev"}
_UNSIGNED = {"sig", "via"}
_REQUIRED_AND_OPTIONAL = _REQUIRED | _OPTIONAL
#: The exact type of each field (``type(...) is``: a boolean is not an integer here).
_FIELD_TYPES = (("v", int), ("id", str), ("typ", str), ("from", str), ("kid", str),
                ("to", list), ("ts", int), ("exp", int), ("tlp", str), ("hc", list),
                ("cat", int), ("sig", bytes), ("via", list))


def _signed_part(m: dict[str, Any]) -> dict[str, Any]:
    signed = dict(m)
    del signed["sig"], signed["via"]
    return signed


def _decode_sealed(pl: Any) -> Sealed:
    if not isinstance(pl, dict) or set(pl) != {"n", "ct", "k"}:
        raise ProtocolError(Reason.BAD_FIELD, "payload must have n, ct and k")
    keys = pl["k"]
    _check(isinstance(keys, dict), "bad key slots")
    wrapped = {}
    for recipient, slot in keys.items():
        _check(isinstance(slot, dict) and slot.keys() == _SLOT_KEYS, "bad key slot")
        wrapped[recipient] = WrappedKey(kid=slot["kid"], nonce=slot["n"], wrapped=slot["w"])
    # The values (sizes, ids) are checked where every envelope is: Envelope.__post_init__.
    return Sealed(nonce=pl["n"], ciphertext=pl["ct"], keys=wrapped)


_SLOT_KEYS = frozenset({"kid", "n", "w"})


def decode_envelope(data: bytes, *, max_size: int = MAX_ENVELOPE_SIZE) -> Envelope:
    """Bytes to a typed envelope, refusing anything malformed or non-canonical.

    The signature is not checked here: the caller looks up the originator's key and
    calls ``Envelope.verify``.
    """
    m = codec.decode(data, max_size=max_size)
    if not isinstance(m, dict):
        raise DecodeError(Reason.BAD_ENCODING, "an envelope is a map")
    if "v" in m and not (_is_int(m["v"]) and m["v"] == FORMAT_VERSION):
        raise ProtocolError(Reason.UNSUPPORTED_VERSION, f"format version {m['v']!r}")
    if not (m.keys() == _REQUIRED or m.keys() == _REQUIRED_AND_OPTIONAL):
        missing = _REQUIRED - m.keys()
        if missing:
            raise ProtocolError(Reason.BAD_FIELD, f"missing fields: {', '.join(sorted(missing))}")
        extra = m.keys() - _REQUIRED - _OPTIONAL
        if extra:
            raise ProtocolError(Reason.BAD_FIELD, f"unknown fields: {', '.join(sorted(extra))}")
    for key, kind in _FIELD_TYPES:
        if type(m[key]) is not kind:
            _bad(f"field {key!r} has the wrong type")
    ev = m.get("ev")
    if "ev" in m and type(ev) is not str:
        _bad("field 'ev' has the wrong type")
    to, hc, via, sig = m["to"], m["hc"], m["via"], m["sig"]
    _check(len(sig) == 64, "signature must be 64 bytes")
    handling = []
    for h in hc:
        _check(isinstance(h, dict) and set(h) == {"c", "t"}, "bad handling condition")
        _check(isinstance(h["t"], str), "bad handling text")
        try:
            handling.append(Handling(code=h["c"], text=h["t"]))
        except ValueError as exc:
            raise ProtocolError(Reason.BAD_FIELD, f"handling: {exc}") from None
    hops = []
    for h in via:
        _check(isinstance(h, dict) and set(h) == {"node", "ts"}, "bad relay hop")
        hops.append(Hop(node=h["node"], ts=h["ts"]))
    return Envelope(
        version=m["v"],
        id=m["id"],
        type=m["typ"],
        sender=m["from"],
        kid=m["kid"],
        recipients=tuple(to),
        created=m["ts"],
        expires=m["exp"],
        tlp=m["tlp"],
        handling=tuple(handling),
        evaluation=ev,
        catalog=m["cat"],
        sealed=_decode_sealed(m["pl"]),
        signature=sig,
        relay=tuple(hops),
        raw=bytes(data),
        # The decoded map is canonical and in wire order: its signed part re-packs as is.
        signed_bytes=SIGNATURE_CONTEXT + codec.pack_decoded(_signed_part(m)),
    )
