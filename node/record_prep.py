"""Import rows made ready to store, or refused with every problem: pure and picklable, so
that a large import prepares its chunks in worker processes while the main process
writes the previous ones (validation and encoding are most of an import's work, and
threads would hold the GIL that SQLite's writer needs for every row).

The node derives an imported record's id from (node id, source system, source id), so
the same row always makes the same record, and a reference in a row (a case's involved
person, a person's case) names the source id of a row of the same source system.
"""

from __future__ import annotations

import gc
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from protocol import ProtocolError
from storage.record_keys import PreparedRecord, prepare
from storage.records_schema import DATABASES, SOURCE_ID_LENGTH
from translation import Catalog, Problem, ProblemCode, validate

from .importer import CsvCells, ImportRow, ProblemJson, problem, shown
from .normalise import for_catalog

#: Namespace of the record ids derived from imported rows' source ids.
IMPORT_NAMESPACE = uuid.UUID("6f1d2c9e-5b7a-4e0f-9a43-8c2d1e7b5f60")


@dataclass(frozen=True, slots=True)
class Refusal:
    """A refused row: its number, its source id, and every problem it has."""

    row: int
    source_id: Any
    problems: list[ProblemJson]

    def to_json(self) -> dict[str, Any]:
        return {"row": self.row, "source_id": self.source_id, "problems": self.problems}


def prepared(record: dict[str, Any], source_id: str | None = None) -> PreparedRecord | Problem:
    """A valid record made ready to store, or the problem that it cannot be encoded (text
    that validation lets through but is not valid Unicode, such as a lone surrogate)."""
    try:
        return prepare(record, source_id)
    except ProtocolError as exc:
        return Problem("", ProblemCode.BAD_FORMAT, None,
                       f"text that is valid Unicode ({exc.detail})")


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
        if row.record is not None:  # an unreadable row's reading problems say all there is
            problems += _source_id_problems(source_id)
        record = row.record
        if isinstance(record, CsvCells):
            record = record.build(catalog.version)
        if isinstance(record, dict):
            record = normaliser.record(record, refs)
            # Without a usable source id the row is refused anyway; its record is still
            # checked whole, under a provisional id.
            usable = source_id if isinstance(source_id, str) else ""
            record["id"] = import_id(node_id, source_system, usable)
            problems += [p.to_json() for p in validate(record, catalog)]
            given_type = record.get("type")
            if isinstance(given_type, str) and given_type != record_type and given_type in DATABASES:
                problems.append(problem("type", "wrong_target", shown(record["type"]),
                                        f'"{record_type}" (the kind of record imported)'))
        elif record is not None:
            problems.append(problem("", "wrong_type", type(record).__name__, "a record object"))
        if not problems:
            made = prepared(record, source_id)
            if isinstance(made, PreparedRecord):
                ready.append((row.number, made))
                continue
            problems.append(made.to_json())
        if column_of is not None:
            for p in problems:
                p.setdefault("column", column_of(p["path"]))
        refused.append(Refusal(row.number, row.source_id, problems))
    return PreparedChunk(count, ready, refused)


def _source_id_problems(source_id: Any) -> list[ProblemJson]:
    if not isinstance(source_id, str) or not source_id:
        return [problem("source_id", "missing_required",
                        None if source_id in (None, "") else shown(source_id),
                        "the source system's record id, a string")]
    if len(source_id) > SOURCE_ID_LENGTH:
        return [problem("source_id", "too_long", shown(source_id),
                        f"at most {SOURCE_ID_LENGTH} characters")]
    return []


# -- in a worker process ------------------------------------------------------------------

_worker: dict[str, Any] = {}


def init_worker(catalog: Catalog, node_id: str) -> None:
    """A worker process's start: the catalog and node id every chunk is prepared with.

    What lives as long as the worker (modules, the catalog) is frozen out of the garbage
    collector, which would otherwise walk it again and again as chunks come and go; a
    chunk's objects hold no cycles and are freed by reference counting."""
    _worker.update(catalog=catalog, node_id=node_id)
    gc.freeze()
    gc.set_threshold(100_000, 50, 100)


def prepare_in_worker(rows: list[ImportRow], record_type: str, source_system: str,
                      column_of: Callable[[str], str | None] | None) -> PreparedChunk:
    return prepare_rows(rows, catalog=_worker["catalog"], node_id=_worker["node_id"],
                        record_type=record_type, source_system=source_system,
                        column_of=column_of)
