"""Seller pages: the dashboard, the product form (whose POST the streaming upload endpoint in
`checkout.web.uploads` answers), a Markdown preview, earnings with the payout account, and the
emailed link that cancels a payout account change.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from checkout.core.errors import Forbidden, NotFound, ValidationFailed
from checkout.delivery import library, uploads
from checkout.payments import ledger, payout_accounts, payouts, purchases
from checkout.web import reauth
from checkout.web.auth import requires
from checkout.web.base import client_ip, edge_of, redirect_to
from checkout.web.pages import message, read_form, render
from generator.markup import render_markdown

STATUS_HELP = {"draft": "Draft: only you can see it.", "pending": "Waiting for review.",
               "approved": "Approved: it appears after the next catalogue build.",
               "rejected": "Not approved: see the reason, change it and submit again.",
               "published": "Published in the catalogue."}


def _categories(request: Request) -> list[Any]:
    edge = edge_of(request)
    cats = list(edge.catalog.current().categories)
    return cats or [type("C", (), {"slug": s, "name": s.title()})() for s in uploads.category_slugs(edge)]


def form_page(request: Request, status: int = 200, error: str = "", fields: dict | None = None,
              form: dict | None = None) -> HTMLResponse:
    edge = edge_of(request)
    s = edge.settings
    return render(request, "edge/seller_form.html", status=status, error=error, fields=fields or {},
                  form=form or {}, categories=_categories(request),
                  currencies=("NGN", "GHS", "KES", "ZAR", "USD"),
                  max_file_mb=s.UPLOAD_MAX_FILE_BYTES // (1024 * 1024),
                  max_image_mb=s.UPLOAD_MAX_IMAGE_BYTES // (1024 * 1024), max_images=s.UPLOAD_MAX_IMAGES)


@requires("seller", forbidden="This page is for seller accounts.", forbidden_code="not_a_seller")
async def product_form(request: Request) -> Response:
    edge = edge_of(request)
    user = request.user
    slug = request.query_params.get("slug", "")
    form: dict[str, Any] = {}
    if slug:
        found = uploads.latest_submission(edge, user["id"], slug)
        if found is None:
            raise NotFound("You have no product with that address.")
        form = {**found["fields"], "slug": slug}
    return form_page(request, form=form)


@requires("seller", forbidden="This page is for seller accounts.", forbidden_code="not_a_seller")
async def preview(request: Request) -> Response:
    form = await read_form(request)
    return JSONResponse({"html": render_markdown(str(form.get("description", ""))[:20_000])})


@requires("seller", forbidden="This page is for seller accounts.", forbidden_code="not_a_seller")
async def dashboard(request: Request) -> Response:
    edge = edge_of(request)
    user = request.user
    latest = uploads.submissions_of(edge, user["id"])
    sales = purchases.active_counts(edge, list(latest))
    downloads = {r["product_slug"]: r["started"] for r in library.started_per_product(edge, slugs=list(latest))}
    listed = edge.catalog.current().products
    products = []
    for slug, r in latest.items():
        status = "published" if r["status"] == "approved" and slug in listed else r["status"]
        products.append({"slug": slug, "title": r["fields"].get("title", slug), "status": status,
                         "help": STATUS_HELP[status], "reason": r["reason"] or "", "version": r["fields"].get("version", ""),
                         "sales": sales.get(slug, 0), "downloads": downloads.get(slug, 0), "updated_at": r["updated_at"]})
    submitted = request.query_params.get("submitted", "")
    return render(request, "edge/seller.html", products=products,
                  notice="Your product was received." if submitted else "")


@requires("seller", forbidden="This page is for sellers.")
async def seller_earnings(request: Request) -> Response:
    edge = edge_of(request)
    user = request.user
    slugs = payouts.managed_sellers(edge, user)
    error, fields = None, {}
    if request.method == "POST":
        form = await read_form(request)
        slug = str(form.get("seller", ""))
        if slug not in slugs:
            raise Forbidden("You do not manage that seller.")
        name, number = str(form.get("account_name", "")), str(form.get("account_number", ""))
        bank, currency = str(form.get("bank_code", "")), str(form.get("currency", "NGN"))
        try:
            # whoever holds the session must also know the password, unless they just typed it
            await reauth.confirm_identity(request, user, str(form.get("current_password", "")))
            payouts.check_bank_account(number, currency)
            result = await run_in_threadpool(payouts.call_recipient, edge, name or slug, number, bank, currency)
            payouts.record_bank_account(edge, slug, name, bank, number, currency, result, actor_id=user.id,
                                        ip=client_ip(request))
            return redirect_to("/seller/earnings?notice=bank_saved")
        except ValidationFailed as exc:
            error, fields = exc.message, exc.fields
    accounts = [{"slug": slug, "stats": ledger.seller_stats(edge, slug),
                 "recipients": [{**r, "account": payout_accounts.describe(r["bank_name"], r["bank_code"], r["account_number"]),
                                 "held_until": payout_accounts.held_until(edge, r)} for r in payouts.recipients(edge, slug)],
                 "payouts": payouts.listing(edge, 50, seller=slug)} for slug in slugs]
    return render(request, "edge/seller_earnings.html", status=422 if error else 200, sellers=accounts,
                  error=error, fields=fields, password_needed=not reauth.signed_in_recently(request, user),
                  reauth_minutes=edge.settings.SENSITIVE_REAUTH_MINUTES, hold_hours=edge.settings.PAYOUT_ACCOUNT_HOLD_HOURS,
                  notice=request.query_params.get("notice", ""), window=edge.settings.REFUND_WINDOW_DAYS,
                  minimum=edge.settings.PAYOUT_MINIMUM)


async def cancel_payout_change(request: Request) -> Response:
    """The cancel link of the `payout_account_changed` email; no sign-in needed (the seller may
    read it anywhere), and GET only shows what a cancel would do: mail scanners open links."""
    edge = edge_of(request)
    if request.method == "GET":
        token = request.query_params.get("token", "")
        change = payout_accounts.check_cancel_token(edge, token)
        return render(request, "edge/payout_cancel.html", token=token, change=change,
                      new=payout_accounts.describe(change["new_bank_name"], change["new_bank_code"],
                                                   change["new_account_number"]),
                      restores=payout_accounts.restores(change))
    form = await read_form(request)
    change, now = payout_accounts.cancel(edge, str(form.get("token", "")), client_ip(request))
    text = (f"The change is cancelled. Payouts of {change['seller_slug']} in {change['currency']} go to: "
            f"{payout_accounts.restores(change)}." if now else "This change was already cancelled.")
    return message(request, "Payout account change cancelled", text + " If you did not make the change, reset your "
                   "password too.", links=[("/password-reset", "Reset your password"), ("/seller/earnings", "Earnings")])


ROUTES = [
    Route("/seller", dashboard),
    Route("/seller/products", product_form),  # POST is answered, streaming, by web.uploads.UploadMiddleware
    Route("/seller/preview", preview, methods=["POST"]),
    Route("/seller/earnings", seller_earnings, methods=["GET", "POST"]),
    Route("/seller/earnings/cancel", cancel_payout_change, methods=["GET", "POST"]),
]
