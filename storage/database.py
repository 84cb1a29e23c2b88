"""One database: engines for reads and a single writer, with SQLite set up for them.

SQLite has one writer. Every write of this process takes the database's write lock, so
writers queue instead of spinning on the busy timeout, and starts with ``BEGIN
IMMEDIATE``, so a transaction never fails half-way on a lock upgrade. Reads use their own
connections and run beside the writer (WAL). Other processes (the CLI while the node runs)
wait up to ``busy_timeout``.

Two ways in, both through SQLAlchemy:

* ``write()`` / ``read()`` give an async connection (SQLAlchemy asyncio). Each statement
  is a hand-off to the driver's thread: right for occasional work of any shape.
* ``run_write(fn)`` / ``run_read(fn)`` run a synchronous function with a plain
  connection, a whole transaction at once. The hot paths (queueing, delivery, an inbound
  batch) use these. For SQLite the function runs right on the calling thread: a batch's
  transaction in WAL mode is a millisecond or two of work in the page cache, cheaper
  than any hand-off, and a writer thread would contend with the event loop for the GIL
  after every statement (measured: a batch of 100 rows took 5-10 ms on a thread, half of
  it waiting for the GIL). The price is that another process holding the write lock (a
  CLI command) pauses the loop for as long; those transactions are short. For a server
  database (PostgreSQL), where a statement waits on the network, the function runs on
  the database's own writer (or reader) thread instead.

WAL checkpoints (copying the log back into the database file, with an fsync) would run
inside whichever commit crosses the threshold, on the loop. The connection that writes
inline therefore does not checkpoint; a background task checkpoints every
``CHECKPOINT_SECONDS`` on a thread of its own (``PASSIVE``: it never blocks the writer).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from operator import itemgetter
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from .migrate import sync_url, upgrade

T = TypeVar("T")

BUSY_TIMEOUT_MS = 30_000
CHECKPOINT_SECONDS = 1.0

log = logging.getLogger("ncen.storage")


def _sqlite_pragmas(synchronous: str, *, checkpoints: bool = True) -> Any:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event decide how transactions start.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        if not checkpoints:
            cursor.execute("PRAGMA wal_autocheckpoint=0")
        cursor.close()

    return on_connect


def _set_up(engine: sa.Engine, url: str, *, writer: bool, synchronous: str,
            checkpoints: bool = True) -> None:
    if url.startswith("sqlite"):
        event.listen(engine, "connect", _sqlite_pragmas(synchronous, checkpoints=checkpoints))
        begin_sql = "BEGIN IMMEDIATE" if writer else "BEGIN"
        event.listen(engine, "begin", lambda conn: conn.exec_driver_sql(begin_sql))


def _make_engine(url: str, *, writer: bool, synchronous: str) -> AsyncEngine:
    kwargs: dict[str, Any] = {}
    if writer:
        kwargs.update(pool_size=1, max_overflow=0)
    engine = create_async_engine(url, **kwargs)
    _set_up(engine.sync_engine, url, writer=writer, synchronous=synchronous)
    return engine


def _make_sync_engine(url: str, *, writer: bool, synchronous: str,
                      checkpoints: bool = True) -> sa.Engine:
    """An engine used from one thread only (its connection never moves)."""
    url = sync_url(url)
    kwargs: dict[str, Any] = {"pool_size": 1, "max_overflow": 0}
    if url.startswith("sqlite"):
        # The connection is made and used on the dedicated thread; only close() may come
        # from the event loop's thread, after that thread has finished.
        kwargs["connect_args"] = {"check_same_thread": False}
    engine = sa.create_engine(url, **kwargs)
    _set_up(engine, url, writer=writer, synchronous=synchronous, checkpoints=checkpoints)
    return engine


class Database:
    """A database (SQLite file or PostgreSQL URL) with migrations applied."""

    def __init__(self, url: str, name: str, *, synchronous: str = "NORMAL") -> None:
        self.url = url
        self.name = name
        self._reader = _make_engine(url, writer=False, synchronous=synchronous)
        self._writer = _make_engine(url, writer=True, synchronous=synchronous)
        self._synchronous = synchronous
        # The synchronous side (engine and thread, for writing and for reading) is made on
        # first use: a database only ever used through write()/read() has none.
        self._lanes: dict[str, tuple[sa.Engine, ThreadPoolExecutor]] = {}
        self._write_lock: asyncio.Lock | None = None
        self._inline = url.startswith("sqlite")
        self._checkpointer: asyncio.Task[None] | None = None

    @classmethod
    async def open(cls, url: str, name: str, *, synchronous: str = "NORMAL") -> Database:
        """Open the database, bringing its schema to the newest migration first."""
        import asyncio

        await asyncio.to_thread(upgrade, url, name)
        return cls(url, name, synchronous=synchronous)

    @property
    def write_lock(self) -> asyncio.Lock:
        if self._write_lock is None:
            self._write_lock = asyncio.Lock()
        return self._write_lock

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction, committed when the block ends without an error."""
        async with self.write_lock, self._writer.begin() as conn:
            yield conn

    async def run_write(self, fn: Callable[[sa.Connection], T]) -> T:
        """Run fn(connection) in one write transaction (inline for SQLite, else on the
        writer thread); commit when it returns, roll back (and raise) when it raises."""
        async with self.write_lock:
            engine, thread = self._lane("writer")
            if self._inline:
                if self._checkpointer is None:
                    self._checkpointer = asyncio.create_task(
                        self._checkpoints(), name=f"{self.name}-checkpoints")
                return _in_transaction(engine, fn)
            return await asyncio.get_running_loop().run_in_executor(
                thread, _in_transaction, engine, fn
            )

    async def run_read(self, fn: Callable[[sa.Connection], T]) -> T:
        """Run fn(connection) in one consistent snapshot (inline for SQLite, else on the
        reader thread)."""
        engine, thread = self._lane("reader")
        if self._inline:
            return _in_snapshot(engine, fn)
        return await asyncio.get_running_loop().run_in_executor(thread, _in_snapshot, engine, fn)

    def _lane(self, role: str) -> tuple[sa.Engine, ThreadPoolExecutor]:
        """The engine and thread of a role: "writer", "reader" or "checkpoint"."""
        lane = self._lanes.get(role)
        if lane is None:
            engine = _make_sync_engine(
                self.url, writer=role == "writer", synchronous=self._synchronous,
                # The inline writer leaves checkpoints to the background task.
                checkpoints=not (self._inline and role == "writer"),
            )
            lane = self._lanes[role] = (
                engine, ThreadPoolExecutor(1, thread_name_prefix=f"{self.name}-{role}"))
        return lane

    async def _checkpoints(self) -> None:
        engine, thread = self._lane("checkpoint")
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(CHECKPOINT_SECONDS)
            try:
                await loop.run_in_executor(thread, _checkpoint, engine)
            except Exception:  # a busy or failing checkpoint is retried on the next round
                log.exception("checkpoint of the %s database failed", self.name)

    async def checkpoint(self) -> None:
        """Checkpoint now (the background task does it every ``CHECKPOINT_SECONDS``)."""
        if self._inline:
            engine, thread = self._lane("checkpoint")
            await asyncio.get_running_loop().run_in_executor(thread, _checkpoint, engine)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        async with self._reader.connect() as conn:
            yield conn

    async def fetch_all(self, query: sa.Executable) -> list[sa.Row[Any]]:
        async with self.read() as conn:
            return list((await conn.execute(query)).all())

    async def fetch_one(self, query: sa.Executable) -> sa.Row[Any] | None:
        async with self.read() as conn:
            return (await conn.execute(query)).first()

    async def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._checkpointer
            self._checkpointer = None
            await self.checkpoint()  # leave the file whole, the log empty
        await self._writer.dispose()
        await self._reader.dispose()
        lanes, self._lanes = list(self._lanes.values()), {}
        for engine, thread in lanes:
            await asyncio.get_running_loop().run_in_executor(thread, engine.dispose)
            thread.shutdown(wait=True)


def _in_transaction(engine: sa.Engine, fn: Callable[[sa.Connection], T]) -> T:
    with engine.begin() as conn:
        return fn(conn)


def _checkpoint(engine: sa.Engine) -> tuple[int, int, int]:
    """(busy, pages in the log, pages checkpointed), outside any transaction."""
    raw = engine.raw_connection()
    try:
        return tuple(raw.driver_connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone())
    finally:
        raw.close()


def _in_snapshot(engine: sa.Engine, fn: Callable[[sa.Connection], T]) -> T:
    with engine.connect() as conn, conn.begin():
        return fn(conn)


def insert_many(conn: sa.Connection, table: sa.Table, rows: list[dict[str, Any]], *,
                skip_existing: bool = False) -> None:
    """INSERT rows through the driver's executemany. SQLAlchemy compiles the statement for
    the connection's dialect (cached per table and columns); its per-row parameter
    processing is skipped, so values must be what the driver takes as they are (str, int,
    bytes, None: JSON columns are given as their text). ``skip_existing`` leaves rows
    whose key is already there as they are."""
    if rows:
        conn.exec_driver_sql(*driver_insert(conn.dialect, table, rows, skip_existing))


def driver_insert(dialect: sa.Dialect, table: sa.Table, rows: list[dict[str, Any]],
                  skip_existing: bool = False) -> tuple[str, list[Any]]:
    """The SQL of an INSERT of rows' columns into table, and the rows as the driver takes
    them (the statement compiled once per dialect, table and columns)."""
    sql, order = _compiled_insert(dialect, table, tuple(rows[0]), skip_existing)
    return sql, [order(row) for row in rows] if order is not None else rows


_INSERTS: dict[tuple[str, str, tuple[str, ...], bool], tuple[str, Any]] = {}


def _compiled_insert(dialect: sa.Dialect, table: sa.Table, columns: tuple[str, ...],
                     skip_existing: bool) -> tuple[str, Any]:
    key = (dialect.name, table.name, columns, skip_existing)
    found = _INSERTS.get(key)
    if found is None:
        statement = sa.insert(table)
        if skip_existing:
            if dialect.name == "postgresql":
                from sqlalchemy.dialects.postgresql import insert
            else:
                from sqlalchemy.dialects.sqlite import insert
            statement = insert(table).on_conflict_do_nothing()
        compiled = statement.compile(dialect=dialect, column_keys=list(columns))
        order = (itemgetter(*compiled.positiontup) if compiled.positiontup is not None
                 else None)
        if order is not None and len(compiled.positiontup) == 1:
            single = order
            order = lambda row: (single(row),)  # noqa: E731
        found = _INSERTS[key] = (str(compiled), order)
    return found
