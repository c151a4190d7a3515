"""One-time messages after a form: "Saved", "Rejected; the seller was emailed." (a flash).

The message travels in a short-lived signed cookie set on the redirect and shown, then
cleared, by the next page the browser opens: it never rides in the URL. A message read from
the query string (`?notice=…`) could be written by anyone into a link, and an admin or seller
page showing it would lend our layout to a phisher's text. The cookie is signed with the
edge's key and expires in FLASH_SECONDS, so only the edge writes what a page says.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from checkout.core.errors import InvalidToken
from checkout.web.base import edge_of

FLASH_COOKIE = "dd_flash"
FLASH_SECONDS = 600
KINDS = ("status", "error")


def flash(request: Request, response: Response, text: str, kind: str = "status") -> Response:
    """Show `text` on the next page this browser renders."""
    assert kind in KINDS, kind
    edge = edge_of(request)
    value = edge.tokens.dumps("flash", {"t": text[:500], "k": kind})
    response.set_cookie(FLASH_COOKIE, value, max_age=FLASH_SECONDS, httponly=True, samesite="lax", path="/",
                        secure=edge.settings.secure_cookies or request.url.scheme == "https")
    return response


def redirect(request: Request, url: str, text: str, kind: str = "status") -> RedirectResponse:
    """303 to `url`, which shows `text` once."""
    response = RedirectResponse(url, status_code=303)
    flash(request, response, text, kind)
    return response


def take(request: Request) -> dict[str, Any] | None:
    """The message waiting for this page, or None; `render` clears the cookie when it shows one."""
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return None
    try:
        data = edge_of(request).tokens.loads("flash", raw, FLASH_SECONDS)
    except InvalidToken:
        return {"text": "", "kind": "status", "stale": True}
    text, kind = data.get("t"), data.get("k")
    if not isinstance(text, str) or kind not in KINDS:
        return {"text": "", "kind": "status", "stale": True}
    return {"text": text, "kind": kind}
