"""Request signing (RFC 9421): one test per way a signed request can be wrong, each with its reason.

In the manner of Mastodon's signature verification spec: a frozen clock, a test key,
and the exact reason for each fault.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping

import pytest
from http_message_signatures import HTTPMessageSigner, algorithms
from multidict import CIMultiDict

from protocol import ProtocolError, Reason, transport

NOW = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
URL = "https://be-customs.example/federation/v1/batch"
BODY = b"\x84\xa4envs\x91\xc4\x01\x80"
CONTENT_TYPE = {"Content-Type": "application/msgpack"}


def signed(node, *, now: datetime.datetime = NOW, method: str = "POST", url: str = URL,
           body: bytes = BODY) -> dict[str, str]:
    return transport.sign_request(
        method=method, url=url, headers=CONTENT_TYPE, body=body, node_id=node.id, kid=node.keys.kid,
        sign_secret=node.keys.sign_secret, now=now,
    )


def request_reason(node, headers: Mapping[str, str], *, method: str = "POST", url: str = URL,
                   body: bytes = BODY, now: datetime.datetime = NOW) -> Reason:
    with pytest.raises(ProtocolError) as caught:
        transport.verify_request(method=method, url=url, headers=headers, body=body,
                                 public_key=node.keys.sign_public, now=now)
    return caught.value.reason


def verify(node, headers: Mapping[str, str], *, now: datetime.datetime = NOW) -> None:
    transport.verify_request(method="POST", url=URL, headers=headers, body=BODY,
                             public_key=node.keys.sign_public, now=now)


def test_a_signed_request_verifies_with_the_signers_key(alice):
    verify(alice, signed(alice))


def test_a_signed_request_carries_a_sha256_content_digest_of_its_body(alice):
    assert signed(alice)["content-digest"].startswith("sha-256=:")


def test_a_signed_request_verifies_whatever_the_case_of_its_header_names(alice):
    headers = {name.title(): value for name, value in signed(alice).items()}
    verify(alice, headers)


def test_an_unsigned_request_is_refused_as_bad_request_signature(alice):
    assert request_reason(alice, CONTENT_TYPE) is Reason.BAD_REQUEST_SIGNATURE


def test_a_request_with_two_content_digest_fields_is_refused_as_bad_digest(alice):
    headers = CIMultiDict(signed(alice))
    headers.add("Content-Digest", signed(alice, body=b"other")["content-digest"])
    assert request_reason(alice, headers) is Reason.BAD_DIGEST


def test_a_signed_request_without_a_content_digest_is_refused_as_bad_digest(alice):
    headers = {k: v for k, v in signed(alice).items() if k != "content-digest"}
    assert request_reason(alice, headers) is Reason.BAD_DIGEST


def test_a_request_signed_by_another_key_is_refused_as_bad_request_signature(alice, bob):
    assert request_reason(alice, signed(bob)) is Reason.BAD_REQUEST_SIGNATURE


def test_a_request_whose_body_was_tampered_with_is_refused_as_bad_digest(alice):
    assert request_reason(alice, signed(alice), body=BODY + b"\x00") is Reason.BAD_DIGEST


def test_a_request_whose_content_digest_header_was_removed_is_refused_as_bad_digest(alice):
    headers = {k: v for k, v in signed(alice).items() if k != "content-digest"}
    assert request_reason(alice, headers) is Reason.BAD_DIGEST


def test_a_request_whose_content_digest_was_replaced_to_match_a_new_body_is_refused(alice):
    other = signed(alice, body=b"\x80")
    headers = {**signed(alice), "content-digest": other["content-digest"]}
    assert request_reason(alice, headers, body=b"\x80") is Reason.BAD_REQUEST_SIGNATURE


def test_a_request_sent_with_another_method_is_refused_as_bad_request_signature(alice):
    assert request_reason(alice, signed(alice), method="PUT") is Reason.BAD_REQUEST_SIGNATURE


def test_a_request_sent_to_another_path_is_refused_as_bad_request_signature(alice):
    url = "https://be-customs.example/federation/v1/trust"
    assert request_reason(alice, signed(alice), url=url) is Reason.BAD_REQUEST_SIGNATURE


def test_a_request_sent_to_another_host_is_refused_as_bad_request_signature(alice):
    url = "https://fr-douane.example/federation/v1/batch"
    assert request_reason(alice, signed(alice), url=url) is Reason.BAD_REQUEST_SIGNATURE


def test_a_request_with_another_query_is_refused_as_bad_request_signature(alice):
    assert request_reason(alice, signed(alice), url=URL + "?replay=1") is Reason.BAD_REQUEST_SIGNATURE


def test_a_request_whose_content_type_was_changed_is_refused_as_bad_request_signature(alice):
    headers = {**signed(alice), "content-type": "application/json"}
    assert request_reason(alice, headers) is Reason.BAD_REQUEST_SIGNATURE


def test_a_request_signed_five_minutes_ago_is_accepted(alice):
    verify(alice, signed(alice, now=NOW - datetime.timedelta(minutes=5)))


def test_a_request_signed_more_than_five_minutes_ago_is_refused_as_bad_request_signature(alice):
    headers = signed(alice, now=NOW - datetime.timedelta(minutes=5, seconds=6))
    assert request_reason(alice, headers) is Reason.BAD_REQUEST_SIGNATURE


def test_a_request_signed_in_the_future_beyond_the_clock_skew_is_refused_as_bad_request_signature(alice):
    headers = signed(alice, now=NOW + datetime.timedelta(seconds=6))
    assert request_reason(alice, headers) is Reason.BAD_REQUEST_SIGNATURE


def test_request_age_is_judged_by_the_clock_passed_in_not_the_system_clock(alice):
    long_ago = datetime.datetime(2001, 1, 1, tzinfo=datetime.UTC)
    verify(alice, signed(alice, now=long_ago), now=long_ago + datetime.timedelta(minutes=1))


def _sign_with_library(node, *, covered: tuple[str, ...], tag: str = transport.SIGNATURE_TAG,
                       body: bytes | None = None) -> dict[str, str]:
    message = transport._Message("POST", URL, CONTENT_TYPE)
    HTTPMessageSigner(
        signature_algorithm=algorithms.ED25519,
        key_resolver=transport._KeyResolver(private=node.keys.sign_secret),
    ).sign(
        message, key_id=transport.make_key_id(node.id, node.keys.kid), created=NOW, tag=tag,
        covered_component_ids=covered, body=body,
    )
    return dict(message.headers)


def test_a_signature_that_does_not_cover_the_content_digest_is_refused_as_bad_digest(alice):
    headers = _sign_with_library(alice, covered=("@method", "@target-uri", "content-type"))
    assert request_reason(alice, headers) is Reason.BAD_DIGEST


def test_a_signature_that_does_not_cover_the_content_type_is_refused_as_bad_request_signature(alice):
    headers = _sign_with_library(alice, covered=("@method", "@target-uri"), body=BODY)
    assert request_reason(alice, {**headers, **CONTENT_TYPE}) is Reason.BAD_REQUEST_SIGNATURE


def test_a_signature_with_another_application_tag_is_refused_as_bad_request_signature(alice):
    headers = _sign_with_library(alice, covered=transport.COVERED, tag="other-app", body=BODY)
    assert request_reason(alice, headers) is Reason.BAD_REQUEST_SIGNATURE


@pytest.mark.parametrize("header", ["signature-input", "signature"])
def test_a_request_with_a_garbled_signature_header_is_refused_as_bad_request_signature(alice, header):
    headers = {**signed(alice), header: "((garbled"}
    assert request_reason(alice, headers) is Reason.BAD_REQUEST_SIGNATURE


# -- who claims to have signed ---------------------------------------------------------------


def test_the_signer_of_a_request_is_read_as_node_id_and_key_id(alice):
    assert transport.signer_of(signed(alice)) == (alice.id, alice.keys.kid)


def test_the_signer_of_a_request_is_read_whatever_the_case_of_its_header_names(alice):
    headers = {name.title(): value for name, value in signed(alice).items()}
    assert transport.signer_of(headers) == (alice.id, alice.keys.kid)


def _with_input(alice, value: str | None) -> dict[str, str]:
    headers = signed(alice)
    if value is None:
        del headers["signature-input"]
    else:
        headers["signature-input"] = value
    return headers


GARBLED_INPUTS: dict[str, str | None] = {
    "missing": None,
    "empty": "",
    "without a keyid": 'pyhms=("@method");created=1767225600',
    "with a keyid that is not NODE#KID": 'pyhms=("@method");keyid="nl-customs"',
    "with a keyid without a node": 'pyhms=("@method");keyid="#56475aa75463474c"',
    "with a keyid without a kid": 'pyhms=("@method");keyid="nl-customs#"',
    "with an unterminated keyid": 'pyhms=("@method");keyid="nl-customs#56475aa75463474c',
    "with two keyids": 'a=();keyid="nl-customs#1",b=();keyid="nl-customs#2"',
}


@pytest.mark.parametrize("value", GARBLED_INPUTS.values(), ids=GARBLED_INPUTS.keys())
def test_the_signer_of_a_request_with_a_missing_or_garbled_signature_input_is_refused(alice, value):
    with pytest.raises(ProtocolError) as caught:
        transport.signer_of(_with_input(alice, value))
    assert caught.value.reason is Reason.BAD_REQUEST_SIGNATURE


def test_the_signer_of_a_request_without_a_signature_header_is_refused(alice):
    headers = {k: v for k, v in signed(alice).items() if k != "signature"}
    with pytest.raises(ProtocolError) as caught:
        transport.signer_of(headers)
    assert caught.value.reason is Reason.BAD_REQUEST_SIGNATURE
