"""Rows from national systems' exports: CSV (one flat row per record) and JSON lines
(one full record per line), turned into ``ImportRow``s for ``RecordService.import_rows``.

CSV: the first line names the columns (any order; all but ``source_id`` optional; an
unknown column stops the import before any row is read). The separator (comma,
semicolon or tab) is taken from the header. Cells are trimmed; an empty cell is a field
left out. Cells marked "list" hold several values separated by ``;``. Free-text cells
are in the language of the ``lang`` column (default: the node's language). References
(``involved``, ``cases``) name the source ids of rows of the same source system.
``CSV_COLUMNS`` is the convention, column by column; ``csv_convention()`` prints it.

JSON lines: each line is one record in the catalog's shape; its ``id`` is the source
system's id, and so are the ids its references name.

Row numbers are the line the row starts on in the file (the CSV header is line 1).
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

ProblemJson = dict[str, Any]
"""One problem as JSON: path, code, given, expected (and, in import reports, the column)."""


def problem(path: str, code: str, given: Any, expected: str) -> ProblemJson:
    return {"path": path, "code": code, "given": given, "expected": expected}


def shown(value: Any) -> str:
    """A value as a problem's ``given``: short JSON."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = type(value).__name__
    return text if len(text) <= 80 else text[:77] + "..."


def problem_line(p: ProblemJson) -> str:
    where = p["path"] or "(record)"
    if p.get("column"):
        where += f" (column {p['column']})"
    given = "nothing" if p["given"] is None else p["given"]
    return f"{where}: {p['code']}: given {given}, expected {p['expected']}"


class CsvCells(NamedTuple):
    """A CSV row's cells (column -> trimmed text), made into a record where the row is
    prepared (in an import's worker process): cells travel there cheaper than records."""

    record_type: str
    cells: dict[str, str]
    lang: str

    def build(self, catalog_version: int) -> dict[str, Any]:
        return record_from_csv(self.record_type, self.cells, lang=self.lang,
                               catalog_version=catalog_version)


class ImportRow(NamedTuple):
    """One row to import: its number in the source (line or position), the source
    system's id of the row, the record (or the CSV cells it is made from), and problems
    found reading it."""

    number: int
    source_id: Any
    record: Any
    problems: tuple[ProblemJson, ...] = ()


class ImportFileError(ValueError):
    """A file that cannot be imported at all (unknown columns, unreadable); nothing is read."""


@dataclass(frozen=True, slots=True)
class Column:
    """One CSV column: where its value goes in the record (``fields.`` + path), and how.

    ``kind``: ``value`` (the cell as is), ``list`` (``;``-separated values),
    ``each`` (one list item per ``;``-separated value, at ``[*]``), ``text`` (free text
    in the row's language), ``party`` (``type:source id:role;...``), ``case`` (``source
    id:role;...``), ``alias`` (``FAMILY, Given;...``)."""

    name: str
    path: str
    kind: str = "value"
    doc: str = ""


def _place(prefix: str, path: str, *, name: bool = False) -> list[Column]:
    columns = [Column(f"{prefix}country", f"{path}.country", doc="ISO 3166-1 alpha-2"),
               Column(f"{prefix}locode", f"{path}.locode", doc="UN/LOCODE, e.g. ESALG")]
    if name:
        columns += [Column(f"{prefix}place_type", f"{path}.place_type", doc="list place_type"),
                    Column(f"{prefix}place_name", f"{path}.name", "text")]
    return columns


CSV_COLUMNS: dict[str, tuple[Column, ...]] = {
    "case": (
        Column("source_id", "", doc="required: the source system's id of the case"),
        Column("date", "date", doc="YYYY-MM-DD"),
        *_place("", "place", name=True),
        Column("customs_office_code", "customs_office.code"),
        Column("customs_office_name", "customs_office.name", "text"),
        Column("offence_type", "offence_type", "list", "list offence_type"),
        Column("commodity_category", "commodity[0].category", doc="list commodity_category"),
        Column("hs_chapter", "commodity[0].hs_chapter", doc="two digits"),
        Column("hs_heading", "commodity[0].hs_heading", doc="four digits"),
        Column("description", "commodity[0].description", "text"),
        Column("quantity", "commodity[0].quantity.value", doc="decimal, e.g. 1250.5"),
        Column("unit", "commodity[0].quantity.unit", doc="UN/ECE Rec 20, e.g. KGM"),
        Column("value", "commodity[0].estimated_value.value", doc="decimal"),
        Column("currency", "commodity[0].estimated_value.currency", doc="ISO 4217"),
        Column("detection_method", "detection_method", "list", "list detection_method"),
        Column("concealment_method", "concealment_method", "list", "list concealment_method"),
        Column("transport_mode", "conveyance[0].mode", doc="UN/ECE Rec 19 digit"),
        Column("conveyance_type", "conveyance[0].type", doc="list conveyance_type"),
        Column("vessel_name", "conveyance[0].vessel_name"),
        Column("imo_number", "conveyance[0].imo_number", doc="7 digits with check digit"),
        Column("flight_number", "conveyance[0].flight_number", doc="e.g. IB6830"),
        Column("vehicle_registration", "conveyance[0].vehicle_registration"),
        Column("registration_country", "conveyance[0].registration_country"),
        Column("container_number", "conveyance[0].container_number", "list", "ISO 6346"),
        *_place("departure_", "route.departure"),
        Column("transit_countries", "route.transit[*].country", "each", "ISO 3166-1 alpha-2"),
        *_place("destination_", "route.destination"),
        Column("involved", "involved", "party",
               "person or entity by source id with its role: person:P-1:suspect"),
        Column("summary", "summary", "text"),
        Column("lang", "", doc="language of the free-text cells (BCP 47)"),
    ),
    "person": (
        Column("source_id", "", doc="required: the source system's id of the person"),
        Column("family_name", "name.family_name"),
        Column("given_names", "name.given_names"),
        Column("aliases", "aliases", "alias", "FAMILY, Given;FAMILY2, Given2"),
        Column("date_of_birth", "date_of_birth", doc="YYYY-MM-DD, YYYY-MM or YYYY"),
        Column("gender", "gender", doc="list gender"),
        Column("nationality", "nationality", "list", "ISO 3166-1 alpha-2"),
        Column("document_type", "identity_documents[0].type", doc="list document_type"),
        Column("document_number", "identity_documents[0].number"),
        Column("document_country", "identity_documents[0].issuing_country"),
        Column("document_expiry", "identity_documents[0].expiry_date", doc="YYYY-MM-DD"),
        Column("cases", "cases", "case", "case by source id with the role: C-1:suspect"),
    ),
    "entity": (
        Column("source_id", "", doc="required: the source system's id of the entity"),
        Column("name", "name"),
        Column("registration_number", "registration_number"),
        Column("registration_country", "registration_country"),
        Column("street", "addresses[0].street"),
        Column("city", "addresses[0].city"),
        Column("postal_code", "addresses[0].postal_code"),
        Column("address_country", "addresses[0].country"),
        Column("cases", "cases", "case", "case by source id with the role: C-1:consignee"),
    ),
}

def _split(cell: str) -> list[str]:
    return [part.strip() for part in cell.split(";") if part.strip()]


def _party(cell: str) -> list[dict[str, Any]]:
    out = []
    for entry in _split(cell):
        kind, _, rest = entry.partition(":")
        ref_id, _, role = rest.rpartition(":")
        out.append({"party": {"type": kind.strip(), "id": ref_id.strip()}, "role": role.strip()})
    return out


def _case_links(cell: str) -> list[dict[str, Any]]:
    out = []
    for entry in _split(cell):
        ref_id, _, role = entry.rpartition(":")
        out.append({"case": {"type": "case", "id": ref_id.strip()}, "role": role.strip()})
    return out


def _aliases(cell: str) -> list[dict[str, str]]:
    out = []
    for entry in _split(cell):
        family, _, given = entry.partition(",")
        alias = {"family_name": family.strip()}
        if given.strip():
            alias["given_names"] = given.strip()
        out.append(alias)
    return out


Parse = Callable[[str, str], Any]
"""(cell, the row's language) -> the field's value."""

_PARSERS: dict[str, Parse] = {
    "value": lambda cell, lang: cell,
    "text": lambda cell, lang: {"text": cell, "lang": lang},
    "list": lambda cell, lang: _split(cell),
    "party": lambda cell, lang: _party(cell),
    "case": lambda cell, lang: _case_links(cell),
    "alias": lambda cell, lang: _aliases(cell),
}


@dataclass(frozen=True, slots=True)
class _Node:
    """A group of the record a CSV row fills: its leaves (key, column, parse) and its
    subgroups (key, node, whether it is the first item of a list)."""

    leaves: list[tuple[str, str, Parse]]
    groups: list[tuple[str, _Node, bool]]

    def build(self, cells: dict[str, str], lang: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, column, parse in self.leaves:
            cell = cells.get(column)
            if cell:
                out[key] = parse(cell, lang)
        for key, node, first_item in self.groups:
            group = node.build(cells, lang)
            if group:
                out[key] = [group] if first_item else group
        return out


def _each(inner_key: str) -> Parse:
    """A list with an item per value: ``PA;MA`` -> [{"country": "PA"}, {"country": "MA"}]."""
    return lambda cell, lang: [{inner_key: part} for part in _split(cell)]


@cache
def _tree(record_type: str) -> _Node:
    """The columns of a record type as the tree of groups they fill, made once."""
    root = _Node([], [])
    for column in CSV_COLUMNS[record_type]:
        if not column.path:
            continue
        path, parse = column.path, _PARSERS.get(column.kind)
        if column.kind == "each":  # "route.transit[*].country": the list is the leaf
            path, _, inner = path.partition("[*].")
            parse = _each(inner)
        *parents, leaf = path.split(".")
        node = root
        for segment in parents:
            key, first_item = segment.removesuffix("[0]"), segment.endswith("[0]")
            found = next((n for k, n, _ in node.groups if k == key), None)
            if found is None:
                found = _Node([], [])
                node.groups.append((key, found, first_item))
            node = found
        assert parse is not None, column
        node.leaves.append((leaf, column.name, parse))
    return root


def record_from_csv(record_type: str, cells: dict[str, str], *, lang: str,
                    catalog_version: int) -> dict[str, Any]:
    """The record (without id) a CSV row makes; cells are column -> trimmed text."""
    fields = _tree(record_type).build(cells, lang)
    return {"type": record_type, "catalog_version": catalog_version, "fields": fields}


@cache
def _column_patterns(record_type: str) -> tuple[tuple[re.Pattern[str], str, str], ...]:
    patterns = []
    for column in CSV_COLUMNS[record_type]:
        if column.path:
            path = "fields." + column.path
            regex = re.escape(path).replace(r"\[\*\]", r"\[\d+\]")
            patterns.append((re.compile(regex + r"(?=$|[.\[])"), path, column.name))
    # The longest path first: "fields.commodity[0].quantity.unit" before "...quantity".
    return tuple(sorted(patterns, key=lambda p: -len(p[1])))


def column_of(record_type: str) -> CsvColumns:
    """problem path -> the CSV column it came from, for the import report."""
    return CsvColumns(record_type)


@dataclass(frozen=True, slots=True)
class CsvColumns:
    """The CSV column of a problem's path; a class, so that it can be sent to an import's
    worker processes."""

    record_type: str

    def __call__(self, path: str) -> str | None:
        if path == "source_id":
            return "source_id"
        if path.endswith(".lang"):
            return "lang"
        for regex, _, name in _column_patterns(self.record_type):
            if regex.match(path):
                return name
        # A group missing as a whole: its first column (in the convention's order).
        for column in CSV_COLUMNS[self.record_type]:
            if column.path and ("fields." + column.path).startswith(path + "."):
                return column.name
        return None


def _delimiter(header_line: str) -> str:
    return max((",", ";", "\t"), key=header_line.count)


def rows_from_csv(path: Path, record_type: str, *, lang: str) -> Iterator[ImportRow]:
    """ImportRows from a CSV file; ImportFileError (before any row) for a bad header."""
    if record_type not in CSV_COLUMNS:
        raise ImportFileError(f"no CSV convention for records of type {record_type!r}")
    known = [c.name for c in CSV_COLUMNS[record_type]]
    try:
        # A byte that is not UTF-8 spoils its row only (surrogateescape keeps it apart).
        handle = open(path, encoding="utf-8-sig", errors="surrogateescape", newline="")
    except OSError as exc:
        raise ImportFileError(f"cannot read {path}: {exc.strerror}") from None
    try:
        first = handle.readline()
        handle.seek(0)
        reader = csv.reader(handle, delimiter=_delimiter(first))
        header = [h.strip() for h in next(reader, [])]
    except csv.Error as exc:
        handle.close()
        raise ImportFileError(f"{path}: the header is not a CSV line: {exc}") from None
    if any(_NOT_UTF8.search(h) for h in header):
        handle.close()
        raise ImportFileError(f"{path} is not UTF-8 text: save it as UTF-8 and import it again")
    unknown = [h for h in header if h not in known]
    problems = []
    if unknown:
        problems.append(f"unknown column(s) {', '.join(map(repr, unknown))}")
    if "source_id" not in header:
        problems.append("no source_id column")
    if len(set(header)) != len(header):
        problems.append("a column is named twice")
    if problems:
        handle.close()
        raise ImportFileError(f"{path}: {'; '.join(problems)}. The columns of a {record_type} "
                              f"CSV are: {', '.join(known)}")
    return _csv_rows(handle, reader, header, record_type, lang)


_NOT_UTF8 = re.compile("[\udc80-\udcff]")  # bytes surrogateescape kept as they were


def _csv_rows(handle: Any, reader: Any, header: list[str], record_type: str,
              lang: str) -> Iterator[ImportRow]:
    with handle:
        line = reader.line_num + 1
        width = len(header)
        while True:
            try:
                cells = next(reader, None)
            except csv.Error as exc:  # the reader goes on at the next line
                if reader.line_num + 1 == line:
                    return
                number, line = line, reader.line_num + 1
                yield ImportRow(number, None, None,
                                (problem("", "bad_format", None, f"a CSV row ({exc})"),))
                continue
            if cells is None:
                return
            number, line = line, reader.line_num + 1
            if not any(c.strip() for c in cells):
                continue
            if any(not c.isascii() and _NOT_UTF8.search(c) for c in cells):
                yield ImportRow(number, None, None, (problem(
                    "", "bad_format", None, "UTF-8 text (the row holds other bytes)"),))
                continue
            extra = ()
            if len(cells) > width:
                extra = (problem("", "too_many", f"{len(cells)} cells",
                                 f"at most {width} cells, one per column of the header"),)
            row = {name: cell.strip() for name, cell in zip(header, cells, strict=False)}
            source_id = row.get("source_id") or None
            yield ImportRow(number, source_id, CsvCells(record_type, row, row.get("lang") or lang),
                            extra)


def rows_from_jsonl(path: Path) -> Iterator[ImportRow]:
    """ImportRows from a JSON lines file: one record per line, its id the source id."""
    try:
        handle = open(path, encoding="utf-8-sig", errors="surrogateescape")
    except OSError as exc:
        raise ImportFileError(f"cannot read {path}: {exc.strerror}") from None
    return _jsonl_rows(handle)


def _jsonl_rows(handle: Any) -> Iterator[ImportRow]:
    with handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            if not line.isascii() and _NOT_UTF8.search(line):
                yield ImportRow(number, None, None, (problem(
                    "", "bad_format", None, "UTF-8 text (the line holds other bytes)"),))
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                yield ImportRow(number, None, None, (problem(
                    "", "bad_format", line.strip()[:80], f"one JSON record per line ({exc})"),))
                continue
            source_id = record.get("id") if isinstance(record, dict) else None
            yield ImportRow(number, source_id, record)


def csv_convention() -> str:
    """The CSV columns of every record type, one per line: where each goes, and its kind."""
    lines = []
    for record_type, columns in CSV_COLUMNS.items():
        lines.append(f"{record_type}:")
        for c in columns:
            target = f"fields.{c.path}" if c.path else "-"
            if c.kind != "value":
                target += f" [{c.kind}]"
            lines.append(f"  {c.name:<21} {target:<44} {c.doc}".rstrip())
    return "\n".join(lines)
