"""Prometheus metrics, one registry per edge (so tests can build many apps in one process)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

if TYPE_CHECKING:
    from .context import Edge


class Metrics:
    def __init__(self, edge: "Edge"):
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter("digitaldock_http_requests", "HTTP requests by route, method and status",
                                ("route", "method", "status"), registry=r)
        self.latency = Histogram("digitaldock_http_request_duration_seconds", "Request latency by route",
                                 ("route",), registry=r)
        self.errors = Counter("digitaldock_http_errors", "Error responses by error code", ("code",), registry=r)
        self.emails_sent = Counter("digitaldock_emails_sent", "Emails handed to the backend", registry=r)
        self.emails_failed = Counter("digitaldock_emails_failed", "Failed send attempts (will retry)", registry=r)
        self.emails_dead = Counter("digitaldock_emails_dead", "Emails given up after the last attempt", registry=r)
        depth = Gauge("digitaldock_outbox_depth", "Emails waiting to be sent", registry=r)

        def _depth() -> float:
            try:
                row = edge.db.execute("SELECT COUNT(*) FROM outbox WHERE status IN ('pending','sending')").fetchone()
                return float(row[0])
            except Exception:  # noqa: BLE001 - a scrape must never fail because of the gauge
                return -1.0

        depth.set_function(_depth)

    def render(self) -> bytes:
        return generate_latest(self.registry)
