"""Records: cases, persons and business entities, as an officer, an importer or a peer
hands them to the node. Callable alike from the API, the CLI and the console.

Every record is normalised where the catalog says how (identifiers with a check, language
tags, surrounding spaces), then validated; a refused record comes back with every
problem found (path, what was given, what was expected), never only the first.

An import is idempotent by the source system's record id: the node derives its own record
id from (node id, source system, source id), so the same row always makes the same
record, and a reference in an imported row (a case's involved person, a person's case)
names the source id of a row of the same source system. Rows are validated and written
in chunks; a bad row is reported and never stops the good ones. Validating one chunk runs
in a worker thread while the previous chunk is being written.
"""

from __future__ import annotations

import asyncio
import time
import unicodedata
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, NamedTuple

import uuid_utils

from storage.records import (
    RECORD_TYPES,
    PreparedRecord,
    PutOutcome,
    RecordQuery,
    RecordStore,
    SearchResult,
    StoredRecord,
    UnsupportedQuery,
    prepare,
)
from storage.records_schema import SOURCE_ID_LENGTH, SOURCE_SYSTEM_LENGTH
from translation import (
    Catalog,
    FieldDef,
    FieldType,
    canonical_tag,
    default_catalog,
    normalise_identifier,
    render,
    validate,
)

from .clock import Clock, SystemClock
from .config import Config
from .services import ServiceError

CHUNK_SIZE = 500
#: Namespace of the record ids derived from imported rows' source ids.
IMPORT_NAMESPACE = uuid.UUID("6f1d2c9e-5b7a-4e0f-9a43-8c2d1e7b5f60")

Problem = dict[str, Any]
"""One problem as JSON: path, code, given, expected (and, for CSV rows, the column)."""


def problem(path: str, code: str, given: Any, expected: str) -> Problem:
    return {"path": path, "code": code, "given": given, "expected": expected}


def problem_line(p: Problem) -> str:
    where = p["path"] or "(record)"
    if p.get("column"):
        where += f" (column {p['column']})"
    given = "nothing" if p["given"] is None else p["given"]
    return f"{where}: {p['code']}: given {given}, expected {p['expected']}"


class RecordRefused(ServiceError):
    """A record that cannot be stored; ``problems`` lists every problem found."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        lines = "\n  ".join(problem_line(p) for p in self.problems)
        super().__init__(f"record refused, {len(self.problems)} problem(s):\n  {lines}", 422)


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


@dataclass(slots=True)
class ImportReport:
    """What an import did: counts by outcome, and every refused row with its problems."""

    record_type: str
    source_system: str
    rows: int = 0
    stored: int = 0
    updated: int = 0
    unchanged: int = 0
    refusals: list[Refusal] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def refused(self) -> int:
        return len(self.refusals)

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0

    def problem_counts(self) -> Counter[str]:
        """How many refused rows have a problem of each code (a row counts once per code)."""
        return Counter(code for r in self.refusals for code in {p["code"] for p in r.problems})

    def to_json(self) -> dict[str, Any]:
        return {
            "record_type": self.record_type, "source_system": self.source_system,
            "rows": self.rows, "stored": self.stored, "updated": self.updated,
            "unchanged": self.unchanged, "refused": self.refused,
            "seconds": round(self.seconds, 3), "refusals": [r.to_json() for r in self.refusals],
        }


def _clean(text: str) -> str:
    text = text.strip()
    return text if text.isascii() else unicodedata.normalize("NFC", text)


RefMap = Callable[[str, str], str]


class Normaliser:
    """Brings what a person typed into the catalog's canonical form, where it safely can:
    identifiers with a check, language tags of free text, spaces around strings. Anything
    else is left as given, for validation to report."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    def record(self, record: Mapping[str, Any], refs: RefMap | None = None) -> dict[str, Any]:
        out = dict(record)
        type_def = self.catalog.record_types.get(out.get("type"))  # type: ignore[arg-type]
        if type_def is not None and isinstance(out.get("fields"), dict):
            out["fields"] = self._group(out["fields"], type_def.field_map, refs)
        return out

    def _group(self, values: dict[str, Any], field_map: Mapping[str, FieldDef],
               refs: RefMap | None) -> dict[str, Any]:
        out = {}
        for name, value in values.items():
            fd = field_map.get(name)
            if fd is None:
                out[name] = value
            elif fd.repeated and isinstance(value, list):
                out[name] = [self._value(v, fd, refs) for v in value]
            else:
                out[name] = self._value(value, fd, refs)
        return out

    def _value(self, value: Any, fd: FieldDef, refs: RefMap | None) -> Any:
        kind = fd.type
        if isinstance(value, str):
            value = _clean(value)
            if kind is FieldType.STRING and fd.check and value:
                try:
                    return normalise_identifier(fd.check, value)
                except ValueError:
                    return value
            return value
        if not isinstance(value, dict):
            return value
        if kind is FieldType.GROUP:
            return self._group(value, fd.field_map, refs)
        if kind is FieldType.TEXT:
            out = dict(value)
            if isinstance(out.get("text"), str):
                out["text"] = _clean(out["text"])
            if isinstance(out.get("lang"), str):
                out["lang"] = canonical_tag(out["lang"].strip()) or out["lang"]
            return out
        if kind is FieldType.REF and refs is not None:
            target, ref_id = value.get("type"), value.get("id")
            if isinstance(target, str) and isinstance(ref_id, str) and ref_id.strip():
                return {**value, "id": refs(target, ref_id.strip())}
        return value


class RecordService:
    """Cases, persons and entities of one node, over the record databases it opened."""

    def __init__(self, store: RecordStore, *, node_id: str, catalog: Catalog | None = None,
                 clock: Clock | None = None, node_lang: str = "en") -> None:
        self.store = store
        self.node_id = node_id
        self.catalog = catalog or default_catalog()
        self.clock = clock or SystemClock()
        self.node_lang = node_lang
        self.normaliser = Normaliser(self.catalog)

    @classmethod
    async def open(cls, config: Config, *, clock: Clock | None = None,
                   types: Iterable[str] = RECORD_TYPES) -> RecordService:
        urls = {"case": config.cases_url, "person": config.persons_url,
                "entity": config.entities_url}
        store = await RecordStore.open({t: urls[t] for t in types},
                                       synchronous=config["storage"]["synchronous"])
        return cls(store, node_id=config["node"]["id"], clock=clock,
                   node_lang=config["node"]["languages"][0])

    async def close(self) -> None:
        await self.store.close()

    def _check_type(self, record_type: str) -> None:
        if record_type not in RECORD_TYPES:
            raise ServiceError(f"record type must be one of {', '.join(RECORD_TYPES)}, "
                               f"not {record_type!r}", 404)
        if record_type not in self.store.databases:
            raise ServiceError(f"the {record_type} database is not open here", 503)

    # -- one record --------------------------------------------------------------------

    def _checked(self, record: Any, record_type: str, record_id: str | None) -> dict[str, Any]:
        """The record normalised, with its defaults, or RecordRefused listing every problem."""
        if not isinstance(record, dict):
            raise RecordRefused([problem("", "wrong_type", type(record).__name__,
                                         "a record object")])
        record = self.normaliser.record(record)
        record.setdefault("type", record_type)
        record.setdefault("catalog_version", self.catalog.version)
        record.setdefault("id", record_id or str(uuid_utils.uuid7()))
        problems = [p.to_json() for p in validate(record, self.catalog)]
        if record["type"] != record_type:
            problems.insert(0, problem("type", "wrong_target", repr(record["type"]),
                                       f'"{record_type}" (the kind of record asked for)'))
        if record_id is not None and record["id"] != record_id:
            problems.insert(0, problem("id", "wrong_target", repr(record["id"]),
                                       f'"{record_id}" (the id of the record updated)'))
        if problems:
            raise RecordRefused(problems)
        return record

    async def add(self, record: Any, *, record_type: str) -> StoredRecord:
        """Store a new local record (its id made up when it has none); 409 if the id exists."""
        self._check_type(record_type)
        record = self._checked(record, record_type, None)
        [result] = await self.store.put_many([prepare(record)], origin=self.node_id,
                                             now_ms=self.clock.now_ms(), overwrite=False)
        if result.outcome is not PutOutcome.STORED:
            raise ServiceError(f"a {record_type} with id {record['id']} exists already", 409)
        return await self._stored(record_type, record["id"])

    async def update(self, record_type: str, record_id: str, record: Any) -> StoredRecord:
        """Replace one of our own records; a record received from a peer stays as received."""
        self._check_type(record_type)
        current = await self._stored(record_type, record_id)
        if current.origin != self.node_id:
            raise ServiceError(f"{record_type} {record_id} was received from {current.origin} "
                               "and is kept as received", 409)
        record = self._checked(record, record_type, record_id)
        [result] = await self.store.put_many([prepare(record)], origin=self.node_id,
                                             now_ms=self.clock.now_ms())
        if result.outcome is PutOutcome.CONFLICT:
            raise ServiceError(result.detail, 409)
        return await self._stored(record_type, record_id)

    async def _stored(self, record_type: str, record_id: str) -> StoredRecord:
        found = await self.store.get(record_type, record_id)
        if found is None:
            raise ServiceError(f"no {record_type} with id {record_id}", 404)
        return found

    async def get(self, record_type: str, record_id: str, *,
                  lang: str | None = None) -> dict[str, Any]:
        """The stored record with where it came from; rendered too when lang is given."""
        self._check_type(record_type)
        found = await self._stored(record_type, record_id)
        view = found.to_json()
        if lang:
            view["rendered"] = self.render(found.record, lang).to_json()
        return view

    def render(self, record: Mapping[str, Any], lang: str) -> Any:
        return render(record, lang, catalog=self.catalog, node_lang=self.node_lang)

    async def search(self, record_type: str, query: RecordQuery) -> SearchResult:
        self._check_type(record_type)
        if not 0 < query.limit <= 1000 or query.offset < 0:
            raise ServiceError("limit must be between 1 and 1000, offset at least 0")
        try:
            return await self.store.search(record_type, query)
        except UnsupportedQuery as exc:
            raise ServiceError(str(exc)) from None

    async def delete(self, record_type: str, record_id: str) -> None:
        """Mark a record deleted; it stays in the database, out of searches."""
        self._check_type(record_type)
        if not await self.store.delete(record_type, record_id, self.clock.now_ms()):
            raise ServiceError(f"no {record_type} with id {record_id}", 404)

    async def receive(self, records: Sequence[Any], *, origin: str) -> list[dict[str, Any]]:
        """Store records a peer sent, as received (not normalised), under its origin.

        A record made with a newer catalog is kept with the codes we do not know yet.
        Returns, per record, its id, outcome (stored, updated, unchanged, conflict,
        refused) and problems."""
        answers: list[dict[str, Any] | None] = []
        ready: list[PreparedRecord] = []
        for record in records:
            problems = [p.to_json() for p in validate(record, self.catalog)]
            if not problems and record["type"] not in self.store.databases:
                problems = [problem("type", "wrong_target", repr(record["type"]),
                                    "a record type this node stores")]
            if problems:
                rid = record.get("id") if isinstance(record, dict) else None
                answers.append({"id": rid, "outcome": "refused", "problems": problems})
            else:
                answers.append(None)
                ready.append(prepare(record))
        results = iter(await self.store.put_many(ready, origin=origin,
                                                 now_ms=self.clock.now_ms()))
        out = []
        for answer in answers:
            if answer is None:
                r = next(results)
                answer = {"id": r.id, "outcome": r.outcome.value, "problems": [
                    problem("id", "conflict", r.id, r.detail)] if r.detail else []}
            out.append(answer)
        return out

    # -- imports -----------------------------------------------------------------------

    def import_id(self, source_system: str, source_id: str) -> str:
        """Our record id for a source system's row: the same row, the same record."""
        return str(uuid.uuid5(IMPORT_NAMESPACE, f"{self.node_id}\n{source_system}\n{source_id}"))

    async def import_rows(
        self, rows: Iterable[ImportRow], *, record_type: str, source_system: str,
        progress: Callable[[int], None] | None = None, chunk_size: int = CHUNK_SIZE,
        column_of: Callable[[str], str | None] | None = None,
    ) -> ImportReport:
        """Validate and store rows in chunks; every bad row is reported, none stops the rest.

        ``progress(n)`` is called after each chunk with the rows it held; ``column_of``
        names the source column a problem's path came from (CSV)."""
        self._check_type(record_type)
        if not source_system or len(source_system) > SOURCE_SYSTEM_LENGTH:
            raise ServiceError(f"name the source system (1 to {SOURCE_SYSTEM_LENGTH} characters)")
        report = ImportReport(record_type=record_type, source_system=source_system)
        started = time.perf_counter()
        iterator = iter(rows)
        writing: asyncio.Task[None] | None = None
        try:
            while True:
                count, ready, refused = await asyncio.to_thread(
                    self._prepare_chunk, iterator, chunk_size, record_type, source_system,
                    column_of)
                if writing is not None:
                    await writing
                if not count:
                    break
                report.rows += count
                report.refusals.extend(refused)
                writing = asyncio.create_task(
                    self._write_chunk(ready, count, report, source_system, progress))
        finally:
            if writing is not None and not writing.done():
                writing.cancel()
        report.seconds = time.perf_counter() - started
        return report

    def _prepare_chunk(
        self, rows: Iterator[ImportRow], size: int, record_type: str, source_system: str,
        column_of: Callable[[str], str | None] | None,
    ) -> tuple[int, list[tuple[int, PreparedRecord]], list[Refusal]]:
        """Make, normalise and validate up to size rows (in a worker thread)."""
        count = 0
        ready: list[tuple[int, PreparedRecord]] = []
        refused: list[Refusal] = []

        def refs(target: str, source_id: str) -> str:
            return self.import_id(source_system, source_id)

        for row in islice(rows, size):
            count += 1
            problems = list(row.problems)
            source_id = row.source_id
            if not isinstance(source_id, str) or not source_id.strip():
                problems.append(problem("source_id", "missing_required", None if not source_id
                                        else repr(source_id), "the source system's record id"))
            elif len(source_id) > SOURCE_ID_LENGTH:
                problems.append(problem("source_id", "too_long", source_id[:80],
                                        f"at most {SOURCE_ID_LENGTH} characters"))
            record = row.record
            if isinstance(record, dict):
                record = self.normaliser.record(record, refs)
                if isinstance(source_id, str):
                    record["id"] = self.import_id(source_system, source_id.strip())
                problems += [p.to_json() for p in validate(record, self.catalog)]
                if record.get("type") != record_type and isinstance(record.get("type"), str):
                    problems.append(problem("type", "wrong_target", repr(record["type"]),
                                            f'"{record_type}" (the kind of record imported)'))
            elif not problems:
                problems.append(problem("", "wrong_type", type(record).__name__,
                                        "a record object"))
            if problems:
                if column_of is not None:
                    for p in problems:
                        p.setdefault("column", column_of(p["path"]))
                refused.append(Refusal(row.number, source_id, problems))
            else:
                ready.append((row.number, prepare(record, source_id.strip())))
        return count, ready, refused

    async def _write_chunk(self, ready: list[tuple[int, PreparedRecord]], count: int,
                           report: ImportReport, source_system: str,
                           progress: Callable[[int], None] | None) -> None:
        results = await self.store.put_many(
            [p for _, p in ready], origin=self.node_id, now_ms=self.clock.now_ms(),
            source_system=source_system)
        for (number, prepared), result in zip(ready, results, strict=True):
            if result.outcome is PutOutcome.STORED:
                report.stored += 1
            elif result.outcome is PutOutcome.UPDATED:
                report.updated += 1
            elif result.outcome is PutOutcome.UNCHANGED:
                report.unchanged += 1
            else:
                report.refusals.append(Refusal(number, prepared.source_id, [
                    problem("id", result.outcome.value, prepared.id, result.detail)]))
        if progress is not None:
            progress(count)
