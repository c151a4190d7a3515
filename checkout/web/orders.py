"""The buyer's orders and refund requests."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from checkout.core.errors import NotFound
from checkout.payments import invoices, orders, refunds
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
            line["display"] = format_money(line["amount"] + line["tax"], line["currency"])
            line["refundable"] = refunds.refundable(edge, order, line)
            line["requests"] = requests.get(line["id"], [])
        order["invoices"] = invoices.of_order(edge, order["id"])
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


def _document(request: Request) -> dict:
    """The invoice or credit note named in the path, for its buyer or an admin; anyone else gets
    the 404 of an unknown number."""
    data, owner = invoices.find(edge_of(request), request.path_params["number"])
    if owner != request.user["id"] and request.user.role != "admin":
        raise NotFound("There is no invoice with that number.", code="unknown_invoice")
    return data


@requires()
async def invoice_page(request: Request) -> Response:
    return render(request, "edge/invoice.html", doc=_document(request))


@requires()
async def invoice_pdf(request: Request) -> Response:
    data = _document(request)
    body = await run_in_threadpool(invoices.pdf, data)
    return Response(body, media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{data["number"]}.pdf"'})


ROUTES = [
    Route("/invoices/{number:str}.pdf", invoice_pdf),
    Route("/invoices/{number:str}", invoice_page),
    Route("/orders", orders_page),
    Route("/orders/refund", refund_request, methods=["POST"]),
]
