"""Canonical msgpack: the only encoding that crosses the wire.

Canonical means: maps with string keys in sorted order, the shortest integer and length
forms (what msgpack-python emits), ``bin`` for bytes and ``str`` for NFC-normalised text,
no floats, no extension types, integers within signed 64-bit range, bounded nesting.
Decoding is strict: a message that is not already in canonical form is refused rather
than re-encoded, so the bytes that were verified are the bytes that are used.
"""

from __future__ import annotations

import unicodedata
from typing import Any

import msgpack

from .errors import DecodeError, Reason

MAX_DEPTH = 32
INT_MIN = -(2**63)
INT_MAX = 2**63 - 1


def _canonical(value: Any, depth: int) -> Any:
    """Check a value is representable canonically; return it with sorted maps."""
    if depth > MAX_DEPTH:
        raise DecodeError(Reason.BAD_ENCODING, "nesting too deep")
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        if not INT_MIN <= value <= INT_MAX:
            raise DecodeError(Reason.BAD_ENCODING, "integer out of range")
        return value
    if isinstance(value, str):
        if not unicodedata.is_normalized("NFC", value):
            raise DecodeError(Reason.NON_CANONICAL, "string not in NFC")
        return value
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    if isinstance(value, float):
        raise DecodeError(Reason.BAD_ENCODING, "floats are not allowed: use decimal strings")
    if isinstance(value, list | tuple):
        return [_canonical(v, depth + 1) for v in value]
    if isinstance(value, dict):
        for k in value:
            if not isinstance(k, str):
                raise DecodeError(Reason.BAD_ENCODING, "map keys must be strings")
        return {k: _canonical(value[k], depth + 1) for k in sorted(value)}
    raise DecodeError(Reason.BAD_ENCODING, f"type {type(value).__name__} cannot be encoded")


def encode(value: Any) -> bytes:
    """Encode a value in canonical msgpack; raise DecodeError if it cannot be."""
    return msgpack.packb(_canonical(value, 0), use_bin_type=True)


def _refuse_ext(code: int, data: bytes) -> Any:
    raise DecodeError(Reason.BAD_ENCODING, "extension types are not allowed")


def _pairs_to_dict(pairs: list[tuple[Any, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if not isinstance(key, str):
            raise DecodeError(Reason.BAD_ENCODING, "map keys must be strings")
        if key in out:
            raise DecodeError(Reason.BAD_ENCODING, f"duplicate map key {key!r}")
        out[key] = value
    return out


def decode(data: bytes, *, max_size: int = 1 << 20) -> Any:
    """Decode canonical msgpack, refusing anything that would not re-encode identically."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise DecodeError(Reason.BAD_ENCODING, "not bytes")
    data = bytes(data)
    if len(data) > max_size:
        raise DecodeError(Reason.TOO_LARGE, f"{len(data)} bytes exceed the limit of {max_size}")
    if not data:
        raise DecodeError(Reason.BAD_ENCODING, "empty message")
    try:
        value = msgpack.unpackb(
            data,
            raw=False,
            use_list=True,
            strict_map_key=False,
            object_pairs_hook=_pairs_to_dict,
            ext_hook=_refuse_ext,
        )
    except DecodeError:
        raise
    except (ValueError, TypeError, msgpack.UnpackException, RecursionError) as exc:
        # ExtraData, FormatError, StackError, OutOfData and invalid UTF-8 all land here.
        raise DecodeError(Reason.BAD_ENCODING, f"not valid msgpack: {type(exc).__name__}") from exc
    if encode(value) != data:
        raise DecodeError(Reason.NON_CANONICAL, "message is not in canonical form")
    return value
