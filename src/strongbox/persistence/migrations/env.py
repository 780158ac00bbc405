"""Alembic environment, run only by :meth:`strongbox.persistence.database.Database.migrate`.

The caller hands over an open connection (``config.attributes["connection"]``) already in
a transaction and, on PostgreSQL, already holding the migration advisory lock; the
migrations run inside that transaction, so a failed upgrade leaves nothing behind.
"""

from __future__ import annotations

from alembic import context

from strongbox.persistence.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True,
                  compare_type=True)
with context.begin_transaction():
    context.run_migrations()
