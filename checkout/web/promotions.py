"""Promotions in the consoles (docs/promotions.md).

Discount codes: a seller creates, pauses and resumes codes for the sellers their account
manages (all or chosen products) at `/seller/discounts`; an admin does the same for platform
codes, or any seller's, at `/admin/discounts`. Both pages show each code's report: paid uses,
the discount given and the revenue with it, from `discount_uses`.

Affiliates: a seller invites an account at `/seller/affiliates` (commission, products) and sees
each affiliate's clicks, sales and earnings; the affiliate sees the same for their own links at
`/affiliate`.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from checkout.core.errors import EdgeError, Forbidden, ValidationFailed
from checkout.payments import affiliates, discounts, payout_accounts, payouts, upsells
from checkout.payments.paystack import RECIPIENT_TYPES
from checkout.web import flash, params, reauth
from checkout.web.auth import requires
from checkout.web.base import edge_of
from checkout.web.pages import read_form, render
from checkout.web.seller import account_form, payout_account_post
from digitaldock.money import CURRENCIES, MoneyError, parse_amount

SELLER_PAGE, ADMIN_PAGE = "/seller/discounts", "/admin/discounts"
FIELDS = ("code", "percent", "amount", "currency", "max_uses", "per_buyer", "min_order", "starts", "ends")


def _count(form: Any, name: str) -> int | None:
    raw = str(form.get(name, "")).strip()
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 12:
        raise ValidationFailed(fields={name: "A whole number."})
    return int(raw)


def _money(form: Any, name: str, currency: str | None) -> int | None:
    """A decimal amount typed in the form ("500" or "12.50") in `currency`'s minor units."""
    raw = str(form.get(name, "")).strip()
    if not raw:
        return None
    if currency not in CURRENCIES:
        raise ValidationFailed(fields={"currency": "Choose the currency of the amount."})
    try:
        return parse_amount(raw, currency)
    except MoneyError as exc:
        raise ValidationFailed(fields={name: str(exc)}) from None


def _create(request: Request, form: Any, seller: str) -> int:
    edge = edge_of(request)
    currency = str(form.get("currency", "")).strip() or None
    kind = str(form.get("kind", "percent"))
    products = [str(p) for p in form.getlist("product")]
    return discounts.create(
        edge, str(form.get("code", "")), percent=str(form.get("percent", "")).strip() if kind == "percent" else None,
        amount=_money(form, "amount", currency) if kind == "amount" else None,
        currency=currency if (kind == "amount" or str(form.get("min_order", "")).strip()) else None,
        products=products, seller=seller, max_uses=_count(form, "max_uses"), per_buyer=_count(form, "per_buyer"),
        min_order=_money(form, "min_order", currency), starts=str(form.get("starts", "")).strip() or None,
        ends=str(form.get("ends", "")).strip() or None, first_purchase_only=bool(form.get("first_purchase_only")),
        actor_id=request.user.id)


async def _handle(request: Request, page: str, sellers: list[str], admin: bool) -> Response:
    edge = edge_of(request)
    if request.method == "POST":
        form = await read_form(request)
        seller = str(form.get("seller", "")).strip()
        if seller not in sellers and not (admin and (seller == "" or seller in edge.catalog.current().sellers)):
            raise Forbidden("You do not manage that seller.")
        action = str(form.get("action", "create"))
        try:
            if action == "offer":
                if not seller:
                    raise ValidationFailed(fields={"seller": "Offers are a seller's."})
                if form.get("offer"):
                    upsells.set_offer(edge, str(form.get("product", "")), str(form.get("offer", "")),
                                      str(form.get("percent", "")).strip() or None, seller=seller)
                else:
                    upsells.remove_offer(edge, str(form.get("product", "")), seller)
                said = "Checkout offer saved."
            elif action == "create":
                _create(request, form, seller)
                said = f"The code {discounts.normalize_code(form.get('code'))} is live."
            elif action in ("pause", "resume"):
                discounts.set_paused(edge, str(form.get("code", "")), action == "pause", seller, request.user.id)
                said = f"The code {discounts.normalize_code(form.get('code'))} is {action}d."
            else:
                raise ValidationFailed(fields={"action": "Create, pause or resume."})
        except EdgeError as exc:
            if request.headers.get("accept", "").startswith("application/json"):
                raise
            return _page(request, page, sellers, admin, status=exc.status, error=exc.message, fields=exc.fields,
                         form={k: str(form.get(k, ""))[:200] for k in FIELDS})
        return flash.redirect(request, page, said)
    return _page(request, page, sellers, admin)


def _page(request: Request, page: str, sellers: list[str], admin: bool, status: int = 200, **extra: Any) -> Response:
    edge = edge_of(request)
    codes = discounts.listing(edge) if admin else [c for s in sellers for c in discounts.listing(edge, s)]
    catalogue = edge.catalog.current()
    products = sorted((p for p in catalogue.products.values() if admin or p.seller in sellers),
                      key=lambda p: (p.seller, p.title))
    extra.setdefault("form", {})
    extra.setdefault("fields", {})
    offers = upsells.offers(edge) if admin else [o for s in sellers for o in upsells.offers(edge, s)]
    return render(request, "edge/discounts.html", status=status, codes=codes, products=products, page=page, offers=offers,
                  sellers=sorted(catalogue.sellers) if admin else sellers, admin=admin,
                  currencies=list(CURRENCIES), **extra)


@requires("seller", forbidden="This page is for seller accounts.", forbidden_code="not_a_seller")
async def seller_discounts(request: Request) -> Response:
    sellers = payouts.managed_sellers(edge_of(request), request.user)
    if not sellers:
        raise Forbidden("Your account does not manage a seller page yet.", code="no_seller")
    return await _handle(request, SELLER_PAGE, sellers, admin=False)


@requires("admin", forbidden="This page is for administrators.")
async def admin_discounts(request: Request) -> Response:
    return await _handle(request, ADMIN_PAGE, [], admin=True)


AFFILIATES_PAGE = "/seller/affiliates"


@requires("seller", forbidden="This page is for seller accounts.", forbidden_code="not_a_seller")
async def seller_affiliates(request: Request) -> Response:
    edge = edge_of(request)
    sellers = payouts.managed_sellers(edge, request.user)
    if not sellers:
        raise Forbidden("Your account does not manage a seller page yet.", code="no_seller")
    if request.method == "POST":
        form = await read_form(request)
        seller = str(form.get("seller", "")).strip()
        if seller not in sellers:
            raise Forbidden("You do not manage that seller.")
        try:
            if form.get("action") in ("stop", "restart"):
                affiliates.set_active(edge, params.form_id(form, "affiliate"), form.get("action") == "restart", seller,
                                      request.user.id)
                said = "Saved."
            else:
                made = affiliates.invite(edge, seller, str(form.get("email", "")), str(form.get("percent", "")),
                                         [str(p) for p in form.getlist("product")],
                                         str(form.get("code", "")).strip() or None, request.user.id)
                said = f"{form.get('email')} is now an affiliate with the link code {made['code']}."
        except EdgeError as exc:
            return _affiliates_page(request, sellers, status=exc.status, error=exc.message, fields=exc.fields,
                                    form={k: str(form.get(k, ""))[:200] for k in ("email", "percent", "code")})
        return flash.redirect(request, AFFILIATES_PAGE, said)
    return _affiliates_page(request, sellers)


def _affiliates_page(request: Request, sellers: list[str], status: int = 200, **extra: Any) -> Response:
    edge = edge_of(request)
    found = [a for s in sellers for a in affiliates.listing(edge, seller=s)]
    products = sorted((p for p in edge.catalog.current().products.values() if p.seller in sellers),
                      key=lambda p: (p.seller, p.title))
    extra.setdefault("form", {})
    extra.setdefault("fields", {})
    return render(request, "edge/affiliates.html", status=status, affiliates=found, sellers=sellers,
                  products=products, mine=False, **extra)


@requires()
async def affiliate_dashboard(request: Request) -> Response:
    """An affiliate's links: each seller's code with its clicks, sales and earnings, its payouts,
    and the payout account they are paid to, set with the sellers' form (password re-check,
    announced, held: docs/promotions.md)."""
    edge = edge_of(request)
    found = affiliates.listing(edge, user_id=request.user.id)
    error, fields, values, resolved = None, {}, {}, None
    if request.method == "POST":
        form = await read_form(request)
        values = {k: str(form.get(k, "")) for k in ("affiliate", "account_name", "account_number", "bank_code",
                                                      "currency", "type", "action")}
        mine = {str(a["id"]): a for a in found}
        if values["affiliate"] not in mine:
            raise Forbidden("That is not one of your affiliate links.")
        try:
            answer = await payout_account_post(request, payout_accounts.affiliate_payee(mine[values["affiliate"]]["id"]),
                                               values, form, "/affiliate")
            if isinstance(answer, Response):
                return answer
            resolved = answer
        except ValidationFailed as exc:
            error, fields = exc.message, exc.fields
    form_currency, form_type = account_form(request, values)
    banks = await run_in_threadpool(payouts.call_banks, edge, form_currency, form_type)
    for a in found:
        payee = payout_accounts.affiliate_payee(a["id"])
        a["recipients"] = [{**r, "account": payout_accounts.describe(r["bank_name"], r["bank_code"], r["account_number"]),
                            "held_until": payout_accounts.held_until(edge, r)} for r in payouts.recipients(edge, payee)]
        a["payouts"] = payouts.listing(edge, 50, seller=payee)
    return render(request, "edge/affiliates.html", status=422 if error else 200, affiliates=found, sellers=[],
                  products=[], mine=True, form={}, fields=fields, error=error, values=values, resolved=resolved,
                  days=edge.settings.AFFILIATE_COOKIE_DAYS, password_needed=not reauth.signed_in_recently(request, request.user),
                  reauth_minutes=edge.settings.SENSITIVE_REAUTH_MINUTES, hold_hours=edge.settings.PAYOUT_ACCOUNT_HOLD_HOURS,
                  form_currency=form_currency, form_type=form_type, recipient_types=RECIPIENT_TYPES,
                  banks=banks if isinstance(banks, list) else None, minimum=edge.settings.PAYOUT_MINIMUM,
                  no_transfers=sorted(c for c in CURRENCIES if c not in RECIPIENT_TYPES))


ROUTES = [
    Route(AFFILIATES_PAGE, seller_affiliates, methods=["GET", "POST"]),
    Route("/affiliate", affiliate_dashboard, methods=["GET", "POST"]),
    Route(SELLER_PAGE, seller_discounts, methods=["GET", "POST"]),
    Route(ADMIN_PAGE, admin_discounts, methods=["GET", "POST"]),
]
