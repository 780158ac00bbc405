"""The webhooks' outbox and delivery queue, on SQLite and PostgreSQL: an event per job
transition in the job's transaction, one fan-out per event, one claimer per attempt, the
attempt logged and settled only under the lease, old events purged with their log."""

from __future__ import annotations

import json
from datetime import timedelta

import sqlalchemy as sa

from strongbox.domain.jobs import ErrorDetail, JobStatus
from strongbox.persistence.database import Database
from strongbox.persistence.schema import webhook_attempts, webhook_deliveries, webhook_events
from strongbox.persistence.webhooks import DELIVERED, FAILED, PENDING
from tests.contract.persistence import examples
from tests.contract.persistence.examples import T0

VAULT = examples.vault()
URL = "https://hooks.example/a"


def test_a_job_added_and_made_final_leaves_one_event_each_with_its_body(db: Database) -> None:
    job = examples.job(VAULT.key)
    with db.unit_of_work() as uow:
        uow.vaults.add(VAULT)
        uow.jobs.add(job)
    job.status, job.end_time = JobStatus.FAILED, job.start_time + timedelta(seconds=90)
    job.error_details.append(ErrorDetail(code="UserErrorSourceMissing", message="gone"))
    with db.unit_of_work() as uow:
        assert uow.jobs.save(job)
        assert not uow.jobs.save(job)      # already final: no second event
    with db.unit_of_work() as uow:
        events = uow.webhooks.undispatched(10)
        bodies = [json.loads(body) for body in uow.connection.execute(
            sa.select(webhook_events.c.body).order_by(webhook_events.c.seq)).scalars()]
    assert [e.type for e in events] == ["job.started", "job.failed"] and {e.job_id for e in events} == {job.id}
    started, failed = bodies
    assert started["id"] == events[0].id and started["job"]["status"] == "InProgress"
    assert started["job"]["endTime"] is None and started["job"]["vault"] == VAULT.name
    assert failed["job"]["status"] == "Failed" and failed["job"]["durationSeconds"] == 90.0
    assert failed["job"]["errorCodes"] == ["UserErrorSourceMissing"]
    assert failed["job"]["vaultId"].endswith(f"/resourceGroups/{VAULT.resource_group}/providers/"
                                             f"Microsoft.RecoveryServices/vaults/{VAULT.name}")


def test_a_rolled_back_transition_leaves_no_event(db: Database) -> None:
    with db.unit_of_work() as uow:
        uow.vaults.add(VAULT)
    try:
        with db.unit_of_work() as uow:
            uow.jobs.add(examples.job(VAULT.key))
            raise RuntimeError("the transaction fails after the job was added")
    except RuntimeError:
        pass
    with db.unit_of_work() as uow:
        assert uow.webhooks.undispatched(10) == []


def test_an_event_is_taken_once_and_an_attempt_claimed_by_one(db: Database) -> None:
    with db.unit_of_work() as uow:
        uow.vaults.add(VAULT)
        uow.jobs.add(examples.job(VAULT.key))
    with db.unit_of_work() as uow:
        (event,) = uow.webhooks.undispatched(10)
        assert uow.webhooks.take_event(event.id)
        assert not uow.webhooks.take_event(event.id)
        uow.webhooks.add_delivery(event, URL, T0)
        assert uow.webhooks.undispatched(10) == []
    with db.unit_of_work() as uow:
        assert uow.webhooks.claim("a", ["https://elsewhere.example/"], 30, T0) is None   # not our URL
        first = uow.webhooks.claim("a", [URL], 30, T0)
        assert first is not None and first.attempt == 1 and json.loads(first.body)["id"] == event.id
        assert uow.webhooks.claim("b", [URL], 30, T0 + timedelta(seconds=5)) is None  # leased to "a"
    with db.unit_of_work() as uow:    # "a" answered too late: its lease expired, "b" took attempt 2
        second = uow.webhooks.claim("b", [URL], 30, T0 + timedelta(seconds=31))
        assert second is not None and second.attempt == 2
        assert not uow.webhooks.finish_attempt(first, "a", time=T0 + timedelta(seconds=32), status_code=200,
                                               error=None, duration_ms=5, outcome=DELIVERED, retry_at=None)
        assert uow.webhooks.delivery_status(first.id) == (PENDING, 2)   # logged, but not settled by "a"
        assert uow.webhooks.finish_attempt(second, "b", time=T0 + timedelta(seconds=33), status_code=500,
                                           error="HTTP 500", duration_ms=7, outcome=PENDING,
                                           retry_at=T0 + timedelta(seconds=40))
    with db.unit_of_work() as uow:
        assert uow.webhooks.claim("b", [URL], 30, T0 + timedelta(seconds=39)) is None   # not due yet
        third = uow.webhooks.claim("b", [URL], 30, T0 + timedelta(seconds=40))
        assert third is not None and third.attempt == 3
        assert uow.webhooks.finish_attempt(third, "b", time=T0 + timedelta(seconds=41), status_code=None,
                                           error="ConnectError", duration_ms=1, outcome=FAILED, retry_at=None)
        assert uow.webhooks.claim("b", [URL], 30, T0 + timedelta(days=1)) is None      # failed for good
        log = uow.webhooks.log(10)
    assert [(line.attempt, line.status_code, line.error, line.delivery_status) for line in log] == [
        (3, None, "ConnectError", FAILED), (2, 500, "HTTP 500", FAILED), (1, 200, None, FAILED)]
    assert log[0].event_type == "job.started" and log[0].url == URL and log[0].duration_ms == 1


def test_purging_takes_old_dispatched_events_with_their_deliveries_and_log(db: Database) -> None:
    with db.unit_of_work() as uow:
        uow.vaults.add(VAULT)
        uow.jobs.add(examples.job(VAULT.key))
        uow.jobs.add(examples.job(VAULT.key))
    with db.unit_of_work() as uow:
        old, new = uow.webhooks.undispatched(10)
        for event in (old, new):
            uow.webhooks.take_event(event.id)
        delivery = uow.webhooks.claim("a", [URL], 30, T0) if uow.webhooks.add_delivery(old, URL, T0) else None
        assert delivery is not None
        uow.webhooks.finish_attempt(delivery, "a", time=T0, status_code=200, error=None, duration_ms=3,
                                    outcome=DELIVERED, retry_at=None)
        uow.connection.execute(webhook_events.update().where(webhook_events.c.id == new.id)
                               .values(time=old.time + timedelta(days=2)))
    with db.unit_of_work() as uow:
        assert uow.webhooks.purge_before(old.time + timedelta(days=1)) == 1
        counts = [uow.connection.execute(sa.select(sa.func.count()).select_from(t)).scalar()
                  for t in (webhook_events, webhook_deliveries, webhook_attempts)]
    assert counts == [1, 0, 0]
