"""Records: cases, persons and business entities, as an officer, an importer or a peer
hands them to the node. Callable alike from the API, the CLI and the console.

Every record is normalised where the catalog says how (normalise.py: identifiers with a
check, language tags, surrounding spaces), then validated; a refused record comes back
with every problem found (path, what was given, what was expected), never only the first.
Records are validated against the node's current catalog (a catalog update replaces it).

An import is idempotent by the source system's record id (record_prep.py). Rows are
prepared (normalised, validated, encoded) and written in chunks, one transaction per
chunk; a bad row is reported and never stops the good ones. With ``workers``, chunks
are prepared in that many worker processes while the main process writes.
"""

from __future__ import annotations

import asyncio
import dataclasses
import multiprocessing
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

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
)
from storage.records_schema import SOURCE_SYSTEM_LENGTH
from translation import Catalog, Problem, ProblemCode, default_catalog, render, validate

from .clock import Clock, SystemClock
from .config import Config
from .importer import ImportRow, problem, problem_line, shown
from .normalise import for_catalog
from .record_prep import (
    PreparedChunk,
    Refusal,
    init_worker,
    prepare_in_worker,
    prepare_rows,
    prepared,
)
from .services import RecordProblems, ServiceError

CHUNK_SIZE = 1000


class RecordRefused(RecordProblems):
    """A record that cannot be stored, with every problem; answered like every record
    problem (422, record_invalid), and printed one problem per line."""

    def __str__(self) -> str:
        lines = "\n  ".join(problem_line(p) for p in self.to_json())
        return f"record refused, {len(self.problems)} problem(s):\n  {lines}"


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


class RecordService:
    """Cases, persons and entities of one node, over the record databases it opened."""

    def __init__(self, store: RecordStore, *, node_id: str,
                 catalog: Callable[[], Catalog] = default_catalog, clock: Clock | None = None,
                 node_lang: str = "en") -> None:
        self.store = store
        self.node_id = node_id
        self._catalog = catalog
        self.clock = clock or SystemClock()
        self.node_lang = node_lang

    @classmethod
    async def open(cls, config: Config, *, clock: Clock | None = None,
                   catalog: Callable[[], Catalog] = default_catalog,
                   types: Iterable[str] = RECORD_TYPES) -> RecordService:
        """Open the record databases of config; catalog gives the node's current catalog
        (NodeServices.catalog, which a catalog update replaces)."""
        urls = {"case": config.cases_url, "person": config.persons_url,
                "entity": config.entities_url}
        store = await RecordStore.open({t: urls[t] for t in types},
                                       synchronous=config["storage"]["synchronous"])
        return cls(store, node_id=config["node"]["id"], catalog=catalog, clock=clock,
                   node_lang=config["node"]["languages"][0])

    @property
    def catalog(self) -> Catalog:
        return self._catalog()

    async def close(self) -> None:
        await self.store.close()

    def _check_type(self, record_type: str) -> None:
        if record_type not in RECORD_TYPES:
            raise ServiceError(f"record type must be one of {', '.join(RECORD_TYPES)}, "
                               f"not {record_type!r}", 404)
        if record_type not in self.store.databases:
            raise ServiceError(f"the {record_type} database is not open here", 503)

    # -- one record --------------------------------------------------------------------

    def _checked(self, record: Any, record_type: str, record_id: str | None) -> PreparedRecord:
        """The record normalised, with its defaults, ready to store; or RecordRefused
        listing every problem."""
        if not isinstance(record, dict):
            raise RecordRefused([Problem("", ProblemCode.WRONG_TYPE, type(record).__name__,
                                         "a record object")])
        catalog = self.catalog
        record = for_catalog(catalog).record(record)
        record.setdefault("type", record_type)
        record.setdefault("catalog_version", catalog.version)
        record.setdefault("id", record_id or str(uuid_utils.uuid7()))
        problems = validate(record, catalog)
        if record["type"] != record_type and record["type"] in RECORD_TYPES:
            problems.insert(0, Problem("type", ProblemCode.WRONG_TARGET, shown(record["type"]),
                                       f'"{record_type}" (the kind of record asked for)'))
        if record_id is not None and record["id"] != record_id:
            problems.insert(0, Problem("id", ProblemCode.WRONG_TARGET, shown(record["id"]),
                                       f'"{record_id}" (the id of the record updated)'))
        if problems:
            raise RecordRefused(problems)
        made = prepared(record)
        if not isinstance(made, PreparedRecord):
            raise RecordRefused([made])
        return made

    async def add(self, record: Any, *, record_type: str) -> StoredRecord:
        """Store a new local record (its id made up when it has none); 409 if the id exists."""
        self._check_type(record_type)
        made = self._checked(record, record_type, None)
        [result] = await self.store.put_many([made], origin=self.node_id,
                                             now_ms=self.clock.now_ms(), overwrite=False)
        if result.outcome is not PutOutcome.STORED:
            raise ServiceError(f"a {record_type} with id {made.id} exists already", 409)
        return await self._stored(record_type, made.id)

    async def update(self, record_type: str, record_id: str, record: Any) -> StoredRecord:
        """Replace one of our own records; a record received from a peer stays as received."""
        self._check_type(record_type)
        current = await self._stored(record_type, record_id)
        if current.origin != self.node_id:
            raise ServiceError(f"{record_type} {record_id} was received from {current.origin} "
                               "and is kept as received", 409)
        made = self._checked(record, record_type, record_id)
        [result] = await self.store.put_many([made], origin=self.node_id,
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
        catalog = self.catalog
        answers: list[dict[str, Any] | None] = []
        ready: list[PreparedRecord] = []
        for record in records:
            problems = validate(record, catalog)
            if not problems and record["type"] not in self.store.databases:
                problems = [Problem("type", ProblemCode.WRONG_TARGET, shown(record["type"]),
                                    "a record type this node stores")]
            made = prepared(record) if not problems else None
            if isinstance(made, PreparedRecord):
                answers.append(None)
                ready.append(made)
            else:
                rid = record.get("id") if isinstance(record, dict) else None
                answers.append({"id": rid, "outcome": "refused",
                                "problems": [p.to_json() for p in problems or [made]]})
        results = iter(await self.store.put_many(ready, origin=origin,
                                                 now_ms=self.clock.now_ms()))
        out = []
        for answer in answers:
            if answer is None:
                r = next(results)
                answer = {"id": r.id, "outcome": r.outcome.value, "problems": [
                    problem("id", "conflict", shown(r.id), r.detail)] if r.detail else []}
            out.append(answer)
        return out

    # -- imports -----------------------------------------------------------------------

    async def import_rows(
        self, rows: Iterable[ImportRow], *, record_type: str, source_system: str,
        progress: Callable[[int], None] | None = None, chunk_size: int = CHUNK_SIZE,
        column_of: Callable[[str], str | None] | None = None, workers: int = 0,
    ) -> ImportReport:
        """Prepare and store rows in chunks; every bad row is reported, none stops the rest.

        ``progress(n)`` is called after each chunk with the rows it held; ``column_of``
        (picklable) names the source column a problem's path came from (CSV);
        ``workers`` > 0 prepares chunks in that many processes."""
        self._check_type(record_type)
        if not source_system or len(source_system) > SOURCE_SYSTEM_LENGTH:
            raise ServiceError(f"name the source system (1 to {SOURCE_SYSTEM_LENGTH} characters)")
        report = ImportReport(record_type=record_type, source_system=source_system)
        started = time.perf_counter()
        catalog = self.catalog
        remaining = iter(rows)
        chunks = iter(lambda: list(islice(remaining, chunk_size)), [])
        if workers <= 0:
            # In a thread, so that the event loop serves other requests meanwhile; never
            # beside a chunk's write (depth 1), whose every row needs the GIL back.
            def local(chunk: list[ImportRow]) -> Awaitable[PreparedChunk]:
                return asyncio.ensure_future(asyncio.to_thread(
                    prepare_rows, chunk, catalog=catalog, node_id=self.node_id,
                    record_type=record_type, source_system=source_system, column_of=column_of))

            await self._pipeline(chunks, local, 1, report, progress)
        else:
            loop = asyncio.get_running_loop()
            # spawn: a forked child would inherit the event loop and the database threads.
            # The catalog travels without its memo of renderers (closures, not picklable).
            bare = dataclasses.replace(catalog)
            with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                     initializer=init_worker,
                                     initargs=(bare, self.node_id)) as pool:
                def remote(chunk: list[ImportRow]) -> Awaitable[PreparedChunk]:
                    return loop.run_in_executor(pool, prepare_in_worker, chunk, record_type,
                                                source_system, column_of)

                await self._pipeline(chunks, remote, workers + 1, report, progress)
        report.seconds = time.perf_counter() - started
        report.refusals.sort(key=lambda r: r.row)
        return report

    async def _pipeline(
        self, chunks: Iterable[list[ImportRow]],
        prepare_chunk: Callable[[list[ImportRow]], Awaitable[PreparedChunk]], depth: int,
        report: ImportReport, progress: Callable[[int], None] | None,
    ) -> None:
        """Keep depth chunks being prepared ahead of the one being written, in order."""
        chunks = iter(chunks)
        pending: deque[Awaitable[PreparedChunk]] = deque()
        try:
            while True:
                while len(pending) < depth and (chunk := next(chunks, None)) is not None:
                    pending.append(prepare_chunk(chunk))
                if not pending:
                    return
                ready = await pending.popleft()
                await self._write_chunk(ready, report)
                if progress is not None:
                    progress(ready.count)
        finally:
            for left in pending:
                if isinstance(left, asyncio.Future):
                    left.cancel()

    async def _write_chunk(self, chunk: PreparedChunk, report: ImportReport) -> None:
        report.rows += chunk.count
        report.refusals.extend(chunk.refused)
        results = await self.store.put_many(
            [p for _, p in chunk.ready], origin=self.node_id, now_ms=self.clock.now_ms(),
            source_system=report.source_system)
        for (number, record), result in zip(chunk.ready, results, strict=True):
            if result.outcome is PutOutcome.STORED:
                report.stored += 1
            elif result.outcome is PutOutcome.UPDATED:
                report.updated += 1
            elif result.outcome is PutOutcome.UNCHANGED:
                report.unchanged += 1
            else:
                report.refusals.append(Refusal(number, record.source_id, [
                    problem("id", result.outcome.value, shown(record.id), result.detail)]))
