"""Validation of records against the catalog: every problem, never only the first.

The same function checks a record an officer enters and a record received from a peer.
A record made with a newer catalog than ours may carry codes and fields we do not know:
those are tolerated here and flagged when rendered. Catalogs only ever add fields, codes
and lists, never change a field's type, so everything else is checked the same way.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from translation.catalog import Catalog, FieldDef, FieldType
from translation.checks import CHECKS, CheckOutcome, check_identifier
from translation.codelists import CodeList
from translation.errors import RecordInvalid
from translation.languages import canonical_tag

MAX_PROBLEMS: Final = 1000
MAX_DEPTH: Final = 32
RECORD_KEYS: Final = ("type", "id", "catalog_version", "fields")
PHOTO_MEDIA_TYPES: Final = frozenset({"image/jpeg", "image/png", "image/webp", "image/tiff", "image/heic"})

_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
_DECIMAL = re.compile(r"(?:0|[1-9][0-9]{0,17})(?:\.[0-9]{1,9})?")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_DATE = re.compile(r"([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?")
_DATETIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?(?:Z|[+-][0-9]{2}:[0-9]{2})"
)
_DECIMAL_EXPECTED: Final = 'a non-negative decimal string like "1250.5" (no floats)'
_MISSING: Final = object()


class ProblemCode(StrEnum):
    """What is wrong with one value; stable, for APIs and peers."""

    WRONG_TYPE = "wrong_type"
    MISSING_REQUIRED = "missing_required"
    UNKNOWN_FIELD = "unknown_field"
    UNKNOWN_CODE = "unknown_code"
    UNKNOWN_RECORD_TYPE = "unknown_record_type"
    WRONG_TARGET = "wrong_target"
    BAD_FORMAT = "bad_format"
    BAD_CHECK_DIGIT = "bad_check_digit"
    NOT_CANONICAL = "not_canonical"
    TOO_LONG = "too_long"
    TOO_MANY = "too_many"
    TOO_MANY_PROBLEMS = "too_many_problems"


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem: where (``fields.commodity[0].category``), what, what was given and expected.

    ``given`` is a short JSON rendering of the value found, None when it was absent.
    """

    path: str
    code: ProblemCode
    given: str | None
    expected: str

    def __str__(self) -> str:
        given = "nothing" if self.given is None else self.given
        return f"{self.path or '(record)'}: {self.code}: given {given}, expected {self.expected}"

    def to_json(self) -> dict[str, str | None]:
        """The problem as a JSON object, for API answers and rejection reasons."""
        return {"path": self.path, "code": self.code.value, "given": self.given, "expected": self.expected}


def validate(record: object, catalog: Catalog) -> list[Problem]:
    """Every problem of ``record`` against ``catalog``; an empty list means valid.

    Never raises, whatever ``record`` is.
    """
    return _Validator(catalog).record(record)


def ensure_valid(record: object, catalog: Catalog) -> None:
    """Raise RecordInvalid, carrying every problem, unless ``record`` is valid."""
    problems = validate(record, catalog)
    if problems:
        raise RecordInvalid(problems)


def given(value: object) -> str:
    """A short JSON-like rendering of a value, for ``Problem.given``."""
    if isinstance(value, dict):
        return f"an object ({len(value)} keys)"
    if isinstance(value, list | tuple):
        return f"an array ({len(value)} items)"
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**30:
        return "an integer of more than 30 digits"
    if isinstance(value, str) and len(value) > 80:
        value = value[:80]
    if value is None or isinstance(value, bool | int | float | str):
        try:
            text = json.dumps(value, ensure_ascii=False)
        except ValueError:  # nan, inf
            text = repr(value)
        return text if len(text) <= 80 else text[:77] + "..."
    return f"a {type(value).__name__}"


class _Validator:
    """One validation run: the catalog, whether the record is newer, the problems so far."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.newer = False
        self.problems: list[Problem] = []
        self._dropped = 0

    def add(self, path: str, code: ProblemCode, value: object, expected: str) -> None:
        if len(self.problems) >= MAX_PROBLEMS:
            self._dropped += 1
            return
        shown = None if value is _MISSING else given(value)
        self.problems.append(Problem(path, code, shown, expected))

    def record(self, record: object) -> list[Problem]:
        if not isinstance(record, dict):
            self.add("", ProblemCode.WRONG_TYPE, record, "a record object")
            return self.problems
        for key in record:
            if key not in RECORD_KEYS:
                self.add(
                    _join("", key),
                    ProblemCode.UNKNOWN_FIELD,
                    record[key],
                    "only the keys " + ", ".join(RECORD_KEYS),
                )
        version = record.get("catalog_version", _MISSING)
        if self._positive_int("catalog_version", version):
            self.newer = version > self.catalog.version  # type: ignore[operator]
        self._identifier("id", record.get("id", _MISSING))
        record_type = record.get("type", _MISSING)
        known_types = ", ".join(self.catalog.record_types)
        type_def = None
        if record_type is _MISSING:
            self.add("type", ProblemCode.MISSING_REQUIRED, _MISSING, f"one of {known_types}")
        elif not isinstance(record_type, str):
            self.add("type", ProblemCode.WRONG_TYPE, record_type, f"one of {known_types}")
        elif record_type not in self.catalog.record_types:
            self.add("type", ProblemCode.UNKNOWN_RECORD_TYPE, record_type, f"one of {known_types}")
        else:
            type_def = self.catalog.record_types[record_type]
        fields = record.get("fields", _MISSING)
        if fields is _MISSING:
            self.add("fields", ProblemCode.MISSING_REQUIRED, _MISSING, "an object of fields")
        elif type_def is not None:
            self.group(fields, type_def.field_map, "fields")
        elif not isinstance(fields, dict):
            self.add("fields", ProblemCode.WRONG_TYPE, fields, "an object of fields")
        else:
            self.plain(fields, "fields", 0)
        if self._dropped:
            self.problems.append(
                Problem(
                    "",
                    ProblemCode.TOO_MANY_PROBLEMS,
                    str(self._dropped),
                    f"at most {MAX_PROBLEMS} problems are listed; this many more were found",
                )
            )
        return self.problems

    def group(self, value: object, field_map: Mapping[str, FieldDef], path: str) -> None:
        if not isinstance(value, dict):
            self.add(path, ProblemCode.WRONG_TYPE, value, "an object of fields")
            return
        for key, item in value.items():
            if key not in field_map:
                if not isinstance(key, str):
                    self.add(_join(path, key), ProblemCode.WRONG_TYPE, key, "field names are strings")
                elif not self.newer:
                    self.add(
                        _join(path, key), ProblemCode.UNKNOWN_FIELD, item, "one of " + ", ".join(field_map)
                    )
                self.plain(item, _join(path, key), 0)
        for name, field_def in field_map.items():
            item = value.get(name, _MISSING)
            if item is not _MISSING:
                self.field(item, field_def, _join(path, name))
            elif field_def.required or _condition_met(field_def, value):
                self.add(_join(path, name), ProblemCode.MISSING_REQUIRED, _MISSING, _expected(field_def))

    def field(self, value: object, field_def: FieldDef, path: str) -> None:
        if not field_def.repeated:
            self.value(value, field_def, path)
            return
        if not isinstance(value, list):
            self.add(path, ProblemCode.WRONG_TYPE, value, f"an array, each item {_expected(field_def)}")
            return
        if field_def.required and not value:
            self.add(path, ProblemCode.MISSING_REQUIRED, value, f"at least one {_expected(field_def)}")
        if len(value) > field_def.max_items:
            self.add(path, ProblemCode.TOO_MANY, value, f"at most {field_def.max_items} items")
        for index, item in enumerate(value[: field_def.max_items]):
            self.value(item, field_def, f"{path}[{index}]")

    def value(self, value: object, field_def: FieldDef, path: str) -> None:
        kind = field_def.type
        if kind is FieldType.CODE:
            self.code(value, self.catalog.lists[field_def.list or ""], path)
        elif kind is FieldType.GROUP:
            self.group(value, field_def.field_map, path)
        elif kind is FieldType.TEXT:
            self.text(value, field_def, path)
        elif kind is FieldType.STRING:
            self.string(value, field_def, path)
        elif kind is FieldType.DATE:
            self.date(value, field_def.partial, path)
        elif kind is FieldType.DATETIME:
            self.datetime(value, path)
        elif kind is FieldType.QUANTITY:
            self.amount(value, "unit", path)
        elif kind is FieldType.MONEY:
            self.amount(value, "currency", path)
        elif kind is FieldType.REF:
            self.ref(value, field_def.targets, path)
        elif kind is FieldType.PHOTO:
            self.photo(value, path)

    def code(self, value: object, code_list: CodeList, path: str) -> None:
        expected = f"a code of list {code_list.list_id}"
        if not isinstance(value, str):
            self.add(path, ProblemCode.WRONG_TYPE, value, expected)
        elif value not in code_list and not (self.newer and _plausible_code(value)):
            self.add(path, ProblemCode.UNKNOWN_CODE, value, expected)

    def text(self, value: object, field_def: FieldDef, path: str) -> None:
        parts = self.parts(
            value, path, {"text": "a string", "lang": "a language tag"}, 'free text {"text", "lang"}'
        )
        if "text" in parts:
            self.characters(parts["text"], field_def.max_length, _join(path, "text"))
        if "lang" in parts:
            tag = parts["lang"]
            canonical = canonical_tag(tag)
            lang_path = _join(path, "lang")
            if canonical is None or canonical.split("-")[0] not in self.catalog.lists["language"]:
                self.add(
                    lang_path, ProblemCode.BAD_FORMAT, tag, 'a BCP 47 language tag, like "es" or "pt-BR"'
                )
            elif canonical != tag:
                self.add(lang_path, ProblemCode.NOT_CANONICAL, tag, f'"{canonical}"')

    def string(self, value: object, field_def: FieldDef, path: str) -> None:
        if not isinstance(value, str):
            self.add(path, ProblemCode.WRONG_TYPE, value, "a string")
            return
        if not self.characters(value, field_def.max_length, path) or field_def.check is None:
            return
        outcome = check_identifier(field_def.check, value)
        expected = CHECKS[field_def.check].expected
        if outcome is CheckOutcome.BAD_CHECK_DIGIT:
            self.add(path, ProblemCode.BAD_CHECK_DIGIT, value, expected)
        elif outcome is CheckOutcome.BAD_FORMAT:
            self.add(path, ProblemCode.BAD_FORMAT, value, expected)
        elif outcome is CheckOutcome.NOT_CANONICAL:
            canonical = CHECKS[field_def.check].normalise(value)
            self.add(path, ProblemCode.NOT_CANONICAL, value, f'"{canonical}"')

    def characters(self, value: str, max_length: int | None, path: str) -> bool:
        """Checks shared by text and strings; True when the string is fine."""
        if not value.strip():
            self.add(path, ProblemCode.BAD_FORMAT, value, "a non-empty string")
        elif max_length is not None and len(value) > max_length:
            self.add(path, ProblemCode.TOO_LONG, value, f"at most {max_length} characters")
        elif value != value.strip() or not unicodedata.is_normalized("NFC", value):
            self.add(path, ProblemCode.NOT_CANONICAL, value, "NFC text without leading or trailing spaces")
        else:
            return True
        return False

    def date(self, value: object, partial: bool, path: str) -> None:
        expected = "a date YYYY-MM-DD" + (", YYYY-MM or YYYY" if partial else "")
        if not isinstance(value, str):
            self.add(path, ProblemCode.WRONG_TYPE, value, expected)
            return
        match = _DATE.fullmatch(value)
        if match is None or (match[3] is None and not partial):
            self.add(path, ProblemCode.BAD_FORMAT, value, expected)
            return
        try:
            dt.date(int(match[1]), int(match[2] or 1), int(match[3] or 1))
        except ValueError:
            self.add(path, ProblemCode.BAD_FORMAT, value, expected + ", an existing date")

    def datetime(self, value: object, path: str) -> None:
        expected = "a date and time with its offset, like 2026-11-20T14:30:00Z"
        if not isinstance(value, str):
            self.add(path, ProblemCode.WRONG_TYPE, value, expected)
            return
        try:
            valid = bool(_DATETIME.fullmatch(value)) and dt.datetime.fromisoformat(value) is not None
        except ValueError:
            valid = False
        if not valid:
            self.add(path, ProblemCode.BAD_FORMAT, value, expected)

    def amount(self, value: object, unit_key: str, path: str) -> None:
        parts = self.parts(
            value,
            path,
            {"value": _DECIMAL_EXPECTED, unit_key: "a code"},
            f'{{"value": decimal string, "{unit_key}": code}}',
        )
        if "value" in parts and not _DECIMAL.fullmatch(parts["value"]):
            self.add(_join(path, "value"), ProblemCode.BAD_FORMAT, parts["value"], _DECIMAL_EXPECTED)
        if unit_key in parts:
            self.code(parts[unit_key], self.catalog.lists[unit_key], _join(path, unit_key))

    def ref(self, value: object, targets: tuple[str, ...], path: str) -> None:
        expected = "a reference to a " + " or ".join(targets)
        parts = self.parts(
            value, path, {"type": "a record type", "id": "a record id"}, expected + ' {"type", "id"}'
        )
        if "type" in parts and parts["type"] not in targets:
            self.add(_join(path, "type"), ProblemCode.WRONG_TARGET, parts["type"], " or ".join(targets))
        if "id" in parts:
            self._identifier(_join(path, "id"), parts["id"])

    def photo(self, value: object, path: str) -> None:
        parts = self.parts(
            value,
            path,
            {"sha256": "a SHA-256 digest", "media_type": "a string"},
            'a photo {"sha256", "media_type"}',
        )
        if "sha256" in parts and not _SHA256.fullmatch(parts["sha256"]):
            self.add(
                _join(path, "sha256"),
                ProblemCode.BAD_FORMAT,
                parts["sha256"],
                "64 lower-case hexadecimal digits",
            )
        if "media_type" in parts and parts["media_type"] not in PHOTO_MEDIA_TYPES:
            self.add(
                _join(path, "media_type"),
                ProblemCode.BAD_FORMAT,
                parts["media_type"],
                "one of " + ", ".join(sorted(PHOTO_MEDIA_TYPES)),
            )

    def parts(self, value: object, path: str, shape: Mapping[str, str], expected: str) -> dict[str, str]:
        """The string parts (key -> what it holds) of a compound value; problems for the rest."""
        if not isinstance(value, dict):
            self.add(path, ProblemCode.WRONG_TYPE, value, expected)
            return {}
        found: dict[str, str] = {}
        for key, item in value.items():
            if key not in shape:
                self.add(_join(path, key), ProblemCode.UNKNOWN_FIELD, item, "only " + ", ".join(shape))
                self.plain(item, _join(path, key), 0)
        for key, holds in shape.items():
            item = value.get(key, _MISSING)
            if item is _MISSING:
                self.add(_join(path, key), ProblemCode.MISSING_REQUIRED, _MISSING, holds)
            elif not isinstance(item, str):
                self.add(_join(path, key), ProblemCode.WRONG_TYPE, item, holds)
            else:
                found[key] = item
        return found

    def plain(self, value: object, path: str, depth: int) -> None:
        """Checks of a value we have no definition for: plain JSON, no floats, not too deep."""
        if depth > MAX_DEPTH:
            self.add(path, ProblemCode.TOO_MANY, value, f"at most {MAX_DEPTH} levels of nesting")
        elif isinstance(value, dict):
            for key, item in value.items():
                if not isinstance(key, str):
                    self.add(_join(path, key), ProblemCode.WRONG_TYPE, key, "field names are strings")
                self.plain(item, _join(path, key), depth + 1)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                self.plain(item, f"{path}[{index}]", depth + 1)
        elif isinstance(value, bool) or value is None:
            return
        elif isinstance(value, int):
            if not -(2**63) <= value < 2**64:
                self.add(path, ProblemCode.WRONG_TYPE, value, "a 64-bit integer")
        elif not isinstance(value, str):
            self.add(
                path, ProblemCode.WRONG_TYPE, value, "a string, integer, boolean, array or object (no floats)"
            )

    def _positive_int(self, path: str, value: object) -> bool:
        if value is _MISSING:
            self.add(path, ProblemCode.MISSING_REQUIRED, value, "a positive integer")
        elif not isinstance(value, int) or isinstance(value, bool):
            self.add(path, ProblemCode.WRONG_TYPE, value, "a positive integer")
        elif not 1 <= value < 2**31:
            self.add(path, ProblemCode.BAD_FORMAT, value, "a positive integer")
        else:
            return True
        return False

    def _identifier(self, path: str, value: object) -> None:
        expected = "a record id: letters, digits, '.', '_', ':' or '-', at most 128"
        if value is _MISSING:
            self.add(path, ProblemCode.MISSING_REQUIRED, value, expected)
        elif not isinstance(value, str):
            self.add(path, ProblemCode.WRONG_TYPE, value, expected)
        elif not _ID.fullmatch(value):
            self.add(path, ProblemCode.BAD_FORMAT, value, expected)


def _join(path: str, key: object) -> str:
    """``fields`` + ``commodity`` -> ``fields.commodity``; odd keys are shown quoted."""
    if isinstance(key, str) and key.isidentifier():
        return f"{path}.{key}" if path else key
    shown = given(key)
    return f"{path}[{shown}]" if path else f"[{shown}]"


def _condition_met(field_def: FieldDef, siblings: Mapping[object, object]) -> bool:
    if field_def.required_if is None:
        return False
    sibling, codes = field_def.required_if
    value = siblings.get(sibling)
    return isinstance(value, str) and value in codes


def _expected(field_def: FieldDef) -> str:
    """What a field expects, in a few words, for missing and wrong-type problems."""
    if field_def.type is FieldType.CODE:
        return f"a code of list {field_def.list}"
    if field_def.type is FieldType.REF:
        return "a reference to a " + " or ".join(field_def.targets)
    if field_def.type is FieldType.GROUP:
        return "an object of fields"
    return f"a value of type {field_def.type.value}"


def _plausible_code(value: str) -> bool:
    """Whether an unknown code from a newer catalog looks like a code at all."""
    return 0 < len(value) <= 64 and value.isprintable() and value == value.strip()
