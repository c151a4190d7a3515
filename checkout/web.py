"""The edge's browser pages: register, verify, login/logout, account, consent, passwords,
export, deletion and the admin view. Each extends the storefront theme's base.html.

Forms re-render with the visitor's input and a clear message when something is wrong;
nothing is changed by a refused request.
"""

from __future__ import annotations

import json
import secrets
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from . import accounts, audit, consent, gdpr, outbox, passwords
from .errors import EdgeError, Forbidden, InvalidCredentials, NotFound, ValidationFailed
from .middleware import CSRF_COOKIE

if TYPE_CHECKING:
    from .context import Edge

SESSION_COOKIE = "dd_session"


class Redirect(Exception):
    """Raised by page helpers to send the browser elsewhere (sign-in, consent interstitial)."""

    def __init__(self, url: str):
        self.url = url


def edge_of(request: Request) -> "Edge":
    return request.app.state.edge


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def safe_next(value: str | None, default: str = "/account") -> str:
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return default


# --- sessions and CSRF ------------------------------------------------------------------------

def session_raw(request: Request) -> str | None:
    return edge_of(request).tokens.unsign_cookie("session", request.cookies.get(SESSION_COOKIE))


def current(request: Request) -> tuple[Any, Any] | None:
    if "auth" not in request.state._state:
        request.state.auth = accounts.load_session(edge_of(request), session_raw(request))
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


# --- registration and verification -----------------------------------------------------------

def _register_context(edge: "Edge") -> dict[str, Any]:
    state = edge.legal()
    docs = sorted(state.legal.values(), key=lambda d: d.slug)
    from digitaldock.schema import BUYER_DOCUMENTS
    return {"buyer_docs": [d for d in docs if d.slug in BUYER_DOCUMENTS],
            "seller_docs": [d for d in docs if d.slug not in BUYER_DOCUMENTS]}


async def register_page(request: Request) -> Response:
    edge = edge_of(request)
    if request.method == "GET":
        return render(request, "edge/register.html", form={}, fields={}, **_register_context(edge))
    form = await read_form(request)
    values = {k: str(form.get(k, "")) for k in ("email", "display_name", "role")}
    accepted = [str(v) for v in form.getlist("accept")]
    try:
        edge.hit("REGISTER_LIMIT", "ip", client_ip(request))
        email, name, docs = accounts.check_registration(edge, values["email"], str(form.get("password", "")),
                                                         values["display_name"], values["role"], accepted)
        pw_hash = await run_in_threadpool(edge.hasher.hash, str(form.get("password", "")))
        accounts.create_user(edge, email, name, values["role"], pw_hash, docs, client_ip(request))
    except EdgeError as exc:
        if exc.status == 429:
            raise
        return form_error(request, "edge/register.html", exc, form=values, **_register_context(edge))
    return message(request, "Check your email",
                   f"We sent a confirmation link to {email}. Open it to verify your address, then sign in.",
                   status=201, links=[("/login", "Sign in")])


async def verify_page(request: Request) -> Response:
    edge = edge_of(request)
    user, fresh = accounts.verify_email(edge, request.query_params.get("token", ""))
    text = "Your email address is confirmed." if fresh else "Your email address was already confirmed."
    return message(request, "Email confirmed", text, links=[("/login", "Sign in"), ("/account", "Your account")])


async def verify_resend(request: Request) -> Response:
    user = require_user(request, check_consent=False)
    edge = edge_of(request)
    if user["email_verified_at"] is None:
        from .db import atomic
        with atomic(edge.db):
            accounts.queue_verification(edge, user["id"], user["email"], user["display_name"])
    return message(request, "Check your email", f"We sent a new confirmation link to {user['email']}.",
                   links=[("/account", "Back to your account")])


# --- login / logout -------------------------------------------------------------------------

async def authenticate(edge: "Edge", email: str, password: str, ip: str, via: str) -> Any:
    """Shared by the login form and the API token endpoint: limits, lockout, verification."""
    email = accounts.normalize_email(email)
    edge.hit("LOGIN_LIMIT", "ip", ip)
    edge.hit("LOGIN_LIMIT", "account", email)
    user = accounts.get_by_email(edge, email)
    accounts.check_can_login(edge, user)
    stored = user["password_hash"] if user is not None else edge.dummy_hash
    ok = await run_in_threadpool(passwords.verify, edge.hasher, stored, password or "")
    if not ok or user is None:
        accounts.login_failed(edge, user, email, ip)
        raise InvalidCredentials()
    new_hash = None
    if edge.hasher.check_needs_rehash(user["password_hash"]):
        new_hash = await run_in_threadpool(edge.hasher.hash, password)
    accounts.login_succeeded(edge, user, ip, via, new_hash)
    return user


async def login_page(request: Request) -> Response:
    edge = edge_of(request)
    nxt = safe_next(request.query_params.get("next"))
    if request.method == "GET":
        return render(request, "edge/login.html", form={"next": nxt}, fields={})
    form = await read_form(request)
    values = {"email": str(form.get("email", "")), "next": safe_next(str(form.get("next", "")))}
    try:
        user = await authenticate(edge, values["email"], str(form.get("password", "")), client_ip(request), "browser")
    except EdgeError as exc:
        if exc.status == 429:
            raise
        return form_error(request, "edge/login.html", exc, form=values)
    # Session fixation: whatever session the browser brought is dropped and a new id is minted.
    accounts.end_session(edge, session_raw(request))
    raw = accounts.create_session(edge, user["id"], client_ip(request), request.headers.get("user-agent"))
    response = RedirectResponse(values["next"], status_code=303)
    set_cookie(request, response, SESSION_COOKIE, edge.tokens.sign_cookie("session", raw),
               max_age=edge.settings.SESSION_DAYS * 86400)
    set_cookie(request, response, CSRF_COOKIE, edge.tokens.sign_cookie("csrf", secrets.token_urlsafe(32)))
    return response


def _signed_out(request: Request) -> Response:
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


async def logout(request: Request) -> Response:
    edge = edge_of(request)
    found = current(request)
    if found:
        accounts.end_session(edge, session_raw(request))
        audit.record(edge, "user.logout", actor_id=found[1]["id"], subject_id=found[1]["id"], ip=client_ip(request))
    return _signed_out(request)


async def logout_everywhere(request: Request) -> Response:
    edge = edge_of(request)
    user = require_user(request, check_consent=False)
    from .db import atomic
    with atomic(edge.db):
        n = accounts.end_all_sessions(edge, user["id"])
        audit.record(edge, "user.logout_everywhere", actor_id=user["id"], subject_id=user["id"],
                     ip=client_ip(request), sessions=n)
    return _signed_out(request)


# --- account --------------------------------------------------------------------------------

async def account_page(request: Request) -> Response:
    edge = edge_of(request)
    user = require_user(request)
    consents = edge.db.execute("SELECT document, version, accepted_at FROM consents WHERE user_id = ? ORDER BY id DESC",
                               (user["id"],)).fetchall()
    sessions = edge.db.execute("SELECT created_at, last_seen_at, ip, user_agent FROM sessions WHERE user_id = ?"
                               " ORDER BY created_at DESC", (user["id"],)).fetchall()
    return render(request, "edge/account.html", consents=consents, sessions=sessions,
                  notice=request.query_params.get("notice", ""))


async def consent_page(request: Request) -> Response:
    edge = edge_of(request)
    user = require_user(request, check_consent=False)
    nxt = safe_next(request.query_params.get("next") if request.method == "GET" else None)
    todo = consent.outstanding(edge, user)
    if request.method == "GET":
        if not todo:
            return RedirectResponse(nxt, status_code=303)
        return render(request, "edge/consent.html", documents=todo, next=nxt, fields={})
    form = await read_form(request)
    nxt = safe_next(str(form.get("next", "")))
    try:
        consent.accept_outstanding(edge, user, [str(v) for v in form.getlist("accept")], client_ip(request))
    except ValidationFailed as exc:
        return form_error(request, "edge/consent.html", exc, documents=todo, next=nxt)
    return RedirectResponse(nxt, status_code=303)


async def password_page(request: Request) -> Response:
    edge = edge_of(request)
    user = require_user(request)
    if request.method == "GET":
        return render(request, "edge/password_change.html", fields={})
    form = await read_form(request)
    current_pw, new_pw = str(form.get("current_password", "")), str(form.get("new_password", ""))
    try:
        if not await run_in_threadpool(passwords.verify, edge.hasher, user["password_hash"], current_pw):
            raise ValidationFailed(fields={"current_password": "Your current password is not correct."})
        accounts.check_new_password(edge, user, new_pw)
        pw_hash = await run_in_threadpool(edge.hasher.hash, new_pw)
    except EdgeError as exc:
        return form_error(request, "edge/password_change.html", exc)
    accounts.set_password(edge, user, pw_hash, client_ip(request), session_raw(request), "user.password_changed")
    return message(request, "Password changed", "Your password was changed and your other sessions were signed out.",
                   links=[("/account", "Back to your account")])


async def email_page(request: Request) -> Response:
    edge = edge_of(request)
    user = require_user(request)
    if request.method == "GET":
        return render(request, "edge/email_change.html", fields={})
    form = await read_form(request)
    try:
        if not await run_in_threadpool(passwords.verify, edge.hasher, user["password_hash"],
                                       str(form.get("current_password", ""))):
            raise ValidationFailed(fields={"current_password": "Your current password is not correct."})
        new_email = accounts.request_email_change(edge, user, str(form.get("email", "")), client_ip(request))
    except EdgeError as exc:
        return form_error(request, "edge/email_change.html", exc)
    return message(request, "Check your new inbox",
                   f"We sent a confirmation link to {new_email}. Your address changes when you open it; "
                   "until then you keep signing in with your current one.",
                   links=[("/account", "Back to your account")])


async def email_confirm_page(request: Request) -> Response:
    edge = edge_of(request)
    user = accounts.confirm_email_change(edge, request.query_params.get("token", ""), client_ip(request))
    return message(request, "Email address changed", f"Your account now uses {user['email']}.",
                   links=[("/account", "Your account")])


async def reset_request_page(request: Request) -> Response:
    edge = edge_of(request)
    if request.method == "GET":
        return render(request, "edge/reset_request.html", form={}, fields={})
    form = await read_form(request)
    email = accounts.normalize_email(str(form.get("email", "")))
    if not accounts.EMAIL.match(email):
        return form_error(request, "edge/reset_request.html",
                          ValidationFailed(fields={"email": "Enter a valid email address."}), form={"email": email})
    edge.hit("RESET_LIMIT", "ip", client_ip(request))
    edge.hit("RESET_LIMIT", "email", email)
    accounts.request_reset(edge, email, client_ip(request))
    return message(request, "Check your email",
                   "If an account exists for that address, we sent it a link to choose a new password.")


async def reset_confirm_page(request: Request) -> Response:
    edge = edge_of(request)
    if request.method == "GET":
        token = request.query_params.get("token", "")
        accounts.check_reset_token(edge, token)
        return render(request, "edge/reset_confirm.html", token=token, fields={})
    form = await read_form(request)
    token = str(form.get("token", ""))
    user, jti = accounts.check_reset_token(edge, token)
    new_pw = str(form.get("new_password", ""))
    try:
        accounts.check_new_password(edge, user, new_pw)
    except ValidationFailed as exc:
        return form_error(request, "edge/reset_confirm.html", exc, token=token)
    pw_hash = await run_in_threadpool(edge.hasher.hash, new_pw)
    accounts.complete_reset(edge, user, jti, pw_hash, client_ip(request))
    return message(request, "Password changed", "Your new password is set. Please sign in.", links=[("/login", "Sign in")])


async def export_download(request: Request) -> Response:
    edge = edge_of(request)
    user = require_user(request, check_consent=False)
    audit.record(edge, "user.export", actor_id=user["id"], subject_id=user["id"], ip=client_ip(request))
    body = json.dumps(gdpr.export(edge, user["id"]), indent=2, sort_keys=True)
    return Response(body, media_type="application/json", headers={
        "Content-Disposition": 'attachment; filename="digitaldock-export.json"'})


async def delete_page(request: Request) -> Response:
    edge = edge_of(request)
    user = require_user(request, check_consent=False)
    if request.method == "GET":
        return render(request, "edge/delete.html", fields={}, grace=edge.settings.DELETION_GRACE_DAYS)
    form = await read_form(request)
    if not await run_in_threadpool(passwords.verify, edge.hasher, user["password_hash"], str(form.get("password", ""))):
        exc = ValidationFailed(fields={"password": "Your password is not correct."})
        return form_error(request, "edge/delete.html", exc, grace=edge.settings.DELETION_GRACE_DAYS)
    when = gdpr.request_deletion(edge, user, client_ip(request))
    request.state.auth = None
    response = message(request, "Account deletion requested",
                       f"Your account is disabled. Your personal data will be anonymised on {when[:10]}; "
                       "purchase records are kept, anonymised, as the law requires.")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# --- admin ----------------------------------------------------------------------------------

async def admin_page(request: Request) -> Response:
    edge = edge_of(request)
    require_admin(request)
    return render(request, "edge/admin.html", entries=audit.recent(edge, 200),
                  emails=outbox.listing(edge, request.query_params.get("status") or None, 200))


async def admin_resend(request: Request) -> Response:
    edge = edge_of(request)
    admin = require_admin(request)
    try:
        outbox_id = int(request.path_params["outbox_id"])
    except ValueError:
        raise NotFound() from None
    outbox.resend(edge, outbox_id, admin["id"])
    return RedirectResponse("/admin?status=pending", status_code=303)


async def api_docs_page(request: Request) -> Response:
    return render(request, "edge/api_docs.html")


async def home(request: Request) -> Response:
    return RedirectResponse("/account", status_code=303)


ROUTES = [
    Route("/", home),
    Route("/register", register_page, methods=["GET", "POST"]),
    Route("/verify", verify_page),
    Route("/verify/resend", verify_resend, methods=["POST"]),
    Route("/login", login_page, methods=["GET", "POST"]),
    Route("/logout", logout, methods=["POST"]),
    Route("/logout-everywhere", logout_everywhere, methods=["POST"]),
    Route("/account", account_page),
    Route("/account/consent", consent_page, methods=["GET", "POST"]),
    Route("/account/password", password_page, methods=["GET", "POST"]),
    Route("/account/email", email_page, methods=["GET", "POST"]),
    Route("/account/email/confirm", email_confirm_page),
    Route("/account/export", export_download),
    Route("/account/delete", delete_page, methods=["GET", "POST"]),
    Route("/password-reset", reset_request_page, methods=["GET", "POST"]),
    Route("/password-reset/confirm", reset_confirm_page, methods=["GET", "POST"]),
    Route("/admin", admin_page),
    Route("/admin/outbox/{outbox_id}/resend", admin_resend, methods=["POST"]),
    Route("/api/docs", api_docs_page),
]
