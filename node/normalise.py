"""Bringing what a person typed into the catalog's canonical form, where it safely can:
identifiers with a check (``csqu 305438-3`` -> ``CSQU3054383``), language tags of free
text (``pt_br`` -> ``pt-BR``), spaces around strings, NFC. Anything else is left as
given, for validation to report with the rest.

The walk over a record is compiled once per catalog into one small function per field,
because an import runs it for every row.
"""

from __future__ import annotations

import re
import unicodedata
import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from translation import Catalog, FieldDef, FieldType, canonical_tag, normalise_identifier

RefMap = Callable[[str, str], str]
"""(target record type, id as given) -> the id to store (imports map source ids)."""
Step = Callable[[Any, RefMap | None], Any]

# Values already in these shapes are canonical (bar the check digit, which validation
# checks): no need to run the check's normalisation, which costs as much again.
_CANONICAL_SHAPE = {
    "iso6346": re.compile(r"[A-Z]{3}[UJZR][0-9]{7}"),
    "imo": re.compile(r"[0-9]{7}"),
    "unlocode": re.compile(r"[A-Z]{2}[A-Z2-9]{3}"),
}


def _clean(text: str) -> str:
    text = text.strip()
    return text if text.isascii() else unicodedata.normalize("NFC", text)


def _plain(value: Any, refs: RefMap | None) -> Any:
    return _clean(value) if type(value) is str else value


def _identifier(check: str) -> Step:
    shape = _CANONICAL_SHAPE.get(check)

    def step(value: Any, refs: RefMap | None) -> Any:
        if type(value) is not str:
            return value
        value = _clean(value)
        if not value or (shape is not None and shape.fullmatch(value)):
            return value
        try:
            return normalise_identifier(check, value)
        except ValueError:
            return value

    return step


def _text(value: Any, refs: RefMap | None) -> Any:
    if type(value) is not dict:
        return _plain(value, refs)
    out = dict(value)
    text, lang = out.get("text"), out.get("lang")
    if type(text) is str:
        out["text"] = _clean(text)
    if type(lang) is str:
        out["lang"] = canonical_tag(lang.strip()) or lang
    return out


def _ref(value: Any, refs: RefMap | None) -> Any:
    if refs is None or type(value) is not dict:
        return value
    target, ref_id = value.get("type"), value.get("id")
    if type(target) is str and type(ref_id) is str and ref_id.strip():
        return {**value, "id": refs(target, ref_id.strip())}
    return value


def _group(field_defs: Sequence[FieldDef]) -> Callable[[dict[str, Any], RefMap | None], dict[str, Any]]:
    steps = {fd.name: _field(fd) for fd in field_defs}

    def group(values: dict[str, Any], refs: RefMap | None) -> dict[str, Any]:
        out = {}
        for name, value in values.items():
            step = steps.get(name)
            out[name] = value if step is None else step(value, refs)
        return out

    return group


def _field(fd: FieldDef) -> Step:
    one = _value(fd)
    if not fd.repeated:
        return one

    def many(value: Any, refs: RefMap | None) -> Any:
        if type(value) is list:
            return [one(v, refs) for v in value]
        return one(value, refs)

    return many


def _value(fd: FieldDef) -> Step:
    if fd.type is FieldType.GROUP:
        group = _group(fd.fields)

        def step(value: Any, refs: RefMap | None) -> Any:
            return group(value, refs) if type(value) is dict else _plain(value, refs)

        return step
    if fd.type is FieldType.STRING and fd.check:
        return _identifier(fd.check)
    if fd.type is FieldType.TEXT:
        return _text
    if fd.type is FieldType.REF:
        return _ref
    return _plain


class Normaliser:
    """The normalisation of one catalog's records; ``for_catalog`` keeps one per catalog."""

    def __init__(self, catalog: Catalog) -> None:
        self._types = {name: _group(rt.fields) for name, rt in catalog.record_types.items()}

    def record(self, record: Mapping[str, Any], refs: RefMap | None = None) -> dict[str, Any]:
        """A normalised copy of record; ``refs`` maps the ids its references name."""
        out = dict(record)
        record_type, fields = out.get("type"), out.get("fields")
        group = self._types.get(record_type) if type(record_type) is str else None
        if group is not None and type(fields) is dict:
            out["fields"] = group(fields, refs)
        return out


_BY_CATALOG: weakref.WeakKeyDictionary[Catalog, Normaliser] = weakref.WeakKeyDictionary()


def for_catalog(catalog: Catalog) -> Normaliser:
    normaliser = _BY_CATALOG.get(catalog)
    if normaliser is None:
        normaliser = _BY_CATALOG[catalog] = Normaliser(catalog)
    return normaliser
