"""Prometheus metrics, served at ``GET /metrics`` in the text exposition format.

Two kinds, so that several server processes sharing one database add up right:

- From the database, counted at each scrape (:class:`DatabaseCollector`); every process
  answers the same numbers. ``strongbox_jobs{operation,status}``: the job records kept (they
  are purged after ``job_retention_days``), every pair present, zeros included;
  ``strongbox_queue_depth``: jobs waiting for a worker; ``strongbox_database_up``: 0 when the
  database could not be read (the process's own metrics are served all the same).
- From this process since it started (sum them over processes):
  ``strongbox_http_request_duration_seconds{method,route,status}`` (``route`` is the route's
  template, never the raw path, so the label has a bounded set of values);
  ``strongbox_job_duration_seconds{operation,status}``, the time workers here spent on a job;
  ``strongbox_bytes_read_total``, ``strongbox_bytes_written_total`` and
  ``strongbox_bytes_deduplicated_total`` by ``operation`` (a backup reads the source, writes
  the compressed, encrypted new data to the vault, and deduplicates what the vault held
  already; a restore writes the restored files); ``strongbox_worker_heartbeats_total{worker}``
  and ``strongbox_worker_last_seen_timestamp_seconds{worker}`` (a worker is seen each time it
  looks for work or extends its job's lease); and the standard ``process_*`` metrics.

Nothing registers at import time: each :class:`Metrics` has its own registry, built by bootstrap.
The route is readable with any valid token, or by anyone with ``[metrics] public = true``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator, Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from strongbox.api.call import Call, Reply
from strongbox.domain.jobs import Job, JobOperation, JobStatus
from strongbox.services.jobstats import job_counts
from strongbox.services.context import ServiceContext

log = logging.getLogger("strongbox.metrics")

HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
JOB_BUCKETS = (0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0, 4 * 3600.0, 12 * 3600.0)
METHODS = frozenset({"GET", "PUT", "POST", "DELETE", "PATCH", "HEAD", "OPTIONS"})
UNMATCHED = "unmatched"     # the route label of a request no route matched
_UP_HELP = "1 when this scrape could count jobs in the database, else 0."


class DatabaseCollector(Collector):
    """Job counts from the database, at collect time."""

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def collect(self) -> Iterable[Metric]:
        try:
            counts = job_counts(self.ctx)
        except Exception:   # the process's own metrics are still worth a scrape
            log.warning("metrics: cannot count jobs in the database", exc_info=True)
            yield GaugeMetricFamily("strongbox_database_up", _UP_HELP, value=0)
            return
        yield GaugeMetricFamily("strongbox_database_up", _UP_HELP, value=1)
        jobs = GaugeMetricFamily("strongbox_jobs", "Job records in the database, by operation and status.",
                                 labels=["operation", "status"])
        for operation in JobOperation:
            for status in JobStatus:
                jobs.add_metric([operation.value, status.value],
                                counts.by_operation_and_status.get((operation.value, status.value), 0))
        yield jobs
        yield GaugeMetricFamily("strongbox_queue_depth", "Jobs waiting for a worker.", value=counts.waiting)


class _Scrape(Collector):
    """This process's registry, then the database's counts."""

    def __init__(self, *collectors: Collector) -> None:
        self.collectors = collectors

    def collect(self) -> Iterator[Metric]:
        for collector in self.collectors:
            yield from collector.collect()


class Metrics:
    """This process's instruments; an engine observer (:mod:`strongbox.engine.observer`) and
    the HTTP latency recorder of :class:`strongbox.api.app.ArmApp`."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.http = Histogram("strongbox_http_request_duration_seconds", "HTTP request latency, by route template.",
                              ["method", "route", "status"], buckets=HTTP_BUCKETS, registry=r)
        self.job_duration = Histogram("strongbox_job_duration_seconds", "Time workers spent on a job.",
                                      ["operation", "status"], buckets=JOB_BUCKETS, registry=r)
        self.bytes = {
            "bytes_read": Counter("strongbox_bytes_read", "Bytes read by jobs (a backup: from the source).",
                                  ["operation"], registry=r),
            "bytes_written": Counter("strongbox_bytes_written",
                                     "Bytes written by jobs (a backup: to the vault; a restore: to the target).",
                                     ["operation"], registry=r),
            "bytes_deduplicated": Counter("strongbox_bytes_deduplicated",
                                          "Bytes a backup read that the vault held already.", ["operation"],
                                          registry=r),
        }
        self.heartbeats = Counter("strongbox_worker_heartbeats", "Lease heartbeats sent by workers.", ["worker"],
                                  registry=r)
        self.last_seen = Gauge("strongbox_worker_last_seen_timestamp_seconds",
                               "When a worker last looked for work or extended its job's lease (Unix time).",
                               ["worker"], registry=r)
        ProcessCollector(registry=r)

    # --- the engine's observer -------------------------------------------------------------
    def job_finished(self, job: Job, seconds: float, tallies: Mapping[str, int]) -> None:
        self.job_duration.labels(job.operation.value, job.status.value).observe(seconds)
        for name, value in tallies.items():
            if name in self.bytes and value > 0:
                self.bytes[name].labels(job.operation.value).inc(value)

    def worker_alive(self, worker_id: str, *, heartbeat: bool) -> None:
        worker = _worker_label(worker_id)
        self.last_seen.labels(worker).set(time.time())
        if heartbeat:
            self.heartbeats.labels(worker).inc()

    # --- the HTTP face -----------------------------------------------------------------------
    def observe_request(self, method: str, route: str | None, status: int, seconds: float) -> None:
        self.http.labels(method if method in METHODS else "other", route or UNMATCHED, str(status)).observe(seconds)

    def scrape(self, call: Call) -> Reply:
        """``GET /metrics``."""
        body = generate_latest(_Scrape(self.registry, DatabaseCollector(call.ctx)))
        return Reply(200, body, {"Content-Type": CONTENT_TYPE_PLAIN_0_0_4})


def _worker_label(worker_id: str) -> str:
    """A worker id is host:pid:index:nonce (engine/worker.py); its index names it in this process."""
    parts = worker_id.split(":")
    return parts[2] if len(parts) == 4 else worker_id
