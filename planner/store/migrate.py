"""Open a database for the plan store and bring its schema up to date with Alembic.

SQLite (the embedded default) is opened in WAL mode with foreign keys on and with
``BEGIN IMMEDIATE`` transactions, so two writers queue (30 s busy timeout) instead of
failing, and a killed writer leaves the last committed state (SQLite's journal rolls the
half-written transaction back). PostgreSQL needs nothing special; ``schema_name`` puts
the tables in their own schema (created when missing), which the tests use to isolate runs.
"""

from __future__ import annotations

import threading
from functools import cache
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
DEFAULT_DB_URL = "sqlite:///.terrain/terrain.db"  # relative to the working directory
_ALEMBIC_LOCK = threading.Lock()  # Alembic loads env.py as a module: not thread-safe


def create_engine_for(url: str, *, schema_name: str | None = None) -> Engine:
    """An engine for ``url`` set up for the store (see module doc)."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"timeout": 30})

        @sa.event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection, _record) -> None:
            dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself (below)
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

        @sa.event.listens_for(engine, "begin")
        def _on_begin(conn) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    if schema_name is None:
        return sa.create_engine(url, pool_pre_ping=True)
    if not schema_name.isidentifier():
        raise ValueError(f"schema name {schema_name!r} must be a plain identifier")
    bootstrap = sa.create_engine(url)
    with bootstrap.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{schema_name}"')
    bootstrap.dispose()
    return sa.create_engine(url, pool_pre_ping=True, connect_args={"options": f"-csearch_path={schema_name}"})


def alembic_config() -> Config:
    """Alembic configuration pointing at the store's migrations."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


@cache
def head_revision() -> str:
    """The newest migration's revision id."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None for an empty database)."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def migrate(engine: Engine, revision: str = "head") -> None:
    """Upgrade the database behind ``engine`` to ``revision`` (default: the newest); no-op when current."""
    with _ALEMBIC_LOCK:
        if revision == "head" and current_revision(engine) == head_revision():
            return
        config = alembic_config()
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Downgrade the database behind ``engine`` to ``revision`` (``"base"`` drops every table)."""
    with _ALEMBIC_LOCK:
        config = alembic_config()
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.downgrade(config, revision)
