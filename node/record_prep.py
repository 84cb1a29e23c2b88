"""Import rows made ready to store, or refused with every problem: pure and picklable, so
that a large import prepares its chunks in worker processes while the main process
writes the previous ones (validation and encoding are most of an import's work, and
threads would hold the GIL that SQLite's writer needs for every row).

The node derives an imported record's id from (node id, source system, source id), so
the same row always makes the same record, and a reference in a row (a case's involved
person, a person's case) names the source id of a row of the same source system.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple

from storage.record_keys import PreparedRecord, prepare
from storage.records_schema import DATABASES, SOURCE_ID_LENGTH
from translation import Catalog, validate

from .normalise import for_catalog

#: Namespace of the record ids derived from imported rows' source ids.
IMPORT_NAMESPACE = uuid.UUID("6f1d2c9e-5b7a-4e0f-9a43-8c2d1e7b5f60")

Problem = dict[str, Any]
"""One problem as JSON: path, code, given, expected (and, for CSV rows, the column)."""


def problem(path: str, code: str, given: Any, expected: str) -> Problem:
    return {"path": path, "code": code, "given": given, "expected": expected}


def shown(value: Any) -> str:
    """A value as a problem's ``given``: short JSON."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = type(value).__name__
    return text if len(text) <= 80 else text[:77] + "..."


def problem_line(p: Problem) -> str:
    where = p["path"] or "(record)"
    if p.get("column"):
        where += f" (column {p['column']})"
    given = "nothing" if p["given"] is None else p["given"]
    return f"{where}: {p['code']}: given {given}, expected {p['expected']}"


class ImportRow(NamedTuple):
    """One row to import: its number in the source (line or position), the source
    system's id of the row, the record made from it, and problems found making it."""

    number: int
    source_id: Any
    record: Any
    problems: tuple[Problem, ...] = ()


@dataclass(frozen=True, slots=True)
class Refusal:
    row: int
    source_id: Any
    problems: list[Problem]

    def to_json(self) -> dict[str, Any]:
        return {"row": self.row, "source_id": self.source_id, "problems": self.problems}


def import_id(node_id: str, source_system: str, source_id: str) -> str:
    """Our record id for a source system's row: the same row, the same record."""
    return str(uuid.uuid5(IMPORT_NAMESPACE, f"{node_id}\n{source_system}\n{source_id}"))


@dataclass(frozen=True, slots=True)
class PreparedChunk:
    count: int
    ready: list[tuple[int, PreparedRecord]]
    refused: list[Refusal]


def prepare_rows(
    rows: Iterable[ImportRow], *, catalog: Catalog, node_id: str, record_type: str,
    source_system: str, column_of: Callable[[str], str | None] | None = None,
) -> PreparedChunk:
    """Normalise, validate and encode rows; every problem of a bad row is kept."""
    normaliser = for_catalog(catalog)
    count = 0
    ready: list[tuple[int, PreparedRecord]] = []
    refused: list[Refusal] = []

    def refs(target: str, ref_id: str) -> str:
        return import_id(node_id, source_system, ref_id)

    for row in rows:
        count += 1
        problems = list(row.problems)
        source_id = row.source_id.strip() if isinstance(row.source_id, str) else row.source_id
        if not isinstance(source_id, str) or not source_id:
            problems.append(problem("source_id", "missing_required",
                                    None if source_id in (None, "") else shown(source_id),
                                    "the source system's record id, a string"))
        elif len(source_id) > SOURCE_ID_LENGTH:
            problems.append(problem("source_id", "too_long", shown(source_id),
                                    f"at most {SOURCE_ID_LENGTH} characters"))
        record = row.record
        if isinstance(record, dict):
            record = normaliser.record(record, refs)
            if isinstance(source_id, str):
                record["id"] = import_id(node_id, source_system, source_id)
            problems += [p.to_json() for p in validate(record, catalog)]
            if record.get("type") != record_type and record.get("type") in DATABASES:
                problems.append(problem("type", "wrong_target", shown(record["type"]),
                                        f'"{record_type}" (the kind of record imported)'))
        elif not problems:
            problems.append(problem("", "wrong_type", type(record).__name__, "a record object"))
        if problems:
            if column_of is not None:
                for p in problems:
                    p.setdefault("column", column_of(p["path"]))
            refused.append(Refusal(row.number, row.source_id, problems))
        else:
            ready.append((row.number, prepare(record, source_id)))
    return PreparedChunk(count, ready, refused)


# -- in a worker process ------------------------------------------------------------------

_worker: dict[str, Any] = {}


def init_worker(catalog: Catalog, node_id: str) -> None:
    """A worker process's start: the catalog and node id every chunk is prepared with."""
    _worker.update(catalog=catalog, node_id=node_id)


def prepare_in_worker(rows: list[ImportRow], record_type: str, source_system: str,
                      column_of: Callable[[str], str | None] | None) -> PreparedChunk:
    return prepare_rows(rows, catalog=_worker["catalog"], node_id=_worker["node_id"],
                        record_type=record_type, source_system=source_system,
                        column_of=column_of)
