"""Rendering the edge's HTML pages: the theme's templates with the signed-in user and the CSRF
token, messages, forms that come back with their errors.
"""

from __future__ import annotations

import secrets
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from checkout.core.errors import EdgeError
from checkout.web import flash
from checkout.web.auth import user_or_none
from checkout.web.base import edge_of
from checkout.web.middleware import CSRF_COOKIE, csrf_expected


def csrf_token(request: Request) -> str:
    """This browser's CSRF token (`csrf_expected`): its session's when signed in, else the one
    its cookie carries, or a new one (set by `render`)."""
    token = getattr(request.state, "csrf", None)
    if token is None:
        expected = csrf_expected(edge_of(request), request.cookies)
        request.state.csrf_new = not expected
        request.state.csrf = token = expected[0] if expected else secrets.token_urlsafe(32)
    return token


def set_cookie(request: Request, response: Response, name: str, value: str, max_age: int | None = None) -> None:
    edge = edge_of(request)
    response.set_cookie(name, value, max_age=max_age, httponly=True, samesite="lax", path="/",
                        secure=edge.settings.secure_cookies or request.url.scheme == "https")


async def read_form(request: Request) -> Any:
    """The submitted form; uploaded files are closed at once (these pages take no uploads)."""
    form = await request.form()
    await form.close()
    return form


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """The page, with the message a form left for it (`checkout.web.flash`), shown once."""
    edge = edge_of(request)
    token = csrf_token(request)
    waiting = flash.take(request)
    html = edge.render(template, request=request, csrf_token=token, user=user_or_none(request),
                       flash=waiting if waiting and waiting["text"] else None, **context)
    response = HTMLResponse(html, status_code=status)
    if request.state.csrf_new:
        set_cookie(request, response, CSRF_COOKIE, edge.tokens.sign_cookie("csrf", token))
    if waiting is not None:
        response.delete_cookie(flash.FLASH_COOKIE, path="/")
    return response


def message(request: Request, title: str, text: str, status: int = 200, links: list | None = None) -> HTMLResponse:
    return render(request, "edge/message.html", status=status, title=title, text=text, links=links or [])


def form_error(request: Request, template: str, exc: EdgeError, **context: Any) -> HTMLResponse:
    response = render(request, template, status=exc.status, error=exc.message, fields=exc.fields, **context)
    response.headers.update(exc.headers)  # Retry-After of a 429 shown on its form
    return response
