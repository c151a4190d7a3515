"""Admin pages: the email outbox and the audit log, orders (with flagged payments), refunds,
payouts, the approval queue and the downloads log. The console's home, users, moderation,
reports and platform metrics are in `admin_home`, `admin_users`, `moderation` and `admin_reports`.
"""

from __future__ import annotations

import structlog
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from checkout.core import audit, outbox
from checkout.core.db import atomic
from checkout.core.errors import BadRequest, EdgeError, ValidationFailed
from checkout.delivery import approval, library, storage, uploads
from checkout.ops.console import with_names
from checkout.payments import events, ledger, orders, payouts, refunds
from checkout.web import flash, params
from checkout.web.auth import requires
from checkout.web.base import client_ip, edge_of, off_loop, redirect_to
from checkout.web.pages import read_form, render
from digitaldock.money import format_money
from generator.markup import render_markdown

log = structlog.get_logger("checkout.web.admin")
PAGE = 100  # rows per page of the admin lists


@requires("admin", forbidden="This page is for administrators.")
async def admin_emails(request: Request) -> Response:
    """The email outbox; dead and sent emails can be queued again."""
    edge = edge_of(request)
    status = request.query_params.get("status") or None
    if status not in (None, "pending", "sending", "sent", "dead"):
        status = None
    return render(request, "edge/admin.html", emails=outbox.listing(edge, status, 200), filter_status=status or "")


@requires("admin", forbidden="This page is for administrators.")
async def admin_audit(request: Request) -> Response:
    """The audit log with people's names, newest first."""
    edge = edge_of(request)
    return render(request, "edge/admin_audit.html", entries=with_names(edge, audit.recent(edge, 300)))


@requires("admin", forbidden="This page is for administrators.")
async def admin_resend(request: Request) -> Response:
    edge = edge_of(request)
    admin = request.user
    outbox.resend(edge, params.path_id(request, "outbox_id"), admin["id"])
    return flash.redirect(request, "/admin/emails?status=pending", "The email is queued again.")


@requires("admin", forbidden="This page is for administrators.")
async def admin_orders(request: Request) -> Response:
    edge = edge_of(request)
    status = request.query_params.get("status") or None
    before = params.optional_id(request.query_params, "before")
    found = orders.listing(edge, status, PAGE, before)
    for o in found:
        o["total"] = format_money(o["amount"], o["currency"])
        if o["refund"] and o["refund"]["amount"] is not None:
            o["refund"]["display"] = format_money(o["refund"]["amount"], o["refund"]["currency"])
    problems = await off_loop(request, ledger.check)  # grows with the data: never on the event loop
    older = found[-1]["id"] if len(found) == PAGE else None
    return render(request, "edge/admin_orders.html", orders=found, filter_status=status or "",
                  unknown=events.problems(edge), problems=problems, older=older)


@requires("admin", forbidden="This page is for administrators.")
async def admin_return_payment(request: Request) -> Response:
    """Return a flagged order's payment in full through Paystack (docs/payments.md)."""
    edge = edge_of(request)
    admin = request.user
    await read_form(request)  # the CSRF token is checked by the middleware
    order = refunds.request_flagged_refund(edge, params.path_id(request, "order_id"), admin["id"])
    result = await run_in_threadpool(refunds.call_flagged_refund, edge, order)
    outcome = refunds.record_flagged_refund_result(edge, order["id"], result)
    if outcome == "processing":
        return flash.redirect(request, "/admin/orders?status=flagged", "Paystack is returning the payment; the order "
                              "says \"Payment returned\" once Paystack confirms it.")
    return flash.redirect(request, "/admin/orders?status=flagged",
                          "Paystack refused the refund; its reason is on the order below.", "error")


@requires("admin", forbidden="This page is for administrators.")
async def admin_refunds(request: Request) -> Response:
    edge = edge_of(request)
    admin = request.user
    if request.method == "POST":
        form = await read_form(request)
        refund_id = params.form_id(form, "refund")
        action = str(form.get("action", ""))
        if action in ("approve", "reject"):
            try:
                outcome = refunds.decide_refund(edge, refund_id, admin["id"], action == "approve",
                                                str(form.get("note", "")))
            except ValidationFailed as exc:  # a decline without a reason the buyer can read
                return flash.redirect(request, "/admin/refunds", next(iter(exc.fields.values()), exc.message), "error")
        elif action == "retry":
            outcome = "processing"
        else:
            raise BadRequest("Unknown action.")
        if outcome == "processing":
            row = refunds.refund_to_send(edge, refund_id)
            result = await run_in_threadpool(refunds.call_refund, edge, row)
            refunds.record_refund_result(edge, refund_id, result)
        return redirect_to("/admin/refunds")
    found = refunds.listing(edge)
    for r in found:
        r["display"] = format_money(r["amount"], r["currency"])
    return render(request, "edge/admin_refunds.html", refunds=found)


@requires("admin", forbidden="This page is for administrators.")
async def admin_payouts(request: Request) -> Response:
    edge = edge_of(request)
    admin = request.user
    if request.method == "POST":
        counts = payouts.queue_payouts(edge)
        for payout in payouts.queued_payouts(edge):
            result = await run_in_threadpool(payouts.call_transfer, edge, payout)
            counts[payouts.record_payout_result(edge, payout, result)] += 1
        with atomic(edge.db):
            audit.record(edge, "payment.payouts_run", actor_id=admin["id"], **counts)
        return redirect_to("/admin/payouts")
    found = payouts.listing(edge)
    for p in found:
        p["display"] = format_money(p["amount"], p["currency"])
    return render(request, "edge/admin_payouts.html", payouts=found, balances=payouts.owed_balances(edge))


@requires("admin", forbidden="This page is for administrators.")
async def admin_queue(request: Request) -> Response:
    edge = edge_of(request)
    items = approval.queue(edge)
    for item in items:
        item["preview"] = render_markdown(item["fields"].get("description", ""))
    return render(request, "edge/admin_submissions.html", items=items, quarantined=uploads.quarantined(edge),
                  mode=edge.settings.APPROVAL_MODE)


@requires("admin", forbidden="This page is for administrators.")
async def admin_downloads(request: Request) -> Response:
    """Every download attempt, newest first, and started downloads per product."""
    edge = edge_of(request)
    return render(request, "edge/admin_downloads.html", rows=library.download_log(edge),
                  per_product=library.started_per_product(edge))


def _sub_id(request: Request) -> int:
    return params.path_id(request, "sub_id")


@requires("admin", forbidden="This page is for administrators.")
async def admin_approve(request: Request) -> Response:
    edge = edge_of(request)
    admin = request.user
    await read_form(request)
    sub_id = _sub_id(request)
    try:
        where = await run_in_threadpool(approval.approve, edge, sub_id, admin)
    except EdgeError as exc:
        return flash.redirect(request, "/admin/submissions", exc.message, "error")
    notice = f"Approved: {where}."
    if edge.settings.APPROVAL_MODE == "write" and edge.settings.REBUILD_ON_APPROVAL:
        problem = await run_in_threadpool(approval.rebuild, edge)
        notice += f" The rebuild failed: {problem}" if problem else " The storefront was rebuilt."
        if not problem:
            library.notify_new_versions(edge)
    log.info("admin_decision", admin=admin["id"], submission=sub_id, ip=client_ip(request))
    return flash.redirect(request, "/admin/submissions", notice)


@requires("admin", forbidden="This page is for administrators.")
async def admin_reject(request: Request) -> Response:
    edge = edge_of(request)
    admin = request.user
    form = await read_form(request)
    sub_id = _sub_id(request)
    try:
        approval.reject(edge, sub_id, admin, str(form.get("reason", "")))
    except EdgeError as exc:
        return flash.redirect(request, "/admin/submissions", exc.fields.get("reason") or exc.message, "error")
    return flash.redirect(request, "/admin/submissions", "Rejected; the seller was emailed.")


@requires("admin", forbidden="This page is for administrators.")
async def admin_image(request: Request) -> Response:
    edge = edge_of(request)
    sub = uploads.decode(approval.get(edge, _sub_id(request)))
    img = sub["images"][params.path_index(request, "n", len(sub["images"]))]
    data = b"".join(storage.storage(edge).iter_chunks(img["key"]))
    media = {"png": "image/png", "jpeg": "image/jpeg", "gif": "image/gif", "webp": "image/webp"}.get(img.get("type"), "application/octet-stream")
    return Response(data, media_type=media, headers={"Content-Security-Policy": "default-src 'none'"})


ROUTES = [
    Route("/admin/emails", admin_emails),
    Route("/admin/audit", admin_audit),
    Route("/admin/outbox/{outbox_id}/resend", admin_resend, methods=["POST"]),
    Route("/admin/orders", admin_orders),
    Route("/admin/orders/{order_id}/return-payment", admin_return_payment, methods=["POST"]),
    Route("/admin/refunds", admin_refunds, methods=["GET", "POST"]),
    Route("/admin/payouts", admin_payouts, methods=["GET", "POST"]),
    Route("/admin/submissions", admin_queue),
    Route("/admin/downloads", admin_downloads),
    Route("/admin/submissions/{sub_id}/approve", admin_approve, methods=["POST"]),
    Route("/admin/submissions/{sub_id}/reject", admin_reject, methods=["POST"]),
    Route("/admin/submissions/{sub_id}/images/{n}", admin_image),
]
