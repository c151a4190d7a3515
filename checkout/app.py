"""The checkout edge's application factory.

`create_app(settings)` wires everything from arguments, no import-time globals: one `Edge`
(database, clock, catalogue, hasher, limiter, templates, metrics), the routes (pages, API,
health and metrics, the theme's static files at /theme/), the middleware stack, the error
handlers and a lifespan that migrates the database and runs the outbox worker and the
retention schedule until shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator
from typing import Any

import structlog
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from . import api, delivery_web, gdpr, logs, outbox, shop, web
from .clock import Clock
from .context import Edge
from .errors import HTTP_STATUS_ERRORS, EdgeError
from .middleware import BodySizeLimitMiddleware, CsrfMiddleware, RequestContextMiddleware
from .uploads import UploadMiddleware
from .settings import Settings, load_settings

log = structlog.get_logger("checkout.app")

TITLES = {400: "Bad request", 401: "Please sign in", 403: "Not allowed", 404: "Page not found",
          405: "Not allowed", 409: "Already exists", 413: "Too large", 422: "Please check the form",
          423: "Account locked", 429: "Too many attempts", 500: "Something went wrong", 503: "Unavailable"}


def wants_json(request: Request) -> bool:
    if request.url.path.startswith("/api/"):
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def error_response(request: Request, exc: EdgeError) -> Response:
    edge: Edge = request.app.state.edge
    edge.metrics.errors.labels(exc.code).inc()
    if wants_json(request):
        return JSONResponse(exc.as_json(), status_code=exc.status, headers=exc.headers)
    try:
        html = edge.render("edge/error.html", title=TITLES.get(exc.status, "Error"), message=exc.message,
                           code=exc.code, request_id=request.scope.get("state", {}).get("request_id", ""))
    except Exception:  # noqa: BLE001 - a broken template must not hide the error itself
        log.exception("error_page_failed")
        return PlainTextResponse(f"{exc.message} ({exc.code})", status_code=exc.status, headers=exc.headers)
    return HTMLResponse(html, status_code=exc.status, headers=exc.headers)


async def _edge_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, EdgeError)
    return error_response(request, exc)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    cls = HTTP_STATUS_ERRORS.get(exc.status_code, EdgeError)
    err = cls(headers=dict(exc.headers or {}))
    err.status = exc.status_code
    return error_response(request, err)


async def _redirect(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, web.Redirect)
    return RedirectResponse(exc.url, status_code=303)


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
    from .alerts import readiness
    checks["backups"] = readiness(edge)  # issue #8: backups at risk make the edge "degraded", not unready
    from .readiness import dependency_checks
    checks.update(await dependency_checks(edge))  # storage and clamd, when configured
    ok = all(c["ok"] for c in checks.values())
    detail = "degraded" if checks["backups"]["degraded"] else "ok"
    return JSONResponse({"status": "ready" if ok else "not_ready", "detail": detail, "checks": checks},
                        status_code=200 if ok else 503)


async def metrics(request: Request) -> Response:
    edge: Edge = request.app.state.edge
    return Response(edge.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")


async def _outbox_worker(edge: Edge, stop: asyncio.Event) -> None:
    """Send due emails until asked to stop; a send in progress always finishes first."""
    backend = outbox.backend_for(edge)
    interval = edge.settings.OUTBOX_POLL_SECONDS
    while not stop.is_set():
        try:
            for row in outbox.claim_due(edge):
                provider_id, error = await asyncio.to_thread(outbox.send_one, backend, row)
                outbox.record_result(edge, row, provider_id, error)
        except Exception:  # noqa: BLE001 - the worker must survive any one bad round
            log.exception("outbox_worker_error")
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)


async def _retention_schedule(edge: Edge, stop: asyncio.Event) -> None:
    interval = edge.settings.RETENTION_INTERVAL_SECONDS
    while not stop.is_set():
        try:
            gdpr.run_retention(edge)
        except Exception:  # noqa: BLE001
            log.exception("retention_error")
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)


def _drain_on_signal(edge: Edge) -> None:
    """SIGUSR1 starts draining (see `checkout/deploy.py`). Only a server running the event loop
    in its main thread can take signals; an edge inside tests or another host just can't."""
    def drain() -> None:
        edge.draining = True
        log.info("edge_draining")

    with contextlib.suppress(ValueError, RuntimeError, NotImplementedError, AttributeError):
        asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, drain)


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> Starlette:
    settings = settings or load_settings()
    logs.configure(settings.LOG_LEVEL, settings.LOG_FILE)
    logs.init_sentry(settings.SENTRY_DSN.reveal(), settings.DIGITALDOCK_ENV)
    edge = Edge(settings, clock)
    edge.migrate()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        stop = asyncio.Event()
        tasks = []
        if settings.OUTBOX_POLL_SECONDS > 0:
            tasks.append(asyncio.create_task(_outbox_worker(edge, stop)))
        if settings.RETENTION_INTERVAL_SECONDS > 0:
            tasks.append(asyncio.create_task(_retention_schedule(edge, stop)))
        tasks += shop.background_tasks(edge, stop)
        tasks.append(asyncio.create_task(asyncio.to_thread(delivery_web.warm_up, edge)))
        _drain_on_signal(edge)
        log.info("edge_started", env=settings.DIGITALDOCK_ENV, database=str(settings.database_path))
        try:
            yield
        finally:
            stop.set()
            await asyncio.gather(*tasks, return_exceptions=True)
            edge.close()
            log.info("edge_stopped")

    routes = [
        Route("/healthz", healthz, methods=["GET", "HEAD"]),
        Route("/readyz", readyz, methods=["GET", "HEAD"]),
        Route("/metrics", metrics),
        *api.ROUTES,
        *web.ROUTES,
        *delivery_web.ROUTES,
        *shop.ROUTES,
        Mount("/theme", app=StaticFiles(directory=str(settings.theme_dir / "static"), check_dir=False), name="theme"),
    ]

    def route_name(scope: Scope) -> str:
        for route in routes:
            match, _ = route.matches(scope)
            if match.name == "FULL":
                return getattr(route, "path", "") or "/theme"
        return "unmatched"

    middleware = [
        Middleware(RequestContextMiddleware, edge=edge, route_name=route_name, error_response=error_response),
        Middleware(UploadMiddleware),  # streams POST /seller/products before any body-buffering middleware
        Middleware(CORSMiddleware, allow_origins=[settings.SITE_URL], allow_methods=["GET", "POST"],
                   allow_headers=["Authorization", "Content-Type", "X-CSRF-Token", "X-Request-ID"],
                   allow_credentials=True, expose_headers=["X-Request-ID"], max_age=600),
        Middleware(BodySizeLimitMiddleware, max_bytes=settings.MAX_BODY_BYTES),
        Middleware(CsrfMiddleware, edge=edge, exempt_prefixes=("/api/", *shop.CSRF_EXEMPT)),
    ]
    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan,
                    exception_handlers={EdgeError: _edge_error, HTTPException: _http_error,
                                        web.Redirect: _redirect})
    app.state.edge = edge
    return app
