"""Errors become responses in one place: JSON `{code, message}` for API and JSON clients, a
themed page for browsers, never a stack trace.
"""

from __future__ import annotations

import structlog
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response

from checkout.core.context import Edge
from checkout.core.errors import HTTP_STATUS_ERRORS, EdgeError, InternalError, RateLimited, wait_in_words
from checkout.web import base

log = structlog.get_logger("checkout.app")


TITLES = {400: "Bad request", 401: "Please sign in", 403: "Not allowed", 404: "Page not found",
          405: "Not allowed", 408: "Timed out", 409: "Already exists", 413: "Too large", 422: "Please check the form",
          429: "Too many attempts", 500: "Something went wrong", 503: "Unavailable"}


def wants_json(request: Request) -> bool:
    if request.url.path.startswith("/api/"):
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def error_response(request: Request, exc: EdgeError) -> Response:
    edge: Edge = request.app.state.edge
    if not exc.expose:  # an internal failure (ledger, settings, backups): logged, never shown
        log.error("internal_error", error=type(exc).__name__, code=exc.code, exc_info=exc)
        exc = InternalError()
    edge.metrics.errors.labels(exc.code).inc()
    if wants_json(request):
        return JSONResponse(exc.as_json(), status_code=exc.status, headers=exc.headers)
    try:
        html = edge.render("edge/error.html", title=TITLES.get(exc.status, "Error"), message=_in_words(exc),
                           code=exc.code, request_id=request.scope.get("state", {}).get("request_id", ""))
    except Exception:  # noqa: BLE001 - a broken template must not hide the error itself
        log.exception("error_page_failed")
        return PlainTextResponse(f"{exc.message} ({exc.code})", status_code=exc.status, headers=exc.headers)
    return HTMLResponse(html, status_code=exc.status, headers=exc.headers)


def _in_words(exc: EdgeError) -> str:
    """A person reads when to come back on every 429 page, even from a limit whose message does
    not say it (Retry-After alone is for programs)."""
    retry = exc.headers.get("Retry-After", "")
    if exc.status != 429 or not retry.isdigit() or (isinstance(exc, RateLimited) and exc.retry_after):
        return exc.message
    return f"{exc.message} Try again in {wait_in_words(int(retry))}."


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
    assert isinstance(exc, base.Redirect)
    return RedirectResponse(exc.url, status_code=303)
