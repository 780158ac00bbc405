"""The databases persistence tests run against: SQLite in a temporary file, and a fresh
PostgreSQL database per test module on the server at ``STRONGBOX_TEST_POSTGRES``
(default ``postgres@127.0.0.1:5432``).

A missing PostgreSQL server skips its tests on a laptop and fails them in CI
(``CI=true``). Import the fixtures into a ``conftest.py`` to use them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa

from strongbox.persistence.database import Database
from strongbox.persistence.schema import metadata

SERVER = os.environ.get("STRONGBOX_TEST_POSTGRES", "postgres@127.0.0.1:5432")
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def _admin() -> psycopg.Connection[tuple[object, ...]]:
    try:
        return psycopg.connect(f"postgresql://{SERVER}/postgres", autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL at {SERVER} is required in CI: {exc}")
        pytest.skip(f"PostgreSQL at {SERVER} is not reachable: {exc}")


def create_postgres_database() -> str:
    """A new empty database; returns its SQLAlchemy URL."""
    name = f"strongbox_test_{uuid.uuid4().hex[:12]}"
    with _admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql+psycopg://{SERVER}/{name}"


def drop_postgres_database(url: str) -> None:
    name = sa.make_url(url).database
    with _admin() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def empty_url(kind: str, tmp_path: Path) -> Iterator[str]:
    """A URL of a database with no tables, removed afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'strongbox.db'}"
        return
    url = create_postgres_database()
    try:
        yield url
    finally:
        drop_postgres_database(url)


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    """One migrated PostgreSQL database for the whole module."""
    url = create_postgres_database()
    db = Database(url)
    try:
        db.migrate()
        db.dispose()
        yield url
    finally:
        db.dispose()
        drop_postgres_database(url)


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of a migrated database with empty tables."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'strongbox.db'}"
        db = Database(url)
        db.migrate()
    else:
        url = request.getfixturevalue("postgres_url")
        db = Database(url)
        tables = ", ".join(table.name for table in metadata.sorted_tables)
        with db.engine.begin() as connection:
            connection.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    db.dispose()
    return url


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    yield database
    database.dispose()
