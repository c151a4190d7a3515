"""The seller's refund requests (`/seller/refunds`): approve or decline a refund of your own sale
within the refund window, as on Gumroad; after the window, or for anything else, an admin
decides on `/admin/refunds`. Declining needs a reason, which the buyer is emailed and sees on
their orders page. An approval takes the admin's path from there: `processing` is written, then
Paystack's `POST /refund` is called (`checkout.payments.refunds`)."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from checkout.core.errors import BadRequest, ValidationFailed
from checkout.payments import refunds
from checkout.web import flash, params
from checkout.web.auth import requires
from checkout.web.base import edge_of
from checkout.web.pages import read_form, render
from checkout.web.seller_dashboard import FORBIDDEN, my_sellers

PATH = "/seller/refunds"


@requires("seller", forbidden=FORBIDDEN, forbidden_code="not_a_seller")
async def seller_refunds(request: Request) -> Response:
    edge = edge_of(request)
    sellers = my_sellers(request)
    if request.method == "GET":
        return render(request, "edge/seller_refunds.html", refunds=refunds.seller_requests(edge, sellers),
                      window=edge.settings.REFUND_WINDOW_DAYS)
    form = await read_form(request)
    refund_id = params.form_id(form, "refund", "Choose a refund request from the list.")
    action = str(form.get("action", ""))
    if action not in ("approve", "decline"):
        raise BadRequest("Choose approve or decline.", fields={"action": "must be approve or decline"})
    try:
        outcome = refunds.decide_as_seller(edge, refund_id, request.user["id"], sellers, action == "approve",
                                           str(form.get("note", "")))
    except ValidationFailed as exc:
        return flash.redirect(request, PATH, next(iter(exc.fields.values()), exc.message), "error")
    if outcome == "processing":
        row = refunds.refund_to_send(edge, refund_id)
        result = await run_in_threadpool(refunds.call_refund, edge, row)
        refunds.record_refund_result(edge, refund_id, result)
        return flash.redirect(request, PATH, "Refund approved: it was sent to Paystack and the buyer was emailed.")
    return flash.redirect(request, PATH, "Refund declined: the buyer was emailed your reason.")


ROUTES = [Route(PATH, seller_refunds, methods=["GET", "POST"])]
