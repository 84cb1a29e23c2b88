"""Language tags, text direction and Accept-Language negotiation."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from translation import (
    SUPPORTED_LANGUAGES,
    best_language,
    canonical_tag,
    direction,
    normalise_language,
    parse_accept_language,
)
from translation.languages import primary_language, reader_language


def test_the_seven_languages_are_supported() -> None:
    assert set(SUPPORTED_LANGUAGES) == {"ar", "zh", "en", "fr", "pt", "ru", "es"}


@pytest.mark.parametrize(
    ("tag", "canonical"),
    [
        ("fr", "fr"),
        ("FR-ca", "fr-CA"),
        ("pt_br", "pt-BR"),
        ("zh-hans-cn", "zh-Hans-CN"),
        ("es-419", "es-419"),
        ("sl-rozaj", "sl-rozaj"),
        ("", None),
        ("f", None),
        ("english", None),
        ("fr-", None),
        ("x-private", None),
        ("fr CA", None),
    ],
)
def test_tags_have_one_canonical_spelling(tag: str, canonical: str | None) -> None:
    assert canonical_tag(tag) == canonical


@pytest.mark.parametrize(
    ("tag", "supported"),
    [
        ("fr-CA", "fr"),
        ("zh-Hans-CN", "zh"),
        ("zh-Hant-TW", "zh"),
        ("pt-BR", "pt"),
        ("AR-eg", "ar"),
        ("fra", "fr"),
        ("chi", "zh"),
        ("de-AT", None),
        ("xx!", None),
    ],
)
def test_a_tag_is_normalised_to_the_supported_language_it_asks_for(tag: str, supported: str | None) -> None:
    assert normalise_language(tag) == supported


def test_a_reader_language_need_not_be_supported() -> None:
    assert reader_language("de-AT") == "de"
    assert reader_language("spa") == "es"
    assert primary_language("zh-Hans-CN") == "zh"


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("ar", "rtl"),
        ("ar-EG", "rtl"),
        ("he", "rtl"),
        ("fa-IR", "rtl"),
        ("ur", "rtl"),
        ("az-Arab", "rtl"),
        ("ar-Latn", "ltr"),
        ("fr", "ltr"),
        ("zh", "ltr"),
        ("??", "ltr"),
    ],
)
def test_right_to_left_languages_and_scripts_are_marked(tag: str, expected: str) -> None:
    assert direction(tag) == expected


def test_accept_language_ranges_are_ordered_by_quality_then_position() -> None:
    header = "fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5"
    assert parse_accept_language(header) == [
        ("fr-CH", 1.0),
        ("fr", 0.9),
        ("en", 0.8),
        ("de", 0.7),
        ("*", 0.5),
    ]


@pytest.mark.parametrize(
    ("header", "best"),
    [
        ("fr-CH, fr;q=0.9, en;q=0.8", "fr"),
        ("de-DE, ar;q=0.5, es;q=0.6", "es"),
        ("de, ja", "en"),
        ("de, *;q=0.1", "en"),
        ("ru;q=0, *", "en"),
        ("en;q=0, ru;q=0.3", "ru"),
        ("zh-Hant-TW;q=0.8, pt-BR", "pt"),
        ("", "en"),
        (None, "en"),
        ("garbage;;;q=abc, ar", "ar"),
        ("fr;q=1.5, es", "es"),
    ],
)
def test_the_best_supported_language_is_picked(header: str | None, best: str) -> None:
    assert best_language(header) == best


def test_the_wildcard_accepts_the_default_unless_the_header_refuses_it() -> None:
    assert best_language("de, *", default="ar") == "ar"
    assert best_language("fr;q=0, *", default="fr") == "en"
    assert best_language("fr;q=0, en;q=0, *", default="fr") == "ar"


def test_the_default_answers_when_nothing_acceptable_is_supported() -> None:
    assert best_language("es;q=0, de", default="es") == "es"
    assert best_language("*;q=0", default="ru") == "ru"


@given(st.text(max_size=200))
def test_best_language_never_raises_and_answers_a_supported_language(header: str) -> None:
    assert best_language(header) in SUPPORTED_LANGUAGES
