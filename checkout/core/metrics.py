"""Prometheus metrics, one registry per edge (so tests can build many apps in one process)."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


class Metrics:
    def __init__(self, outbox_depth: Callable[[], float]):
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
                return outbox_depth()
            except Exception:  # noqa: BLE001 - a scrape must never fail because of the gauge
                return -1.0

        depth.set_function(_depth)
        self.payment_events = Counter("digitaldock_payment_events", "Paystack webhooks received, by outcome",
                                      ("outcome",), registry=r)
        # from Paystack's paid_at to the edge applying the payment (issue #16's webhook lag chart)
        self.webhook_lag = Histogram("digitaldock_webhook_lag_seconds",
                                     "Seconds from a payment at Paystack to its webhook being applied", registry=r,
                                     buckets=(0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 21600, 86400))

    def render(self) -> bytes:
        return generate_latest(self.registry)
