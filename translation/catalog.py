"""The versioned catalog: record types, their fields, code lists and labels.

Three kinds of data file make a catalog, all under ``translation/data`` by default:
``catalog.json`` (record types and fields), ``field_labels.json`` (labels of record types,
fields, ISO list titles and the renderer's few words, in the seven languages) and
``lists/<list_id>.json`` (our own code lists). The ISO lists come from pycountry and Babel.

A field's label key is ``<record type>.<field>`` and, inside an inline group,
``<record type>.<group field>.<field>``; fields of a shared group (``"group": "place"``)
are keyed ``<group>.<field>`` wherever the group is used.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, Final

from translation.checks import CHECKS
from translation.codelists import CodeList, Label, iso_lists, load_own_lists
from translation.errors import CatalogError
from translation.languages import canonical_tag

DEFAULT_MAX_ITEMS: Final = 500
DEFAULT_MAX_LENGTH: Final = {"text": 10_000, "string": 200}


class FieldType(StrEnum):
    """The type of a field's value; README.md shows the JSON shape of each."""

    CODE = "code"
    QUANTITY = "quantity"
    MONEY = "money"
    DATE = "date"
    DATETIME = "datetime"
    TEXT = "text"
    STRING = "string"
    REF = "ref"
    PHOTO = "photo"
    GROUP = "group"


@dataclass(frozen=True, slots=True, kw_only=True)
class FieldDef:
    """One field of a record type or group."""

    name: str
    key: str
    """Label key in field_labels.json, e.g. ``case.commodity.category`` or ``place.country``."""
    type: FieldType
    required: bool = False
    repeated: bool = False
    list: str | None = None
    """For ``code``: the code list."""
    targets: tuple[str, ...] = ()
    """For ``ref``: the record types it may point to."""
    check: str | None = None
    """For ``string``: the identifier check (see checks.CHECKS)."""
    max_length: int | None = None
    """For ``text`` and ``string``: the longest value, in characters."""
    partial: bool = False
    """For ``date``: whether ``YYYY`` and ``YYYY-MM`` are accepted (dates of birth)."""
    group: str | None = None
    """For ``group``: the shared group used, None for an inline group."""
    fields: tuple[FieldDef, ...] = ()
    """For ``group``: its fields, in display order."""
    required_if: tuple[str, frozenset[str]] | None = None
    """Required when the sibling code field named here has one of these codes."""
    max_items: int = DEFAULT_MAX_ITEMS
    field_map: Mapping[str, FieldDef] = field(default_factory=dict, repr=False)


@dataclass(frozen=True, slots=True)
class RecordType:
    """A record type: its name and its fields in display order."""

    name: str
    fields: tuple[FieldDef, ...]
    field_map: Mapping[str, FieldDef]


@dataclass(frozen=True, slots=True)
class LabelTable:
    """Language -> text for each label key, as read from field_labels.json."""

    record_types: Mapping[str, Mapping[str, str]]
    fields: Mapping[str, Mapping[str, str]]
    lists: Mapping[str, Mapping[str, str]]
    terms: Mapping[str, Mapping[str, str]]


@dataclass(frozen=True, eq=False, slots=True, weakref_slot=True)
class Catalog:
    """One version of the data model with its lists and labels."""

    version: int
    record_types: Mapping[str, RecordType]
    lists: Mapping[str, CodeList]
    labels: LabelTable
    memo: dict[Any, Any] = field(default_factory=dict, init=False, repr=False)
    """Derived lookups (renderers per language) built on first use; not part of the value."""

    def __repr__(self) -> str:
        return (
            f"Catalog(version={self.version}, record_types={list(self.record_types)}, "
            f"lists={len(self.lists)})"
        )

    def field_label(self, key: str, lang: str) -> Label | None:
        """The label of the field with label key ``key`` in exactly ``lang``, or None."""
        return _label(self.labels.fields, key, lang)

    def record_type_label(self, record_type: str, lang: str) -> Label | None:
        """The name of a record type in exactly ``lang``, or None."""
        return _label(self.labels.record_types, record_type, lang)

    def term(self, name: str, lang: str) -> Label | None:
        """One of the renderer's words (``unknown_code``, ``untranslated``...) in ``lang``."""
        return _label(self.labels.terms, name, lang)

    def code_list(self, list_id: str) -> CodeList:
        """The code list ``list_id``; KeyError if the catalog has none of that name."""
        return self.lists[list_id]

    def all_fields(self) -> Iterator[tuple[str, FieldDef]]:
        """Every field of every record type, with its path (``case.commodity.category``)."""
        for record_type in self.record_types.values():
            yield from _walk(record_type.name, record_type.fields)


def _walk(prefix: str, fields: tuple[FieldDef, ...]) -> Iterator[tuple[str, FieldDef]]:
    for field_def in fields:
        path = f"{prefix}.{field_def.name}"
        yield path, field_def
        yield from _walk(path, field_def.fields)


def _label(table: Mapping[str, Mapping[str, str]], key: str, lang: str) -> Label | None:
    text = table.get(key, {}).get(lang)
    return None if text is None else Label(text, lang)


DataDir = Traversable | str | os.PathLike[str]


def load_catalog(data_dir: DataDir | None = None, *, lists_dir: DataDir | None = None) -> Catalog:
    """Read a catalog: by default the packaged ``translation/data``.

    ``lists_dir`` defaults to ``<data_dir>/lists``. Raises CatalogError listing every
    defect found (a missing or malformed file, a field naming an unknown list...).
    """
    base = _as_traversable(data_dir) if data_dir is not None else packaged_data_dir()
    lists_base = _as_traversable(lists_dir) if lists_dir is not None else base / "lists"
    problems: list[str] = []
    structure = _read_json(base / "catalog.json", problems)
    label_data = _read_json(base / "field_labels.json", problems)
    if problems:
        raise CatalogError(problems)
    labels = _parse_label_table(label_data, problems)
    lists: dict[str, CodeList] = dict(iso_lists(labels.lists))
    try:
        own = load_own_lists(lists_base)
    except CatalogError as exc:
        problems.extend(exc.problems)
        own = {}
    for clash in sorted(set(own) & set(lists)):
        problems.append(f"lists/{clash}.json: {clash!r} is an ISO list, served by Babel")
    lists.update(own)
    version = structure.get("catalog_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        problems.append("catalog.json: 'catalog_version' must be a positive integer")
        version = 0
    if label_data.get("catalog_version") != version:
        problems.append("field_labels.json: 'catalog_version' differs from catalog.json's")
    record_types = _FieldParser(structure, lists, problems).record_types()
    if problems:
        raise CatalogError(problems)
    return Catalog(version=version, record_types=record_types, lists=lists, labels=labels)


@cache
def default_catalog() -> Catalog:
    """The packaged catalog, read once."""
    return load_catalog()


def packaged_data_dir() -> Traversable:
    """The package's own data folder.

    An editable install made while ``translation`` had no ``__init__.py`` imports it as a
    namespace package, which ``files()`` cannot serve; then the folder beside this module is
    the same folder.
    """
    if getattr(sys.modules[__package__ or "translation"], "__file__", None):
        return files(__package__ or "translation") / "data"
    return Path(__file__).parent / "data"


def _as_traversable(path: DataDir) -> Traversable:
    return path if isinstance(path, Traversable) else Path(path)


def _read_json(entry: Traversable, problems: list[str]) -> dict[str, Any]:
    try:
        data = json.loads(entry.read_text(encoding="utf-8"))
    except FileNotFoundError:
        problems.append(f"{entry.name}: missing")
        return {}
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        problems.append(f"{entry.name}: not valid JSON ({exc})")
        return {}
    if not isinstance(data, dict):
        problems.append(f"{entry.name}: top level must be an object")
        return {}
    return data


def _parse_label_table(data: Mapping[str, Any], problems: list[str]) -> LabelTable:
    sections: dict[str, dict[str, dict[str, str]]] = {}
    for section in ("record_types", "fields", "lists", "terms"):
        raw = data.get(section)
        if not isinstance(raw, dict):
            problems.append(f"field_labels.json: '{section}' must be an object")
            raw = {}
        parsed: dict[str, dict[str, str]] = {}
        for key, by_lang in raw.items():
            if not isinstance(by_lang, dict):
                problems.append(f"field_labels.json: {section}.{key} must be an object")
                continue
            parsed[key] = {}
            for lang, text in by_lang.items():
                if canonical_tag(lang) != lang:
                    continue  # "note": a word for translators
                if isinstance(text, str) and text.strip():
                    parsed[key][lang] = text
                else:
                    problems.append(f"field_labels.json: {section}.{key}.{lang} must be text")
        sections[section] = parsed
    return LabelTable(**sections)


_LISTS_OF_TYPE: Final = {FieldType.QUANTITY: "unit", FieldType.MONEY: "currency", FieldType.TEXT: "language"}
"""The code list each compound type takes its codes from (unit, currency, language)."""

_ATTRIBUTES: Final = frozenset(
    {
        "name",
        "type",
        "required",
        "repeated",
        "list",
        "targets",
        "check",
        "max_length",
        "partial",
        "group",
        "fields",
        "required_if",
        "max_items",
    }
)


class _FieldParser:
    """Turns catalog.json's record types and groups into FieldDefs, noting every defect."""

    def __init__(
        self, structure: Mapping[str, Any], lists: Mapping[str, CodeList], problems: list[str]
    ) -> None:
        self._lists = lists
        self._problems = problems
        raw_types = structure.get("record_types")
        self._raw_types: dict[str, Any] = raw_types if isinstance(raw_types, dict) else {}
        raw_groups = structure.get("groups", {})
        self._raw_groups: dict[str, Any] = raw_groups if isinstance(raw_groups, dict) else {}
        self._groups: dict[str, tuple[FieldDef, ...]] = {}
        self._building: set[str] = set()
        if not self._raw_types:
            problems.append("catalog.json: 'record_types' must be a non-empty object")
        if not isinstance(raw_groups, dict):
            problems.append("catalog.json: 'groups' must be an object")
        for clash in set(self._raw_types) & set(self._raw_groups):
            problems.append(f"catalog.json: {clash!r} is both a record type and a group")

    def record_types(self) -> dict[str, RecordType]:
        types: dict[str, RecordType] = {}
        for name, raw in self._raw_types.items():
            fields = self._fields(raw.get("fields") if isinstance(raw, dict) else None, name)
            types[name] = RecordType(name, fields, {f.name: f for f in fields})
        return types

    def _shared_group(self, name: str) -> tuple[FieldDef, ...]:
        if name in self._building:
            self._problems.append(f"catalog.json: group {name!r} contains itself")
            return ()
        if name not in self._groups:
            self._building.add(name)
            raw = self._raw_groups[name]
            self._groups[name] = self._fields(raw.get("fields") if isinstance(raw, dict) else None, name)
            self._building.discard(name)
        return self._groups[name]

    def _fields(self, raw: object, prefix: str) -> tuple[FieldDef, ...]:
        if not isinstance(raw, list) or not raw:
            self._problems.append(f"catalog.json: {prefix} must have a non-empty 'fields' list")
            return ()
        parsed = [self._field(item, prefix) for item in raw]
        fields = tuple(f for f in parsed if f is not None)
        names = [f.name for f in fields]
        for name in {n for n in names if names.count(n) > 1}:
            self._problems.append(f"catalog.json: {prefix}.{name} is defined twice")
        for field_def in fields:
            if field_def.required_if is not None:
                self._check_condition(field_def, fields, prefix)
        return fields

    def _field(self, raw: object, prefix: str) -> FieldDef | None:
        problems = self._problems
        if not isinstance(raw, dict) or not str(raw.get("name", "")).isidentifier():
            problems.append(f"catalog.json: a field of {prefix} has no name, or not a plain one")
            return None
        key = f"{prefix}.{raw['name']}"
        for attribute in set(raw) - _ATTRIBUTES:
            problems.append(f"catalog.json: {key} has unknown attribute {attribute!r}")
        try:
            type_ = FieldType(raw.get("type"))
        except ValueError:
            problems.append(f"catalog.json: {key} has unknown type {raw.get('type')!r}")
            return None
        list_id, check = raw.get("list"), raw.get("check")
        targets = tuple(raw.get("targets", ())) if isinstance(raw.get("targets", ()), list | tuple) else ()
        if (type_ is FieldType.CODE) != (list_id is not None):
            problems.append(f"catalog.json: {key}: 'list' goes with type code, and only there")
        elif list_id is not None and list_id not in self._lists:
            problems.append(f"catalog.json: {key} names list {list_id!r}, which is missing")
        if type_ is FieldType.REF and (not targets or any(t not in self._raw_types for t in targets)):
            problems.append(f"catalog.json: {key} must target known record types")
        needed = _LISTS_OF_TYPE.get(type_)
        if needed is not None and needed not in self._lists:
            problems.append(f"catalog.json: {key} needs list {needed!r}, which is missing")
        if check is not None and (type_ is not FieldType.STRING or check not in CHECKS):
            problems.append(f"catalog.json: {key} names unknown check {check!r}")
        subfields: tuple[FieldDef, ...] = ()
        group = raw.get("group")
        if type_ is FieldType.GROUP:
            if group is not None and group not in self._raw_groups:
                problems.append(f"catalog.json: {key} uses unknown group {group!r}")
            elif group is not None:
                subfields = self._shared_group(group)
            else:
                subfields = self._fields(raw.get("fields"), key)
        condition = raw.get("required_if")
        required_if = None
        if (
            isinstance(condition, dict)
            and len(condition) == 1
            and all(isinstance(codes, list) for codes in condition.values())
        ):
            ((sibling, codes),) = condition.items()
            required_if = (sibling, frozenset(codes))
        elif condition is not None:
            problems.append(f"catalog.json: {key}: 'required_if' is {{field: [codes]}}")
        max_length = raw.get("max_length", DEFAULT_MAX_LENGTH.get(type_.value))
        max_items = raw.get("max_items", DEFAULT_MAX_ITEMS)
        for attribute, number in (("max_length", max_length), ("max_items", max_items)):
            if number is not None and (not isinstance(number, int) or isinstance(number, bool) or number < 1):
                problems.append(f"catalog.json: {key}: '{attribute}' must be a positive integer")
        return FieldDef(
            name=raw["name"],
            key=key,
            type=type_,
            required=raw.get("required") is True,
            repeated=raw.get("repeated") is True,
            list=list_id,
            targets=targets,
            check=check,
            max_length=max_length,
            partial=raw.get("partial") is True,
            group=group,
            fields=subfields,
            required_if=required_if,
            max_items=max_items,
            field_map={f.name: f for f in subfields},
        )

    def _check_condition(self, field_def: FieldDef, siblings: tuple[FieldDef, ...], prefix: str) -> None:
        assert field_def.required_if is not None
        sibling_name, codes = field_def.required_if
        sibling = next((f for f in siblings if f.name == sibling_name), None)
        if sibling is None or sibling.list is None or sibling.list not in self._lists:
            self._problems.append(
                f"catalog.json: {field_def.key}: 'required_if' names no code field of {prefix}"
            )
            return
        code_list = self._lists[sibling.list]
        for code in sorted(c for c in codes if c not in code_list):
            self._problems.append(
                f"catalog.json: {field_def.key}: 'required_if' code {code!r} not in {sibling.list}"
            )
