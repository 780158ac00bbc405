"""Persistence: the only SQL in strongbox (schema, migrations, repositories).

Entry point: :class:`strongbox.persistence.database.Database`. Repositories take and
return domain dataclasses; no table rows leave this package.
"""
