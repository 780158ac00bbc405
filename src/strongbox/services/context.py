"""What every service function is handed: the database, the declared sources, the vault
storage port and the clocks (``clock`` may be the virtual clock; ``lease_clock`` is always
real time). Built once by :mod:`strongbox.bootstrap`; nothing here connects
or opens anything by itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Protocol

from strongbox.services.catalog import SourceCatalog

if TYPE_CHECKING:
    from strongbox.persistence.database import Database
    from strongbox.services.clock import VirtualClock
    from strongbox.services.tokens import TokenService


class VaultStorage(Protocol):
    """The port to vault repositories (implemented over the data plane by bootstrap)."""

    def create(self, storage_id: str) -> None: ...
    def destroy(self, storage_id: str) -> None: ...
    def open(self, storage_id: str) -> object: ...   # a strongbox.dataplane.repository.Repository


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class Limits:
    retry_after: int = 1
    page_size: int = 200
    lease_seconds: float = 30.0
    job_retention_days: int = 30
    io_limit_mbps: int = 0


@dataclass
class ServiceContext:
    db: Database
    catalog: SourceCatalog
    vault_storage: VaultStorage
    exports_dir: Path
    limits: Limits = field(default_factory=Limits)
    signing_key: bytes = b""          # signs export download links (SAS-like)
    clock: Callable[[], datetime] = utc_now        # service time: jobs, points, schedules, expiry
    lease_clock: Callable[[], datetime] = utc_now  # always real time: leases and heartbeats
    tokens: TokenService | None = None  # verifies client secrets at the OAuth2 token endpoint
    tenant_id: str = ""                 # the server's one tenant (server.tenant_id)
    virtual_clock: VirtualClock | None = None  # serve --virtual-clock: the clock an Owner can advance
