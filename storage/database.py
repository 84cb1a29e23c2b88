"""One database: an async engine for reads and a single writer, with SQLite set up for it.

SQLite has one writer. Every write goes through ``Database.write()``: a pool of one
connection, so writers of this process queue instead of spinning on the busy timeout,
and ``BEGIN IMMEDIATE``, so a transaction never fails half-way on a lock upgrade.
Reads use their own pool and run beside the writer (WAL). Other processes (the CLI
while the node runs) wait up to ``busy_timeout``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from .migrate import upgrade

BUSY_TIMEOUT_MS = 30_000


def _sqlite_pragmas(synchronous: str) -> Any:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event decide how transactions start.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.close()

    return on_connect


def _make_engine(url: str, *, writer: bool, synchronous: str) -> AsyncEngine:
    is_sqlite = url.startswith("sqlite")
    kwargs: dict[str, Any] = {}
    if writer:
        kwargs.update(pool_size=1, max_overflow=0)
    engine = create_async_engine(url, **kwargs)
    if is_sqlite:
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas(synchronous))
        begin_sql = "BEGIN IMMEDIATE" if writer else "BEGIN"
        event.listen(engine.sync_engine, "begin", lambda conn: conn.exec_driver_sql(begin_sql))
    return engine


class Database:
    """A database (SQLite file or PostgreSQL URL) with migrations applied."""

    def __init__(self, url: str, name: str, *, synchronous: str = "NORMAL") -> None:
        self.url = url
        self.name = name
        self._reader = _make_engine(url, writer=False, synchronous=synchronous)
        self._writer = _make_engine(url, writer=True, synchronous=synchronous)

    @classmethod
    async def open(cls, url: str, name: str, *, synchronous: str = "NORMAL") -> Database:
        """Open the database, bringing its schema to the newest migration first."""
        import asyncio

        await asyncio.to_thread(upgrade, url, name)
        return cls(url, name, synchronous=synchronous)

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction, committed when the block ends without an error."""
        async with self._writer.begin() as conn:
            yield conn

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
        await self._writer.dispose()
        await self._reader.dispose()
