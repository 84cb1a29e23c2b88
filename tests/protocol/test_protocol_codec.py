"""Canonical msgpack: what is encoded, and everything a strict decoder refuses."""

from __future__ import annotations

import pytest

from protocol import DecodeError, Reason, decode, encode
from protocol.codec import INT_MAX, INT_MIN, MAX_DEPTH


def refused(data: bytes, **kwargs) -> Reason:
    with pytest.raises(DecodeError) as caught:
        decode(data, **kwargs)
    return caught.value.reason


# -- encoding ------------------------------------------------------------------------------


def test_a_small_map_encodes_to_the_known_bytes():
    value = {
        "n": -1,
        "m": {"z": True, "y": None},
        "l": [1, "x"],
        "i": 300,
        "b": b"\x01\x02",
        "a": "hé",
    }
    expected = bytes.fromhex(
        "86"  # map of 6, keys sorted: a b i l m n
        "a161" "a368c3a9"  # "a": "hé" (NFC, UTF-8)
        "a162" "c4020102"  # "b": bin8 of 2 bytes
        "a169" "cd012c"  # "i": uint16 300
        "a16c" "9201a178"  # "l": [1, "x"]
        "a16d" "82a179c0a17ac3"  # "m": {"y": nil, "z": true}
        "a16e" "ff"  # "n": negative fixint -1
    )
    assert encode(value) == expected


def test_encoding_sorts_map_keys_at_every_depth():
    value = {"b": {"y": 1, "x": [{"q": 1, "p": 2}]}, "a": 0}
    assert encode(value) == bytes.fromhex("82" "a16100" "a162" "82" "a17891" "82a17002a17101" "a17901")


def test_encoding_does_not_depend_on_key_insertion_order():
    assert encode({"a": 1, "b": {"c": 2, "d": 3}}) == encode({"b": {"d": 3, "c": 2}, "a": 1})


def test_bytes_encode_as_bin_and_text_as_str():
    assert encode([b"a", "a"]) == bytes.fromhex("92" "c40161" "a161")


def test_a_tuple_encodes_as_a_list():
    assert encode((1, 2)) == encode([1, 2])


def test_a_float_cannot_be_encoded():
    with pytest.raises(DecodeError) as caught:
        encode({"weight": 1.5})
    assert caught.value.reason is Reason.BAD_ENCODING


@pytest.mark.parametrize("value", [INT_MAX + 1, INT_MIN - 1, 2**64 - 1])
def test_an_integer_outside_signed_64_bits_cannot_be_encoded(value):
    with pytest.raises(DecodeError) as caught:
        encode(value)
    assert caught.value.reason is Reason.BAD_ENCODING


def test_a_string_not_in_nfc_cannot_be_encoded():
    with pytest.raises(DecodeError) as caught:
        encode("e\u0301")
    assert caught.value.reason is Reason.NON_CANONICAL


def test_a_map_key_not_in_nfc_cannot_be_encoded():
    with pytest.raises(DecodeError) as caught:
        encode({"e\u0301": 1})
    assert caught.value.reason is Reason.NON_CANONICAL


def test_a_string_with_a_lone_surrogate_cannot_be_encoded():
    with pytest.raises(DecodeError) as caught:
        encode({"note": "\ud800"})
    assert caught.value.reason is Reason.BAD_ENCODING


def test_a_non_string_map_key_cannot_be_encoded():
    with pytest.raises(DecodeError) as caught:
        encode({1: "one"})
    assert caught.value.reason is Reason.BAD_ENCODING


def test_an_object_of_another_type_cannot_be_encoded():
    with pytest.raises(DecodeError) as caught:
        encode({"when": object()})
    assert caught.value.reason is Reason.BAD_ENCODING


# -- decoding: accepted ----------------------------------------------------------------------


def test_the_known_bytes_decode_to_the_small_map():
    data = bytes.fromhex("83" "a161" "a368c3a9" "a162" "c4020102" "a16e" "ff")
    assert decode(data) == {"a": "hé", "b": b"\x01\x02", "n": -1}


@pytest.mark.parametrize("value", [INT_MIN, INT_MAX])
def test_the_ends_of_the_signed_64_bit_range_decode(value):
    assert decode(encode(value)) == value


def test_nesting_of_exactly_max_depth_decodes():
    expected: list = []
    for _ in range(MAX_DEPTH):
        expected = [expected]
    assert decode(b"\x91" * MAX_DEPTH + b"\x90") == expected


# -- decoding: refused -----------------------------------------------------------------------


def test_empty_input_is_refused_as_bad_encoding():
    assert refused(b"") is Reason.BAD_ENCODING


def test_input_that_is_not_bytes_is_refused_as_bad_encoding():
    assert refused("\x81\xa1a\x01") is Reason.BAD_ENCODING  # type: ignore[arg-type]


def test_a_map_with_unsorted_keys_is_refused_as_non_canonical():
    assert refused(bytes.fromhex("82" "a16201" "a16102")) is Reason.NON_CANONICAL


def test_a_nested_map_with_unsorted_keys_is_refused_as_non_canonical():
    assert refused(bytes.fromhex("81" "a161" "82" "a16201" "a16102")) is Reason.NON_CANONICAL


@pytest.mark.parametrize(
    "hex_data",
    [
        "cc01",  # 1 as uint8
        "cd0001",  # 1 as uint16
        "ce00000001",  # 1 as uint32
        "cf0000000000000001",  # 1 as uint64
        "d001",  # 1 as int8
        "d0ff",  # -1 as int8 instead of a negative fixint
        "d1ff80",  # -128 as int16
        "cd00c8",  # 200 as uint16
        "d100c8",  # 200 as int16
        "d3ffffffffffffffff",  # -1 as int64
    ],
)
def test_an_integer_in_a_longer_form_than_needed_is_refused_as_non_canonical(hex_data):
    assert refused(bytes.fromhex(hex_data)) is Reason.NON_CANONICAL


@pytest.mark.parametrize(
    "hex_data",
    [
        "d90161",  # "a" as str8
        "da000161",  # "a" as str16
        "c5000161",  # b"a" as bin16
        "dc000101",  # [1] as array16
        "de0001a16101",  # {"a": 1} as map16
    ],
)
def test_a_length_in_a_longer_form_than_needed_is_refused_as_non_canonical(hex_data):
    assert refused(bytes.fromhex(hex_data)) is Reason.NON_CANONICAL


def test_a_string_not_in_nfc_is_refused_as_non_canonical():
    assert refused(bytes.fromhex("a3" "65cc81")) is Reason.NON_CANONICAL  # "e" + combining acute


def test_a_map_key_not_in_nfc_is_refused_as_non_canonical():
    assert refused(bytes.fromhex("81" "a365cc81" "01")) is Reason.NON_CANONICAL


@pytest.mark.parametrize("hex_data", ["ca3f800000", "cb3ff0000000000000", "81a161cb3ff8000000000000"])
def test_a_float_is_refused_as_bad_encoding(hex_data):
    assert refused(bytes.fromhex(hex_data)) is Reason.BAD_ENCODING


@pytest.mark.parametrize(
    "hex_data",
    [
        "d40100",  # fixext1, type 1
        "c7010500",  # ext8, type 5
        "d6ff00000000",  # the msgpack timestamp extension (type -1)
        "81a161d40100",  # an extension as a map value
    ],
)
def test_an_extension_type_is_refused_as_bad_encoding(hex_data):
    assert refused(bytes.fromhex(hex_data)) is Reason.BAD_ENCODING


def test_a_map_with_a_duplicate_key_is_refused_as_bad_encoding():
    assert refused(bytes.fromhex("82" "a16101" "a16101")) is Reason.BAD_ENCODING


@pytest.mark.parametrize(
    "hex_data",
    [
        "810101",  # int key
        "81c0a161",  # nil key
        "81c40161a161",  # bin key
        "8191a161a161",  # array key
        "81c3a161",  # bool key
    ],
)
def test_a_map_with_a_non_string_key_is_refused_as_bad_encoding(hex_data):
    assert refused(bytes.fromhex(hex_data)) is Reason.BAD_ENCODING


def test_trailing_bytes_after_a_message_are_refused_as_bad_encoding():
    assert refused(encode({"a": 1}) + b"\x00") is Reason.BAD_ENCODING


def test_every_proper_prefix_of_a_valid_message_is_refused_as_bad_encoding(wire):
    reasons = {refused(wire[:n]) for n in range(len(wire))}
    assert reasons == {Reason.BAD_ENCODING}


@pytest.mark.parametrize(
    "hex_data",
    [
        "a2c328",  # an invalid continuation byte
        "a1ff",  # a byte that never occurs in UTF-8
        "a3eda080",  # an encoded surrogate
        "a2c0af",  # an overlong encoding of "/"
    ],
)
def test_a_string_that_is_not_valid_utf8_is_refused_as_bad_encoding(hex_data):
    assert refused(bytes.fromhex(hex_data)) is Reason.BAD_ENCODING


@pytest.mark.parametrize("hex_data", ["cf8000000000000000", "cfffffffffffffffff"])
def test_an_integer_beyond_signed_64_bits_is_refused_as_bad_encoding(hex_data):
    assert refused(bytes.fromhex(hex_data)) is Reason.BAD_ENCODING


def test_nesting_deeper_than_max_depth_is_refused_as_bad_encoding():
    assert refused(b"\x91" * (MAX_DEPTH + 1) + b"\x90") is Reason.BAD_ENCODING


def test_nesting_beyond_the_parser_stack_is_refused_as_bad_encoding():
    assert refused(b"\x91" * 100_000 + b"\x90") is Reason.BAD_ENCODING


def test_input_over_the_size_limit_is_refused_as_too_large():
    assert refused(encode({"a": "x" * 20}), max_size=20) is Reason.TOO_LARGE


def test_the_size_limit_is_checked_before_the_bytes_are_parsed():
    assert refused(b"\xc1" * 21, max_size=20) is Reason.TOO_LARGE  # 0xc1 is never valid msgpack


def test_input_over_the_default_limit_of_one_mebibyte_is_refused_as_too_large():
    assert refused(encode(b"\x00" * (1 << 20))) is Reason.TOO_LARGE


def test_the_never_used_byte_0xc1_is_refused_as_bad_encoding():
    assert refused(b"\xc1") is Reason.BAD_ENCODING
