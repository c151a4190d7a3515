"""The buyer's orders and refund requests."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from checkout.payments import orders, refunds
from checkout.web import flash, params
from checkout.web.auth import requires
from checkout.web.base import edge_of
from checkout.web.pages import read_form, render
from digitaldock.money import format_money


@requires()
async def orders_page(request: Request) -> Response:
    edge = edge_of(request)
    user = request.user
    found = orders.of_user(edge, user["id"])
    requests = refunds.of_lines(edge, [line["id"] for order in found for line in order["lines"]])
    for order in found:
        order["total"] = format_money(order["amount"], order["currency"])
        for line in order["lines"]:
            line["display"] = format_money(line["amount"], line["currency"])
            line["refundable"] = refunds.refundable(edge, order, line)
            line["requests"] = requests.get(line["id"], [])
    return render(request, "edge/orders.html", orders=found,
                  window=edge.settings.REFUND_WINDOW_DAYS)


@requires()
async def refund_request(request: Request) -> Response:
    edge = edge_of(request)
    user = request.user
    form = await read_form(request)
    line_id = params.form_id(form, "line", "Choose a purchase from your orders.")
    refunds.request_refund(edge, user, line_id, str(form.get("reason", "")))
    return flash.redirect(request, "/orders", "Your refund request was sent. We will email you the decision.")


ROUTES = [
    Route("/orders", orders_page),
    Route("/orders/refund", refund_request, methods=["POST"]),
]
