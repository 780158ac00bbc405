"""Recovery points: one row per (item, point id); lists run newest first.

A point belongs to an existing item (foreign key) and goes when its item goes.
"""

from __future__ import annotations

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
                  "files": point.files, "expiry": point.expiry}
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

    def delete_for_item(self, item_key: str) -> int:
        """Delete all the item's points; returns how many there were."""
        return int(self._c.execute(points.delete().where(points.c.item_key == item_key)).rowcount)


def _point(row: sa.Row[Any]) -> RecoveryPoint:
    return RecoveryPoint(vault_key=row.vault_key, item_key=row.item_key, id=row.id, snapshot_id=row.snapshot_id,
                         time=row.time, bytes_total=row.bytes_total, files=row.files, expiry=row.expiry)
