"""The admin console's users: search, one account's page (orders, purchases, products, audit
trail), and what an administrator may do to it: ban and unban (with a reason), verify a seller,
change the role. Every action is audited with the administrator's name (`checkout.accounts.standing`)."""

from __future__ import annotations

import json
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from checkout.accounts import standing as accounts_standing
from checkout.core import audit
from checkout.core.errors import EdgeError, ValidationFailed
from checkout.delivery import standing
from checkout.payments import payouts
from checkout.web import flash, params
from checkout.web.auth import requires
from checkout.web.base import client_ip, edge_of
from checkout.web.pages import read_form, render
from digitaldock.money import format_money

FORBIDDEN = "This page is for administrators."
PAGE = 50


def names_of(edge: Any, ids: set[int]) -> dict[int, str]:
    """Display names and addresses of accounts, for audit trails that show people, not numbers."""
    ids = {i for i in ids if i}
    if not ids:
        return {}
    rows = edge.db.execute(f"SELECT id, display_name, email FROM users WHERE id IN ({', '.join('?' * len(ids))})",
                           tuple(ids))
    return {r["id"]: f"{r['display_name']} <{r['email']}>" for r in rows}


def with_names(edge: Any, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    names = names_of(edge, {e["actor_id"] for e in entries} | {e["subject_id"] for e in entries})
    for e in entries:
        detail = dict(e["detail"])
        by = detail.pop("by", None)
        e["actor"] = by or names.get(e["actor_id"]) or ("" if e["actor_id"] in (None, 0) else f"account {e['actor_id']}")
        e["subject"] = names.get(e["subject_id"]) or ("" if e["subject_id"] is None else f"account {e['subject_id']}")
        e["detail_text"] = ", ".join(f"{k}: {v}" for k, v in sorted(detail.items()) if v not in (None, "", [], {}))
    return entries


@requires("admin", forbidden=FORBIDDEN)
async def users_page(request: Request) -> Response:
    edge = edge_of(request)
    query = request.query_params.get("q", "")[:200]
    page = params.bounded_int(request.query_params.get("page", "1"), "page", 1, 10_000)
    found = accounts_standing.search(edge, query, PAGE + 1, (page - 1) * PAGE)
    return render(request, "edge/admin_users.html", users=found[:PAGE], q=query, page=page,
                  more=len(found) > PAGE)


def _user_id(request: Request) -> int:
    return params.path_id(request, "user_id")


def user_details(edge: Any, user_id: int) -> dict[str, Any]:
    """Everything the user page (and the API) shows about one account."""
    user = accounts_standing.account(edge, user_id)
    orders = [dict(r) for r in edge.db.execute(
        "SELECT id, reference, currency, amount, status, created_at, paid_at FROM orders WHERE user_id = ?"
        " ORDER BY id DESC LIMIT 100", (user_id,))]
    for o in orders:
        o["total"] = format_money(o["amount"], o["currency"])
    purchases = [dict(r) for r in edge.db.execute(
        "SELECT p.id, p.product_slug, p.seller, p.status, p.created_at, l.title FROM purchases p"
        " JOIN order_lines l ON l.id = p.order_line_id WHERE p.user_id = ? ORDER BY p.id DESC LIMIT 200", (user_id,))]
    sellers = standing.sellers_of(edge, user_id)
    listed = edge.catalog.current().products
    products = [{"slug": slug, "title": p.title, "seller": p.seller, "price": p.price.display()}
                for slug, p in sorted(listed.items()) if p.seller in sellers]
    submissions = [dict(r) for r in edge.db.execute(
        "SELECT id, product_slug, status, updated_at, reason FROM submissions WHERE user_id = ? ORDER BY id DESC"
        " LIMIT 100", (user_id,))]
    trail = with_names(edge, [e for e in audit.recent(edge, 200, subject_id=user_id)])
    acted = with_names(edge, [{**dict(r), "detail": json.loads(r["detail"])} for r in edge.db.execute(
        "SELECT * FROM audit_log WHERE actor_id = ? AND (subject_id IS NULL OR subject_id != ?) ORDER BY id DESC"
        " LIMIT 100", (user_id, user_id))])
    held = sorted(set(sellers) & payouts.held_sellers(edge))
    return {"account": accounts_standing.describe(user), "row": user, "orders": orders, "purchases": purchases,
            "sellers": sellers, "products": products, "submissions": submissions, "audit": trail, "acted": acted,
            "held": held}


@requires("admin", forbidden=FORBIDDEN)
async def user_page(request: Request) -> Response:
    edge = edge_of(request)
    details = user_details(edge, _user_id(request))
    return render(request, "edge/admin_user.html", **details, roles=("buyer", "seller", "admin"),
                  me=request.user.id)


ACTIONS = ("ban", "unban", "verify", "unverify", "role")


async def run_action(edge: Any, action: str, user_id: int, actor: Any, reason: str, role: str, ip: str) -> str:
    """One console action on an account (shared by the page, the API and, through the same
    library, the CLI); returns what happened, in words. The content write and rebuild run off
    the event loop."""
    if action == "ban":
        outcome = await run_in_threadpool(standing.ban, edge, user_id, actor, reason, ip)
    elif action == "unban":
        outcome = await run_in_threadpool(standing.unban, edge, user_id, actor, reason, ip)
    elif action in ("verify", "unverify"):
        outcome = await run_in_threadpool(standing.set_verified, edge, user_id, actor, action == "verify", reason, ip)
    elif action == "role":
        target = accounts_standing.set_role(edge, user_id, actor, role, ip)
        return f"{target['email']} is now a {role}."
    else:
        raise ValidationFailed(fields={"action": f"must be one of {', '.join(ACTIONS)}"})
    return outcome.said


@requires("admin", forbidden=FORBIDDEN)
async def user_action(request: Request) -> Response:
    edge = edge_of(request)
    user_id = _user_id(request)
    action = request.path_params["action"]
    form = await read_form(request)
    back = f"/admin/users/{user_id}"
    try:
        said = await run_action(edge, action, user_id, request.user, str(form.get("reason", "")),
                                str(form.get("role", "")), client_ip(request))
    except EdgeError as exc:
        if exc.status == 404:
            raise
        return flash.redirect(request, back, "; ".join(exc.fields.values()) or exc.message, "error")
    return flash.redirect(request, back, said)


ROUTES = [
    Route("/admin/users", users_page),
    Route("/admin/users/{user_id}", user_page),
    Route("/admin/users/{user_id}/{action:str}", user_action, methods=["POST"]),
]
