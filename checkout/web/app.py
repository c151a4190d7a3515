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

import structlog
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from checkout.core import logs, sentry
from checkout.core.clock import Clock
from checkout.core.context import Edge
from checkout.core.errors import EdgeError
from checkout.core.settings import Settings, load_settings
from checkout.delivery.uploads import TEXT_FORM_MAX_BYTES
from checkout.web import (
    accounts,
    admin,
    admin_home,
    admin_payments,
    admin_reports,
    admin_taxes,
    admin_users,
    api,
    api_docs,
    base,
    delivery,
    developer,
    health,
    jobs,
    licenses,
    moderation,
    order_pages,
    orders,
    promotions,
    reviews,
    search,
    seller,
    seller_dashboard,
    seller_refunds,
    shop,
    webhooks,
)
from checkout.web.auth import STOREFRONT_JSON, EdgeAuthBackend
from checkout.web.errors import _edge_error, _http_error, _redirect, error_response
from checkout.web.jobs import _outbox_worker, _retention_schedule
from checkout.web.middleware import (
    BodySizeLimitMiddleware,
    CsrfMiddleware,
    RequestContextMiddleware,
    StorefrontCorsMiddleware,
)
from checkout.web.uploads import UploadMiddleware
from checkout.wiring import build_edge

log = structlog.get_logger("checkout.app")


def _drain_on_signal(edge: Edge) -> None:
    """SIGUSR1 starts draining (see `checkout/ops/deploy.py`). Only a server running the event loop
    in its main thread can take signals; an edge inside tests or another host just can't."""
    def drain() -> None:
        edge.draining = True
        log.info("edge_draining")

    with contextlib.suppress(ValueError, RuntimeError, NotImplementedError, AttributeError):
        asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, drain)


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> Starlette:
    settings = settings or load_settings()
    logs.configure(settings.LOG_LEVEL, settings.LOG_FILE)
    sentry.init(settings.SENTRY_DSN.reveal(), settings.DIGITALDOCK_ENV)
    edge = build_edge(settings, clock)
    edge.migrate()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        stop = asyncio.Event()
        tasks = []
        if settings.OUTBOX_POLL_SECONDS > 0:
            tasks.append(asyncio.create_task(_outbox_worker(edge, stop)))
        if settings.RETENTION_INTERVAL_SECONDS > 0:
            tasks.append(asyncio.create_task(_retention_schedule(edge, stop)))
        tasks += jobs.background_tasks(edge, stop)
        tasks.append(asyncio.create_task(asyncio.to_thread(delivery.warm_up, edge)))
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
        *health.ROUTES,
        *api.ROUTES,
        *api_docs.ROUTES,
        *accounts.ROUTES,
        *seller.ROUTES,
        *delivery.ROUTES,
        *shop.ROUTES,
        *webhooks.ROUTES,
        *orders.ROUTES,
        *licenses.ROUTES,
        *order_pages.ROUTES,
        *admin.ROUTES,
        *promotions.ROUTES,
        *admin_payments.ROUTES,
        *admin_home.ROUTES,
        *admin_users.ROUTES,
        *admin_reports.ROUTES,
        *admin_taxes.ROUTES,
        *moderation.ROUTES,
        *seller_dashboard.ROUTES,
        *search.ROUTES,
        *reviews.ROUTES,
        *seller_refunds.ROUTES,
        *developer.ROUTES,
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
        # who is asking: lazily, from the session cookie or the bearer token (checkout.web.auth)
        Middleware(AuthenticationMiddleware, backend=EdgeAuthBackend()),
        Middleware(UploadMiddleware),  # streams POST /seller/products before any body-buffering middleware
        # credentialed CORS for SITE_URL on the storefront's JSON endpoints only
        Middleware(StorefrontCorsMiddleware, origin=settings.SITE_URL, paths=STOREFRONT_JSON),
        Middleware(BodySizeLimitMiddleware, max_bytes=settings.MAX_BODY_BYTES, form_max_bytes=settings.FORM_MAX_BODY_BYTES,
                   overrides={**dict.fromkeys(seller.TEXT_FORM_PATHS, TEXT_FORM_MAX_BYTES),
                              # a new avatar rides in the form (and once more, encoded, after a preview)
                              seller_dashboard.PROFILE_PATH: 2 * settings.UPLOAD_MAX_IMAGE_BYTES + 1024 * 1024}),
        # the storefront's view counter is posted by static pages, which carry no CSRF token: it
        # sets nothing and reads no cookie, so a forged post can only add a view; the Save button
        # likewise (origin-checked, see checkout.web.reviews)
        Middleware(CsrfMiddleware, edge=edge, exempt_prefixes=("/api/", *shop.CSRF_EXEMPT, moderation.VIEW_PATH,
                                                                 *reviews.CSRF_EXEMPT)),
    ]
    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan,
                    exception_handlers={EdgeError: _edge_error, HTTPException: _http_error,
                                        base.Redirect: _redirect})
    app.state.edge = edge
    return app
