"""Shop pages: Buy, cart, wishlist, guest checkout and the Paystack callback.

CSRF and the static storefront: the product page's Buy and Add-to-cart forms are plain HTML
on the static site, which cannot carry our CSRF token. `POST /checkout` and `POST /cart/add`
are therefore exempt from the token (`CSRF_EXEMPT`) and protected differently:

- they refuse a request whose `Origin` (or, without it, `Referer`) is neither SITE_URL nor
  CHECKOUT_URL, so another site cannot post them from a browser that sends those headers;
- what they can do is harmless even when forged: add an item to a cart, or create a *pending*
  order and send the browser to Paystack's page, where the buyer still has to press Pay. No
  money moves and nothing is granted without the buyer's own action at Paystack;
- every other step (guest email, cart checkout, refunds, admin actions) is a form of ours and
  carries the CSRF token as usual.

Paystack calls run in a worker thread (`run_in_threadpool`); every database write runs on the
event loop's thread, so the edge's one connection never sees two transactions at once.
"""

from __future__ import annotations

import secrets
from dataclasses import replace
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import structlog
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from checkout.accounts import consent, password_change, sessions, users
from checkout.core.errors import Conflict, EdgeError, Forbidden, NotFound, ValidationFailed
from checkout.delivery import library
from checkout.ops import alerts
from checkout.payments import affiliates, carts, charges, discounts, invoices, licenses, orders, pricing, taxes, upsells
from checkout.payments.errors import PaymentsUnavailable
from checkout.reviews import invites, wishlist
from checkout.web.auth import SESSION_COOKIE, EdgeUser, authorize, requires, user_or_none
from checkout.web.base import client_ip, edge_of, redirect_to
from checkout.web.pages import message, read_form, render, set_cookie
from digitaldock.money import Money

log = structlog.get_logger("checkout.web.shop")


CSRF_EXEMPT = ("/checkout", "/cart/add", "/webhooks/")


CART_COOKIE = "dd_cart"
VIA_COOKIE = "dd_via"  # the affiliate referral, signed, AFFILIATE_COOKIE_DAYS (docs/promotions.md)
ORDERS_COOKIE = "dd_orders"  # a guest's orders: the references this browser placed, signed
ORDERS_KEPT = 20
ORDERS_COOKIE_DAYS = 30


def from_storefront(request: Request) -> bool:
    edge = edge_of(request)
    allowed = {edge.settings.SITE_URL, edge.settings.CHECKOUT_URL}
    origin = request.headers.get("origin")
    if origin is None:
        referer = request.headers.get("referer")
        if not referer:
            return True  # no header at all (privacy settings): the action is harmless, see above
        parts = urlsplit(referer)
        origin = f"{parts.scheme}://{parts.netloc}"
    return origin.rstrip("/") in allowed


def check_origin(request: Request) -> None:
    if not from_storefront(request):
        log.warning("cross_site_post_refused", path=request.url.path, origin=request.headers.get("origin"))
        raise Forbidden("This form must be sent from the DigitalDock store.", code="cross_site")


def signed_in(request: Request, back_to: str) -> EdgeUser | None:
    """The signed-in buyer, or None for a guest; one with outstanding legal updates accepts them
    first and comes back to `back_to`."""
    if user_or_none(request) is None:
        return None
    return authorize(request, next_url=back_to)


def guest_cart_id(request: Request) -> str | None:
    return edge_of(request).tokens.unsign_cookie("cart", request.cookies.get(CART_COOKIE))


def cart_owner(request: Request, create: bool = False) -> tuple[str | None, str | None]:
    """('u:<id>' or 'g:<id>', new guest id to set as cookie or None)."""
    user = user_or_none(request)
    if user is not None:
        return f"u:{user.id}", None
    gid = guest_cart_id(request)
    if gid:
        return f"g:{gid}", None
    if not create:
        return None, None
    gid = secrets.token_urlsafe(16)
    return f"g:{gid}", gid


def _merge_guest_cart(request: Request) -> None:
    """A guest's cart is kept on sign-in: its items join the account's cart."""
    user, gid = user_or_none(request), guest_cart_id(request)
    if user is not None and gid:
        carts.merge(edge_of(request), gid, user.id)


def cart_items(request: Request) -> list[pricing.Line]:
    _merge_guest_cart(request)
    owner, _ = cart_owner(request)
    if owner is None:
        return []
    edge = edge_of(request)
    out = []
    for row in carts.items(edge, owner):
        try:
            line = pricing.price_line(edge, row["product_slug"], row["amount"])
        except EdgeError:
            continue  # withdrawn from the catalogue: not shown, not charged
        out.append(line)
    return out


def browser_orders(request: Request) -> list[str]:
    """References of the guest orders this browser placed (newest first), from its signed cookie."""
    raw = edge_of(request).tokens.unsign_cookie("orders", request.cookies.get(ORDERS_COOKIE))
    return [ref for ref in raw.split(",") if ref] if raw else []


def remember_order(request: Request, response: Response, reference: str) -> None:
    kept = [reference, *(ref for ref in browser_orders(request) if ref != reference)][:ORDERS_KEPT]
    set_cookie(request, response, ORDERS_COOKIE, edge_of(request).tokens.sign_cookie("orders", ",".join(kept)),
               max_age=ORDERS_COOKIE_DAYS * 86400)


def viewable_order(request: Request, reference: str) -> dict[str, Any]:
    """The order, if the asker owns it: the signed-in account that placed it, or the browser that
    placed it as a guest. Anyone else learns nothing, not even that the reference exists: the
    same 404 as an unknown reference."""
    order = orders.get_order(edge_of(request), reference)
    user = user_or_none(request)
    if user is not None and user.id == order["user_id"]:
        return order
    if order["guest"] and reference in browser_orders(request):
        return order
    raise orders.unknown_order()


def _tax_fields(request: Request, params: Any) -> tuple[str | None, str]:
    """The buyer's country (for the tax) and optional VAT id, checked; a clear error names the field."""
    edge = edge_of(request)
    return taxes.parse_country(edge, params.get("country")), taxes.parse_vat_id(params.get("vat_id"))


def note_unavailable(edge: Any) -> None:
    """Paystack unreachable at checkout: the admins hear of it (at most once per
    ALERT_REPEAT_MINUTES), saying whether the circuit breaker is failing calls fast."""
    breaker = orders.paystack(edge).breaker
    state = "open: checkout fails fast until a probe call succeeds" if breaker.state != "closed" else "closed"
    alerts.raise_alert(edge, "paystack_unavailable", f"Paystack could not be reached at checkout "
                       f"({breaker.last_error or 'no answer'}); circuit breaker {state}.")
    edge.__dict__["_paystack_alerted"] = True


def note_available(edge: Any) -> None:
    """A checkout reached Paystack again: the `paystack_unavailable` alert is over."""
    if edge.__dict__.pop("_paystack_alerted", False):
        alerts.clear(edge, "paystack_unavailable")


async def _pay(request: Request, user: Any, items: list[tuple[str, Any]], guest: bool = False,
               country: str | None = None, vat_id: str = "", code: str | None = None, via: str | None = None,
               add: str | None = None) -> Response:
    edge = edge_of(request)
    # a guest reuses only a guest order placed from this very browser: never the payment page a
    # signed-in owner opened, nor one another browser started by typing the same address
    again = orders.recent_same_order(edge, user, items, among=browser_orders(request) if guest else None,
                                     guest_only=guest, country=country, code=code, add=add)
    if again:
        return redirect_to(again)
    try:
        order = orders.create_order(edge, user, items, guest=guest, country=country, vat_id=vat_id, code=code,
                                    via=via or referral(request), add=add)
    except Conflict as exc:
        if exc.code != "already_owned":
            raise
        return already_owned(request, exc, guest)
    step: Any = order
    for _ in range(2):  # a duplicate reference may hand back a fresh order to initialize, once
        order = step
        result = await run_in_threadpool(orders.call_initialize, edge, order)
        try:
            step = charges.record_initialize(edge, order, result)
        except PaymentsUnavailable:
            note_unavailable(edge)
            raise
        if isinstance(step, str):
            note_available(edge)
            break
    else:
        raise PaymentsUnavailable()
    response = redirect_to(step)
    if guest:  # Paystack sends this browser back to /checkout/callback: let it see its order there
        remember_order(request, response, order["reference"])
    return response


def already_owned(request: Request, exc: Conflict, guest: bool) -> Response:
    """Buying again what the buyer owns: "You already own this" and the way to it, not an error.
    (Still 409: nothing was ordered. A guest learns no more than the refusal always told.)"""
    if guest:
        return message(request, "You already own this", exc.message + " Nothing was charged. The receipt email "
                       "of that order has a link to its files.", status=409,
                       links=[("/login?next=/library", "Sign in to your library")])
    return message(request, "You already own this", exc.message + " Nothing was charged.", status=409,
                   links=[("/library", "Open your library"), ("/orders", "Your orders")])


async def checkout_post(request: Request) -> Response:
    """The static product page's Buy form: product=<slug> [amount=<decimal> for pay-what-you-want]."""
    check_origin(request)
    edge = edge_of(request)
    form = await read_form(request)
    slug, amount = str(form.get("product", "")), str(form.get("amount", "")).strip() or None
    pricing.price_line(edge, slug, amount)  # unknown product or too-low amount: a clear error now
    country, vat_id = _tax_fields(request, form)
    code = discount_code(form)
    remembered = remember_referral(request, form)
    here = "/buy?" + urlencode({"product": slug, **({"amount": amount} if amount else {}),
                                **({"code": code} if code else {}), **({"country": country} if country else {})})
    user = signed_in(request, here)
    if user is None or code:  # a discount is shown on the checkout page before paying
        return remembered(redirect_to(here))
    return remembered(await _pay(request, user, [(slug, amount)], country=country, vat_id=vat_id,
                                 via=remembered.via))


class _Referral:
    """Sets the referral cookie on the response it is given (when the form brought a known code)."""

    def __init__(self, request: Request, via: str | None):
        self.request, self.via = request, via

    def __call__(self, response: Response) -> Response:
        if self.via:
            edge = edge_of(self.request)
            set_cookie(self.request, response, VIA_COOKIE, edge.tokens.sign_cookie("via", self.via),
                       max_age=edge.settings.AFFILIATE_COOKIE_DAYS * 86400)
        return response


def remember_referral(request: Request, form: Any) -> _Referral:
    """A Buy or Add-to-cart form sent with an affiliate's `via` code counts a click and is
    remembered for AFFILIATE_COOKIE_DAYS; an unknown or malformed code is ignored."""
    via = affiliates.normalize_via(form.get("via"))
    if via and affiliates.record_click(edge_of(request), via):
        return _Referral(request, via)
    return _Referral(request, None)


def referral(request: Request) -> str | None:
    """The affiliate code this browser was referred with in the last AFFILIATE_COOKIE_DAYS."""
    return edge_of(request).tokens.unsign_cookie("via", request.cookies.get(VIA_COOKIE))


def discount_code(params: Any) -> str | None:
    """The `code` field (form or query), upper-cased; None when empty; a clear 422 naming `code`
    for anything that cannot be a code (control characters, too long, not text)."""
    raw = params.get("code")
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    return discounts.normalize_code(raw)


def _start_items(request: Request, params: Any) -> tuple[list[dict[str, Any]], dict[str, str]]:
    edge = edge_of(request)
    if params.get("cart"):
        lines = cart_items(request)
        return lines, {"cart": "1"}
    slug = str(params.get("product", ""))
    amount = str(params.get("amount", "")).strip() or None
    line = pricing.price_line(edge, slug, amount)
    return [line], {"product": slug, **({"amount": amount} if amount else {})}


def _with_code(request: Request, lines: list[pricing.Line], code: str | None, user: Any) -> tuple[list[pricing.Line], dict[str, str]]:
    """The lines as the code prices them, or unchanged with the reason under the `code` field."""
    try:
        return discounts.quote(edge_of(request), lines, code, user), {}
    except ValidationFailed as exc:
        return lines, {"code": exc.message}


async def checkout_start(request: Request) -> Response:
    """Review the order; sign in or give an email to check out as a guest, then pay."""
    edge = edge_of(request)
    params = request.query_params if request.method == "GET" else await read_form(request)
    lines, keep = _start_items(request, params)
    try:
        code = discount_code(params)
    except ValidationFailed as exc:
        return _start_page(request, lines, keep, "/buy?" + urlencode(keep), user_or_none(request),
                           error=exc.message, fields=exc.fields, status=exc.status)
    add = str(params.get("add") or "")[:200] or None
    here = "/buy?" + urlencode({**keep, **({"code": code} if code else {}), **({"add": add} if add else {})})
    user = signed_in(request, here)
    try:
        offered = upsells.with_offer(edge, lines, add, user)
    except ValidationFailed as exc:
        return _start_page(request, lines, keep, "/buy?" + urlencode(keep), user, error=exc.message, fields=exc.fields,
                           code=code or "", status=exc.status)
    if add:
        keep = {**keep, "add": add}
    if request.method == "GET" or not lines:
        priced, problems = _with_code(request, offered, code, user)
        offer = None if add or not lines else upsells.offer_for(edge, lines, user)
        return _start_page(request, priced, keep, here, user, code=code or "", fields=problems, offer=offer,
                           status=422 if problems else 200)
    items = [(x.product_slug, x.chosen) for x in lines]
    try:
        country, vat_id = _tax_fields(request, params)
        if user is None:
            user = _guest_user(request, params)
            response = await _pay(request, user, items, guest=True, country=country, vat_id=vat_id, code=code, add=add)
        else:
            response = await _pay(request, user, items, country=country, vat_id=vat_id, code=code, add=add)
    except ValidationFailed as exc:
        return _start_page(request, lines, keep, here, user, error=exc.message, fields=exc.fields, code=code or "",
                           form={"email": str(params.get("email", "")), "country": str(params.get("country", "")),
                                 "vat_id": str(params.get("vat_id", ""))}, status=exc.status)
    if keep.get("cart"):
        owner, _ = cart_owner(request)
        if owner:
            carts.clear(edge, owner)
    return response


def _start_page(request: Request, lines: list[pricing.Line], keep: dict[str, str], here: str, user: Any,
                status: int = 200, **extra: Any) -> Response:
    edge = edge_of(request)
    total = pricing.total(lines)
    listed = pricing.total([replace(x, price=x.list_price or x.price) for x in lines])
    discount = (listed - total) if listed and total and listed != total else None
    extra.setdefault("code", "")
    extra.setdefault("offer", None)
    docs = [d for d in consent.required_now(edge, "buyer")]
    extra.setdefault("form", {"country": request.query_params.get("country", "")})
    extra.setdefault("fields", {})
    return render(request, "edge/checkout_start.html", status=status, lines=lines, keep=keep, buyer=user,
                  total=total, discount=discount, countries=taxes.rates(edge).choices(),
                  prices_include_tax=edge.settings.PRICES_INCLUDE_TAX, mixed=len({x.currency for x in lines}) > 1,
                  login_url="/login?next=" + quote(here, safe=""), docs=docs, **extra)


def _guest_user(request: Request, form: Any) -> Any:
    """The account a guest order belongs to: the email decides. A new address gets an unverified
    account (its receipt carries a claim link); an address that has an account, verified or not,
    buys into that account, whose owner gets the receipt and finds the purchase in their library.

    Every step before that is the same for every address (the terms, the limit), so a guest
    checkout does not tell whether an address has an account."""
    edge = edge_of(request)
    email = users.normalize_email(str(form.get("email", "")))
    if not users.EMAIL.match(email) or len(email) > 254:
        raise ValidationFailed(fields={"email": "Enter a valid email address for your receipt."})
    # one box accepts every document at once (its value lists them: "terms,privacy"); each is
    # recorded at the version the page showed, as when there was one box per document
    docs = consent.check_accepted(edge, "buyer", [s for v in form.getlist("accept") for s in str(v).split(",")])
    edge.hit("GUEST_CHECKOUT_LIMIT", "ip", client_ip(request))
    existing = users.get_by_email(edge, email)
    if existing is None:
        try:
            user_id = users.create_user(edge, email, email.split("@", 1)[0][:80].ljust(2, "_"), "buyer",
                                        "!guest-" + secrets.token_hex(16), docs, client_ip(request),
                                        verified=False, send_verification=False)
            return users.get_user(edge, user_id)
        except Conflict:  # the same address, a moment ago, in another request
            existing = users.get_by_email(edge, email)
    if existing is None or not users.is_active(existing):
        # disabled or being deleted: nobody could open its library (see docs/security.md)
        raise ValidationFailed("This email address cannot take a guest order. Please use another one.",
                               fields={"email": "Use another address."}, code="email_unavailable")
    return existing


async def claim_page(request: Request) -> Response:
    """A guest's receipt link: choose a password, the address is confirmed, the library opens."""
    edge = edge_of(request)
    if request.method == "GET":
        token = request.query_params.get("token", "")
        edge.tokens.loads("claim", token, 30 * 86400)
        return render(request, "edge/claim.html", token=token, fields={})
    form = await read_form(request)
    token = str(form.get("token", ""))
    data = edge.tokens.loads("claim", token, 30 * 86400)
    user = users.get_user(edge, data["u"]) if isinstance(data.get("u"), int) else None
    if user is None or user["email"] != data.get("e"):
        raise NotFound()
    if user["email_verified_at"] is not None:
        return message(request, "Already claimed", "This account already has a password. Please sign in.",
                       links=[("/login?next=/library", "Sign in")])
    password = str(form.get("password", ""))
    try:
        password_change.check_new_password(edge, user, password)
    except ValidationFailed as exc:
        return render(request, "edge/claim.html", status=exc.status, token=token, fields=exc.fields, error=exc.message)
    pw_hash = await run_in_threadpool(edge.hasher.hash, password)
    password_change.claim_guest(edge, user, pw_hash, client_ip(request))
    raw = sessions.create_session(edge, user["id"], client_ip(request), request.headers.get("user-agent"))
    response = redirect_to("/library")
    set_cookie(request, response, SESSION_COOKIE, edge.tokens.sign_cookie("session", raw),
               max_age=edge.settings.SESSION_DAYS * 86400)
    return response


async def cart_add(request: Request) -> Response:
    check_origin(request)
    edge = edge_of(request)
    form = await read_form(request)
    slug, amount = str(form.get("product", "")), str(form.get("amount", "")).strip() or None
    line = pricing.price_line(edge, slug, amount)
    owner, new_guest = cart_owner(request, create=True)
    carts.add(edge, owner, slug, line.chosen)
    response = remember_referral(request, form)(redirect_to("/cart"))
    if new_guest:
        set_cookie(request, response, CART_COOKIE, edge.tokens.sign_cookie("cart", new_guest), max_age=30 * 86400)
    return response


async def cart_page(request: Request) -> Response:
    lines = cart_items(request)
    response = render(request, "edge/cart.html", lines=lines, total=pricing.total(lines),
                      mixed=len({x.currency for x in lines}) > 1)
    if user_or_none(request) is not None and request.cookies.get(CART_COOKIE):
        response.delete_cookie(CART_COOKIE, path="/")
    return response


async def cart_remove(request: Request) -> Response:
    edge = edge_of(request)
    form = await read_form(request)
    owner, _ = cart_owner(request)
    if owner:
        carts.remove(edge, owner, str(form.get("product", "")))
    return redirect_to("/cart")


async def cart_summary(request: Request) -> Response:
    _merge_guest_cart(request)
    owner, _ = cart_owner(request)
    return JSONResponse({"count": carts.count(edge_of(request), owner) if owner else 0})


@requires()
async def wishlist_page(request: Request) -> Response:
    edge = edge_of(request)
    user = request.user
    if request.method == "POST":
        form = await read_form(request)
        slug = str(form.get("product", ""))
        if form.get("remove"):
            carts.unsave(edge, user.id, slug)
        else:
            pricing.price_line(edge, slug)  # only a product the catalogue lists
            wishlist.save(edge, user.id, slug)  # with its price, for the price-drop email
        return redirect_to("/wishlist")
    items = []
    products = edge.catalog.current().products
    for slug in carts.wishlist(edge, user.id):
        if slug in products:
            items.append(products[slug])
    return render(request, "edge/wishlist.html", items=items, price_alerts=invites.wants(edge, user.id, "price_drop"))


async def checkout_callback(request: Request) -> Response:
    """Paystack sends the buyer back here. Verify through the API (the same code path as the
    webhook) and show paid, pending or failed; never fulfil on the redirect alone. Only the
    order's owner sees it (`viewable_order`): a reference is not a secret, it is in URLs."""
    edge = edge_of(request)
    reference = request.query_params.get("reference") or request.query_params.get("trxref") or ""
    order = viewable_order(request, reference)
    if order["status"] == "pending":
        result = await run_in_threadpool(charges.call_verify, edge, reference)
        charges.apply_verify_result(edge, reference, result, "verify")
        order = orders.get_order(edge, reference)
    lines = orders.order_lines(edge, order["id"])
    tax = sum(x["tax"] for x in lines)
    items = library.of_order(edge, order["id"]) if order["status"] in orders.PAID_STATES else []
    return render(request, "edge/order_status.html", order=order, lines=lines, items=items,
                  allowance=edge.settings.DOWNLOADS_PER_FILE, total=Money(order["currency"], order["amount"]),
                  tax=Money(order["currency"], tax) if tax else None,
                  license_keys=licenses.for_order(edge, order["id"]), invoices=invoices.of_order(edge, order["id"]))


async def retry_order(request: Request) -> Response:
    """A declined or abandoned payment: put the order's products back in the cart (at the price
    the buyer chose, for pay-what-you-want) and go to checkout with that cart."""
    edge = edge_of(request)
    order = viewable_order(request, request.path_params["reference"])
    if order["status"] not in ("failed", "abandoned"):
        return redirect_to(f"/checkout/callback?reference={order['reference']}")
    owner, new_guest = cart_owner(request, create=True)
    for line in orders.order_lines(edge, order["id"]):
        prod = edge.catalog.current().products.get(line["product_slug"])
        if prod is not None:  # withdrawn since: not offered again
            # the price the buyer chose: before a discount, and with its tax when prices include tax
            chosen = line["list_amount"] or line["amount"] + (line["tax"] if order["prices_include_tax"] else 0)
            carts.add(edge, owner, prod.slug, chosen if prod.pwyw_minimum is not None else None)
    response = redirect_to("/buy?cart=1")
    if new_guest:
        set_cookie(request, response, CART_COOKIE, edge.tokens.sign_cookie("cart", new_guest), max_age=30 * 86400)
    return response


ROUTES = [
    Route("/checkout", checkout_post, methods=["POST"]),
    Route("/buy", checkout_start, methods=["GET", "POST"]),
    Route("/checkout/callback", checkout_callback),
    Route("/orders/{reference}/retry", retry_order, methods=["POST"]),
    Route("/claim", claim_page, methods=["GET", "POST"]),
    Route("/cart", cart_page),
    Route("/cart/add", cart_add, methods=["POST"]),
    Route("/cart/remove", cart_remove, methods=["POST"]),
    Route("/api/cart/summary", cart_summary),
    Route("/wishlist", wishlist_page, methods=["GET", "POST"]),
]
