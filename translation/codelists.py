"""Code lists: our own lists from JSON data files, and the ISO lists backed by Babel.

Every list answers the same two questions: is this a code of the list (``code in lst``),
and what is its label in exactly this language (``lst.label(code, lang)``, None when there
is none). Falling back to another language is the renderer's business, so that the
chain is explicit in one place.

Lookups are built lazily, once per language, and cached: rendering compares itself with
a plain dict lookup.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from importlib.resources.abc import Traversable
from typing import Final

from translation.errors import CatalogError
from translation.languages import SUPPORTED_LANGUAGES, canonical_tag

UNTRANSLATED_LISTS: Final[frozenset[str]] = frozenset({"tlp"})
"""Lists whose labels read the same in every language (FIRST TLP 2.0: "TLP:AMBER")."""

ISO_LISTS: Final[tuple[str, ...]] = ("country", "currency", "language")


@dataclass(frozen=True, slots=True)
class Label:
    """A label and the language it is written in."""

    text: str
    lang: str


class CodeList(ABC):
    """A list of codes with labels in several languages."""

    list_id: str
    version: int | None
    source: str
    titles: Mapping[str, str]

    @abstractmethod
    def __contains__(self, code: object) -> bool:
        """Whether ``code`` is a code of this list."""

    @abstractmethod
    def codes(self) -> Iterator[str]:
        """Every code of the list, in the list's order."""

    @abstractmethod
    def label(self, code: str, lang: str) -> Label | None:
        """The label of ``code`` in exactly ``lang``, or None."""

    @property
    @abstractmethod
    def label_languages(self) -> tuple[str, ...]:
        """The languages every code is meant to have a label in."""

    def extra(self, code: str, name: str, lang: str) -> Label | None:
        """A further translated attribute of a code (e.g. a TLP ``explanation``), or None."""
        return None

    def title(self, lang: str) -> Label | None:
        """The name of the list itself in ``lang``, or None."""
        text = self.titles.get(lang)
        return None if text is None else Label(text, lang)

    def __len__(self) -> int:
        return sum(1 for _ in self.codes())


class OwnCodeList(CodeList):
    """A list of ours, read from ``data/lists/<list_id>.json``."""

    def __init__(
        self,
        *,
        list_id: str,
        version: int,
        source: str,
        titles: Mapping[str, str],
        labels: Mapping[str, Mapping[str, str]],
        extras: Mapping[str, Mapping[str, Mapping[str, str]]] | None = None,
        fallback_languages: tuple[str, ...] | None = None,
        fallback_note: str | None = None,
    ) -> None:
        self.list_id = list_id
        self.version = version
        self.source = source
        self.titles = dict(titles)
        self._labels = {code: dict(by_lang) for code, by_lang in labels.items()}
        self._extras = {code: dict(attrs) for code, attrs in (extras or {}).items()}
        self.fallback_languages = fallback_languages
        self.fallback_note = fallback_note
        self.translated = list_id not in UNTRANSLATED_LISTS
        self._by_lang: dict[str, dict[str, Label]] = {}

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and code in self._labels

    def __len__(self) -> int:
        return len(self._labels)

    def codes(self) -> Iterator[str]:
        return iter(self._labels)

    @property
    def label_languages(self) -> tuple[str, ...]:
        return self.fallback_languages or SUPPORTED_LANGUAGES

    def label(self, code: str, lang: str) -> Label | None:
        by_code = self._by_lang.get(lang)
        if by_code is None:
            by_code = self._by_lang[lang] = self._labels_in(lang)
        return by_code.get(code)

    def raw_labels(self, code: str) -> Mapping[str, str]:
        """Every label of ``code`` as written in the data file (for completeness checks)."""
        return self._labels.get(code, {})

    def extra(self, code: str, name: str, lang: str) -> Label | None:
        text = self._extras.get(code, {}).get(name, {}).get(lang)
        return None if text is None else Label(text, lang)

    def extra_names(self, code: str) -> tuple[str, ...]:
        """The names of the further attributes ``code`` carries."""
        return tuple(self._extras.get(code, {}))

    def _labels_in(self, lang: str) -> dict[str, Label]:
        # An untranslated list shows its English label, as the same text, in any language.
        source_lang = lang if self.translated else "en"
        return {
            code: Label(by_lang[source_lang], lang)
            for code, by_lang in self._labels.items()
            if source_lang in by_lang
        }


class IsoCodeList(CodeList):
    """An ISO list: codes from pycountry, names from Babel's CLDR data in any language.

    English names fall back to pycountry's when CLDR has none, so that every code has at
    least an English label.
    """

    def __init__(
        self,
        *,
        list_id: str,
        babel_attribute: str,
        load_codes: Callable[[], dict[str, tuple[str, str]]],
        titles: Mapping[str, str],
        aliases: Callable[[], dict[str, str]] | None = None,
    ) -> None:
        self.list_id = list_id
        self.version = None
        self.source = "pycountry+babel"
        self.titles = dict(titles)
        self._babel_attribute = babel_attribute
        self._load_codes = load_codes
        self._load_aliases = aliases
        self._by_lang: dict[str, dict[str, Label]] = {}

    @cached_property
    def _codes(self) -> dict[str, tuple[str, str]]:
        """Code -> (key of the code in CLDR, English name from pycountry)."""
        return self._load_codes()

    @cached_property
    def _aliases(self) -> dict[str, str]:
        """Other spellings of a code -> its canonical code (ISO 639-3 -> ISO 639-1)."""
        return self._load_aliases() if self._load_aliases else {}

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and (code in self._codes or code in self._aliases)

    def __len__(self) -> int:
        return len(self._codes)

    def codes(self) -> Iterator[str]:
        return iter(self._codes)

    @property
    def label_languages(self) -> tuple[str, ...]:
        return SUPPORTED_LANGUAGES

    def canonical(self, code: str) -> str | None:
        """The canonical form of a code of this list (``"fra"`` -> ``"fr"``), or None."""
        if code in self._codes:
            return code
        return self._aliases.get(code)

    def label(self, code: str, lang: str) -> Label | None:
        by_code = self._by_lang.get(lang)
        if by_code is None:
            by_code = self._by_lang[lang] = self._names_in(lang)
        found = by_code.get(code)
        if found is None and code in self._aliases:
            found = by_code.get(self._aliases[code])
        return found

    def cldr_name(self, code: str, lang: str) -> str | None:
        """The name CLDR itself has for ``code`` in ``lang`` (for completeness reports)."""
        entry = self._codes.get(code)
        return None if entry is None else _cldr_names(lang, self._babel_attribute).get(entry[0])

    def _names_in(self, lang: str) -> dict[str, Label]:
        names = _cldr_names(lang, self._babel_attribute)
        labels: dict[str, Label] = {}
        for code, (cldr_key, english) in self._codes.items():
            text = names.get(cldr_key) or (english if lang == "en" else None)
            if text:
                labels[code] = Label(text, lang)
        return labels


def _cldr_names(lang: str, attribute: str) -> Mapping[str, str]:
    """Babel's names of territories, currencies or languages in ``lang`` (empty if none)."""
    from babel import Locale, UnknownLocaleError

    try:
        locale = Locale.parse(lang)
    except (UnknownLocaleError, ValueError, TypeError):
        return {}
    names: Mapping[str, str] = getattr(locale, attribute)
    return names


def _countries() -> dict[str, tuple[str, str]]:
    import pycountry

    return {c.alpha_2: (c.alpha_2, c.name) for c in pycountry.countries}


def _currencies() -> dict[str, tuple[str, str]]:
    import pycountry

    return {c.alpha_3: (c.alpha_3, c.name) for c in pycountry.currencies}


def _languages() -> dict[str, tuple[str, str]]:
    import pycountry

    # BCP 47 uses the shortest ISO 639 code, and so does CLDR.
    codes: dict[str, tuple[str, str]] = {}
    for language in pycountry.languages:
        code = getattr(language, "alpha_2", None) or language.alpha_3
        codes[code] = (code, language.name)
    return codes


def _language_aliases() -> dict[str, str]:
    import pycountry

    return {
        language.alpha_3: language.alpha_2
        for language in pycountry.languages
        if getattr(language, "alpha_2", None)
    }


def iso_lists(titles: Mapping[str, Mapping[str, str]]) -> dict[str, IsoCodeList]:
    """The ISO lists (country, currency, language), with their titles from the label file."""
    return {
        "country": IsoCodeList(
            list_id="country",
            babel_attribute="territories",
            load_codes=_countries,
            titles=titles.get("country", {}),
        ),
        "currency": IsoCodeList(
            list_id="currency",
            babel_attribute="currencies",
            load_codes=_currencies,
            titles=titles.get("currency", {}),
        ),
        "language": IsoCodeList(
            list_id="language",
            babel_attribute="languages",
            load_codes=_languages,
            titles=titles.get("language", {}),
            aliases=_language_aliases,
        ),
    }


def load_own_lists(lists_dir: Traversable) -> dict[str, OwnCodeList]:
    """Every ``*.json`` list in ``lists_dir``; raises CatalogError naming every bad file."""
    lists: dict[str, OwnCodeList] = {}
    problems: list[str] = []
    if not lists_dir.is_dir():
        raise CatalogError([f"{lists_dir}: code list folder is missing"])
    for entry in sorted(lists_dir.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".json"):
            continue
        list_id = entry.name.removesuffix(".json")
        try:
            data = json.loads(entry.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            problems.append(f"{entry.name}: not valid JSON ({exc})")
            continue
        parsed = _parse_own_list(list_id, data, problems, entry.name)
        if parsed is not None:
            lists[list_id] = parsed
    if problems:
        raise CatalogError(problems)
    return lists


def _parse_own_list(list_id: str, data: object, problems: list[str], where: str) -> OwnCodeList | None:
    """An OwnCodeList from a decoded data file, or None after adding to ``problems``."""
    before = len(problems)
    if not isinstance(data, dict):
        problems.append(f"{where}: top level must be an object")
        return None
    if data.get("list") != list_id:
        problems.append(f"{where}: 'list' is {data.get('list')!r}, expected {list_id!r}")
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        problems.append(f"{where}: 'version' must be a positive integer")
    source = data.get("source", "")
    if not isinstance(source, str):
        problems.append(f"{where}: 'source' must be a string")
    titles = _parse_labels(data.get("title", {}), f"{where}: title", problems)
    fallback = data.get("fallback_languages")
    if fallback is not None and not (
        isinstance(fallback, list) and fallback and all(isinstance(x, str) for x in fallback)
    ):
        problems.append(f"{where}: 'fallback_languages' must be a list of language tags")
    note = data.get("fallback_note")
    if note is not None and not isinstance(note, str):
        problems.append(f"{where}: 'fallback_note' must be a string")
    codes = data.get("codes")
    if not isinstance(codes, dict) or not codes:
        problems.append(f"{where}: 'codes' must be a non-empty object")
        return None
    labels: dict[str, dict[str, str]] = {}
    extras: dict[str, dict[str, dict[str, str]]] = {}
    for code, entry in codes.items():
        if not code or code != code.strip():
            problems.append(f"{where}: code {code!r} is empty or has surrounding spaces")
        if not isinstance(entry, dict):
            problems.append(f"{where}: code {code!r} must map to an object of labels")
            continue
        plain = {k: v for k, v in entry.items() if not isinstance(v, dict)}
        labels[code] = _parse_labels(plain, f"{where}: code {code!r}", problems)
        nested = {k: v for k, v in entry.items() if isinstance(v, dict)}
        if nested:
            extras[code] = {
                name: _parse_labels(value, f"{where}: code {code!r} {name}", problems)
                for name, value in nested.items()
            }
    if len(problems) > before:
        return None
    return OwnCodeList(
        list_id=list_id,
        version=version,  # type: ignore[arg-type]  # checked above
        source=source,
        titles=titles,
        labels=labels,
        extras=extras,
        fallback_languages=tuple(fallback) if fallback else None,
        fallback_note=note,
    )


def _parse_labels(value: object, where: str, problems: list[str]) -> dict[str, str]:
    """Language -> text from a labels object; keys that are not language tags are notes."""
    if not isinstance(value, dict):
        problems.append(f"{where}: labels must be an object of language -> text")
        return {}
    labels: dict[str, str] = {}
    for key, text in value.items():
        if canonical_tag(key) != key:
            continue  # a translator's note or other metadata, e.g. "note"
        if not isinstance(text, str) or not text.strip():
            problems.append(f"{where}: label {key!r} must be a non-empty string")
            continue
        labels[key] = text
    return labels
