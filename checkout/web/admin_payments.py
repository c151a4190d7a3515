"""Admin page for Paystack's side of payments (issue #19): payouts waiting for the transfer
OTP (enter it, or have Paystack send it again), payouts long in flight, refunds Paystack could
not complete (needs-attention, failed) with what to do, refunds from Paystack matching no
purchase, and the state of the circuit breaker around Paystack calls.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from checkout.core.errors import ValidationFailed
from checkout.payments import events, orders, payouts, refunds
from checkout.payments.errors import PaystackError
from checkout.web import flash, params
from checkout.web.auth import requires
from checkout.web.base import edge_of
from checkout.web.pages import read_form, render

# What an admin does about a refund Paystack could not finish (Paystack's refund states).
WHAT_TO_DO = {
    "needs-attention": "Paystack needs the buyer's bank details or a decision: open the refund in the Paystack "
                       "dashboard (Refunds), complete what it asks, and it continues; its refund.processed event "
                       "then revokes access and books it here.",
    "failed": "Paystack could not return the money. Check the reason in the Paystack dashboard; the buyer may ask "
              "again (the request can be approved again from the refunds page).",
}


@requires("admin", forbidden="This page is for administrators.")
async def admin_payments(request: Request) -> Response:
    edge = edge_of(request)
    breaker = orders.paystack(edge).breaker
    stuck = payouts.in_flight_to_verify(edge)
    return render(request, "edge/admin_payments.html", otp=payouts.awaiting_otp(edge),
                  stuck=[p for p in stuck if p["paystack_status"] != "otp"],
                  attention=[{**r, "todo": WHAT_TO_DO.get(r["paystack_status"], "")} for r in refunds.attention(edge)],
                  problems=[p for p in events.problems(edge) if p["outcome"] == "unmatched_refund"],
                  breaker={"state": breaker.state, "last_error": breaker.last_error, "opened": breaker.opened_count})


@requires("admin", forbidden="This page is for administrators.")
async def admin_payout_otp(request: Request) -> Response:
    """POST otp=<digits>: finalise a payout Paystack holds for its OTP."""
    edge = edge_of(request)
    form = await read_form(request)
    payout = payouts.otp_payout(edge, params.path_id(request, "payout_id"))
    otp = payouts.check_otp(str(form.get("otp", "")))
    result = await run_in_threadpool(payouts.call_finalize, edge, payout, otp)
    try:
        payouts.record_finalize(edge, payout["id"], result, request.user["id"])
    except ValidationFailed as exc:
        return flash.redirect(request, "/admin/payments", exc.fields.get("otp", exc.message), "error")
    return flash.redirect(request, "/admin/payments", f"Payout {payout['reference']} is finalised; Paystack's "
                          "transfer event completes it.")


@requires("admin", forbidden="This page is for administrators.")
async def admin_payout_resend(request: Request) -> Response:
    edge = edge_of(request)
    await read_form(request)  # the CSRF token is checked by the middleware
    payout = payouts.otp_payout(edge, params.path_id(request, "payout_id"))
    result = await run_in_threadpool(payouts.call_resend_otp, edge, payout)
    if isinstance(result, PaystackError):
        return flash.redirect(request, "/admin/payments", f"Paystack did not resend the OTP: {result.message}", "error")
    return flash.redirect(request, "/admin/payments", "Paystack sent the OTP again to the business's phone or email.")


ROUTES = [
    Route("/admin/payments", admin_payments),
    Route("/admin/payments/payouts/{payout_id}/otp", admin_payout_otp, methods=["POST"]),
    Route("/admin/payments/payouts/{payout_id}/resend-otp", admin_payout_resend, methods=["POST"]),
]
