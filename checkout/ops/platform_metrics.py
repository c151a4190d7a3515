"""The platform's Prometheus figures over time, for the admin's charts.

The edge's own registry (what `/metrics` exposes) holds cumulative counters and histograms.
Every METRICS_SAMPLE_SECONDS the edge writes one sample of the figures that matter into
`metrics_samples` (kept METRICS_KEEP_DAYS); a chart is the difference of consecutive samples,
as Prometheus' `rate()` and `histogram_quantile()` would compute it: request rate, p50/p95/p99
latency, error rate, webhook lag and the email queue. A restart resets the counters; a sample
lower than the one before is read as counting from zero, as Prometheus reads a reset.

No Prometheus server is needed for the charts; one scraping `/metrics` (METRICS_TOKEN) sees the
same figures at its own resolution.
"""

from __future__ import annotations

import json
import math
from typing import Any

from checkout.core.clock import parse_iso
from checkout.core.context import Edge
from checkout.core.db import atomic

SKIPPED = ("/metrics", "/healthz", "/readyz", "/theme")  # probes and static files are not traffic


def snapshot(edge: "Edge") -> dict[str, Any]:
    """The figures of the registry now (cumulative), and the queue depths from the database."""
    out: dict[str, Any] = {"requests": 0, "errors5xx": 0, "errors4xx": 0, "latency": {}, "lag": {},
                           "lag_count": 0}
    for metric in edge.metrics.registry.collect():
        for s in metric.samples:
            route = s.labels.get("route", "")
            if route.startswith(SKIPPED) or route == "unmatched":
                continue
            if s.name == "digitaldock_http_requests_total":
                out["requests"] += s.value
                status = s.labels.get("status", "")
                if status.startswith("5"):
                    out["errors5xx"] += s.value
                elif status.startswith("4"):
                    out["errors4xx"] += s.value
            elif s.name == "digitaldock_http_request_duration_seconds_bucket":
                le = s.labels["le"]
                out["latency"][le] = out["latency"].get(le, 0) + s.value
            elif s.name == "digitaldock_webhook_lag_seconds_bucket":
                out["lag"][s.labels["le"]] = s.value
            elif s.name == "digitaldock_webhook_lag_seconds_count":
                out["lag_count"] = s.value
    row = edge.db.execute("SELECT SUM(status IN ('pending', 'sending')), SUM(status = 'dead') FROM outbox").fetchone()
    out["outbox"], out["dead"] = int(row[0] or 0), int(row[1] or 0)
    return out


def sample(edge: "Edge") -> None:
    """Write one sample and forget those older than METRICS_KEEP_DAYS."""
    data = json.dumps(snapshot(edge), sort_keys=True)
    with atomic(edge.db):
        edge.db.execute("INSERT OR REPLACE INTO metrics_samples (at, data) VALUES (?, ?)", (edge.clock.iso(), data))
        edge.db.execute("DELETE FROM metrics_samples WHERE at < ?", (edge.clock.iso(-edge.settings.METRICS_KEEP_DAYS * 86400),))


def samples(edge: "Edge", since: str) -> list[tuple[str, dict[str, Any]]]:
    return [(r[0], json.loads(r[1])) for r in edge.db.execute(
        "SELECT at, data FROM metrics_samples WHERE at >= ? ORDER BY at", (since,))]


def _delta(new: float, old: float) -> float:
    return new - old if new >= old else new  # a restart started the counter again


def quantile(q: float, buckets_new: dict[str, float], buckets_old: dict[str, float]) -> float | None:
    """Prometheus' histogram_quantile over the increase between two samples (seconds), or None
    without observations."""
    bounds = sorted(((math.inf if le == "+Inf" else float(le)), _delta(v, buckets_old.get(le, 0.0)))
                    for le, v in buckets_new.items())
    if not bounds or bounds[-1][1] <= 0:
        return None
    rank = q * bounds[-1][1]
    lower, below = 0.0, 0.0
    for upper, count in bounds:
        if count >= rank:
            if math.isinf(upper):
                return lower  # beyond the last finite bucket: its bound is the best estimate
            if count == below:
                return upper
            return lower + (upper - lower) * (rank - below) / (count - below)
        lower, below = upper, count
    return lower


def series(edge: "Edge", hours: int) -> list[dict[str, Any]]:
    """One point per interval between consecutive samples of the last `hours`: request rate
    (per second), error rate (5xx per second and as a share of requests), latency quantiles
    (milliseconds), webhook lag p95 (seconds) and the email queue."""
    found = samples(edge, edge.clock.iso(-hours * 3600))
    points = []
    for (t0, a), (t1, b) in zip(found, found[1:]):
        seconds = max(1e-9, parse_iso(t1) - parse_iso(t0))
        requests = _delta(b["requests"], a["requests"])
        errors = _delta(b["errors5xx"], a["errors5xx"])

        def ms(q: float) -> float | None:
            found_q = quantile(q, b["latency"], a["latency"])
            return None if found_q is None else round(found_q * 1000, 1)

        lag = quantile(0.95, b.get("lag", {}), a.get("lag", {}))
        points.append({"at": t1, "requests_per_s": round(requests / seconds, 3),
                       "errors_per_s": round(errors / seconds, 4),
                       "error_share": round(100 * errors / requests, 2) if requests else 0.0,
                       "p50_ms": ms(0.5), "p95_ms": ms(0.95), "p99_ms": ms(0.99),
                       "lag_p95_s": None if lag is None else round(lag, 1),
                       "outbox": b.get("outbox", 0), "dead": b.get("dead", 0)})
    return points
