"""What every web module needs: the edge of a request, the client's address, safe redirects."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse

from checkout.core.context import Edge
from checkout.core.errors import EdgeError


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
