"""Account pages: register, verify, sign in and out, account, consent, passwords, email change,
export and deletion. Forms re-render with the visitor's input and a clear message when
something is wrong; nothing is changed by a refused request.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from checkout.accounts import consent, gdpr, lockout, password_change, passwords, sessions, users
from checkout.accounts.errors import AccountBanned, AccountDisabled, InvalidCredentials
from checkout.core import audit
from checkout.core.context import Edge
from checkout.core.db import atomic
from checkout.core.errors import EdgeError, ValidationFailed
from checkout.web import flash, reauth
from checkout.web.auth import SESSION_COOKIE, forget, requires, session_raw, user_or_none
from checkout.web.base import client_ip, edge_of, safe_next
from checkout.web.middleware import CSRF_COOKIE
from checkout.web.pages import form_error, message, read_form, render, set_cookie


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
        email, name, docs = users.check_registration(edge, values["email"], str(form.get("password", "")),
                                                         values["display_name"], values["role"], accepted)
        # hashed whether or not the address is taken: both answers take the same time
        pw_hash = await run_in_threadpool(edge.hasher.hash, str(form.get("password", "")))
        users.register(edge, email, name, values["role"], pw_hash, docs, client_ip(request))
    except EdgeError as exc:
        if exc.status == 429:
            raise
        return form_error(request, "edge/register.html", exc, form=values, **_register_context(edge))
    return message(request, "Check your email", check_email_text(email), status=201,
                   links=[("/login", "Sign in")])


def check_email_text(email: str) -> str:
    """What registering answers, for a new address and a taken one alike (the owner of a taken
    one gets an email saying someone tried, with links to sign in or reset the password)."""
    return f"We sent an email to {email}. Follow the link in it to confirm your address; it signs you in."


async def verify_page(request: Request) -> Response:
    """The registration email's link. Its first use signs the new user in (#15): only the owner
    of the inbox has it, so registering itself can keep answering a taken address like a new one
    (docs/security.md) while a new user still ends up signed in without typing the password
    again. A link used before confirms nothing new and signs nobody in."""
    edge = edge_of(request)
    user, fresh = users.verify_email(edge, request.query_params.get("token", ""))
    if not fresh:
        return message(request, "Email confirmed", "Your email address was already confirmed.",
                       links=[("/login", "Sign in"), ("/account", "Your account")])
    sessions.end_session(edge, session_raw(request))  # a new id, never the one the browser brought
    raw = sessions.create_session(edge, user["id"], client_ip(request), request.headers.get("user-agent"))
    response = flash.redirect(request, "/account", "Your email address is confirmed. You are signed in.")
    set_cookie(request, response, SESSION_COOKIE, edge.tokens.sign_cookie("session", raw),
               max_age=edge.settings.SESSION_DAYS * 86400)
    set_cookie(request, response, CSRF_COOKIE, edge.tokens.sign_cookie("csrf", secrets.token_urlsafe(32)))
    return response


@requires(consent=False)
async def verify_resend(request: Request) -> Response:
    user = request.user
    edge = edge_of(request)
    if user["email_verified_at"] is None:
        with atomic(edge.db):
            users.queue_verification(edge, user["id"], user["email"], user["display_name"])
    return message(request, "Check your email", f"We sent a new confirmation link to {user['email']}.",
                   links=[("/account", "Back to your account")])


async def authenticate(edge: "Edge", email: str, password: str, ip: str, via: str) -> Any:
    """Shared by the login form and the API token endpoint: failure limits, then the password.

    Everything before the password check answers the same for every address, so neither the
    answers nor the limits tell which addresses have accounts; only someone who knows the
    password learns that an account is disabled."""
    email = users.normalize_email(email)
    attempt = lockout.start(edge, email, ip)
    user = users.get_by_email(edge, email)
    stored = user["password_hash"] if user is not None else edge.dummy_hash
    ok = await run_in_threadpool(passwords.verify, edge.hasher, stored, password or "")
    if not ok or user is None:
        lockout.failed(edge, attempt, user)
        raise InvalidCredentials()
    lockout.succeeded(edge, attempt)
    if user["banned_at"] is not None:
        raise AccountBanned()
    if not users.is_active(user):
        raise AccountDisabled()
    new_hash = None
    if edge.hasher.check_needs_rehash(user["password_hash"]):
        new_hash = await run_in_threadpool(edge.hasher.hash, password)
    sessions.login_succeeded(edge, user, ip, via, new_hash)
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
    sessions.end_session(edge, session_raw(request))
    raw = sessions.create_session(edge, user["id"], client_ip(request), request.headers.get("user-agent"))
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
    user = user_or_none(request)
    if user is not None:
        sessions.end_session(edge, session_raw(request))
        audit.record(edge, "user.logout", actor_id=user.id, subject_id=user.id, ip=client_ip(request))
    return _signed_out(request)


@requires(consent=False)
async def logout_everywhere(request: Request) -> Response:
    edge = edge_of(request)
    user = request.user
    with atomic(edge.db):
        n = sessions.end_all_sessions(edge, user["id"])
        audit.record(edge, "user.logout_everywhere", actor_id=user["id"], subject_id=user["id"],
                     ip=client_ip(request), sessions=n)
    return _signed_out(request)


@requires()
async def account_page(request: Request) -> Response:
    edge = edge_of(request)
    user = request.user
    return render(request, "edge/account.html", consents=users.consents_of(edge, user.id),
                  sessions=users.sessions_of(edge, user.id))


@requires(consent=False)
async def consent_page(request: Request) -> Response:
    edge = edge_of(request)
    user = request.user
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


@requires()
async def password_page(request: Request) -> Response:
    edge = edge_of(request)
    user = request.user
    if request.method == "GET":
        return render(request, "edge/password_change.html", fields={})
    form = await read_form(request)
    current_pw, new_pw = str(form.get("current_password", "")), str(form.get("new_password", ""))
    try:
        await reauth.check_current_password(request, user, current_pw)
        password_change.check_new_password(edge, user, new_pw)
        pw_hash = await run_in_threadpool(edge.hasher.hash, new_pw)
    except EdgeError as exc:
        return form_error(request, "edge/password_change.html", exc)
    password_change.set_password(edge, user, pw_hash, client_ip(request), session_raw(request), "user.password_changed")
    return message(request, "Password changed", "Your password was changed and your other sessions were signed out.",
                   links=[("/account", "Back to your account")])


@requires()
async def email_page(request: Request) -> Response:
    edge = edge_of(request)
    user = request.user
    if request.method == "GET":
        return render(request, "edge/email_change.html", fields={})
    form = await read_form(request)
    try:
        await reauth.check_current_password(request, user, str(form.get("current_password", "")))
        new_email = users.request_email_change(edge, user, str(form.get("email", "")), client_ip(request))
    except EdgeError as exc:
        return form_error(request, "edge/email_change.html", exc)
    return message(request, "Check your new inbox",
                   f"We sent a confirmation link to {new_email}. Your address changes when you open it; "
                   "until then you keep signing in with your current one.",
                   links=[("/account", "Back to your account")])


async def email_confirm_page(request: Request) -> Response:
    edge = edge_of(request)
    user = users.confirm_email_change(edge, request.query_params.get("token", ""), client_ip(request))
    return message(request, "Email address changed", f"Your account now uses {user['email']}.",
                   links=[("/account", "Your account")])


async def reset_request_page(request: Request) -> Response:
    edge = edge_of(request)
    if request.method == "GET":
        return render(request, "edge/reset_request.html", form={}, fields={})
    form = await read_form(request)
    email = users.normalize_email(str(form.get("email", "")))
    if not users.EMAIL.match(email):
        return form_error(request, "edge/reset_request.html",
                          ValidationFailed(fields={"email": "Enter a valid email address."}), form={"email": email})
    edge.hit("RESET_LIMIT", "ip", client_ip(request))
    edge.hit("RESET_LIMIT", "email", email)
    password_change.request_reset(edge, email, client_ip(request))
    return message(request, "Check your email",
                   "If an account exists for that address, we sent it a link to choose a new password.")


async def reset_confirm_page(request: Request) -> Response:
    edge = edge_of(request)
    if request.method == "GET":
        token = request.query_params.get("token", "")
        password_change.check_reset_token(edge, token)
        return render(request, "edge/reset_confirm.html", token=token, fields={})
    form = await read_form(request)
    token = str(form.get("token", ""))
    user, jti = password_change.check_reset_token(edge, token)
    new_pw = str(form.get("new_password", ""))
    try:
        password_change.check_new_password(edge, user, new_pw)
    except ValidationFailed as exc:
        return form_error(request, "edge/reset_confirm.html", exc, token=token)
    pw_hash = await run_in_threadpool(edge.hasher.hash, new_pw)
    password_change.complete_reset(edge, user, jti, pw_hash, client_ip(request))
    return message(request, "Password changed", "Your new password is set. Please sign in.", links=[("/login", "Sign in")])


@requires(consent=False)
async def export_download(request: Request) -> Response:
    edge = edge_of(request)
    user = request.user
    audit.record(edge, "user.export", actor_id=user["id"], subject_id=user["id"], ip=client_ip(request))
    body = json.dumps(gdpr.export(edge, user["id"]), indent=2, sort_keys=True)
    return Response(body, media_type="application/json", headers={
        "Content-Disposition": 'attachment; filename="digitaldock-export.json"'})


@requires(consent=False)
async def delete_page(request: Request) -> Response:
    edge = edge_of(request)
    user = request.user
    if request.method == "GET":
        return render(request, "edge/delete.html", fields={}, grace=edge.settings.DELETION_GRACE_DAYS)
    form = await read_form(request)
    try:
        await reauth.check_current_password(request, user, str(form.get("password", "")), "password",
                                            "Your password is not correct.")
    except ValidationFailed as exc:
        return form_error(request, "edge/delete.html", exc, grace=edge.settings.DELETION_GRACE_DAYS)
    when = gdpr.request_deletion(edge, user, client_ip(request))
    forget(request)
    response = message(request, "Account deletion requested",
                       f"Your account is disabled. Your personal data will be anonymised on {when[:10]}; "
                       "purchase records are kept, anonymised, as the law requires.")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


async def unlock_page(request: Request) -> Response:
    """The link of the `lockout` email. Opening it only shows a button: mail scanners open
    links, and one that unlocked on GET would undo every pause it was sent about."""
    edge = edge_of(request)
    if request.method == "GET":
        token = request.query_params.get("token", "")
        user = lockout.check_unlock_token(edge, token)
        return render(request, "edge/unlock.html", token=token, email=user["email"])
    form = await read_form(request)
    user = lockout.unlock(edge, str(form.get("token", "")), client_ip(request))
    return message(request, "Sign-in unlocked", f"You can sign in to {user['email']} again now.",
                   links=[("/login", "Sign in"), ("/password-reset", "Reset your password")])


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
    Route("/login/unlock", unlock_page, methods=["GET", "POST"]),
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
    Route("/api/docs", api_docs_page),
]
