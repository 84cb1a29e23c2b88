"""Every SQL statement of the three record databases: cases, persons, business entities.

``RecordStore`` opens any of the three on its own (``RecordStore.open({"person": url})``)
and refuses to touch one it was not given. Writing is in two steps, so that the CPU work
of a large import can run in other processes while the previous chunk is being written:

- ``prepare(record)`` (record_keys.py): pure: encode the record (``protocol.encode``),
  extract its search columns and keys;
- ``put_many(prepared, origin=..., source_system=...)``: one transaction per database,
  the same few statements for a chunk of any size (one SELECT, executemany INSERTs).

A record belongs to its ``origin``: a write from another origin to an existing id is a
conflict and changes nothing. Imported rows are matched by (source system, source id),
so importing the same rows again stores nothing new.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from protocol import decode

from .database import Database, driver_insert
from .record_keys import (
    IDENTIFIER_KINDS,
    LINK,
    MAX_RECORD_BYTES,
    PreparedRecord,
    compact,
    fold,
    prepare,
)
from .records_schema import DATABASES

__all__ = ["RECORD_TYPES", "PreparedRecord", "PutOutcome", "PutResult", "RecordQuery", "RecordStore",
           "SearchResult", "StoredRecord", "UnsupportedQuery", "prepare"]

RECORD_TYPES = tuple(DATABASES)
#: Longest list in one ``IN (...)``: well under every database's parameter limit.
IN_CHUNK = 2000
WAL_CHECKPOINT_PAGES = 10_000


class PutOutcome(StrEnum):
    STORED = "stored"  # new
    UPDATED = "updated"
    UNCHANGED = "unchanged"  # the same bytes were already stored
    EXISTS = "exists"  # not written: the id exists and overwrite=False
    CONFLICT = "conflict"  # not written: the id belongs to another origin or source row


@dataclass(frozen=True, slots=True)
class PutResult:
    id: str
    outcome: PutOutcome
    detail: str = ""


@dataclass(frozen=True, slots=True)
class StoredRecord:
    type: str
    id: str
    origin: str
    source_system: str | None
    source_id: str | None
    catalog_version: int
    record: dict[str, Any]
    created_at: int
    updated_at: int
    deleted_at: int | None

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.type, "id": self.id, "origin": self.origin,
            "source_system": self.source_system, "source_id": self.source_id,
            "catalog_version": self.catalog_version, "created_at": self.created_at,
            "updated_at": self.updated_at, "deleted_at": self.deleted_at, "record": self.record,
        }


@dataclass(frozen=True, slots=True)
class RecordQuery:
    """A search: every filter given must hold. ``text`` words match names and free text
    (any case, with or without accents); ``identifier`` is an exact identifier (container,
    IMO, flight, vehicle, document or registration number) written in any usual way."""

    text: str | None = None
    identifier: str | None = None
    country: str | None = None
    date_from: str | None = None
    date_to: str | None = None
    link: str | None = None
    offence_type: str | None = None
    commodity: str | None = None
    origin: str | None = None
    include_deleted: bool = False
    limit: int = 50
    offset: int = 0


@dataclass(frozen=True, slots=True)
class SearchResult:
    total: int
    items: list[StoredRecord]


class UnsupportedQuery(ValueError):
    """A filter that does not apply to the record type (a date range on entities)."""


def _chunks(values: Sequence[Any], size: int = IN_CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


class RecordStore:
    """The record databases this process opened, by record type."""

    def __init__(self, databases: Mapping[str, Database]) -> None:
        self.databases = dict(databases)

    @classmethod
    async def open(cls, urls: Mapping[str, str], *, synchronous: str = "NORMAL") -> RecordStore:
        """Open (and migrate) the databases of the record types named in urls."""
        opened: dict[str, Database] = {}
        try:
            for record_type, url in urls.items():
                name = DATABASES[record_type][0]
                db = opened[record_type] = await Database.open(url, name, synchronous=synchronous)
                if url.startswith("sqlite"):
                    async with db.write() as conn:
                        # An import commits thousands of rows at once: checkpoint the WAL
                        # every ~40 MB rather than every 4 MB (SQLite's default), so that
                        # index pages written by several commits are copied back once.
                        await conn.exec_driver_sql(f"PRAGMA wal_autocheckpoint={WAL_CHECKPOINT_PAGES}")
        except BaseException:
            await asyncio.gather(*(db.close() for db in opened.values()))
            raise
        return cls(opened)

    async def close(self) -> None:
        await asyncio.gather(*(db.close() for db in self.databases.values()))

    def _db(self, record_type: str) -> tuple[Database, sa.Table, sa.Table]:
        if record_type not in DATABASES:
            raise ValueError(f"unknown record type {record_type!r}")
        db = self.databases.get(record_type)
        if db is None:
            raise LookupError(f"the {DATABASES[record_type][0]} database is not open here")
        _, table, keys = DATABASES[record_type]
        return db, table, keys

    # -- writing -----------------------------------------------------------------------

    async def put_many(
        self, items: Sequence[PreparedRecord], *, origin: str, now_ms: int,
        source_system: str | None = None, overwrite: bool = True,
    ) -> list[PutResult]:
        """Insert or update records, one transaction per database; results in order.

        With ``source_system``, each item's ``source_id`` decides which record it is: a
        row seen before updates the record it made (whatever id the item carries)."""
        results: list[PutResult | None] = [None] * len(items)
        by_type: dict[str, list[int]] = {}
        for index, item in enumerate(items):
            by_type.setdefault(item.type, []).append(index)
        for record_type, indexes in by_type.items():
            db, table, keys = self._db(record_type)
            async with db.write() as conn:
                done = await _put(conn, table, keys, [items[i] for i in indexes], origin=origin,
                                  now_ms=now_ms, source_system=source_system, overwrite=overwrite)
            for index, result in zip(indexes, done, strict=True):
                results[index] = result
        return [r for r in results if r is not None]

    async def delete(self, record_type: str, record_id: str, now_ms: int) -> bool:
        """Mark a record deleted (it stays in the database); False if there is none."""
        db, table, _ = self._db(record_type)
        async with db.write() as conn:
            done = await conn.execute(
                sa.update(table).where(table.c.id == record_id, table.c.deleted_at.is_(None))
                .values(deleted_at=now_ms, updated_at=now_ms)
            )
        return bool(done.rowcount)

    # -- reading -----------------------------------------------------------------------

    async def get(self, record_type: str, record_id: str, *,
                  include_deleted: bool = False) -> StoredRecord | None:
        db, table, _ = self._db(record_type)
        query = sa.select(*_stored_columns(table)).where(table.c.id == record_id)
        if not include_deleted:
            query = query.where(table.c.deleted_at.is_(None))
        row = await db.fetch_one(query)
        return _stored(record_type, row) if row is not None else None

    async def search(self, record_type: str, query: RecordQuery) -> SearchResult:
        db, table, keys = self._db(record_type)
        conditions = _conditions(record_type, table, keys, query)
        async with db.read() as conn:
            total = await conn.scalar(
                sa.select(sa.func.count()).select_from(table).where(*conditions)
            )
            rows = (await conn.execute(
                sa.select(*_stored_columns(table)).where(*conditions)
                .order_by(table.c.id).limit(query.limit).offset(query.offset)
            )).all()
        return SearchResult(total=int(total or 0), items=[_stored(record_type, r) for r in rows])

    async def count(self, record_type: str) -> int:
        db, table, _ = self._db(record_type)
        row = await db.fetch_one(
            sa.select(sa.func.count()).select_from(table).where(table.c.deleted_at.is_(None))
        )
        return int(row[0]) if row else 0


def _stored_columns(table: sa.Table) -> list[sa.ColumnElement[Any]]:
    c = table.c
    return [c.id, c.origin, c.source_system, c.source_id, c.catalog_version, c.record,
            c.created_at, c.updated_at, c.deleted_at]


def _stored(record_type: str, row: sa.Row[Any]) -> StoredRecord:
    m = row._mapping
    return StoredRecord(
        type=record_type, id=m["id"], origin=m["origin"], source_system=m["source_system"],
        source_id=m["source_id"], catalog_version=m["catalog_version"],
        record=decode(m["record"], max_size=MAX_RECORD_BYTES), created_at=m["created_at"],
        updated_at=m["updated_at"], deleted_at=m["deleted_at"],
    )


_DATE_COLUMN = {"case": "date", "person": "date_of_birth"}


def _conditions(record_type: str, table: sa.Table, keys: sa.Table,
                query: RecordQuery) -> list[sa.ColumnElement[bool]]:
    def keyed(kinds: Sequence[str], value: str) -> sa.ColumnElement[bool]:
        return table.c.id.in_(
            sa.select(keys.c.record_id).where(keys.c.value == value, keys.c.kind.in_(kinds))
        )

    conditions: list[sa.ColumnElement[bool]] = []
    if not query.include_deleted:
        conditions.append(table.c.deleted_at.is_(None))
    for word in fold(query.text or "").split():
        conditions.append(table.c.search_text.contains(word, autoescape=True))
    if query.identifier and compact(query.identifier):
        conditions.append(keyed(IDENTIFIER_KINDS, compact(query.identifier)))
    if query.country:
        country = query.country.strip().upper()
        # A case is where it happened (indexed); a person by nationality, an entity by
        # registration or address.
        conditions.append(table.c.country == country if record_type == "case"
                          else _has_code(table.c.countries, country))
    if query.link:
        conditions.append(keyed([LINK], query.link))
    if query.origin:
        conditions.append(table.c.origin == query.origin)
    for name, value in (("offence_types", query.offence_type), ("commodities", query.commodity)):
        if value:
            if record_type != "case":
                raise UnsupportedQuery(f"{name} apply to cases only")
            conditions.append(_has_code(table.c[name], value.strip()))
    if query.date_from or query.date_to:
        column = _DATE_COLUMN.get(record_type)
        if column is None:
            raise UnsupportedQuery(f"records of type {record_type} have no date to search by")
        if query.date_from:
            conditions.append(table.c[column] >= query.date_from)
        if query.date_to:
            # Inclusive of every date it starts: "2026" runs to the end of 2026.
            conditions.append(table.c[column] <= query.date_to + "\uffff")
    return conditions


def _has_code(column: sa.ColumnElement[str], code: str) -> sa.ColumnElement[bool]:
    """A column of codes (" ES PA ") holds code."""
    return column.contains(f" {code} ", autoescape=True)


async def _existing(
    conn: AsyncConnection, table: sa.Table, items: Sequence[PreparedRecord],
    source_system: str | None,
) -> tuple[dict[str, sa.Row[Any]], dict[str, sa.Row[Any]]]:
    """The stored rows items may be: (by source id, by id)."""
    c = table.c
    by_source: dict[str, sa.Row[Any]] = {}
    by_id: dict[str, sa.Row[Any]] = {}
    for part in _chunks(items):
        found: sa.ColumnElement[bool] = c.id.in_([i.id for i in part])
        sourced = [i.source_id for i in part if i.source_id is not None]
        if source_system is not None and sourced:
            found = sa.or_(found, sa.and_(c.source_system == source_system,
                                          c.source_id.in_(sourced)))
        for row in await conn.execute(
            sa.select(c.id, c.origin, c.source_system, c.source_id, c.record, c.deleted_at)
            .where(found)
        ):
            by_id[row.id] = row
            if source_system is not None and row.source_system == source_system:
                by_source[row.source_id] = row
    return by_source, by_id


async def _insert_many(conn: AsyncConnection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """INSERT rows through the driver's executemany: SQLAlchemy's per-row parameter
    processing, which an import of many rows would pay for every row, is skipped (the
    values are plain str, int, bytes)."""
    await conn.exec_driver_sql(*driver_insert(conn.dialect, table, rows))


async def _put(
    conn: AsyncConnection, table: sa.Table, keys: sa.Table, items: Sequence[PreparedRecord], *,
    origin: str, now_ms: int, source_system: str | None, overwrite: bool,
) -> list[PutResult]:
    by_source, by_id = await _existing(conn, table, items, source_system)

    inserts: dict[str, PreparedRecord] = {}
    updates: dict[str, PreparedRecord] = {}
    results: list[PutResult] = []
    for item in items:
        row = None
        if source_system is not None and item.source_id in by_source:
            row = by_source[item.source_id]
            if row.id != item.id:
                item = item.with_id(row.id)
        else:
            row = by_id.get(item.id)
            if row is not None and source_system is not None:
                results.append(PutResult(item.id, PutOutcome.CONFLICT,
                                         "the id is already used by another record"))
                continue
        pending = inserts.get(item.id) or updates.get(item.id)
        if pending is not None:  # the same record twice in one call: the last one stands
            if pending.blob == item.blob:
                results.append(PutResult(item.id, PutOutcome.UNCHANGED))
                continue
            (inserts if item.id in inserts else updates)[item.id] = item
            results.append(PutResult(item.id, PutOutcome.UPDATED))
        elif row is None:
            inserts[item.id] = item
            results.append(PutResult(item.id, PutOutcome.STORED))
        elif row.origin != origin:
            results.append(PutResult(item.id, PutOutcome.CONFLICT,
                                     f"the record belongs to {row.origin}"))
        elif not overwrite:
            results.append(PutResult(item.id, PutOutcome.EXISTS))
        elif row.record == item.blob and row.deleted_at is None:
            results.append(PutResult(item.id, PutOutcome.UNCHANGED))
        else:
            updates[item.id] = item
            results.append(PutResult(item.id, PutOutcome.UPDATED))

    def values(item: PreparedRecord) -> dict[str, Any]:
        return {"origin": origin, "catalog_version": item.catalog_version, "record": item.blob,
                "updated_at": now_ms, "deleted_at": None, **item.columns}

    if inserts:
        await _insert_many(conn, table, [
            {"id": i.id, "source_system": source_system if i.source_id is not None else None,
             "source_id": i.source_id if source_system is not None else None,
             "created_at": now_ms, **values(i)}
            for i in inserts.values()
        ])
    if updates:
        await conn.execute(
            sa.update(table).where(table.c.id == sa.bindparam("b_id")),
            [{"b_id": i.id, **values(i)} for i in updates.values()],
        )
        for chunk in _chunks(list(updates)):
            await conn.execute(sa.delete(keys).where(keys.c.record_id.in_(chunk)))
    key_rows = [{"record_id": i.id, "kind": kind, "value": value}
                for group in (inserts, updates) for i in group.values() for kind, value in i.keys]
    if key_rows:
        await _insert_many(conn, keys, key_rows)
    return results
