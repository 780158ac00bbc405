"""The only wiring: settings in, a running service out.

Builds the database, the vault storage adapter over the data plane, the service context,
the ARM app, the worker pool, the reaper, the scheduler and the webhook dispatcher (and, with ``virtual_clock``, the
shared virtual clock every service reads as ``ctx.clock``), and the one :class:`Metrics` the
app and the workers both report to. Nothing here runs at import time.
"""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass
from pathlib import Path

from strongbox.api.app import ArmApp
from strongbox.api.budgets import RequestBudgets
from strongbox.api.metrics import Metrics
from strongbox.api.routes import build_router
from strongbox.config import Settings, master_key
from strongbox.dataplane.repository import Repository
from strongbox.domain.jobs import JobOperation
from strongbox.domain.sources import RestoreLocation, Source
from strongbox.engine.handlers.backup import run_backup
from strongbox.engine.handlers.expiry import run_expire
from strongbox.engine.handlers.protection import run_configure, run_delete_data, run_disable, run_undelete
from strongbox.engine.handlers.purge import run_purge
from strongbox.engine.handlers.restore import run_restore
from strongbox.engine.reaper import Reaper, reap
from strongbox.engine.scheduler import Scheduler
from strongbox.engine.worker import Handler, WorkerPool
from strongbox.masterkey import vault_passphrase
from strongbox.persistence.database import Database
from strongbox.services.audit import AuditLog
from strongbox.services.catalog import SourceCatalog
from strongbox.services.clock import VirtualClock
from strongbox.services.context import Limits, ServiceContext
from strongbox.services.tokens import TokenService, revocation_check
from strongbox.services.webhooks import WebhookDispatcher
from strongbox.storage.local import LocalStore

SCHEDULER_INTERVAL = 1.0   # seconds between scheduler passes

HANDLERS: dict[JobOperation, Handler] = {
    JobOperation.BACKUP: run_backup,
    JobOperation.RESTORE: run_restore,
    JobOperation.CONFIGURE_BACKUP: run_configure,
    JobOperation.DISABLE_BACKUP: run_disable,
    JobOperation.DELETE_BACKUP_DATA: run_delete_data,
    JobOperation.EXPIRE_RECOVERY_POINTS: run_expire,
    JobOperation.UNDELETE: run_undelete,
    JobOperation.PURGE_DELETED_DATA: run_purge,
}


class LocalVaultStorage:
    """Vault repositories as folders under ``data_dir/vaults/{storage id}``, each unlocked by
    a passphrase derived from the server's master secret (:func:`strongbox.masterkey.vault_passphrase`;
    ``strongbox key rotate`` rewraps each vault's keys for a new secret)."""

    def __init__(self, root: Path, secret: bytes, cache_root: Path) -> None:
        self.root, self.secret, self.cache_root = root, secret, cache_root

    def _passphrase(self, storage_id: str) -> bytes:
        return vault_passphrase(self.secret, storage_id)

    def create(self, storage_id: str) -> None:
        Repository.init(LocalStore(self.root / storage_id), self._passphrase(storage_id))

    def destroy(self, storage_id: str) -> None:
        shutil.rmtree(self.root / storage_id, ignore_errors=True)
        shutil.rmtree(self.cache_root / storage_id, ignore_errors=True)

    def open(self, storage_id: str) -> Repository:
        return Repository.open(LocalStore(self.root / storage_id), self._passphrase(storage_id),
                               cache_dir=self.cache_root / storage_id)


def build_catalog(settings: Settings) -> SourceCatalog:
    sources = [Source(s.subscription, s.resource_group, s.name, tuple(s.paths)) for s in settings.sources]
    locations = [RestoreLocation(r.subscription, r.resource_group, r.name, r.path) for r in settings.restore_locations]
    return SourceCatalog(sources, locations)


@dataclass
class Service:
    settings: Settings
    ctx: ServiceContext
    tokens: TokenService
    arm: ArmApp
    workers: WorkerPool
    reaper: Reaper
    scheduler: Scheduler
    webhooks: WebhookDispatcher | None = None   # POSTs job events to [[webhooks]]

    def start_background(self) -> None:
        if self.ctx.virtual_clock is not None:
            self.ctx.virtual_clock.start()
        reap(self.ctx, at_start=True)
        self.workers.start()
        self.reaper.start()
        self.scheduler.start()
        if self.webhooks is not None:
            self.webhooks.start()

    def stop(self) -> None:
        self.scheduler.stop()
        self.workers.stop()
        self.reaper.stop()
        if self.webhooks is not None:
            self.webhooks.stop()
        if self.ctx.virtual_clock is not None:
            self.ctx.virtual_clock.stop()
        self.ctx.db.dispose()


def build_service(settings: Settings, *, workers: int | None = None) -> Service:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.database_url)
    db.migrate()
    secret = master_key(settings)
    storage = LocalVaultStorage(settings.vaults_dir, secret, settings.cache_dir)
    server = settings.server
    limits = Limits(retry_after=server.retry_after, page_size=server.page_size,
                    lease_seconds=float(server.lease_seconds), job_retention_days=server.job_retention_days,
                    io_limit_mbps=server.io_limit_mbps)
    tokens = TokenService(settings.keys_dir, server.tenant_id, is_revoked=revocation_check(db))
    ctx = ServiceContext(db=db, catalog=build_catalog(settings), vault_storage=storage,
                         exports_dir=settings.data_dir / "exports", limits=limits,
                         signing_key=hashlib.sha256(b"exports" + secret).digest(),
                         tokens=tokens, tenant_id=server.tenant_id)
    if server.virtual_clock:
        ctx.virtual_clock = VirtualClock(db)
        ctx.virtual_clock.load()
        ctx.clock = ctx.virtual_clock
    audit = AuditLog(settings.audit_dir, settings.keys_dir)
    audit.prepare()
    metrics = Metrics()     # this process's instruments: the API's latency, the workers' jobs
    router = build_router(virtual_clock=server.virtual_clock, metrics=metrics, metrics_public=settings.metrics.public)
    arm = ArmApp(ctx, router, tokens,
                 budgets=RequestBudgets(server.reads_per_hour, server.writes_per_hour),
                 hsts_seconds=server.hsts_seconds, audit=audit, metrics=metrics)
    pool = WorkerPool(ctx, HANDLERS, size=server.workers if workers is None else workers, observer=metrics)
    reaper = Reaper(ctx, interval=max(1.0, server.lease_seconds / 3))
    scheduler = Scheduler(ctx, interval=SCHEDULER_INTERVAL, on_jobs=pool.wake)
    if ctx.virtual_clock is not None:
        ctx.virtual_clock.on_change(scheduler.wake)   # a moved clock is checked at once
    # Always built, even with no [[webhooks]]: it also marks the outbox's events handled.
    webhooks = WebhookDispatcher(db, settings.webhooks, retention_days=server.job_retention_days, clock=ctx.clock)
    return Service(settings=settings, ctx=ctx, tokens=tokens, arm=arm, workers=pool, reaper=reaper,
                   scheduler=scheduler, webhooks=webhooks)
