"""What every web module needs: the edge of a request, the client's address, safe redirects."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse

from checkout.core.context import Edge
from checkout.core.db import connect_readonly
from checkout.core.errors import EdgeError

T = TypeVar("T")


class Redirect(EdgeError):
    """Raised by page helpers to send the browser elsewhere (sign-in, consent interstitial)."""
    status, code = 303, "redirect"

    def __init__(self, url: str):
        super().__init__(headers={"Location": url})
        self.url = url


def edge_of(request: Request) -> "Edge":
    return request.app.state.edge


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def safe_next(value: str | None, default: str = "/account") -> str:
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return default


def redirect_to(url: str) -> RedirectResponse:
    """303 See Other: after a form post the browser GETs the next page."""
    return RedirectResponse(url, status_code=303)


async def off_loop(request: Request, query: Callable[..., T], *args: Any) -> T:
    """Run `query(db, *args)` (a read that grows with the data: the ledger check, a report) in a
    worker thread on a read-only connection of its own, so `/healthz` and every other request
    keep being answered while it runs."""
    path = edge_of(request).settings.database_path

    def run() -> T:
        db = connect_readonly(path)
        try:
            return query(db, *args)
        finally:
            db.conn.close()

    return await run_in_threadpool(run)
