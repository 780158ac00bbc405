"""Recovery points: one row per (item, point id); lists run newest first.

A point belongs to an existing item (foreign key) and goes when its item goes. ``expiry``
is the time retention removes the point (None: kept until deleted); ``expiry_pinned``
marks an expiry the client chose, which policy changes leave alone.
"""

from __future__ import annotations

import builtins

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from strongbox.domain.errors import Conflict
from strongbox.domain.vaults import RecoveryPoint
from strongbox.persistence.schema import recovery_points as points


class RecoveryPointRepository:
    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def add(self, point: RecoveryPoint) -> None:
        """Insert a point; :class:`Conflict` when the item already has a point with its id."""
        values = {"item_key": point.item_key, "id": point.id, "vault_key": point.vault_key,
                  "snapshot_id": point.snapshot_id, "time": point.time, "bytes_total": point.bytes_total,
                  "files": point.files, "expiry": point.expiry, "scheduled": point.scheduled,
                  "expiry_pinned": point.expiry_pinned}
        if self.get(point.item_key, point.id) is not None:
            raise Conflict(f"recovery point '{point.id}' already exists")
        try:
            with self._c.begin_nested():
                self._c.execute(points.insert().values(**values))
        except IntegrityError:
            if self.get(point.item_key, point.id) is not None:
                raise Conflict(f"recovery point '{point.id}' already exists") from None
            raise

    def get(self, item_key: str, point_id: str) -> RecoveryPoint | None:
        row = self._c.execute(sa.select(points).where(points.c.item_key == item_key, points.c.id == point_id)
                              ).one_or_none()
        return None if row is None else _point(row)

    def list(self, item_key: str, start: datetime | None = None, end: datetime | None = None
             ) -> list[RecoveryPoint]:
        """The item's points whose time is in [start, end] (either bound optional), newest first."""
        query = sa.select(points).where(points.c.item_key == item_key)
        if start is not None:
            query = query.where(points.c.time >= start)
        if end is not None:
            query = query.where(points.c.time <= end)
        rows = self._c.execute(query.order_by(points.c.time.desc(), points.c.id.desc()))
        return [_point(row) for row in rows]

    def delete(self, item_key: str, point_id: str) -> None:
        self._c.execute(points.delete().where(points.c.item_key == item_key, points.c.id == point_id))

    def set_expiry(self, item_key: str, point_id: str, expiry: datetime | None) -> None:
        self._c.execute(points.update().where(points.c.item_key == item_key, points.c.id == point_id)
                        .values(expiry=expiry))

    def expired(self, now: datetime, vault_key: str | None = None) -> builtins.list[RecoveryPoint]:
        """Points whose expiry is at or before ``now`` (in one vault, or all), oldest first."""
        query = sa.select(points).where(points.c.expiry.is_not(None), points.c.expiry <= now)
        if vault_key is not None:
            query = query.where(points.c.vault_key == vault_key)
        return [_point(row) for row in self._c.execute(query.order_by(points.c.time, points.c.id))]

    def delete_for_item(self, item_key: str) -> int:
        """Delete all the item's points; returns how many there were."""
        return int(self._c.execute(points.delete().where(points.c.item_key == item_key)).rowcount)


def _point(row: sa.Row[Any]) -> RecoveryPoint:
    return RecoveryPoint(vault_key=row.vault_key, item_key=row.item_key, id=row.id, snapshot_id=row.snapshot_id,
                         time=row.time, bytes_total=row.bytes_total, files=row.files, expiry=row.expiry,
                         scheduled=bool(row.scheduled), expiry_pinned=bool(row.expiry_pinned))
