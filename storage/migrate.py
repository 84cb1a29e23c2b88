"""Schema migrations (Alembic), run programmatically on init and on start-up.

Each database has its own script folder under ``storage/migrations/``; the node
database is ``node``. ``upgrade(url, "node")`` brings a database to the newest
revision and is a no-op when it is already there.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"


def sync_url(url: str) -> str:
    """The synchronous driver URL Alembic runs with (aiosqlite -> sqlite, asyncpg -> psycopg)."""
    return url.replace("+aiosqlite", "").replace("+asyncpg", "+psycopg")


def alembic_config(url: str, database: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS / database))
    cfg.set_main_option("sqlalchemy.url", sync_url(url))
    cfg.attributes["ncen_database"] = database
    return cfg


def upgrade(url: str, database: str) -> None:
    command.upgrade(alembic_config(url, database), "head")
