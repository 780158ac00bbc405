"""The database: migrations, transactions, datetimes, SQLite settings."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from strongbox.domain.errors import Conflict
from strongbox.persistence.database import Database
from strongbox.persistence.schema import metadata
from tests.contract.persistence import examples
from tests.contract.persistence.backends import BACKENDS, empty_url


def test_constructing_a_database_does_not_connect() -> None:
    db = Database("postgresql+psycopg://nobody@127.0.0.1:1/nothing")
    db.dispose()


def _newest_revision() -> str:
    """The newest migration file's revision: the head every migrated database must be at."""
    from strongbox.persistence.database import MIGRATIONS
    return max(p.name.split("_", 1)[0] for p in (MIGRATIONS / "versions").glob("[0-9]*_*.py"))


@pytest.mark.parametrize("kind", BACKENDS)
def test_migrate_is_idempotent_and_safe_to_race(kind: str, tmp_path: Path) -> None:
    for url in empty_url(kind, tmp_path):
        dbs = [Database(url) for _ in range(3)]
        errors: list[BaseException] = []
        barrier = threading.Barrier(len(dbs))

        def migrate(db: Database) -> None:
            barrier.wait()
            try:
                db.migrate()
            except BaseException as exc:  # reported below: a thread cannot fail the test itself
                errors.append(exc)

        threads = [threading.Thread(target=migrate, args=(db,)) for db in dbs]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        dbs[0].migrate()
        with dbs[0].engine.connect() as connection:
            heads = MigrationContext.configure(connection).get_current_heads()
        for db in dbs:
            db.dispose()
        assert errors == []
        assert heads == (_newest_revision(),)


def test_migrations_create_exactly_the_schema(db: Database) -> None:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, metadata)
    assert diff == []


def test_unit_of_work_commits_on_exit_and_rolls_back_on_error(db: Database) -> None:
    with db.unit_of_work() as uow:
        uow.vaults.add(examples.vault("kept"))
    with pytest.raises(RuntimeError), db.unit_of_work() as uow:
        uow.vaults.add(examples.vault("dropped"))
        raise RuntimeError("boom")
    with db.unit_of_work() as uow:
        assert [v.name for v in uow.vaults.list("sub-1")] == ["kept"]


def test_a_conflict_does_not_spoil_the_transaction(db: Database) -> None:
    with db.unit_of_work() as uow:
        uow.vaults.add(examples.vault("one"))
        with pytest.raises(Conflict):
            uow.vaults.add(examples.vault("ONE"))
        uow.vaults.add(examples.vault("two"))
    with db.unit_of_work() as uow:
        assert [v.name for v in uow.vaults.list("Sub-1")] == ["one", "two"]


def test_naive_datetimes_are_refused(db: Database) -> None:
    vault = examples.vault()
    vault.created = vault.created.replace(tzinfo=None)
    with pytest.raises(sa.exc.StatementError, match="naive datetime"), db.unit_of_work() as uow:
        uow.vaults.add(vault)


def test_sqlite_runs_in_wal_with_foreign_keys_and_a_busy_timeout(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 's.db'}")
    db.migrate()
    with db.engine.connect() as connection:
        settings = [connection.exec_driver_sql(f"PRAGMA {name}").scalar()
                    for name in ("journal_mode", "foreign_keys", "busy_timeout")]
    db.dispose()
    assert settings == ["wal", 1, 10_000]


def test_reading_neither_takes_nor_waits_for_the_write_lock(tmp_path: Path) -> None:
    """A revocation check (Database.reading) goes through while another transaction holds
    SQLite's write lock; an ordinary unit of work would wait for it."""
    db = Database(f"sqlite:///{tmp_path / 'lock.db'}")
    db.migrate()
    try:
        with db.unit_of_work() as writer:                   # BEGIN IMMEDIATE: holds the write lock
            writer.revoked_tokens.prune(datetime.now(timezone.utc))
            started = time.monotonic()
            with db.reading() as reader:
                assert reader.revoked_tokens.contains("0" * 32) is False
            assert time.monotonic() - started < 1.0
    finally:
        db.dispose()
