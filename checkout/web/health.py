"""Health, readiness and metrics endpoints."""

from __future__ import annotations

import contextlib
import hmac
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from checkout.core.context import Edge
from checkout.core.errors import Forbidden, NotAuthenticated
from checkout.ops.alerts import readiness
from checkout.ops.readiness import check_proxy, dependency_checks


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    edge: Edge = request.app.state.edge
    checks: dict[str, Any] = {}
    try:
        with contextlib.closing(edge.db.conn.cursor()) as cur:
            cur.execute("BEGIN IMMEDIATE")
            cur.execute("ROLLBACK")
        checks["database"] = {"ok": True}
    except Exception as exc:  # noqa: BLE001
        checks["database"] = {"ok": False, "error": type(exc).__name__}
    if request.query_params.get("scope") == "proxy":
        # Caddy's health check, every second: should new requests come to this process? Not
        # while it drains for a newer edge (it still serves what reaches it), nor without its
        # database. Storage and clamd are shared by both edges: probing them here every second
        # would only add requests to S3, so the full check below leaves them to monitoring.
        if edge.draining:
            return JSONResponse({"status": "draining", "detail": "a newer edge is taking over"}, status_code=503)
        ok = checks["database"]["ok"]
        return JSONResponse({"status": "ready" if ok else "not_ready", "checks": checks},
                            status_code=200 if ok else 503)
    state = edge.catalog.current()
    checks["catalog"] = {"ok": bool(state.legal), "source": state.source, "legal": sorted(state.legal)}
    checks["backups"] = readiness(edge)  # issue #8: backups at risk make the edge "degraded", not unready
    checks.update(await dependency_checks(edge))  # storage and clamd, when configured
    checks["proxy"] = check_proxy(edge)  # a warning only: X-Forwarded-For from a peer not believed
    ok = all(c["ok"] for c in checks.values())
    detail = "degraded" if checks["backups"]["degraded"] else "ok"
    return JSONResponse({"status": "ready" if ok else "not_ready", "detail": detail, "checks": checks},
                        status_code=200 if ok else 503)


LOOPBACK = ("127.", "::1", "::ffff:127.")


def from_this_machine(request: Request) -> bool:
    """A request from a loopback address that no proxy forwarded: behind Caddy on the same host
    every request comes from 127.0.0.1, but those carry X-Forwarded-For."""
    host = request.client.host if request.client else ""
    forwarded = "x-forwarded-for" in request.headers or "forwarded" in request.headers
    return host.startswith(LOOPBACK) and not forwarded


async def metrics(request: Request) -> Response:
    """Prometheus' page, for a scraper with METRICS_TOKEN, or from this machine (METRICS_LOOPBACK):
    the figures (routes, error codes, queue depths) are no business of the internet's."""
    edge: Edge = request.app.state.edge
    token = edge.settings.METRICS_TOKEN.reveal()
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if token and scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode()):
        pass
    elif not (edge.settings.METRICS_LOOPBACK and from_this_machine(request)):
        if token:
            raise NotAuthenticated("Send the metrics token as 'Authorization: Bearer <token>'.",
                                   headers={"WWW-Authenticate": "Bearer"})
        raise Forbidden("Metrics are served to this machine only (set METRICS_TOKEN to scrape from elsewhere).")
    return Response(edge.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")


ROUTES = [
    Route("/healthz", healthz, methods=["GET", "HEAD"]),
    Route("/readyz", readyz, methods=["GET", "HEAD"]),
    Route("/metrics", metrics),
]
