"""``/metrics`` in Prometheus' text format, read from the stores at scrape time: ingest's
counters (summed over live workers), alerts by state, deliveries by status, job runs."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from api.state import ApiState
from ingest.status import read_status
from pvmon.db import tables


class StoreCollector(Collector):
    def __init__(self, ctx: ApiState) -> None:
        self.ctx = ctx

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        yield from self._ingest()
        with self.ctx.sessions() as session:
            alerts = GaugeMetricFamily("pvmon_alerts", "Alerts by state", labels=["state"])
            for state, n in session.execute(
                select(tables.Alert.state, func.count()).group_by(tables.Alert.state)
            ):
                alerts.add_metric([state], n)
            yield alerts
            deliveries = GaugeMetricFamily(
                "pvmon_deliveries",
                "Alert deliveries by channel and status",
                labels=["channel", "status"],
            )
            for channel, status, n in session.execute(
                select(tables.Delivery.channel, tables.Delivery.status, func.count()).group_by(
                    tables.Delivery.channel, tables.Delivery.status
                )
            ):
                deliveries.add_metric([channel, status], n)
            yield deliveries
            yield from self._jobs(session)

    def _ingest(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        s = read_status(self.ctx.engine)
        for name, value, doc in (
            ("pvmon_ingest_received", s.received, "Messages received by live ingest workers"),
            ("pvmon_ingest_points_written", s.stored, "Points written to InfluxDB"),
            ("pvmon_ingest_write_retries", s.write_retries, "Store write retries"),
        ):
            yield CounterMetricFamily(name, doc, value=value)
        rejected = CounterMetricFamily(
            "pvmon_ingest_rejected", "Messages dead-lettered, by reason", labels=["reason"]
        )
        for reason, n in sorted(s.rejected_by_reason.items()):
            rejected.add_metric([reason], n)
        yield rejected
        yield GaugeMetricFamily("pvmon_ingest_workers", "Live ingest workers", value=s.workers)
        yield GaugeMetricFamily(
            "pvmon_ingest_spool_points",
            "Points held in ingest's disk spool, waiting for InfluxDB",
            value=s.spool_points,
        )
        yield GaugeMetricFamily(
            "pvmon_ingest_spool_bytes", "Bytes of ingest's disk spool", value=s.spool_bytes
        )
        yield GaugeMetricFamily(
            "pvmon_loggers_online", "Data loggers reporting online", value=s.loggers_online
        )

    @staticmethod
    def _jobs(session) -> Iterator[GaugeMetricFamily]:  # type: ignore[no-untyped-def]
        runs = GaugeMetricFamily(
            "pvmon_job_runs", "Job periods by job and status", labels=["job", "status"]
        )
        for job, status, n in session.execute(
            select(tables.JobRun.job, tables.JobRun.status, func.count()).group_by(
                tables.JobRun.job, tables.JobRun.status
            )
        ):
            runs.add_metric([job, status], n)
        yield runs
        last = GaugeMetricFamily(
            "pvmon_job_last_duration_seconds", "Duration of each job's latest run", labels=["job"]
        )
        latest = (
            select(tables.JobRun.job, func.max(tables.JobRun.finished_at).label("at"))
            .group_by(tables.JobRun.job)
            .subquery()
        )
        for job, seconds in session.execute(
            select(tables.JobRun.job, tables.JobRun.duration_s).join(
                latest,
                (tables.JobRun.job == latest.c.job) & (tables.JobRun.finished_at == latest.c.at),
            )
        ):
            last.add_metric([job], seconds or 0.0)
        yield last
