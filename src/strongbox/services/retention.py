"""Retention in force: each recovery point's expiry from its item's policy, and which
points are due to be removed.

- A point's expiry is computed when it is recorded, and recomputed for all the item's
  points whenever the policy (or the item's policy) changes: Azure applies a retention
  change to existing points as well as new ones. Points whose client set
  ``recoveryPointExpiryTimeInUTC`` keep that expiry (``expiry_pinned``).
- *Expirable* points are those whose expiry has passed, except
  - the points of an item whose protection is stopped ("stop backup and retain data"
    keeps them until the data is deleted), and
  - an item's latest point: Azure always keeps the last recovery point of a protected item,
    so an item whose backups keep failing never ends with nothing to restore.
  A soft-deleted item's protection is stopped, so retention leaves its points to the purge.
- In an immutable vault no point's expiry may move earlier: :func:`shortened_points` finds
  the points a policy change would cut short, and the services refuse such a change.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from strongbox.domain.retention import PointFacts, expiries
from strongbox.domain.schedule import ScheduleError, zone
from strongbox.domain.vaults import ProtectionState, RecoveryPoint
from strongbox.persistence.database import UnitOfWork


def recompute_item(uow: UnitOfWork, item_key: str) -> int:
    """Set the expiry of the item's points from its policy; returns how many changed."""
    item = uow.items.get(item_key)
    if item is None or item.deleted or item.policy_name is None:
        return 0
    policy = uow.policies.get(item.vault_key, item.policy_name)
    if policy is None:
        return 0
    try:
        tz = zone(policy.settings.get("timeZone"))
    except ScheduleError:
        return 0
    points = [p for p in uow.points.list(item.key) if not p.expiry_pinned]
    wanted = expiries(policy.settings.get("retentionPolicy") or {}, tz,
                      [PointFacts(p.id, p.time, p.scheduled) for p in points])
    changed = 0
    for point in points:
        expiry = wanted.get(point.id)
        if expiry is not None and expiry != point.expiry:
            uow.points.set_expiry(item.key, point.id, expiry)
            changed += 1
    return changed


def shortened_points(uow: UnitOfWork, item_key: str, settings: Mapping[str, Any]) -> list[RecoveryPoint]:
    """The item's points (not pinned) that would expire earlier than they do now if policy
    ``settings`` applied to them; a point kept forever counts as cut short by any expiry."""
    try:
        tz = zone(settings.get("timeZone"))
    except ScheduleError:
        return []
    points = [p for p in uow.points.list(item_key) if not p.expiry_pinned]
    wanted = expiries(settings.get("retentionPolicy") or {}, tz,
                      [PointFacts(p.id, p.time, p.scheduled) for p in points])
    return [p for p in points if p.id in wanted and (p.expiry is None or wanted[p.id] < p.expiry)]


def recompute_policy(uow: UnitOfWork, vault_key: str, policy_name: str) -> int:
    """After a policy change: recompute every point of every item it protects."""
    return sum(recompute_item(uow, item.key) for item in uow.items.with_policy(policy_name, vault_key))


def expirable(uow: UnitOfWork, now: datetime, vault_key: str | None = None) -> list[RecoveryPoint]:
    """Points retention removes now (see the module docstring), oldest first."""
    found: list[RecoveryPoint] = []
    latest: dict[str, str | None] = {}
    for point in uow.points.expired(now, vault_key):
        item = uow.items.get(point.item_key)
        if item is None or item.deleted or item.protection_state is ProtectionState.PROTECTION_STOPPED:
            continue
        if point.item_key not in latest:
            newest = uow.points.list(point.item_key)
            latest[point.item_key] = newest[0].id if newest else None
        if latest[point.item_key] != point.id:
            found.append(point)
    return found
