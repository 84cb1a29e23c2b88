"""Batches: many envelopes in one federation POST, and the per-envelope answer.

Each envelope travels as a ``bin`` of its own exact bytes, so the receiver verifies
and stores every envelope's own signed bytes; the batch is authenticated as a whole by
the request signature.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from . import codec
from .envelope import FORMAT_VERSION, NODE_ID_RE, UUID_RE
from .errors import DecodeError, ProtocolError, Reason

MAX_BATCH_ENVELOPES = 200
MAX_BATCH_SIZE = 8 << 20


@dataclass(frozen=True, slots=True, kw_only=True)
class Batch:
    txn: str
    sender: str
    envelopes: tuple[bytes, ...]

    def encode(self) -> bytes:
        return codec.encode(
            {"v": FORMAT_VERSION, "txn": self.txn, "from": self.sender, "envs": list(self.envelopes)}
        )


def decode_batch(data: bytes, *, max_size: int = MAX_BATCH_SIZE) -> Batch:
    m = codec.decode(data, max_size=max_size)
    if not isinstance(m, dict) or set(m) != {"v", "txn", "from", "envs"}:
        raise DecodeError(Reason.BAD_FIELD, "a batch is a map of v, txn, from and envs")
    if m["v"] != FORMAT_VERSION or isinstance(m["v"], bool):
        raise ProtocolError(Reason.UNSUPPORTED_VERSION, f"format version {m['v']!r}")
    if not isinstance(m["txn"], str) or not UUID_RE.match(m["txn"]):
        raise ProtocolError(Reason.BAD_FIELD, "txn must be a UUIDv7")
    if not isinstance(m["from"], str) or not NODE_ID_RE.match(m["from"]):
        raise ProtocolError(Reason.BAD_FIELD, "bad batch sender")
    envs = m["envs"]
    if not isinstance(envs, list) or not all(isinstance(e, bytes) for e in envs):
        raise ProtocolError(Reason.BAD_FIELD, "envs must be a list of byte strings")
    if not 0 < len(envs) <= MAX_BATCH_ENVELOPES:
        raise ProtocolError(Reason.TOO_MANY, f"a batch holds 1..{MAX_BATCH_ENVELOPES} envelopes")
    return Batch(txn=m["txn"], sender=m["from"], envelopes=tuple(envs))


class Outcome(StrEnum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True, kw_only=True)
class EnvelopeResult:
    index: int
    id: str | None
    outcome: Outcome
    reason: str = ""
    detail: str = ""

    @classmethod
    def rejected(cls, index: int, eid: str | None, error: ProtocolError) -> EnvelopeResult:
        return cls(
            index=index, id=eid, outcome=Outcome.REJECTED, reason=error.reason.value,
            detail=error.detail,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class BatchResult:
    """The answer to a batch. ``receipt`` is the receiver's signed delivery receipt (an
    encoded envelope) for what it accepted, handed back inline when the requester is the
    originator; empty when there is none."""

    txn: str
    results: tuple[EnvelopeResult, ...]
    receipt: bytes = b""

    def encode(self) -> bytes:
        return codec.encode(
            {
                "txn": self.txn,
                "results": [
                    {"i": r.index, "id": r.id or "", "o": r.outcome.value, "r": r.reason,
                     "d": r.detail}
                    for r in self.results
                ],
                "receipt": self.receipt,
            }
        )


def _envelope_result(r: Any) -> EnvelopeResult:
    # Typed here, so a peer's answer cannot hand the delivery loop an unhashable index.
    if not (
        isinstance(r, dict)
        and type(r.get("i")) is int
        and r["i"] >= 0
        and all(isinstance(r.get(k), str) for k in ("id", "o", "r", "d"))
    ):
        raise DecodeError(Reason.BAD_FIELD, "malformed envelope result")
    return EnvelopeResult(
        index=r["i"], id=r["id"] or None, outcome=Outcome(r["o"]), reason=r["r"], detail=r["d"]
    )


def decode_batch_result(data: bytes) -> BatchResult:
    m = codec.decode(data, max_size=MAX_BATCH_SIZE)
    if (
        not isinstance(m, dict)
        or set(m) != {"txn", "results", "receipt"}
        or not isinstance(m["txn"], str)
        or not isinstance(m["results"], list)
        or not isinstance(m["receipt"], bytes)
    ):
        raise DecodeError(Reason.BAD_FIELD, "malformed batch result")
    try:
        return BatchResult(txn=m["txn"], results=tuple(_envelope_result(r) for r in m["results"]),
                           receipt=m["receipt"])
    except ValueError as exc:  # an unknown outcome
        raise DecodeError(Reason.BAD_FIELD, "malformed batch result") from exc
