"""Policies: one row per (vault, lower-cased policy name); ``settings`` is stored as the
JSON document the client sent, untouched. Names match case-insensitively and keep the
spelling of the latest upsert.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from strongbox.domain.vaults import Policy
from strongbox.persistence.schema import policies, upsert_row


class PolicyRepository:
    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def upsert(self, policy: Policy) -> None:
        """Insert or replace the policy. Call it for a vault you read in this unit of work."""
        values = {"vault_key": policy.vault_key, "name": policy.name, "settings": policy.settings,
                  "created": policy.created, "etag": policy.etag}
        upsert_row(self._c, policies, policy.key, values)

    def get(self, vault_key: str, name: str) -> Policy | None:
        row = self._c.execute(sa.select(policies).where(policies.c.key == _key(vault_key, name))).one_or_none()
        return None if row is None else _policy(row)

    def list(self, vault_key: str) -> list[Policy]:
        """The vault's policies, sorted by name (case-insensitively)."""
        rows = self._c.execute(sa.select(policies).where(policies.c.vault_key == vault_key)
                               .order_by(policies.c.key))
        return [_policy(row) for row in rows]

    def delete(self, vault_key: str, name: str) -> None:
        self._c.execute(policies.delete().where(policies.c.key == _key(vault_key, name)))


def _key(vault_key: str, name: str) -> str:
    return f"{vault_key}/{name.lower()}"


def _policy(row: sa.Row[Any]) -> Policy:
    return Policy(vault_key=row.vault_key, name=row.name, settings=row.settings, created=row.created,
                  etag=row.etag)
