"""Seller pages (the dashboard is `checkout.web.seller_dashboard`): the product form (whose POST the streaming upload endpoint in
`checkout.web.uploads` answers), the form's pre-flight check, a Markdown preview, earnings
with the payout account, and the emailed link that cancels a payout account change.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from checkout.core.errors import BadRequest, Forbidden, NotFound, ValidationFailed
from checkout.delivery import standing, uploads
from checkout.delivery.sellers import payout_currency_of
from checkout.payments import ledger, payout_accounts, payouts
from checkout.payments.errors import PaystackError
from checkout.payments.paystack import RECIPIENT_TYPES
from checkout.web import flash, reauth
from checkout.web.auth import requires, user_or_none
from checkout.web.base import client_ip, edge_of
from checkout.web.pages import message, read_form, render
from digitaldock.money import CURRENCIES, format_money
from generator.markup import render_markdown


def _categories(request: Request) -> list[Any]:
    edge = edge_of(request)
    cats = list(edge.catalog.current().categories)
    return cats or [type("C", (), {"slug": s, "name": s.title()})() for s in uploads.category_slugs(edge)]


def form_page(request: Request, status: int = 200, error: str = "", fields: dict | None = None,
              form: dict | None = None) -> HTMLResponse:
    edge = edge_of(request)
    s = edge.settings
    form = dict(form or {})
    if not form.get("currency"):  # a new product is priced in the seller's payout currency
        user = user_or_none(request)
        form["currency"] = (payout_currency_of(edge, user["id"]) if user is not None else None) or next(iter(CURRENCIES))
    return render(request, "edge/seller_form.html", status=status, error=error, fields=fields or {},
                  form=form, categories=_categories(request), currencies=tuple(CURRENCIES),
                  max_file_mb=s.UPLOAD_MAX_FILE_BYTES // (1024 * 1024),
                  max_preview_mb=uploads.size_limit(s, "preview") // (1024 * 1024),
                  max_image_mb=s.UPLOAD_MAX_IMAGE_BYTES // (1024 * 1024), max_images=s.UPLOAD_MAX_IMAGES,
                  image_accept=uploads.IMAGE_MIME_TYPES, image_formats=uploads.IMAGE_FORMATS,
                  max_image_pixels=uploads.megapixels(s.UPLOAD_MAX_IMAGE_PIXELS),
                  max_request_mb=uploads.max_request_bytes(s) // (1024 * 1024))


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
async def product_check(request: Request) -> Response:
    """The pre-flight check the form's script calls before it sends any file: the text fields and
    the chosen files' names and sizes, as JSON `{"fields": {...}, "files": [{"field", "name",
    "size"}]}`; answers 200 `{"ok": true}` or 422 with a message per field, the same the upload
    would give (`uploads.preflight`)."""
    edge = edge_of(request)
    fields, planned = _preflight_body(await request.body())
    try:
        uploads.preflight(edge, request.user, fields, planned)
    except ValidationFailed as exc:
        return JSONResponse(exc.as_json(), status_code=exc.status)
    return JSONResponse({"ok": True})


def _preflight_body(raw: bytes) -> tuple[dict[str, str], list[dict[str, Any]]]:
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("Send the form as JSON: {\"fields\": {...}, \"files\": [...]}.", code="invalid_json") from None
    if not isinstance(data, dict) or not isinstance(data.get("fields", {}), dict) \
            or not isinstance(data.get("files", []), list):
        raise BadRequest("Send the form as JSON: {\"fields\": {...}, \"files\": [...]}.", code="invalid_json")
    fields = {k: v for k, v in data.get("fields", {}).items() if k in uploads.TEXT_FIELDS}
    bad = sorted(uploads.LABELS.get(k, k) for k, v in fields.items() if not isinstance(v, str))
    if bad:
        raise BadRequest(f"These fields must be text: {', '.join(bad)}.", code="invalid_json")
    fields = {k: v.strip() if k != "description" else v for k, v in fields.items()}
    planned = []
    for item in data.get("files", []):
        if not (isinstance(item, dict) and item.get("field") in uploads.FILE_FIELDS
                and isinstance(item.get("name"), str) and type(item.get("size")) is int and item["size"] >= 0):
            raise BadRequest("Each file must be {\"field\": \"files\", \"cover\" or \"images\", \"name\": text, "
                             "\"size\": bytes}.", code="invalid_json")
        planned.append({"field": item["field"], "name": item["name"], "size": item["size"]})
    return fields, planned


def account_form(request: Request, values: dict[str, str]) -> tuple[str, str]:
    """The payout currency and recipient type the bank-account form is for: from the form or the
    query (`?currency=GHS&type=mobile_money`), else the first of each; USD and the like are
    offered no form (Paystack cannot pay out in them)."""
    currency = values.get("currency") or request.query_params.get("currency") or "NGN"
    if currency not in RECIPIENT_TYPES:
        currency = "NGN"
    kind = values.get("type") or request.query_params.get("type") or RECIPIENT_TYPES[currency][0]
    return currency, kind if kind in RECIPIENT_TYPES[currency] else RECIPIENT_TYPES[currency][0]


async def payout_account_post(request: Request, payee: str, values: dict[str, str], form: Any,
                              back: str) -> Response | str | None:
    """The bank-account form of a payee (a seller slug, or `affiliate:<id>` on /affiliate): with
    `action=check`, the name Paystack has for the account ("" where it offers no lookup); else,
    after the password re-check, the account is saved (held and announced, payout_accounts) and
    the answer is the redirect to `back`. Raises ValidationFailed naming the field."""
    edge = edge_of(request)
    user = request.user
    name, number = values["account_name"], values["account_number"]
    bank, currency = values["bank_code"], values["currency"] or "NGN"
    kind = payouts.check_bank_account(number, currency, values["type"] or None)
    if not bank.strip():
        raise ValidationFailed(fields={"bank_code": "Choose your bank."})
    if values["action"] == "check":  # show the name Paystack has for the account before saving
        found = await run_in_threadpool(payouts.call_resolve, edge, number, bank, currency)
        if isinstance(found, PaystackError):
            raise ValidationFailed(found.message, fields={"account_number": found.message})
        resolved = str(found["account_name"]) if found else ""
        values["account_name"] = resolved or name
        return resolved
    # whoever holds the session must also know the password, unless they just typed it
    await reauth.confirm_identity(request, user, str(form.get("current_password", "")))
    result = await run_in_threadpool(payouts.call_recipient, edge, name or payee, number, bank,
                                     currency, kind)
    payouts.record_bank_account(edge, payee, name, bank, number, currency, result, actor_id=user.id,
                                ip=client_ip(request), type_=kind)
    return flash.redirect(request, back, "Your bank account was saved. We emailed you about "
                          "it; payouts to a new or changed account start "
                          f"{edge.settings.PAYOUT_ACCOUNT_HOLD_HOURS} hours after the change.")


@requires("seller", forbidden="This page is for sellers.")
async def seller_earnings(request: Request) -> Response:
    edge = edge_of(request)
    user = request.user
    standing.ensure_seller(edge, user)
    slugs = payouts.managed_sellers(edge, user)
    error, fields, values, resolved = None, {}, {}, None
    if request.method == "POST":
        form = await read_form(request)
        values = {k: str(form.get(k, "")) for k in ("seller", "account_name", "account_number", "bank_code",
                                                      "currency", "type", "action")}
        slug = values["seller"]
        if slug not in slugs:
            raise Forbidden("You do not manage that seller.")
        try:
            answer = await payout_account_post(request, slug, values, form, "/seller/earnings")
            if isinstance(answer, Response):
                return answer
            resolved = answer
        except ValidationFailed as exc:
            error, fields = exc.message, exc.fields
    form_currency, form_type = account_form(request, values)
    banks = await run_in_threadpool(payouts.call_banks, edge, form_currency, form_type)
    sellers = edge.catalog.current().sellers
    accounts = [{"slug": slug, "stats": ledger.seller_stats(edge, slug), "next": payouts.next_payouts(edge, slug),
                 "currency": (sellers.get(slug) or {}).get("payout_currency") or "NGN",
                 "recipients": [{**r, "account": payout_accounts.describe(r["bank_name"], r["bank_code"], r["account_number"]),
                                 "held_until": payout_accounts.held_until(edge, r)} for r in payouts.recipients(edge, slug)],
                 "payouts": payouts.listing(edge, 50, seller=slug)} for slug in slugs]
    return render(request, "edge/seller_earnings.html", status=422 if error else 200, sellers=accounts,
                  error=error, fields=fields, password_needed=not reauth.signed_in_recently(request, user),
                  reauth_minutes=edge.settings.SENSITIVE_REAUTH_MINUTES, hold_hours=edge.settings.PAYOUT_ACCOUNT_HOLD_HOURS,
                  window=edge.settings.REFUND_WINDOW_DAYS, values=values, resolved=resolved,
                  form_currency=form_currency, form_type=form_type, recipient_types=RECIPIENT_TYPES,
                  banks=banks if isinstance(banks, list) else None,
                  no_transfers=sorted(c for c in CURRENCIES if c not in RECIPIENT_TYPES),
                  minimum=sorted({format_money(edge.settings.PAYOUT_MINIMUM, c) for a in accounts
                                  for c in [a["currency"], *a["stats"]] if c in CURRENCIES}))


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


# routes that take a whole description as a form body (a larger cap than other forms)
TEXT_FORM_PATHS = ("/seller/products/check", "/seller/preview")

ROUTES = [
    Route("/seller/products", product_form),  # POST is answered, streaming, by web.uploads.UploadMiddleware
    Route("/seller/products/check", product_check, methods=["POST"]),
    Route("/seller/preview", preview, methods=["POST"]),
    Route("/seller/earnings", seller_earnings, methods=["GET", "POST"]),
    Route("/seller/earnings/cancel", cancel_payout_change, methods=["GET", "POST"]),
]
