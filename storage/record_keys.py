"""What a record is stored and found by: its canonical bytes, search columns and
(kind, value) keys, extracted once (``prepare``) before it is written.

Pure functions over a record in the catalog's shape (see translation/README.md), cheap to
import, so that an import's worker processes run them. They are
defensive about shapes because a record received from a newer catalog may carry fields
we do not know; what is not where it is expected is simply not indexed.

Identifiers are indexed compacted (``compact``: upper case, no spaces, dots, slashes or
hyphens), the same way a search term is, so ``csqu 305438-3`` finds ``CSQU3054383`` and
``X-123/45`` finds ``X12345``. Free text is indexed folded (``fold``: case-folded, accents
removed, spaces collapsed). Several codes in one column are written ``" ES PA "``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from functools import cache
from typing import Any

from protocol import decode, encode

from .records_schema import DATABASES, KEY_VALUE_LENGTH

MAX_RECORD_BYTES = 16 << 20

# Kinds of key. An exact identifier search looks in IDENTIFIER_KINDS.
CONTAINER = "container"
IMO = "imo"
FLIGHT = "flight"
VEHICLE = "vehicle"
DOCUMENT = "document"
REGISTRATION = "registration"
LINK = "link"  # the id of a record of another database this one refers to

IDENTIFIER_KINDS = (CONTAINER, IMO, FLIGHT, VEHICLE, DOCUMENT, REGISTRATION)

Keys = set[tuple[str, str]]
Extracted = tuple[dict[str, Any], Keys]

_SEPARATORS = re.compile(r"[\s./-]+")


def compact(value: str) -> str:
    """The indexed form of an identifier: ``"csqu 305438-3"`` -> ``"CSQU3054383"``."""
    return _SEPARATORS.sub("", value).upper()[:KEY_VALUE_LENGTH]


@cache
def _combining() -> re.Pattern[str]:
    marks = "".join(chr(c) for c in range(0x300, 0x10000) if unicodedata.combining(chr(c)))
    return re.compile(f"[{re.escape(marks)}]+")


def fold(text: str) -> str:
    """The searchable form of free text: ``"  María  GARCÍA"`` -> ``"maria garcia"``."""
    if not text.isascii():
        text = _combining().sub("", unicodedata.normalize("NFKD", text))
    return " ".join(text.casefold().split())


def codes_column(codes: Iterable[str], length: int = 500) -> str:
    """Codes as one column: ``" ES PA "`` (empty when there are none)."""
    unique = sorted(set(codes))
    return f" {' '.join(unique)} "[:length] if unique else ""


def _dict(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def _items(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _strs(value: Any) -> list[str]:
    return [v for v in _items(value) if isinstance(v, str) and v]


def _text(value: Any) -> str | None:
    """The words of a free-text value ``{"text", "lang"}``."""
    return _str(_dict(value).get("text"))


def _identifier(keys: Keys, kind: str, value: Any) -> None:
    if isinstance(value, str) and value:
        keys.add((kind, compact(value)))


def _link(keys: Keys, ref: Any) -> None:
    ref_id = _dict(ref).get("id")
    if isinstance(ref_id, str) and ref_id:
        keys.add((LINK, ref_id[:KEY_VALUE_LENGTH]))


def _search_text(words: Iterable[str | None]) -> str:
    return fold(" ".join(w for w in words if w))


def _country(value: Any) -> str | None:
    code = _str(value)
    return code if code and len(code) == 2 else None


def _case(fields: Mapping[str, Any]) -> Extracted:
    keys: Keys = set()
    place = _dict(fields.get("place"))
    route = _dict(fields.get("route"))
    places = [place, _dict(route.get("departure")), _dict(route.get("destination"))]
    places += [_dict(p) for p in _items(route.get("transit"))]
    words = [_text(p.get("name")) for p in places]
    words.append(_text(_dict(fields.get("customs_office")).get("name")))
    commodities = set()
    for commodity in _items(fields.get("commodity")):
        commodity = _dict(commodity)
        category = _str(commodity.get("category"))
        if category:
            # Every level of the hierarchy: a search for "drugs" finds "drugs.cocaine".
            parts = category.split(".")
            commodities.update(".".join(parts[:n]) for n in range(1, len(parts) + 1))
        words.append(_text(commodity.get("description")))
    for conveyance in _items(fields.get("conveyance")):
        conveyance = _dict(conveyance)
        _identifier(keys, IMO, conveyance.get("imo_number"))
        _identifier(keys, FLIGHT, conveyance.get("flight_number"))
        _identifier(keys, VEHICLE, conveyance.get("vehicle_registration"))
        for number in _items(conveyance.get("container_number")):
            _identifier(keys, CONTAINER, number)
        words.append(_str(conveyance.get("vessel_name")))
    for involved in _items(fields.get("involved")):
        _link(keys, _dict(involved).get("party"))
    words.append(_text(fields.get("summary")))
    columns = {
        "date": _str(fields.get("date")),
        "country": _country(place.get("country")),
        "countries": codes_column(c for p in places if (c := _str(p.get("country")))),
        "offence_types": codes_column(_strs(fields.get("offence_type"))),
        "commodities": codes_column(commodities, 1000),
        "search_text": _search_text(words),
    }
    return columns, keys


def _full_name(name: Any) -> str:
    name = _dict(name)
    return " ".join(n for n in (_str(name.get("family_name")), _str(name.get("given_names"))) if n)


def _case_links(keys: Keys, fields: Mapping[str, Any]) -> None:
    for link in _items(fields.get("cases")):
        _link(keys, _dict(link).get("case"))


def _person(fields: Mapping[str, Any]) -> Extracted:
    keys: Keys = set()
    names = [_full_name(fields.get("name"))]
    names += [_full_name(alias) for alias in _items(fields.get("aliases"))]
    for document in _items(fields.get("identity_documents")):
        _identifier(keys, DOCUMENT, _dict(document).get("number"))
    _case_links(keys, fields)
    columns = {
        "name": fold(names[0])[:500],
        "date_of_birth": _str(fields.get("date_of_birth")),
        "countries": codes_column(_strs(fields.get("nationality"))),
        "search_text": _search_text(names),
    }
    return columns, keys


def _entity(fields: Mapping[str, Any]) -> Extracted:
    keys: Keys = set()
    name = _str(fields.get("name")) or ""
    registration = _str(fields.get("registration_number"))
    _identifier(keys, REGISTRATION, registration)
    countries = [_str(fields.get("registration_country"))]
    countries += [_str(_dict(a).get("country")) for a in _items(fields.get("addresses"))]
    _case_links(keys, fields)
    columns = {
        "name": fold(name)[:300],
        "registration_number": compact(registration)[:50] if registration else None,
        "country": _country(fields.get("registration_country")),
        "countries": codes_column(c for c in countries if c),
        "search_text": fold(name),
    }
    return columns, keys


EXTRACTORS: dict[str, Callable[[Mapping[str, Any]], Extracted]] = {
    "case": _case,
    "person": _person,
    "entity": _entity,
}


def extract(record_type: str, record: Mapping[str, Any]) -> Extracted:
    """The search columns (with ``search_text``) and the keys of a record of that type."""
    return EXTRACTORS[record_type](_dict(record.get("fields")))


@dataclass(frozen=True, slots=True)
class PreparedRecord:
    """A record ready to be written: its canonical bytes and what it is found by."""

    type: str
    id: str
    catalog_version: int
    blob: bytes
    columns: Mapping[str, Any]
    keys: frozenset[tuple[str, str]]
    source_id: str | None = None

    def with_id(self, record_id: str) -> PreparedRecord:
        """The same record under another id (an imported row stored before)."""
        record = decode(self.blob, max_size=MAX_RECORD_BYTES)
        record["id"] = record_id
        return replace(self, id=record_id, blob=encode(record))


def prepare(record: Mapping[str, Any], source_id: str | None = None) -> PreparedRecord:
    """Encode a (valid) record and extract its search columns and keys."""
    record_type = record["type"]
    if record_type not in DATABASES:
        raise ValueError(f"no database for records of type {record_type!r}")
    columns, keys = extract(record_type, record)
    return PreparedRecord(
        type=record_type, id=record["id"], catalog_version=record["catalog_version"],
        blob=encode(record), columns=columns, keys=frozenset(keys), source_id=source_id,
    )
