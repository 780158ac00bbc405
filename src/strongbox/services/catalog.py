"""The declared sources ("virtual machines") and restore locations, looked up the way ARM
looks names up: case-insensitively. This is the allow-list: a path that is not in it can
never be read or written through the API.
"""

from __future__ import annotations

from collections.abc import Iterable

from strongbox.domain.sources import RestoreLocation, Source


class SourceCatalog:
    def __init__(self, sources: Iterable[Source], restore_locations: Iterable[RestoreLocation]) -> None:
        self._sources = {self._key(s.subscription, s.resource_group, s.name): s for s in sources}
        self._locations = {loc.storage_account_id.lower(): loc for loc in restore_locations}

    @staticmethod
    def _key(subscription: str, resource_group: str, name: str) -> str:
        return f"{subscription}/{resource_group}/{name}".lower()

    def source(self, subscription: str, resource_group: str, name: str) -> Source | None:
        return self._sources.get(self._key(subscription, resource_group, name))

    def sources(self, subscription: str) -> list[Source]:
        found = [s for s in self._sources.values() if s.subscription.lower() == subscription.lower()]
        return sorted(found, key=lambda s: (s.resource_group.lower(), s.name.lower()))

    def subscriptions(self) -> list[str]:
        subs = {s.subscription for s in self._sources.values()}
        subs |= {loc.subscription for loc in self._locations.values()}
        return sorted(subs)

    def restore_location(self, storage_account_id: str) -> RestoreLocation | None:
        return self._locations.get(storage_account_id.rstrip("/").lower())

    def restore_locations(self, subscription: str) -> list[RestoreLocation]:
        return [loc for loc in self._locations.values() if loc.subscription.lower() == subscription.lower()]
