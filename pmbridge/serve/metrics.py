"""``/metrics``: what ``pmbridge serve`` did, in Prometheus' text format.

Each service has its own ``CollectorRegistry`` (never the process-global one), so two
services in one process (tests) count apart. Counters move as cycles end and as the
systems answer; conflicts and dead letters waiting for a person are read from the store at
scrape time.

Metrics:
- ``pmbridge_cycles_total{outcome}``: ok, partial (some records failed or deletes held),
  failed (a system stopped the cycle);
- ``pmbridge_cycle_duration_seconds``: histogram of cycle wall time;
- ``pmbridge_writes_total{system,flow,operation}``: created/updated/deleted, per system written;
- ``pmbridge_conflicts_total{flow}``: conflicts met by cycles;
- ``pmbridge_conflicts_held{flow}``, ``pmbridge_dead_letters{flow}``: waiting now;
- ``pmbridge_retries_total{system}``: requests tried again (5xx, lost connections, 429s)
- ``pmbridge_http_answers_total{system,status}``: answers by status class (2xx, 4xx, 429,
  5xx); every 429 and 5xx is retried by the client while it has attempts left;
- ``pmbridge_last_success_timestamp_seconds``: when a cycle last ended without stopping;
- ``pmbridge_notice_to_write_seconds``: histogram of the time from a change notice (a Trello
  webhook delivery or a Custompms notification) to the end of the cycle that wrote the
  change to the other side. It stands for the edit-to-other-side latency: it leaves out the
  time the system took to deliver the notice, and edits found by the periodic cycle alone.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

from fastapi import APIRouter, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from pmbridge.engine.report import CycleReport
from pmbridge.store import Store

SYSTEM_OF = {"to_trello": "trello", "to_custompms": "custompms"}
WRITES = ("created", "updated", "deleted")
DURATION_BUCKETS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)
LATENCY_BUCKETS = (0.5, 1, 2, 3, 5, 10, 20, 30, 60, 120, 300)


class _Waiting(Collector):
    """Conflicts held and dead letters, per flow, read from the store when scraped."""

    def __init__(self, store: Callable[[], Store | None]):
        self._store = store

    def collect(self) -> Iterator[Any]:
        store = self._store()
        if store is None:
            return
        held = GaugeMetricFamily(
            "pmbridge_conflicts_held", "Conflicts held for a person", labels=["flow"]
        )
        letters = GaugeMetricFamily(
            "pmbridge_dead_letters",
            "Records whose sync failed, retried every cycle",
            labels=["flow"],
        )
        counts: dict[str, int] = {}
        for conflict in store.conflicts(status="held"):
            counts[conflict.flow] = counts.get(conflict.flow, 0) + 1
        for flow, n in sorted(counts.items()):
            held.add_metric([flow], n)
        counts = {}
        for letter in store.dead_letters():
            counts[letter.flow] = counts.get(letter.flow, 0) + 1
        for flow, n in sorted(counts.items()):
            letters.add_metric([flow], n)
        yield held
        yield letters


class ServeMetrics:
    """The counters of one service and the registry they live in."""

    def __init__(self, store: Callable[[], Store | None] = lambda: None):
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.cycles = Counter("pmbridge_cycles", "Cycles by outcome", ["outcome"], registry=r)
        self.duration = Histogram(
            "pmbridge_cycle_duration_seconds",
            "Wall time of a cycle",
            buckets=DURATION_BUCKETS,
            registry=r,
        )
        self.writes = Counter(
            "pmbridge_writes",
            "Writes made, by the system written",
            ["system", "flow", "operation"],
            registry=r,
        )
        self.conflicts = Counter(
            "pmbridge_conflicts", "Conflicts met by cycles", ["flow"], registry=r
        )
        self.retries = Counter(
            "pmbridge_retries", "Requests tried again, by system", ["system"], registry=r
        )
        self.answers = Counter(
            "pmbridge_http_answers",
            "Answers from the systems by status class; 429 and 5xx are retried",
            ["system", "status"],
            registry=r,
        )
        self.notice_to_write = Histogram(
            "pmbridge_notice_to_write_seconds",
            "From a change notice to the end of the cycle that wrote the change",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.last_success = Gauge(
            "pmbridge_last_success_timestamp_seconds",
            "Unix time a cycle last ended without being stopped",
            registry=r,
        )
        for outcome in ("ok", "partial", "failed"):
            self.cycles.labels(outcome)
        r.register(_Waiting(store))

    def cycle_ended(self, report: CycleReport, seconds: float, failed: bool) -> None:
        self.cycles.labels("failed" if failed else report.status).inc()
        self.duration.observe(seconds)
        for (flow, direction), counts in report.counts.items():
            for operation in WRITES:
                if counts.get(operation):
                    self.writes.labels(SYSTEM_OF[direction], flow, operation).inc(counts[operation])
            if counts.get("conflicts"):
                self.conflicts.labels(flow).inc(counts["conflicts"])
        if not failed:
            self.last_success.set(time.time())

    def retried(self, system: str) -> None:
        self.retries.labels(system).inc()

    def answered(self, system: str, status: int) -> None:
        label = "429" if status == 429 else f"{status // 100}xx"
        self.answers.labels(system, label).inc()

    def text(self) -> bytes:
        return generate_latest(self.registry)


router = APIRouter()


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    serve_metrics: ServeMetrics = request.app.state.serve_status.metrics
    return Response(serve_metrics.text(), media_type=CONTENT_TYPE_LATEST)
