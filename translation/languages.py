"""The languages a node speaks, language tags and text direction.

Labels of our own lists and fields exist in seven languages (``SUPPORTED_LANGUAGES``);
ISO list names (countries, currencies, languages) exist in every language Babel carries.
Tags follow BCP 47 in a simplified form: language, optional script, optional region,
optional variants; extensions and private-use subtags are not accepted in records.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Final, Literal

Direction = Literal["ltr", "rtl"]

SUPPORTED_LANGUAGES: Final[tuple[str, ...]] = ("ar", "zh", "en", "fr", "pt", "ru", "es")
"""The seven languages every field label and every label of our own lists exists in."""

DEFAULT_LANGUAGE: Final = "en"
"""The last language of every fallback chain before the code itself."""

RTL_LANGUAGES: Final[frozenset[str]] = frozenset(
    {"ar", "he", "fa", "ur", "ps", "sd", "ug", "yi", "dv", "ckb", "syr"}
)
"""Primary language subtags written right to left (in their usual script)."""

RTL_SCRIPTS: Final[frozenset[str]] = frozenset(
    {"Arab", "Hebr", "Syrc", "Thaa", "Nkoo", "Adlm", "Rohg", "Mand", "Samr"}
)
"""ISO 15924 scripts written right to left: ``az-Arab`` is rtl although ``az`` is not."""

# ISO 639-2/-3 three-letter codes (and 639-2/B variants) of the supported languages, so
# that "fra" or "chi" reach the same labels as "fr" or "zh".
_THREE_LETTER: Final[dict[str, str]] = {
    "ara": "ar",
    "zho": "zh",
    "chi": "zh",
    "cmn": "zh",
    "eng": "en",
    "fra": "fr",
    "fre": "fr",
    "por": "pt",
    "rus": "ru",
    "spa": "es",
}

_TAG = re.compile(
    r"(?P<language>[A-Za-z]{2,3})"
    r"(?:[-_](?P<script>[A-Za-z]{4}))?"
    r"(?:[-_](?P<region>[A-Za-z]{2}|[0-9]{3}))?"
    r"(?P<variants>(?:[-_](?:[A-Za-z0-9]{5,8}|[0-9][A-Za-z0-9]{3}))*)"
)


@lru_cache(maxsize=1024)
def canonical_tag(tag: str) -> str | None:
    """The canonical spelling of a language tag (``"pt_br"`` -> ``"pt-BR"``), or None.

    None when ``tag`` is not a tag of the accepted form. Whether the language exists is
    a question for the ``language`` code list, not for this function.
    """
    match = _TAG.fullmatch(tag) if len(tag) <= 64 else None
    if match is None:
        return None
    parts = [match["language"].lower()]
    if match["script"]:
        parts.append(match["script"].title())
    if match["region"]:
        parts.append(match["region"].upper())
    if match["variants"]:
        parts.extend(v.lower() for v in re.split(r"[-_]", match["variants"][1:]))
    return "-".join(parts)


def primary_language(tag: str) -> str | None:
    """The primary language subtag of ``tag`` in lower case (``"zh-Hans-CN"`` -> ``"zh"``)."""
    canonical = canonical_tag(tag)
    return None if canonical is None else canonical.split("-", 1)[0]


def normalise_language(tag: str) -> str | None:
    """The supported language a tag asks for (``"fr-CA"`` -> ``"fr"``), or None.

    Three-letter codes of the supported languages are understood (``"fra"`` -> ``"fr"``).
    """
    primary = primary_language(tag)
    if primary is None:
        return None
    primary = _THREE_LETTER.get(primary, primary)
    return primary if primary in SUPPORTED_LANGUAGES else None


def reader_language(tag: str) -> str | None:
    """The language a reader asks for, supported or not (``"de-AT"`` -> ``"de"``).

    Used by rendering: ISO names exist in many more languages than our own labels, so a
    German reader gets German country names and falls back only for our own labels.
    """
    primary = primary_language(tag)
    if primary is None:
        return None
    return _THREE_LETTER.get(primary, primary)


def direction(tag: str) -> Direction:
    """``"rtl"`` for a tag written right to left (by language or by script), else ``"ltr"``."""
    canonical = canonical_tag(tag)
    if canonical is None:
        return "ltr"
    subtags = canonical.split("-")
    for subtag in subtags[1:]:
        if len(subtag) == 4 and subtag[0].isalpha():
            return "rtl" if subtag in RTL_SCRIPTS else "ltr"
    return "rtl" if subtags[0] in RTL_LANGUAGES else "ltr"


def parse_accept_language(header: str) -> list[tuple[str, float]]:
    """The ranges of an Accept-Language header with their q-values, best first.

    Malformed entries are skipped; ties keep the order of the header. ``*`` is kept as is.
    """
    ranges: list[tuple[float, int, str]] = []
    for position, item in enumerate(header[:4096].split(",")):
        range_, _, params = item.strip().partition(";")
        range_ = range_.strip()
        if not range_ or (range_ != "*" and canonical_tag(range_) is None):
            continue
        quality = _quality(params)
        if quality is None:
            continue
        ranges.append((quality, position, range_))
    ranges.sort(key=lambda entry: (-entry[0], entry[1]))
    return [(range_, quality) for quality, _, range_ in ranges]


def best_language(header: str | None, default: str = DEFAULT_LANGUAGE) -> str:
    """The supported language an Accept-Language header prefers, else ``default``.

    ``*`` accepts ``default`` (or, if the header refuses it with q=0, English or another
    supported language it does not refuse). When nothing acceptable is supported, the
    answer is ``default`` all the same: a page must be in some language.
    """
    if not header:
        return default
    ranges = parse_accept_language(header)
    refused = {normalise_language(r) for r, q in ranges if q == 0 and r != "*"}
    for range_, quality in ranges:
        if quality == 0:
            break
        if range_ == "*":
            candidates: tuple[str | None, ...] = (default, DEFAULT_LANGUAGE, *SUPPORTED_LANGUAGES)
        else:
            candidates = (normalise_language(range_),)
        for language in candidates:
            if language is not None and language not in refused:
                return language
    return default


def _quality(params: str) -> float | None:
    """The q-value in a range's parameters (1 when absent), or None if malformed."""
    for param in params.split(";"):
        name, _, value = param.strip().partition("=")
        if name.strip().lower() != "q":
            continue
        value = value.strip()
        if not re.fullmatch(r"0(\.[0-9]{0,3})?|1(\.0{0,3})?", value):
            return None
        return float(value)
    return 1.0
