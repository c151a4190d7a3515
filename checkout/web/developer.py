"""Pages for people who connect DigitalDock to their own systems (issue #21): personal access
tokens on `/account/tokens` (create with scopes, shown once; last use; revoke) and, for
sellers, webhook endpoints on `/seller/webhooks` (register, send a test event, the delivery
log with each answer and a redeliver button). The same library as the API's operations."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from checkout.accounts import api_tokens
from checkout.core.errors import EdgeError
from checkout.core.signals import EVENTS
from checkout.integrations import webhooks
from checkout.web import flash, params
from checkout.web.auth import requires
from checkout.web.base import client_ip, edge_of
from checkout.web.pages import read_form, render


def _scopes_for(role: str) -> list[tuple[str, str]]:
    return [(name, text) for name, (roles, text) in api_tokens.SCOPES.items() if role in roles]


@requires()
async def tokens_page(request: Request) -> Response:
    edge = edge_of(request)
    user = request.user
    made: dict[str, Any] | None = None
    fields: dict[str, str] = {}
    if request.method == "POST":
        form = await read_form(request)
        try:
            made_row, token = api_tokens.create_personal(edge, user, str(form.get("name", "")),
                                                         [str(s) for s in form.getlist("scopes")], client_ip(request))
            made = {**made_row, "token": token}
        except EdgeError as exc:
            if exc.status >= 500 or not exc.fields:
                raise
            fields = exc.fields
    return render(request, "edge/account_tokens.html", tokens=api_tokens.personal_of(edge, user.id), made=made,
                  fields=fields, scopes=_scopes_for(user.role), status=422 if fields else 200)


@requires()
async def revoke_token(request: Request) -> Response:
    edge = edge_of(request)
    await read_form(request)
    found = api_tokens.revoke_personal(edge, request.user.id, params.path_id(request, "token_id"), client_ip(request))
    return flash.redirect(request, "/account/tokens", f"The token {found['name']} ({found['prefix']}) is revoked.")


EVENT_CHOICES = [(e, t) for e, t in EVENTS.items() if e != "ping"]


@requires("seller", "admin", forbidden="Webhooks are for sellers.", forbidden_code="not_a_seller")
async def webhooks_page(request: Request) -> Response:
    edge = edge_of(request)
    user = request.user
    made: dict[str, Any] | None = None
    fields: dict[str, str] = {}
    if request.method == "POST":
        form = await read_form(request)
        try:
            found, secret = await run_in_threadpool(webhooks.create, edge, user, str(form.get("url", "")),
                                                    [str(e) for e in form.getlist("events")],
                                                    str(form.get("description", "")))
            made = {**found, "secret": secret}
        except EdgeError as exc:
            if exc.status >= 500 or not exc.fields:
                raise
            fields = exc.fields
    return render(request, "edge/seller_webhooks.html", endpoints=webhooks.of_user(edge, user.id), made=made,
                  fields=fields, events=EVENT_CHOICES, status=422 if fields else 200)


@requires("seller", "admin", forbidden="Webhooks are for sellers.", forbidden_code="not_a_seller")
async def endpoint_page(request: Request) -> Response:
    edge = edge_of(request)
    endpoint_id = params.path_id(request, "endpoint_id")
    endpoint = webhooks.get(edge, request.user.id, endpoint_id)
    page = webhooks.deliveries_page(edge, request.user.id, endpoint_id, request.query_params.get("cursor"), 50)
    return render(request, "edge/seller_webhook.html", endpoint=endpoint, deliveries=page.items,
                  next_cursor=page.next_cursor)


def _endpoint_action(action: str):
    @requires("seller", "admin", forbidden="Webhooks are for sellers.", forbidden_code="not_a_seller")
    async def handler(request: Request) -> Response:
        edge = edge_of(request)
        user = request.user
        form = await read_form(request)
        endpoint_id = params.path_id(request, "endpoint_id")
        back = f"/seller/webhooks/{endpoint_id}"
        if action == "test":
            webhooks.send_test(edge, user.id, endpoint_id)
            said = "A test event is on its way; its delivery shows below in a moment."
        elif action == "redeliver":
            webhooks.redeliver(edge, user.id, endpoint_id, params.form_id(form, "delivery_id"))
            said = "The event is queued again."
        elif action == "enable":
            webhooks.update(edge, user.id, endpoint_id, {"status": "active"})
            said = "The endpoint is enabled again."
        elif action == "disable":
            webhooks.update(edge, user.id, endpoint_id, {"status": "disabled"})
            said = "The endpoint is disabled."
        else:  # delete
            webhooks.delete(edge, user.id, endpoint_id)
            return flash.redirect(request, "/seller/webhooks", "The endpoint and its delivery log are deleted.")
        return flash.redirect(request, back, said)
    handler.__name__ = f"webhook_{action}"
    return handler


ROUTES = [
    Route("/account/tokens", tokens_page, methods=["GET", "POST"]),
    Route("/account/tokens/{token_id}/revoke", revoke_token, methods=["POST"]),
    Route("/seller/webhooks", webhooks_page, methods=["GET", "POST"]),
    Route("/seller/webhooks/{endpoint_id}", endpoint_page),
    *[Route(f"/seller/webhooks/{{endpoint_id}}/{a}", _endpoint_action(a), methods=["POST"])
      for a in ("test", "redeliver", "enable", "disable", "delete")],
]
