"""The admin console's users: search, one account's page (orders, purchases, products, audit
trail), and what an administrator may do to it: ban and unban (with a reason), verify a seller,
change the role. Every action is audited with the administrator's name (`checkout.accounts.standing`)."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from checkout.accounts import standing as accounts_standing
from checkout.core.errors import EdgeError, ValidationFailed
from checkout.delivery import standing
from checkout.ops.console import user_details
from checkout.web import flash, params
from checkout.web.auth import requires
from checkout.web.base import client_ip, edge_of
from checkout.web.pages import read_form, render

FORBIDDEN = "This page is for administrators."
PAGE = 50


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
