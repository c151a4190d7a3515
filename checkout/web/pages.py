"""Rendering the edge's HTML pages: the theme's templates with the signed-in user and the CSRF
token, messages, forms that come back with their errors.
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from checkout.accounts import consent, sessions
from checkout.core.errors import EdgeError, Forbidden
from checkout.web.base import Redirect, edge_of
from checkout.web.middleware import CSRF_COOKIE

SESSION_COOKIE = "dd_session"


def session_raw(request: Request) -> str | None:
    return edge_of(request).tokens.unsign_cookie("session", request.cookies.get(SESSION_COOKIE))


def current(request: Request) -> tuple[Any, Any] | None:
    if "auth" not in request.state._state:
        request.state.auth = sessions.load_session(edge_of(request), session_raw(request))
    return request.state.auth


def require_user(request: Request, check_consent: bool = True) -> Any:
    found = current(request)
    if found is None:
        raise Redirect("/login?next=" + quote(request.url.path))
    user = found[1]
    if check_consent and consent.outstanding(edge_of(request), user):
        raise Redirect("/account/consent?next=" + quote(request.url.path))
    return user


def require_admin(request: Request) -> Any:
    user = require_user(request)
    if user["role"] != "admin":
        raise Forbidden("This page is for administrators.")
    return user


def csrf_token(request: Request) -> str:
    if "csrf" not in request.state._state:
        token = edge_of(request).tokens.unsign_cookie("csrf", request.cookies.get(CSRF_COOKIE))
        request.state.csrf_new = token is None
        request.state.csrf = token or secrets.token_urlsafe(32)
    return request.state.csrf


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
    edge = edge_of(request)
    found = current(request)
    token = csrf_token(request)
    html = edge.render(template, request=request, csrf_token=token, user=found[1] if found else None,
                       **context)
    response = HTMLResponse(html, status_code=status)
    if request.state.csrf_new:
        set_cookie(request, response, CSRF_COOKIE, edge.tokens.sign_cookie("csrf", token))
    return response


def message(request: Request, title: str, text: str, status: int = 200, links: list | None = None) -> HTMLResponse:
    return render(request, "edge/message.html", status=status, title=title, text=text, links=links or [])


def form_error(request: Request, template: str, exc: EdgeError, **context: Any) -> HTMLResponse:
    return render(request, template, status=exc.status, error=exc.message, fields=exc.fields,
                  headers=exc.headers, **context)
