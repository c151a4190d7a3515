"""The JSON API under /api/: bearer tokens (JWT access + rotating refresh), account, consent,
GDPR and admin endpoints. Every error is `{"code", "message"}` with a stable code.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from checkout.accounts import api_tokens, consent, gdpr, users
from checkout.accounts import standing as accounts_standing
from checkout.core import audit, outbox
from checkout.core.context import Edge
from checkout.core.db import atomic
from checkout.core.errors import BadRequest, NotFound, ValidationFailed
from checkout.ops.console import user_details
from checkout.payments import reports
from checkout.web import api_discounts, api_registry, api_reviews, api_v1, api_webhooks, params, reauth
from checkout.web.accounts import authenticate, check_email_text
from checkout.web.admin_reports import categories
from checkout.web.admin_users import ACTIONS, run_action
from checkout.web.auth import requires
from checkout.web.base import client_ip, edge_of, off_loop
from checkout.web.openapi import spec

# The public API: every resource module's operations, one list for routes and the document.
# Issues that add resources (reviews, licenses, discounts...) add their module's list here.
OPERATIONS: list[api_registry.Operation] = [*api_v1.OPERATIONS, *api_webhooks.OPERATIONS, *api_reviews.OPERATIONS,
                                             *api_discounts.OPERATIONS]
SCHEMAS: dict[str, Any] = {**api_v1.SCHEMAS, **api_webhooks.SCHEMAS, **api_reviews.SCHEMAS, **api_discounts.SCHEMAS}


async def json_body(request: Request) -> dict[str, Any]:
    if not request.headers.get("content-type", "").split(";")[0].strip() == "application/json":
        raise BadRequest("Send a JSON body with Content-Type: application/json.", code="unsupported_media_type")
    try:
        data = json.loads(await request.body())
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("The body is not valid JSON.", code="invalid_json") from None
    if not isinstance(data, dict):
        raise BadRequest("The body must be a JSON object.", code="invalid_json")
    return data


def _str(data: dict[str, Any], key: str, required: bool = True) -> str:
    value = data.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise ValidationFailed(fields={key: "must be a string"})
    return value


def _str_list(data: dict[str, Any], key: str) -> list[str]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValidationFailed(fields={key: "must be a list of document slugs"})
    return value


def _tokens(edge: "Edge", user: Any, refresh: str) -> dict[str, Any]:
    minutes = edge.settings.ACCESS_TOKEN_MINUTES
    return {"access_token": edge.tokens.access_token(user["id"], user["role"], minutes), "token_type": "bearer",
            "expires_in": minutes * 60, "refresh_token": refresh}


async def token(request: Request) -> Response:
    edge = edge_of(request)
    data = await json_body(request)
    grant = data.get("grant_type")
    ip = client_ip(request)
    if grant == "password":
        user = await authenticate(edge, _str(data, "email"), _str(data, "password"), ip, "api")
        with atomic(edge.db):
            refresh = api_tokens.issue_refresh(edge, user["id"])
            audit.record(edge, "api.token_issued", actor_id=user["id"], subject_id=user["id"], ip=ip)
        return JSONResponse(_tokens(edge, user, refresh))
    if grant == "refresh_token":
        user, refresh = api_tokens.rotate_refresh(edge, _str(data, "refresh_token"), ip)
        return JSONResponse(_tokens(edge, user, refresh))
    raise ValidationFailed("grant_type must be 'password' or 'refresh_token'.", code="unsupported_grant_type",
                           fields={"grant_type": "must be 'password' or 'refresh_token'"})


async def revoke(request: Request) -> Response:
    data = await json_body(request)
    api_tokens.revoke_refresh(edge_of(request), _str(data, "refresh_token"))
    return JSONResponse({"revoked": True})


async def register(request: Request) -> Response:
    edge = edge_of(request)
    data = await json_body(request)
    edge.hit("REGISTER_LIMIT", "ip", client_ip(request))
    password = _str(data, "password")
    email, name, docs = users.check_registration(
        edge, _str(data, "email"), password, _str(data, "display_name"), _str(data, "role", False) or "buyer",
        _str_list(data, "accept"))
    pw_hash = await run_in_threadpool(edge.hasher.hash, password)
    users.register(edge, email, name, _str(data, "role", False) or "buyer", pw_hash, docs, client_ip(request))
    # 202 and no profile: the same answer for a taken address (whose owner is emailed instead),
    # so the API tells no more about who has an account than the page does
    return JSONResponse({"email": email, "message": check_email_text(email)}, status_code=202)


def profile(user: Any) -> dict[str, Any]:
    return {"id": user["id"], "email": user["email"], "display_name": user["display_name"], "role": user["role"],
            "email_verified": user["email_verified_at"] is not None, "created_at": user["created_at"]}


@requires()
async def me(request: Request) -> Response:
    return JSONResponse(profile(request.user))


def _doc(d: Any) -> dict[str, str]:
    return {"slug": d.slug, "title": d.title, "version": d.version, "effective": d.effective, "url": d.url}


async def legal(request: Request) -> Response:
    state = edge_of(request).legal()
    return JSONResponse({"documents": [_doc(d) for d in sorted(state.legal.values(), key=lambda d: d.slug)]})


@requires(consent=False)
async def consents(request: Request) -> Response:
    edge = edge_of(request)
    user = request.user
    if request.method == "POST":
        data = await json_body(request)
        consent.accept_outstanding(edge, user, _str_list(data, "accept"), client_ip(request))
    return JSONResponse({"outstanding": [_doc(d) for d in consent.outstanding(edge, user)],
                         "accepted": consent.accepted_versions(edge, user["id"])})


@requires(consent=False)
async def export(request: Request) -> Response:
    edge = edge_of(request)
    user = request.user
    audit.record(edge, "user.export", actor_id=user["id"], subject_id=user["id"], ip=client_ip(request))
    return JSONResponse(gdpr.export(edge, user["id"]))


@requires(consent=False)
async def deletion(request: Request) -> Response:
    edge = edge_of(request)
    user = request.user
    data = await json_body(request)
    await reauth.check_current_password(request, user, _str(data, "password"), "password",
                                        "Your password is not correct.")
    when = gdpr.request_deletion(edge, user, client_ip(request))
    return JSONResponse({"disabled": True, "anonymise_after": when}, status_code=202)


def _limit(request: Request) -> int:
    return params.bounded_int(request.query_params.get("limit", "100"), "limit", 1, 1000)


@requires("admin", forbidden="This endpoint is for administrators.")
async def admin_audit(request: Request) -> Response:
    return JSONResponse({"entries": audit.recent(edge_of(request), _limit(request))})


@requires("admin", forbidden="This endpoint is for administrators.")
async def admin_outbox(request: Request) -> Response:
    status = request.query_params.get("status") or None
    if status not in (None, "pending", "sending", "sent", "dead"):
        raise ValidationFailed(fields={"status": "must be pending, sending, sent or dead"})
    return JSONResponse({"emails": outbox.listing(edge_of(request), status, _limit(request))})


@requires("admin", forbidden="This endpoint is for administrators.")
async def admin_resend(request: Request) -> Response:
    admin = request.user
    outbox.resend(edge_of(request), params.path_id(request, "outbox_id"), admin["id"])
    return JSONResponse({"queued": True})


# --- the consoles (issue #16): accounts and reports, the same library as the pages -------------

@requires("admin", forbidden="This endpoint is for administrators.")
async def admin_users(request: Request) -> Response:
    edge = edge_of(request)
    offset = params.bounded_int(request.query_params.get("offset", "0"), "offset", 0, 10**9)
    found = accounts_standing.search(edge, request.query_params.get("q", ""), _limit(request), offset)
    return JSONResponse({"users": [accounts_standing.describe(dict(u) | {"ban_reason": None}) for u in found]})


@requires("admin", forbidden="This endpoint is for administrators.")
async def admin_user(request: Request) -> Response:
    edge = edge_of(request)
    details = user_details(edge, params.path_id(request, "user_id"))
    return JSONResponse({**details["account"], "sellers": details["sellers"], "payouts_held": details["held"],
                         "orders": details["orders"], "purchases": details["purchases"],
                         "audit": [{k: a[k] for k in ("at", "action", "actor", "detail")} for a in details["audit"]]})


@requires("admin", forbidden="This endpoint is for administrators.")
async def admin_user_action(request: Request) -> Response:
    """`POST /api/admin/users/{id}/{ban|unban|verify|unverify|role}` with `{"reason"}` (and `{"role"}`)."""
    edge = edge_of(request)
    action = request.path_params["action"]
    if action not in ACTIONS:
        raise NotFound()
    data = await json_body(request)
    user_id = params.path_id(request, "user_id")
    said = await run_action(edge, action, user_id, request.user, _str(data, "reason", action in ("ban", "unban", "unverify")),
                            _str(data, "role", action == "role"), client_ip(request))
    return JSONResponse({"done": said, "user": accounts_standing.describe(accounts_standing.account(edge, user_id))})


@requires("admin", forbidden="This endpoint is for administrators.")
async def admin_sales_report(request: Request) -> Response:
    """The sales report of /admin/reports as JSON: rows and totals per currency in minor units."""
    edge = edge_of(request)
    q = request.query_params
    r = reports.parse_range(q.get("from"), q.get("to"), dt.date.fromisoformat(edge.clock.iso()[:10]))
    period = reports.choice(q.get("period"), reports.PERIODS, "period", "day")
    group = reports.choice(q.get("group"), reports.GROUPS, "group", "currency")
    cats = categories(edge)
    found = await off_loop(request, lambda db: reports.sales(db, r, period, group, categories=cats))
    return JSONResponse({"from": r.start.isoformat(), "to": r.end.isoformat(), "period": period, "group": group,
                         "rows": found.rows, "totals": found.totals})


async def openapi(request: Request) -> Response:
    return JSONResponse(document(edge_of(request).settings.CHECKOUT_URL))


def document(server_url: str) -> dict[str, Any]:
    """The OpenAPI document: generated `/api/v1/` operations plus the first-party endpoints."""
    return spec(server_url, OPERATIONS, SCHEMAS, api_registry.openapi_paths)


ROUTES = [
    Route("/api/openapi.json", openapi),
    Route("/api/auth/token", token, methods=["POST"]),
    Route("/api/auth/revoke", revoke, methods=["POST"]),
    Route("/api/users", register, methods=["POST"]),
    Route("/api/legal", legal),
    Route("/api/me", me),
    Route("/api/me/consents", consents, methods=["GET", "POST"]),
    Route("/api/me/export", export),
    Route("/api/me/deletion", deletion, methods=["POST"]),
    Route("/api/admin/audit", admin_audit),
    Route("/api/admin/outbox", admin_outbox),
    Route("/api/admin/outbox/{outbox_id}/resend", admin_resend, methods=["POST"]),
    Route("/api/admin/users", admin_users),
    Route("/api/admin/users/{user_id}", admin_user),
    Route("/api/admin/users/{user_id}/{action:str}", admin_user_action, methods=["POST"]),
    Route("/api/admin/reports/sales", admin_sales_report),
    *api_registry.routes(OPERATIONS),
]
