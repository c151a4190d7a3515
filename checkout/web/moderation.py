"""One moderation queue for administrators (product submissions, reported products, seller
claims, flagged payments and any queue registered on `hooks.moderation_queues`, such as
reported reviews), the buyers' report form, and the storefront's view counter.

Every negative decision needs a reason (rejecting a submission, dismissing a report, unlisting a
product, rejecting a claim) and every decision is audited with the administrator's name.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from checkout.core.errors import EdgeError
from checkout.delivery import approval, standing, views
from checkout.payments import orders
from checkout.web import flash, params
from checkout.web.auth import authorize, requires
from checkout.web.base import client_ip, edge_of
from checkout.web.pages import form_error, message, read_form, render
from digitaldock.money import format_money
from generator.markup import render_markdown

FORBIDDEN = "This page is for administrators."
VIEW_PATH = "/v/"  # the storefront's view counter: POSTed from static pages, so exempt from CSRF


def flagged_payments(edge: Any) -> list[dict[str, Any]]:
    return [{**r, "total": format_money(r["amount"], r["currency"])} for r in orders.flagged_unreturned(edge)]


@requires("admin", forbidden=FORBIDDEN)
async def queue(request: Request) -> Response:
    edge = edge_of(request)
    pending = [s for s in approval.queue(edge) if s["status"] == "pending"]
    for item in pending:
        item["preview"] = render_markdown(item["fields"].get("description", ""))
    extra = [(name, q(edge)) for name, q in edge.hooks.moderation_queues]
    return render(request, "edge/admin_moderation.html", submissions=pending, reports=standing.open_reports(edge),
                  claims=standing.open_claims(edge), payments=flagged_payments(edge), extra=extra,
                  reviews_built=any(name == "reviews" for name, _ in extra), mode=edge.settings.APPROVAL_MODE)


@requires("admin", forbidden=FORBIDDEN)
async def decide_report(request: Request) -> Response:
    edge = edge_of(request)
    form = await read_form(request)
    try:
        outcome = await run_in_threadpool(standing.decide_report, edge, params.path_id(request, "report_id"),
                                          request.user, str(form.get("action", "")), str(form.get("reason", "")),
                                          client_ip(request))
    except EdgeError as exc:
        return flash.redirect(request, "/admin/moderation#reports", "; ".join(exc.fields.values()) or exc.message,
                              "error")
    return flash.redirect(request, "/admin/moderation#reports", outcome.said)


@requires("admin", forbidden=FORBIDDEN)
async def decide_claim(request: Request) -> Response:
    edge = edge_of(request)
    form = await read_form(request)
    try:
        outcome = standing.decide_claim(edge, params.path_id(request, "claim_id"), request.user,
                                        str(form.get("action", "")) == "approve", str(form.get("reason", "")),
                                        client_ip(request))
    except EdgeError as exc:
        return flash.redirect(request, "/admin/moderation#claims", "; ".join(exc.fields.values()) or exc.message,
                              "error")
    return flash.redirect(request, "/admin/moderation#claims", outcome.said)


# --- buyers report a product ----------------------------------------------------------------------

def _product(edge: Any, slug: str) -> Any:
    found = edge.catalog.current().products.get(slug)
    if found is None:
        from checkout.core.errors import NotFound
        raise NotFound("No product is listed at this address.")
    return found


async def report_page(request: Request) -> Response:
    """Any signed-in account may report a listed product; a visitor signs in first and comes
    back to the same form (the product in the query string survives the sign-in)."""
    edge = edge_of(request)
    back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    authorize(request, next_url=back)
    if request.method == "GET":
        product = _product(edge, request.query_params.get("product", ""))
        return render(request, "edge/report.html", product=product, reasons=standing.REPORT_REASONS, form={},
                      fields={}, site_url=edge.settings.SITE_URL)
    form = await read_form(request)
    slug = str(form.get("product", ""))
    product = _product(edge, slug)
    values = {"reason": str(form.get("reason", "")), "details": str(form.get("details", ""))}
    try:
        standing.file_report(edge, request.user, slug, values["reason"], values["details"], client_ip(request))
    except EdgeError as exc:
        return form_error(request, "edge/report.html", exc, product=product, reasons=standing.REPORT_REASONS,
                          form=values, site_url=edge.settings.SITE_URL)
    return message(request, "Thank you", f"We received your report about {product.title}. An administrator looks at "
                   "every report; the product stays listed until they decide.",
                   links=[(f"{edge.settings.SITE_URL}{product.url}", "Back to the product")])


# --- the storefront's view counter ----------------------------------------------------------------

async def count_view(request: Request) -> Response:
    """`POST /v/<slug>` from a product page: 204 whatever happens (a counter, not an API), no
    cookie set, nothing about the visitor kept (`checkout.delivery.views`)."""
    edge = edge_of(request)
    slug = request.path_params["slug"][:100]
    if views.countable(edge, slug, request.headers):
        views.count(edge, slug)
    return Response(status_code=204, headers={"Cache-Control": "no-store"})


ROUTES = [
    Route("/admin/moderation", queue),
    Route("/admin/moderation/reports/{report_id}", decide_report, methods=["POST"]),
    Route("/admin/moderation/claims/{claim_id}", decide_claim, methods=["POST"]),
    Route("/report", report_page, methods=["GET", "POST"]),
    Route(VIEW_PATH + "{slug:path}", count_view, methods=["POST"]),  # any path: 204, never a redirect
]
