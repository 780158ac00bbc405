"""Webhooks: job events POSTed, signed, to the URLs in ``[[webhooks]]``, retried with backoff.

The events come from the outbox (:mod:`strongbox.persistence.webhooks`), written in the same
transaction as the job transition, so none is lost to a crash. One dispatcher thread per
``strongbox serve`` process:

1. fans out new events: it takes each undispatched event (a compare-and-set, so with several
   servers on one database exactly one does) and adds one delivery per webhook whose
   ``events`` filter takes it (``all``, or ``problems``: ``job.failed``,
   ``job.completed_with_warnings``, ``job.cancelled``);
2. delivers what is due: it claims a delivery with a lease (as workers claim jobs), POSTs the
   event and logs the attempt (status code or error, duration). A 2xx answer delivers it;
   anything else (another status, a refused connection, a timeout) retries it after
   ``retry_base_seconds * 2 ** (attempt - 1)`` seconds, at most :data:`MAX_BACKOFF`, until
   ``max_attempts`` attempts were made; then the delivery is ``Failed``. Redirects are not
   followed (a 3xx is a failed attempt).

Delivery is at least once: a process that dies after the receiver answered but before the
attempt was logged leaves a lease that expires, and the delivery is sent again, with the
same ``X-Strongbox-Delivery`` id, by which a receiver can drop the duplicate.

Every POST carries ``Content-Type: application/json`` and:

* ``X-Strongbox-Event``: the event type (``job.started``, ``job.completed``, ...);
* ``X-Strongbox-Delivery``: the delivery's id (the same on every attempt);
* ``X-Strongbox-Timestamp``: the Unix time of this attempt, in seconds;
* ``X-Strongbox-Signature``: ``sha256=`` and the hex HMAC-SHA256, keyed with the webhook's
  secret, of the timestamp, ``.``, and the raw body bytes (:func:`signature`).

A receiver recomputes the signature over the body exactly as received, compares it in
constant time, and refuses timestamps far from its clock (replays); :func:`verify` does so.

All servers sharing one database should have the same ``[[webhooks]]``: the one that takes an
event fans it out to its own list, and delivers only to URLs it has a secret for.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx

from strongbox.config import WebhookSettings
from strongbox.persistence.database import Database
from strongbox.persistence.webhooks import DELIVERED, FAILED, PENDING, PROBLEM_TYPES, Delivery, Event
from strongbox.services.context import utc_now

log = logging.getLogger("strongbox.webhooks")

MAX_BACKOFF = 600.0         # seconds: the longest wait between two attempts
FAN_OUT_BATCH = 100         # events taken per pass
PURGE_EVERY = 3600.0        # seconds between purges of old events
LEASE_MARGIN = 30.0         # seconds a claim outlives the request's timeout
USER_AGENT = "strongbox-webhooks/1"


def signature(secret: bytes, timestamp: str, body: bytes) -> str:
    """The ``X-Strongbox-Signature`` value: ``sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>``."""
    return "sha256=" + hmac.new(secret, timestamp.encode("ascii") + b"." + body, hashlib.sha256).hexdigest()


def verify(secret: bytes, timestamp: str, body: bytes, header: str, *, now: float | None = None,
           tolerance: float = 300.0) -> bool:
    """What a receiver does: the signature matches and the timestamp is within ``tolerance``."""
    try:
        sent = float(timestamp)
    except ValueError:
        return False
    if abs((time.time() if now is None else now) - sent) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, timestamp, body), header)


def backoff(attempt: int, base: float) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1, 2, ...)."""
    return float(min(base * 2.0 ** min(attempt - 1, 32), MAX_BACKOFF))


def wants(hook: WebhookSettings, event_type: str) -> bool:
    return hook.events == "all" or event_type in PROBLEM_TYPES


@dataclass(frozen=True)
class Hook:
    settings: WebhookSettings
    secret: bytes


def dispatcher_identity() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:webhooks:{uuid.uuid4().hex[:8]}"


class WebhookDispatcher:
    """Fans out and delivers webhook events in one background thread (see the module doc)."""

    def __init__(self, db: Database, webhooks: tuple[WebhookSettings, ...], *, retention_days: int = 30,
                 clock: Callable[[], datetime] = utc_now, poll: float = 0.5) -> None:
        self.db, self.retention_days, self.clock, self.poll = db, retention_days, clock, poll
        # Secret files are read now, so a bad one stops the server at start, not at the first event.
        self.hooks = {hook.url: Hook(hook, hook.secret_bytes()) for hook in webhooks}
        self.owner = dispatcher_identity()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_purge = 0.0
        self._client = httpx.Client(follow_redirects=False, headers={"User-Agent": USER_AGENT})

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="strongbox-webhooks", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self._client.close()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:  # the database may be briefly unavailable; never kill the thread
                log.exception("webhook dispatch failed")
            self._wake.wait(self.poll)
            self._wake.clear()

    def run_once(self) -> int:
        """One pass: fan out new events, make every attempt that is due, purge now and then.
        Returns the number of attempts made."""
        self.fan_out()
        attempts = 0
        while not self._stop.is_set() and self.deliver_one():
            attempts += 1
        if time.monotonic() - self._last_purge > PURGE_EVERY:
            self._last_purge = time.monotonic()
            with self.db.unit_of_work() as uow:
                uow.webhooks.purge_before(self.clock() - timedelta(days=self.retention_days))
        return attempts

    def fan_out(self) -> int:
        """Take undispatched events and add their deliveries; the number of deliveries added."""
        added = 0
        with self.db.unit_of_work() as uow:
            events: list[Event] = uow.webhooks.undispatched(FAN_OUT_BATCH)
            now = utc_now()
            for event in events:
                if not uow.webhooks.take_event(event.id):
                    continue   # another server took it
                for url, hook in self.hooks.items():
                    if wants(hook.settings, event.type):
                        uow.webhooks.add_delivery(event, url, now)
                        added += 1
        return added

    def deliver_one(self) -> bool:
        """Claim one due delivery and make its attempt; False when nothing was due."""
        if not self.hooks:
            return False
        lease = max(h.settings.timeout_seconds for h in self.hooks.values()) + LEASE_MARGIN
        with self.db.unit_of_work() as uow:
            delivery = uow.webhooks.claim(self.owner, list(self.hooks), lease, utc_now())
        if delivery is None:
            return False
        hook = self.hooks[delivery.url]
        started_at = utc_now()
        status_code, error = self._post(hook, delivery)
        duration_ms = int((utc_now() - started_at).total_seconds() * 1000)
        finished_at = utc_now()
        retry_at: datetime | None = None
        if status_code is not None and 200 <= status_code < 300:
            outcome = DELIVERED
        elif delivery.attempt >= hook.settings.max_attempts:
            outcome = FAILED
        else:
            outcome = PENDING
            retry_at = finished_at + timedelta(seconds=backoff(delivery.attempt, hook.settings.retry_base_seconds))
        with self.db.unit_of_work() as uow:
            uow.webhooks.finish_attempt(delivery, self.owner, time=finished_at, status_code=status_code,
                                        error=error, duration_ms=duration_ms, outcome=outcome, retry_at=retry_at)
        level = logging.INFO if outcome == DELIVERED else logging.WARNING
        log.log(level, "webhook %s %s attempt %d to %s: %s -> %s", delivery.event_type, delivery.id,
                delivery.attempt, delivery.url, status_code if status_code is not None else error, outcome)
        return True

    def _post(self, hook: Hook, delivery: Delivery) -> tuple[int | None, str | None]:
        body = delivery.body.encode("utf-8")
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "X-Strongbox-Event": delivery.event_type,
            "X-Strongbox-Delivery": delivery.id,
            "X-Strongbox-Timestamp": timestamp,
            "X-Strongbox-Signature": signature(hook.secret, timestamp, body),
        }
        try:
            response = self._client.post(delivery.url, content=body, headers=headers,
                                         timeout=float(hook.settings.timeout_seconds))
        except httpx.HTTPError as err:
            return None, f"{type(err).__name__}: {err}" if str(err) else type(err).__name__
        error = None if 200 <= response.status_code < 300 else f"HTTP {response.status_code}"
        return response.status_code, error
