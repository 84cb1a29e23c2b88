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


def _check_text(text: str) -> None:
    """Map keys and values alike: NFC, and encodable as UTF-8 (no lone surrogates)."""
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise DecodeError(Reason.BAD_ENCODING, "string is not valid Unicode text") from None
    if not unicodedata.is_normalized("NFC", text):
        raise DecodeError(Reason.NON_CANONICAL, "string not in NFC")


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
        _check_text(value)
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
            _check_text(k)
        return {k: _canonical(value[k], depth + 1) for k in sorted(value)}
    raise DecodeError(Reason.BAD_ENCODING, f"type {type(value).__name__} cannot be encoded")


def _validate(value: Any, depth: int) -> None:
    """What ``_canonical`` checks, for a freshly decoded value, without copying it: maps
    must already be in sorted key order (decoding keeps the wire order)."""
    if depth > MAX_DEPTH:
        raise DecodeError(Reason.BAD_ENCODING, "nesting too deep")
    kind = type(value)
    if kind is str:
        _check_text(value)
    elif kind is dict:
        keys = list(value)
        for k in keys:
            _check_text(k)
        if keys != sorted(keys):
            raise DecodeError(Reason.NON_CANONICAL, "map keys are not in sorted order")
        for v in value.values():
            _validate(v, depth + 1)
    elif kind is list:
        for v in value:
            _validate(v, depth + 1)
    elif kind is int:
        if not INT_MIN <= value <= INT_MAX:
            raise DecodeError(Reason.BAD_ENCODING, "integer out of range")
    elif kind is float:
        raise DecodeError(Reason.BAD_ENCODING, "floats are not allowed: use decimal strings")
    elif value is not None and kind is not bool and kind is not bytes:
        raise DecodeError(Reason.BAD_ENCODING, f"type {kind.__name__} cannot be encoded")


def pack_decoded(value: Any) -> bytes:
    """Re-encode a value that ``decode`` returned (already canonical: no copy, no checks)."""
    return msgpack.packb(value, use_bin_type=True)


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
    _validate(value, 0)
    if pack_decoded(value) != data:
        raise DecodeError(Reason.NON_CANONICAL, "message is not in canonical form")
    return value
