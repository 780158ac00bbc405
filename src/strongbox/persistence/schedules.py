"""Schedule slots and the virtual clock's offset.

``scheduled_slots``: one row per (item, slot time) that a scheduled job was created for,
inserted in the same transaction as the job. Its primary key is what makes a slot run at
most once across every process sharing the database: the second insert of a slot fails,
and that transaction creates no job. ``missed`` counts the earlier slots the job stands in
for (a catch-up after downtime).

``virtual_clock``: one row named ``default``; ``offset_seconds`` only grows (``advance``
adds in SQL, so two racing advances both count).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from strongbox.persistence.schema import scheduled_slots as slots
from strongbox.persistence.schema import virtual_clock

CLOCK = "default"


class SlotTaken(Exception):
    """Another process already started this slot's job."""


class SlotRepository:
    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def last(self, item_key: str) -> datetime | None:
        """The latest slot a job was created for, or None."""
        value: datetime | None = self._c.execute(
            sa.select(slots.c.slot_time).where(slots.c.item_key == item_key)
            .order_by(slots.c.slot_time.desc()).limit(1)).scalar_one_or_none()
        return value

    def take(self, item_key: str, slot_time: datetime, job_id: str, missed: int) -> None:
        """Claim the slot for ``job_id``; :class:`SlotTaken` when it was claimed already
        (the transaction survives it)."""
        try:
            with self._c.begin_nested():
                self._c.execute(slots.insert().values(item_key=item_key, slot_time=slot_time, job_id=job_id,
                                                      missed=missed))
        except IntegrityError:
            raise SlotTaken(f"{item_key} @ {slot_time.isoformat()}") from None

    def jobs_for(self, item_key: str) -> list[tuple[datetime, str, int]]:
        rows = self._c.execute(sa.select(slots.c.slot_time, slots.c.job_id, slots.c.missed)
                               .where(slots.c.item_key == item_key).order_by(slots.c.slot_time))
        return [(r.slot_time, r.job_id, r.missed) for r in rows]


class ClockRepository:
    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def offset(self) -> float:
        value = self._c.execute(sa.select(virtual_clock.c.offset_seconds)
                                .where(virtual_clock.c.name == CLOCK)).scalar_one_or_none()
        return float(value or 0.0)

    def advance(self, seconds: float) -> float:
        """Move the clock forward; returns the new offset."""
        updated = self._c.execute(virtual_clock.update().where(virtual_clock.c.name == CLOCK)
                                  .values(offset_seconds=virtual_clock.c.offset_seconds + seconds))
        if not updated.rowcount:
            try:
                with self._c.begin_nested():
                    self._c.execute(virtual_clock.insert().values(name=CLOCK, offset_seconds=seconds))
            except IntegrityError:   # a racing first advance inserted it
                self._c.execute(virtual_clock.update().where(virtual_clock.c.name == CLOCK)
                                .values(offset_seconds=virtual_clock.c.offset_seconds + seconds))
        return self.offset()
