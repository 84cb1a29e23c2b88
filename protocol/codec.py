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


def check_text(text: str) -> None:
    """Map keys and values alike: NFC, and encodable as UTF-8 (no lone surrogates).
    ASCII text (ids, codes, most keys) is both, and is answered at once."""
    if text.isascii():
        return
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise DecodeError(Reason.BAD_ENCODING, "string is not valid Unicode text") from None
    if not unicodedata.is_normalized("NFC", text):
        raise DecodeError(Reason.NON_CANONICAL, "string not in NFC")


def _canonical(value: Any, depth: int) -> Any:
    """Check a value is representable canonically; return it with sorted maps.

    Maps are rebuilt in key order (what an officer's JSON holds is in any order);
    scalars inside a container are checked in place, only containers recurse."""
    if depth > MAX_DEPTH:
        raise DecodeError(Reason.BAD_ENCODING, "nesting too deep")
    kind = type(value)
    if kind is dict:
        try:
            keys = sorted(value)
        except TypeError:
            raise DecodeError(Reason.BAD_ENCODING, "map keys must be strings") from None
        out = {}
        for k in keys:
            if type(k) is not str:
                if not isinstance(k, str):
                    raise DecodeError(Reason.BAD_ENCODING, "map keys must be strings")
                k = str(k)  # a str subclass (e.g. an enum member): plain text
            if not k.isascii():
                check_text(k)
            out[k] = _canonical_item(value[k], depth)
        if len(out) != len(value):  # two keys that are equal as plain text
            raise DecodeError(Reason.BAD_ENCODING, "duplicate map key")
        return out
    if kind is list or kind is tuple:
        return [_canonical_item(v, depth) for v in value]
    return _canonical_item(value, depth - 1)


def _canonical_item(v: Any, depth: int) -> Any:
    """A value inside a container at depth (checked, canonical form returned)."""
    t = type(v)
    if t is str:
        if not v.isascii():
            check_text(v)
        return v
    if t is int:
        if not INT_MIN <= v <= INT_MAX:
            raise DecodeError(Reason.BAD_ENCODING, "integer out of range")
        return v
    if t is dict or t is list:
        return _canonical(v, depth + 1)
    if v is None or t is bool or t is bytes:
        return v
    # Less common kinds: subclasses, tuples, other byte buffers.
    if isinstance(v, bool):
        return bool(v)
    if isinstance(v, int):
        return _canonical_item(int(v), depth)
    if isinstance(v, str):
        return _canonical_item(str(v), depth)
    if isinstance(v, bytes | bytearray | memoryview):
        return bytes(v)
    if isinstance(v, float):
        raise DecodeError(Reason.BAD_ENCODING, "floats are not allowed: use decimal strings")
    if isinstance(v, list | tuple):
        return _canonical(list(v), depth + 1)
    if isinstance(v, dict):
        return _canonical(dict(v), depth + 1)
    raise DecodeError(Reason.BAD_ENCODING, f"type {t.__name__} cannot be encoded")


def _validate(value: Any, depth: int) -> None:
    """What ``_canonical`` checks, for a freshly decoded value, without copying it: keys
    must be strings and maps already in sorted key order (decoding keeps the wire order).

    Written for speed (it runs on every envelope and payload that arrives): scalars
    inside a container are checked in place, only containers recurse."""
    if depth > MAX_DEPTH:
        raise DecodeError(Reason.BAD_ENCODING, "nesting too deep")
    kind = type(value)
    if kind is dict:
        keys = list(value)
        for k in keys:
            if type(k) is not str:
                raise DecodeError(Reason.BAD_ENCODING, "map keys must be strings")
            if not k.isascii():
                check_text(k)
        if keys != sorted(keys):
            raise DecodeError(Reason.NON_CANONICAL, "map keys are not in sorted order")
        items: Any = value.values()
    elif kind is list:
        items = value
    else:
        _canonical_item(value, depth)  # a scalar: the same checks as on encoding
        return
    for v in items:
        t = type(v)
        if t is str:
            if not v.isascii():
                check_text(v)
        elif t is int:
            if not INT_MIN <= v <= INT_MAX:
                raise DecodeError(Reason.BAD_ENCODING, "integer out of range")
        elif t is dict or t is list:
            _validate(v, depth + 1)
        elif t is not bytes and t is not bool and v is not None:
            _canonical_item(v, depth)  # refuses what cannot be encoded


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
    value = _unpack(data, None)
    _validate(value, 0)
    if pack_decoded(value) != data:
        # Say why: a repeated key (which a plain map silently merges) is a bad encoding,
        # anything else (a longer form than needed) is not canonical.
        _unpack(data, _pairs_to_dict)
        raise DecodeError(Reason.NON_CANONICAL, "message is not in canonical form")
    return value


def _unpack(data: bytes, pairs_hook: Any) -> Any:
    try:
        return msgpack.unpackb(
            data,
            raw=False,
            use_list=True,
            strict_map_key=False,
            object_pairs_hook=pairs_hook,
            ext_hook=_refuse_ext,
        )
    except DecodeError:
        raise
    except (ValueError, TypeError, msgpack.UnpackException, RecursionError) as exc:
        # ExtraData, FormatError, StackError, OutOfData, invalid UTF-8 and unhashable
        # map keys all land here.
        raise DecodeError(Reason.BAD_ENCODING, f"not valid msgpack: {type(exc).__name__}") from exc
