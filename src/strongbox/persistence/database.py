"""The database: one engine, migrations, and units of work.

``Database(url)`` only builds an engine; nothing connects until a unit of work, ``migrate``
or a repository call needs it. Supported URLs: ``sqlite:///path/to/file.db`` (the default
deployment; use a file, not ``:memory:``, since every connection must see the same data)
and ``postgresql+psycopg://user@host/db``.

Invariants:
- A unit of work is one database transaction: it commits when the ``with`` block ends
  normally and rolls back when it raises. Repositories never commit on their own.
- SQLite runs in WAL mode with foreign keys on and a busy timeout, and every transaction
  starts with ``BEGIN IMMEDIATE``: writers from any thread or process queue for the one
  write lock up front instead of failing halfway with "database is locked", so a
  read-then-write (such as a claim) is never interleaved with another writer.
- On PostgreSQL transactions are READ COMMITTED; races are settled by row locks,
  compare-and-set updates and unique indexes (see :mod:`strongbox.persistence.jobs`).
- ``migrate`` upgrades to the newest revision inside one transaction; on PostgreSQL it
  first takes a transaction-scoped advisory lock, so processes starting at once migrate
  one after the other (the later ones find nothing to do).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection, Engine

from strongbox.persistence.items import ItemRepository
from strongbox.persistence.joblogs import JobLogRepository
from strongbox.persistence.jobs import JobRepository
from strongbox.persistence.jobstats import JobStatsRepository
from strongbox.persistence.operations import OperationRepository
from strongbox.persistence.policies import PolicyRepository
from strongbox.persistence.recovery_points import RecoveryPointRepository
from strongbox.persistence.schedules import ClockRepository, SlotRepository
from strongbox.persistence.tokens import RevokedTokenRepository
from strongbox.persistence.vaults import VaultRepository
from strongbox.persistence.webhooks import WebhookRepository

MIGRATIONS = Path(__file__).with_name("migrations")
SQLITE_BUSY_TIMEOUT_S = 10.0
# pg_advisory_xact_lock key: the bytes of "strongbx" read as a big-endian signed int64.
MIGRATION_LOCK_KEY = int.from_bytes(b"strongbx", "big", signed=True)


class UnitOfWork:
    """The repositories of one transaction; valid only inside its ``with`` block."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.vaults = VaultRepository(connection)
        self.policies = PolicyRepository(connection)
        self.items = ItemRepository(connection)
        self.points = RecoveryPointRepository(connection)
        self.jobs = JobRepository(connection)
        self.job_logs = JobLogRepository(connection)
        self.job_stats = JobStatsRepository(connection)
        self.operations = OperationRepository(connection)
        self.slots = SlotRepository(connection)
        self.clock = ClockRepository(connection)
        self.revoked_tokens = RevokedTokenRepository(connection)
        self.webhooks = WebhookRepository(connection)


class Database:
    """The service database; safe to share between threads (one per process)."""

    def __init__(self, url: str) -> None:
        self.url = sa.make_url(url)
        self.engine: Engine = _sqlite_engine(url) if self.url.get_backend_name() == "sqlite" \
            else sa.create_engine(url, pool_pre_ping=True)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def migrate(self) -> None:
        """Upgrade the schema to the newest revision; idempotent and safe to race."""
        with self.engine.begin() as connection:
            if self.dialect == "postgresql":
                connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            config = Config()
            config.set_main_option("script_location", str(MIGRATIONS))
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    @contextmanager
    def unit_of_work(self) -> Iterator[UnitOfWork]:
        """One transaction: commits on normal exit, rolls back on an exception."""
        with self.engine.begin() as connection:
            yield UnitOfWork(connection)

    @contextmanager
    def reading(self) -> Iterator[UnitOfWork]:
        """A transaction that only reads: on SQLite a plain (deferred) BEGIN, so it neither
        takes nor waits for the write lock (WAL readers see the last commit). For checks on
        every request, such as token revocation."""
        with self.engine.connect().execution_options(strongbox_read_only=True) as connection, \
                connection.begin():
            yield UnitOfWork(connection)

    def dispose(self) -> None:
        self.engine.dispose()


def _enable_wal(cursor: Any) -> None:
    """``PRAGMA journal_mode = WAL``, retried while another connection holds the lock.

    Switching a new database to WAL needs an exclusive lock, and SQLite answers "database is
    locked" at once, without its busy handler, when another connection is opening it at the
    same moment (three connections racing to migrate a new file failed 17 times in 200).
    The mode is stored in the file, so once one connection has set it the others find it."""
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_S
    delay = 0.005
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as err:
            if "locked" not in str(err) or time.monotonic() + delay > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.2)


def _sqlite_engine(url: str) -> Engine:
    engine = sa.create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False})

    @sa.event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from pysqlite, so BEGIN is ours (and IMMEDIATE).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
        _enable_wal(cursor)
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        read_only = connection.get_execution_options().get("strongbox_read_only", False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine
