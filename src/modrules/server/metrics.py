"""Prometheus metrics of the service (its own registry, so apps never collide).

With `modrules serve --workers N` each worker is a process: `serve` points
PROMETHEUS_MULTIPROC_DIR at a fresh directory before the workers start, prometheus-client
then keeps every worker's values in files there, and `/metrics` (whichever worker
answers) sums them all."""

from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.multiprocess import MultiProcessCollector

from modrules.model import Verdict

CONTENT_TYPE = CONTENT_TYPE_LATEST
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "modrules_http_requests", "HTTP requests answered", ["route", "status"], registry=self.registry
        )
        self.verdicts = Counter("modrules_verdicts", "Comments judged, by action", ["action"], registry=self.registry)
        self.violations = Counter(
            "modrules_violations", "Enforced violations, by category", ["category"], registry=self.registry
        )
        self.seconds = Histogram(
            "modrules_moderate_seconds",
            "Time to judge the comments of one POST /v1/moderate",
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0),
            registry=self.registry,
        )
        # Labelled children by label values: `labels()` takes a lock and builds a key each time.
        self._children: dict[tuple[object, ...], Counter] = {}

    def _child(self, metric: Counter, *values: str) -> Counter:
        key = (metric, *values)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*values)
        return child

    def answered(self, route: str, status: int) -> None:
        self._child(self.requests, route, str(status)).inc()

    def judged(self, verdicts: list[Verdict], seconds: float) -> None:
        """One POST /v1/moderate: its time and each verdict's action and categories."""
        self.seconds.observe(seconds)
        for verdict in verdicts:
            self.count(verdict)

    def count(self, verdict: Verdict) -> None:
        self._child(self.verdicts, verdict.action.value).inc()
        for category in verdict.categories:
            self._child(self.violations, category).inc()

    def render(self) -> bytes:
        if os.environ.get(MULTIPROC_ENV):
            merged = CollectorRegistry()
            MultiProcessCollector(merged)  # type: ignore[no-untyped-call]
            return generate_latest(merged)
        return generate_latest(self.registry)
