"""Revoked bearer tokens, by token id (the JWT ``jti``).

A row is kept until the token it names would have expired anyway; :meth:`prune` drops the
rest. Revoking twice is not an error (the first revocation stands).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from strongbox.persistence.schema import revoked_tokens


class RevokedTokenRepository:
    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def add(self, token_id: str, revoked_at: datetime, expires_at: datetime) -> bool:
        """Record a revocation; False when the token was already revoked."""
        if self.contains(token_id):
            return False
        self._c.execute(revoked_tokens.insert().values(token_id=token_id, revoked_at=revoked_at,
                                                       expires_at=expires_at))
        return True

    def contains(self, token_id: str) -> bool:
        found = self._c.execute(sa.select(revoked_tokens.c.token_id)
                                .where(revoked_tokens.c.token_id == token_id)).first()
        return found is not None

    def prune(self, now: datetime) -> int:
        """Forget revocations of tokens that have expired by ``now``."""
        return self._c.execute(revoked_tokens.delete().where(revoked_tokens.c.expires_at <= now)).rowcount
