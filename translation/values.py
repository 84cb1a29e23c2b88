"""The rendered form of a record: an immutable tree of fields and values.

Every node has ``to_json()`` for the API. Labels carry the language they are written in
(None when the code itself is shown) and whether they fell back from the reader's
language. Nodes are shared between renderings (see render.py), so they never change.

The nodes are typed named tuples rather than frozen dataclasses: rendering builds one per
field, and a named tuple is built three times faster than a frozen dataclass, which is
what brings rendering within reach of a plain dict lookup. Compare nodes by their
attributes, not with ``==`` across node types.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any, Literal, NamedTuple

from translation.languages import Direction


class ResolvedLabel(NamedTuple):
    """A label found along the fallback chain.

    ``lang`` is the language of ``text``, None when no label exists and ``text`` is the
    code or field name itself; ``fallback`` is True unless ``lang`` is the reader's.
    """

    text: str
    lang: str | None
    fallback: bool

    def to_json(self) -> dict[str, Any]:
        return {"text": self.text, "lang": self.lang, "fallback": self.fallback}


class CodeValue(NamedTuple):
    """A code of a list with its label; ``unknown`` when this catalog lacks the code."""

    list: str
    code: str
    label: ResolvedLabel
    unknown: bool
    kind: Literal["code"] = "code"

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": "code",
            "list": self.list,
            "code": self.code,
            "label": self.label.to_json(),
            "unknown": self.unknown,
        }


class AmountValue(NamedTuple):
    """A quantity (decimal string and unit) or money (decimal string and currency)."""

    kind: Literal["quantity", "money"]
    value: str
    unit: CodeValue

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "value": self.value, "unit": self.unit.to_json()}


class PlainValue(NamedTuple):
    """A date, date-time or identifier, shown as written (ISO 8601 dates are unambiguous)."""

    kind: Literal["date", "datetime", "string"]
    value: str

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "value": self.value}


class TextValue(NamedTuple):
    """Free text as written, never translated; its language named in the reader's language."""

    text: str
    lang: str
    lang_name: ResolvedLabel
    dir: Direction
    untranslated: bool = True
    kind: Literal["text"] = "text"

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": "text",
            "text": self.text,
            "lang": self.lang,
            "lang_name": self.lang_name.to_json(),
            "dir": self.dir,
            "untranslated": self.untranslated,
        }


class RefValue(NamedTuple):
    """A reference to another record, with the name of its record type."""

    type: str
    id: str
    type_label: ResolvedLabel
    kind: Literal["ref"] = "ref"

    def to_json(self) -> dict[str, Any]:
        return {"kind": "ref", "type": self.type, "id": self.id, "type_label": self.type_label.to_json()}


class PhotoValue(NamedTuple):
    """A photo attachment, by digest and media type."""

    sha256: str
    media_type: str
    kind: Literal["photo"] = "photo"

    def to_json(self) -> dict[str, Any]:
        return {"kind": "photo", "sha256": self.sha256, "media_type": self.media_type}


class GroupValue(NamedTuple):
    """A nested object: its own rendered fields."""

    fields: tuple[RenderedField, ...]
    kind: Literal["group"] = "group"

    def to_json(self) -> dict[str, Any]:
        return {"kind": "group", "fields": [f.to_json() for f in self.fields]}


class RawValue(NamedTuple):
    """A value this catalog has no definition for (a field from a newer catalog), as is."""

    value: object
    kind: Literal["raw"] = "raw"

    @property
    def display(self) -> str:
        try:
            return json.dumps(self.value, ensure_ascii=False, sort_keys=True)
        except (TypeError, ValueError):
            return repr(self.value)

    def to_json(self) -> dict[str, Any]:
        return {"kind": "raw", "display": self.display}


Value = CodeValue | AmountValue | PlainValue | TextValue | RefValue | PhotoValue | GroupValue | RawValue


class RenderedField(NamedTuple):
    """One field: its label and its values (one, unless ``repeated``).

    ``key`` is the field's label key in the catalog, None for a field the catalog lacks
    (``unknown``), whose label is then its name.
    """

    name: str
    key: str | None
    label: ResolvedLabel
    values: tuple[Value, ...]
    repeated: bool
    unknown: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "key": self.key,
            "label": self.label.to_json(),
            "repeated": self.repeated,
            "unknown": self.unknown,
            "values": [v.to_json() for v in self.values],
        }


class RenderedRecord(NamedTuple):
    """A record rendered in one language; ``chain`` is the fallback chain used."""

    type: str
    type_label: ResolvedLabel
    id: str
    catalog_version: int
    our_catalog_version: int
    lang: str
    dir: Direction
    chain: tuple[str, ...]
    fields: tuple[RenderedField, ...]
    terms: Mapping[str, ResolvedLabel]
    """The renderer's words (``unknown_code``, ``untranslated``...) in the reader's language."""

    @property
    def newer_catalog(self) -> bool:
        """Whether the record was made with a newer catalog than this node's."""
        return self.catalog_version > self.our_catalog_version

    def walk(self) -> Iterator[tuple[RenderedField, Value]]:
        """Every (field, value) pair of the tree, depth first."""
        stack = list(reversed(self.fields))
        while stack:
            field = stack.pop()
            for value in field.values:
                yield field, value
                if isinstance(value, GroupValue):
                    stack.extend(reversed(value.fields))

    @property
    def unknown_codes(self) -> tuple[CodeValue, ...]:
        """Every code of the record this catalog does not know."""
        found: list[CodeValue] = []
        for _, value in self.walk():
            code = value.unit if isinstance(value, AmountValue) else value
            if isinstance(code, CodeValue) and code.unknown:
                found.append(code)
        return tuple(found)

    @property
    def has_unknown(self) -> bool:
        """Whether any code or field of the record is unknown to this catalog."""
        return any(f.unknown for f, _ in self.walk()) or bool(self.unknown_codes)

    def to_json(self) -> dict[str, Any]:
        """The whole rendering as JSON-ready data for the API."""
        return {
            "type": self.type,
            "type_label": self.type_label.to_json(),
            "id": self.id,
            "catalog_version": self.catalog_version,
            "our_catalog_version": self.our_catalog_version,
            "newer_catalog": self.newer_catalog,
            "has_unknown": self.has_unknown,
            "lang": self.lang,
            "dir": self.dir,
            "chain": list(self.chain),
            "terms": {name: label.to_json() for name, label in self.terms.items()},
            "fields": [f.to_json() for f in self.fields],
        }
