"""Payment pages: Buy, cart, wishlist, guest checkout, the Paystack callback and webhook, the
buyer's orders with refund requests, a seller's earnings, and the admin's orders, refunds and
payouts.

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
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import structlog
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from . import accounts, audit, consent, ledger, payments
from .db import atomic
from .errors import BadRequest, EdgeError, Forbidden, NotFound, ValidationFailed
from .group_commit import group_commit
from .paystack import ip_allowed, signature_ok
from .web import (SESSION_COOKIE, Redirect, client_ip, current, edge_of, message, read_form, render, require_admin,
                  require_user, set_cookie)

log = structlog.get_logger("checkout.shop")
CSRF_EXEMPT = ("/checkout", "/cart/add", "/webhooks/")
CART_COOKIE = "dd_cart"


# --- helpers --------------------------------------------------------------------------------

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


def signed_in(request: Request, back_to: str = "/buy") -> Any | None:
    """The signed-in user (None for a guest); one with outstanding legal updates accepts them first."""
    found = current(request)
    if found is None:
        return None
    user = found[1]
    if consent.outstanding(edge_of(request), user):
        raise Redirect("/account/consent?next=" + quote(back_to, safe=""))
    return user


def guest_cart_id(request: Request) -> str | None:
    return edge_of(request).tokens.unsign_cookie("cart", request.cookies.get(CART_COOKIE))


def cart_owner(request: Request, create: bool = False) -> tuple[str | None, str | None]:
    """('u:<id>' or 'g:<id>', new guest id to set as cookie or None)."""
    found = current(request)
    if found is not None:
        return f"u:{found[1]['id']}", None
    gid = guest_cart_id(request)
    if gid:
        return f"g:{gid}", None
    if not create:
        return None, None
    gid = secrets.token_urlsafe(16)
    return f"g:{gid}", gid


def merge_guest_cart(request: Request, user: Any) -> None:
    """A guest's cart is kept on sign-in: its items join the account's cart."""
    gid = guest_cart_id(request)
    if not gid:
        return
    edge = edge_of(request)
    with atomic(edge.db):
        edge.db.execute("INSERT OR IGNORE INTO cart_items (owner, product_slug, amount, added_at)"
                        " SELECT ?, product_slug, amount, added_at FROM cart_items WHERE owner = ?",
                        (f"u:{user['id']}", f"g:{gid}"))
        edge.db.execute("DELETE FROM cart_items WHERE owner = ?", (f"g:{gid}",))


def cart_items(request: Request) -> list[dict[str, Any]]:
    found = current(request)
    if found is not None:
        merge_guest_cart(request, found[1])
    owner, _ = cart_owner(request)
    if owner is None:
        return []
    edge = edge_of(request)
    out = []
    for row in edge.db.execute("SELECT * FROM cart_items WHERE owner = ? ORDER BY id", (owner,)).fetchall():
        try:
            line = payments.price_line(edge, row["product_slug"], row["amount"])
        except EdgeError:
            continue  # withdrawn from the catalogue: not shown, not charged
        out.append({**line, "display": payments.display(line["amount"], line["currency"])})
    return out


def _redirect_to(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _recent_same_order(edge: Any, user: Any, items: list[tuple[str, Any]]) -> str | None:
    """A double-clicked Buy button reuses the pending order (and Paystack page) of a moment ago."""
    lines = payments.price_items(edge, items)
    want = sorted((x["product_slug"], x["amount"]) for x in lines)
    for o in edge.db.execute("SELECT id, authorization_url FROM orders WHERE user_id = ? AND status = 'pending'"
                             " AND authorization_url IS NOT NULL AND created_at >= ? ORDER BY id DESC LIMIT 5",
                             (user["id"], edge.clock.iso(-1800))).fetchall():
        have = sorted((x["product_slug"], x["amount"]) for x in payments.order_lines(edge, o["id"]))
        if have == want:
            return str(o["authorization_url"])
    return None


async def _pay(request: Request, user: Any, items: list[tuple[str, Any]], guest: bool = False) -> Response:
    edge = edge_of(request)
    again = _recent_same_order(edge, user, items)
    if again:
        return _redirect_to(again)
    order = payments.create_order(edge, user, items, guest=guest)
    result = await run_in_threadpool(payments.call_initialize, edge, order)
    url = payments.record_authorization(edge, order, result)
    return _redirect_to(url)


# --- buy --------------------------------------------------------------------------------------

async def checkout_post(request: Request) -> Response:
    """The static product page's Buy form: product=<slug> [amount=<decimal> for pay-what-you-want]."""
    check_origin(request)
    edge = edge_of(request)
    form = await read_form(request)
    slug, amount = str(form.get("product", "")), str(form.get("amount", "")).strip() or None
    payments.price_line(edge, slug, amount)  # unknown product or too-low amount: a clear error now
    here = "/buy?" + urlencode({"product": slug, **({"amount": amount} if amount else {})})
    user = signed_in(request, here)
    if user is None:
        return _redirect_to(here)
    return await _pay(request, user, [(slug, amount)])


def _start_items(request: Request, params: Any) -> tuple[list[dict[str, Any]], dict[str, str]]:
    edge = edge_of(request)
    if params.get("cart"):
        lines = cart_items(request)
        return lines, {"cart": "1"}
    slug = str(params.get("product", ""))
    amount = str(params.get("amount", "")).strip() or None
    line = payments.price_line(edge, slug, amount)
    line["display"] = payments.display(line["amount"], line["currency"])
    return [line], {"product": slug, **({"amount": amount} if amount else {})}


async def checkout_start(request: Request) -> Response:
    """Review the order; sign in or give an email to check out as a guest, then pay."""
    edge = edge_of(request)
    params = request.query_params if request.method == "GET" else await read_form(request)
    lines, keep = _start_items(request, params)
    here = "/buy?" + urlencode(keep)
    user = signed_in(request, here)
    if request.method == "GET" or not lines:
        return _start_page(request, lines, keep, here, user)
    items = [(x["product_slug"], x["amount"] if x["pwyw_minimum"] is not None else None) for x in lines]
    try:
        if user is None:
            user = _guest_user(request, params)
            response = await _pay(request, user, items, guest=True)
        else:
            response = await _pay(request, user, items)
    except ValidationFailed as exc:
        return _start_page(request, lines, keep, here, user, error=exc.message, fields=exc.fields,
                           form={"email": str(params.get("email", ""))}, status=exc.status)
    if keep.get("cart"):
        owner, _ = cart_owner(request)
        with atomic(edge.db):
            edge.db.execute("DELETE FROM cart_items WHERE owner = ?", (owner,))
    return response


def _start_page(request: Request, lines: list[dict[str, Any]], keep: dict[str, str], here: str, user: Any,
                status: int = 200, **extra: Any) -> Response:
    edge = edge_of(request)
    total = sum(x["amount"] for x in lines)
    currencies = sorted({x["currency"] for x in lines})
    docs = [d for d in consent.required_now(edge, "buyer")]
    extra.setdefault("form", {})
    extra.setdefault("fields", {})
    return render(request, "edge/checkout_start.html", status=status, lines=lines, keep=keep, buyer=user,
                  total=payments.display(total, currencies[0]) if len(currencies) == 1 else "",
                  mixed=len(currencies) > 1, login_url="/login?next=" + quote(here, safe=""), docs=docs, **extra)


def _guest_user(request: Request, form: Any) -> Any:
    """An unverified account for a guest's email (created once); its receipt carries a claim link."""
    edge = edge_of(request)
    email = accounts.normalize_email(str(form.get("email", "")))
    if not accounts.EMAIL.match(email) or len(email) > 254:
        raise ValidationFailed(fields={"email": "Enter a valid email address for your receipt."})
    existing = accounts.get_by_email(edge, email)
    if existing is not None:
        if existing["email_verified_at"] is not None or not accounts.is_active(existing):
            raise ValidationFailed("An account already uses this email address. Please sign in to buy with it.",
                                   fields={"email": "Sign in to use this address."}, code="sign_in_required")
        return existing
    docs = consent.check_accepted(edge, "buyer", [str(v) for v in form.getlist("accept")])
    edge.hit("REGISTER_LIMIT", "ip", client_ip(request))  # a guest account is a registration
    user_id = accounts.create_user(edge, email, email.split("@", 1)[0][:80].ljust(2, "_"), "buyer",
                                   "!guest-" + secrets.token_hex(16), docs, client_ip(request),
                                   verified=False, send_verification=False)
    return accounts.get_user(edge, user_id)


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
    user = accounts.get_user(edge, int(data["u"]))
    if user is None or user["email"] != data.get("e"):
        raise NotFound()
    if user["email_verified_at"] is not None:
        return message(request, "Already claimed", "This account already has a password. Please sign in.",
                       links=[("/login?next=/library", "Sign in")])
    password = str(form.get("password", ""))
    try:
        accounts.check_new_password(edge, user, password)
    except ValidationFailed as exc:
        return render(request, "edge/claim.html", status=exc.status, token=token, fields=exc.fields, error=exc.message)
    pw_hash = await run_in_threadpool(edge.hasher.hash, password)
    with atomic(edge.db):
        edge.db.execute("UPDATE users SET password_hash = ?, password_changed_at = ?, email_verified_at = ? WHERE id = ?",
                        (pw_hash, edge.clock.iso(), edge.clock.iso(), user["id"]))
        audit.record(edge, "payment.guest_claimed", actor_id=user["id"], subject_id=user["id"], ip=client_ip(request))
    raw = accounts.create_session(edge, user["id"], client_ip(request), request.headers.get("user-agent"))
    response = _redirect_to("/library")
    set_cookie(request, response, SESSION_COOKIE, edge.tokens.sign_cookie("session", raw),
               max_age=edge.settings.SESSION_DAYS * 86400)
    return response


# --- cart and wishlist ------------------------------------------------------------------------

async def cart_add(request: Request) -> Response:
    check_origin(request)
    edge = edge_of(request)
    form = await read_form(request)
    slug, amount = str(form.get("product", "")), str(form.get("amount", "")).strip() or None
    line = payments.price_line(edge, slug, amount)
    owner, new_guest = cart_owner(request, create=True)
    with atomic(edge.db):
        edge.db.execute("INSERT INTO cart_items (owner, product_slug, amount, added_at) VALUES (?,?,?,?)"
                        " ON CONFLICT (owner, product_slug) DO UPDATE SET amount = excluded.amount",
                        (owner, slug, line["amount"] if line["pwyw_minimum"] is not None else None, edge.clock.iso()))
    response = _redirect_to("/cart")
    if new_guest:
        set_cookie(request, response, CART_COOKIE, edge.tokens.sign_cookie("cart", new_guest), max_age=30 * 86400)
    return response


async def cart_page(request: Request) -> Response:
    found = current(request)
    lines = cart_items(request)
    currencies = sorted({x["currency"] for x in lines})
    total = payments.display(sum(x["amount"] for x in lines), currencies[0]) if len(currencies) == 1 else ""
    response = render(request, "edge/cart.html", lines=lines, total=total, mixed=len(currencies) > 1)
    if found is not None and request.cookies.get(CART_COOKIE):
        response.delete_cookie(CART_COOKIE, path="/")
    return response


async def cart_remove(request: Request) -> Response:
    edge = edge_of(request)
    form = await read_form(request)
    owner, _ = cart_owner(request)
    if owner:
        with atomic(edge.db):
            edge.db.execute("DELETE FROM cart_items WHERE owner = ? AND product_slug = ?", (owner, str(form.get("product", ""))))
    return _redirect_to("/cart")


async def cart_summary(request: Request) -> Response:
    found = current(request)
    if found is not None:
        merge_guest_cart(request, found[1])
    owner, _ = cart_owner(request)
    count = 0
    if owner:
        count = edge_of(request).db.execute("SELECT COUNT(*) FROM cart_items WHERE owner = ?", (owner,)).fetchone()[0]
    return JSONResponse({"count": count})


async def wishlist_page(request: Request) -> Response:
    edge = edge_of(request)
    user = require_user(request)
    if request.method == "POST":
        form = await read_form(request)
        slug = str(form.get("product", ""))
        with atomic(edge.db):
            if form.get("remove"):
                edge.db.execute("DELETE FROM wishlist_items WHERE user_id = ? AND product_slug = ?", (user["id"], slug))
            else:
                payments.price_line(edge, slug)
                edge.db.execute("INSERT OR IGNORE INTO wishlist_items (user_id, product_slug, added_at) VALUES (?,?,?)",
                                (user["id"], slug, edge.clock.iso()))
        return _redirect_to("/wishlist")
    items = []
    products = edge.catalog.current().products
    for row in edge.db.execute("SELECT * FROM wishlist_items WHERE user_id = ? ORDER BY id", (user["id"],)):
        p = products.get(row["product_slug"])
        if isinstance(p, dict):
            items.append({"slug": row["product_slug"], "title": p["title"], "url": p.get("url", ""),
                          "display": payments.display(int(p["price"]), p["currency"])})
    return render(request, "edge/wishlist.html", items=items)


# --- Paystack callback and webhook ----------------------------------------------------------

async def checkout_callback(request: Request) -> Response:
    """Paystack sends the buyer back here. Verify through the API (the same code path as the
    webhook) and show paid, pending or failed; never fulfil on the redirect alone."""
    edge = edge_of(request)
    reference = request.query_params.get("reference") or request.query_params.get("trxref") or ""
    order = payments.get_order(edge, reference)
    if order["status"] == "pending":
        result = await run_in_threadpool(payments.call_verify, edge, reference)
        payments.apply_verify_result(edge, reference, result, "verify")
        order = payments.get_order(edge, reference)
    lines = payments.order_lines(edge, order["id"])
    return render(request, "edge/order_status.html", order=order, lines=lines,
                  total=payments.display(order["amount"], order["currency"]))


def webhook_counter(edge: Any) -> Any:
    """`digitaldock_payment_events_total{outcome}` on the edge's own registry (created once)."""
    from prometheus_client import Counter

    m = edge.metrics
    if not hasattr(m, "payment_events"):
        m.payment_events = Counter("digitaldock_payment_events", "Paystack webhooks received, by outcome",
                                   ("outcome",), registry=m.registry)
    return m.payment_events


async def paystack_webhook(request: Request) -> Response:
    edge = edge_of(request)
    raw = await request.body()
    counter = webhook_counter(edge)
    if edge.settings.PAYSTACK_CHECK_SOURCE_IP and not ip_allowed(client_ip(request)):
        log.warning("webhook_wrong_source", ip=client_ip(request))
        payments.record_rejected(edge, raw, "wrong_source")
        counter.labels("wrong_source").inc()
        return JSONResponse({"code": "forbidden_source", "message": "Not a Paystack address."}, status_code=403)
    if not signature_ok(edge.settings.PAYSTACK_SECRET_KEY.reveal(), raw, request.headers.get("x-paystack-signature")):
        log.warning("webhook_bad_signature", ip=client_ip(request), size=len(raw))
        payments.record_rejected(edge, raw, "bad_signature")
        counter.labels("bad_signature").inc()
        return JSONResponse({"code": "invalid_signature", "message": "The signature does not match."}, status_code=401)
    try:
        outcome = await group_commit(edge).receive(raw)
    except payments.RetryLater as exc:
        counter.labels("retry_later").inc()
        return JSONResponse({"code": "retry_later", "message": str(exc)}, status_code=409)
    counter.labels(outcome).inc()
    if outcome == "malformed":
        raise BadRequest("The event is not valid JSON with event and data.", code="malformed_event")
    return JSONResponse({"status": "ok", "outcome": outcome})


# --- buyer's orders and refunds ---------------------------------------------------------------

async def orders_page(request: Request) -> Response:
    edge = edge_of(request)
    user = require_user(request)
    orders = []
    for o in edge.db.execute("SELECT * FROM orders WHERE user_id = ? ORDER BY id DESC LIMIT 200", (user["id"],)):
        order = dict(o)
        lines = payments.order_lines(edge, order["id"])
        for line in lines:
            line["display"] = payments.display(line["amount"], line["currency"])
            line["refundable"] = payments.refundable(edge, order, line)
            r = edge.db.execute("SELECT status FROM refunds WHERE order_line_id = ? ORDER BY id DESC LIMIT 1",
                                (line["id"],)).fetchone()
            line["refund"] = r["status"] if r else None
        orders.append({**order, "lines": lines, "total": payments.display(order["amount"], order["currency"])})
    return render(request, "edge/orders.html", orders=orders, notice=request.query_params.get("notice", ""),
                  window=edge.settings.REFUND_WINDOW_DAYS)


async def refund_request(request: Request) -> Response:
    edge = edge_of(request)
    user = require_user(request)
    form = await read_form(request)
    try:
        line_id = int(str(form.get("line", "")))
    except ValueError:
        raise NotFound() from None
    payments.request_refund(edge, user, line_id, str(form.get("reason", "")))
    return _redirect_to("/orders?notice=refund_requested")


# --- sellers --------------------------------------------------------------------------------

async def seller_earnings(request: Request) -> Response:
    edge = edge_of(request)
    user = require_user(request)
    slugs = payments.sellers_of(edge, user["id"]) if user["role"] != "admin" else \
        [r[0] for r in edge.db.execute("SELECT seller_slug FROM seller_accounts ORDER BY seller_slug")]
    if user["role"] not in ("seller", "admin"):
        raise Forbidden("This page is for sellers.")
    error, fields = None, {}
    if request.method == "POST":
        form = await read_form(request)
        slug = str(form.get("seller", ""))
        if slug not in slugs:
            raise Forbidden("You do not manage that seller.")
        name, number = str(form.get("account_name", "")), str(form.get("account_number", ""))
        bank, currency = str(form.get("bank_code", "")), str(form.get("currency", "NGN"))
        try:
            payments.check_bank_account(number, currency)
            result = await run_in_threadpool(payments.call_recipient, edge, name or slug, number, bank, currency)
            payments.record_bank_account(edge, slug, name, bank, number, currency, result)
            return _redirect_to("/seller/earnings?notice=bank_saved")
        except ValidationFailed as exc:
            error, fields = exc.message, exc.fields
    sellers = []
    for slug in slugs:
        sellers.append({"slug": slug, "stats": ledger.seller_stats(edge, slug),
                        "recipients": [dict(r) for r in edge.db.execute(
                            "SELECT * FROM payout_recipients WHERE seller_slug = ?", (slug,))],
                        "payouts": [dict(r) for r in edge.db.execute(
                            "SELECT * FROM payouts WHERE seller_slug = ? ORDER BY id DESC LIMIT 50", (slug,))]})
    return render(request, "edge/seller_earnings.html", status=422 if error else 200, sellers=sellers,
                  display=payments.display, error=error, fields=fields,
                  notice=request.query_params.get("notice", ""), window=edge.settings.REFUND_WINDOW_DAYS,
                  minimum=edge.settings.PAYOUT_MINIMUM)


# --- admin ----------------------------------------------------------------------------------

async def admin_orders(request: Request) -> Response:
    edge = edge_of(request)
    require_admin(request)
    status = request.query_params.get("status") or None
    sql, args = "SELECT * FROM orders", ()
    if status:
        sql, args = sql + " WHERE status = ?", (status,)
    orders = [dict(r) for r in edge.db.execute(sql + " ORDER BY id DESC LIMIT 300", args)]
    returns = {r["order_id"]: dict(r) for r in edge.db.execute("SELECT * FROM flagged_refunds")}
    for o in orders:
        o["total"] = payments.display(o["amount"], o["currency"])
        o["refund"] = returns.get(o["id"])
        if o["refund"] and o["refund"]["amount"] is not None:
            o["refund"]["display"] = payments.display(o["refund"]["amount"], o["refund"]["currency"])
    unknown = [dict(r) for r in edge.db.execute(
        "SELECT id, event, reference, received_at, outcome FROM payment_events WHERE outcome IN"
        " ('unknown_reference', 'unmatched_refund', 'amount_mismatch', 'flagged') ORDER BY id DESC LIMIT 100")]
    return render(request, "edge/admin_orders.html", orders=orders, filter_status=status or "", unknown=unknown,
                  problems=ledger.check(edge), notice=request.query_params.get("notice", ""))


async def admin_return_payment(request: Request) -> Response:
    """Return a flagged order's payment in full through Paystack (docs/payments.md)."""
    edge = edge_of(request)
    admin = require_admin(request)
    await read_form(request)  # the CSRF token is checked by the middleware
    order = payments.request_flagged_refund(edge, int(request.path_params["order_id"]), admin["id"])
    result = await run_in_threadpool(payments.call_flagged_refund, edge, order)
    outcome = payments.record_flagged_refund_result(edge, order["id"], result)
    notice = ("refund_requested" if outcome == "processing" else "refund_failed")
    return _redirect_to(f"/admin/orders?status=flagged&notice={notice}")


async def admin_refunds(request: Request) -> Response:
    edge = edge_of(request)
    admin = require_admin(request)
    if request.method == "POST":
        form = await read_form(request)
        try:
            refund_id = int(str(form.get("refund", "")))
        except ValueError:
            raise NotFound() from None
        action = str(form.get("action", ""))
        if action in ("approve", "reject"):
            outcome = payments.decide_refund(edge, refund_id, admin["id"], action == "approve", str(form.get("note", "")))
        elif action == "retry":
            outcome = "processing"
        else:
            raise BadRequest("Unknown action.")
        if outcome == "processing":
            row = payments.refund_to_send(edge, refund_id)
            result = await run_in_threadpool(payments.call_refund, edge, row)
            payments.record_refund_result(edge, refund_id, result)
        return _redirect_to("/admin/refunds")
    refunds = [dict(r) for r in edge.db.execute(
        "SELECT r.*, o.reference, l.title, u.email FROM refunds r JOIN orders o ON o.id = r.order_id"
        " JOIN order_lines l ON l.id = r.order_line_id JOIN users u ON u.id = r.user_id ORDER BY r.id DESC LIMIT 300")]
    for r in refunds:
        r["display"] = payments.display(r["amount"], r["currency"])
    return render(request, "edge/admin_refunds.html", refunds=refunds)


async def admin_payouts(request: Request) -> Response:
    edge = edge_of(request)
    admin = require_admin(request)
    if request.method == "POST":
        counts = payments.queue_payouts(edge)
        for payout in payments.queued_payouts(edge):
            result = await run_in_threadpool(payments.call_transfer, edge, payout)
            counts[payments.record_payout_result(edge, payout, result)] += 1
        with atomic(edge.db):
            audit.record(edge, "payment.payouts_run", actor_id=admin["id"], **counts)
        return _redirect_to("/admin/payouts")
    payouts = [dict(r) for r in edge.db.execute("SELECT * FROM payouts ORDER BY id DESC LIMIT 300")]
    for p in payouts:
        p["display"] = payments.display(p["amount"], p["currency"])
    balances = sorted((account, currency, -total) for (account, currency), total in ledger.balances(edge, "seller:").items()
                      if total)
    return render(request, "edge/admin_payouts.html", payouts=payouts, balances=balances, display=payments.display)


ROUTES = [
    Route("/checkout", checkout_post, methods=["POST"]),
    Route("/admin/orders/{order_id:int}/return-payment", admin_return_payment, methods=["POST"]),
    Route("/buy", checkout_start, methods=["GET", "POST"]),
    Route("/checkout/callback", checkout_callback),
    Route("/claim", claim_page, methods=["GET", "POST"]),
    Route("/cart", cart_page),
    Route("/cart/add", cart_add, methods=["POST"]),
    Route("/cart/remove", cart_remove, methods=["POST"]),
    Route("/api/cart/summary", cart_summary),
    Route("/wishlist", wishlist_page, methods=["GET", "POST"]),
    Route("/webhooks/paystack", paystack_webhook, methods=["POST"]),
    Route("/orders", orders_page),
    Route("/orders/refund", refund_request, methods=["POST"]),
    Route("/seller/earnings", seller_earnings, methods=["GET", "POST"]),
    Route("/admin/orders", admin_orders),
    Route("/admin/refunds", admin_refunds, methods=["GET", "POST"]),
    Route("/admin/payouts", admin_payouts, methods=["GET", "POST"]),
]


# --- scheduled jobs (started by the app's lifespan) -----------------------------------------

async def reconcile_async(edge: Any) -> dict[str, int]:
    """`payments.reconcile` with the Paystack calls off the event loop."""
    cutoff = edge.clock.iso(-edge.settings.RECONCILE_AFTER_SECONDS)
    refs = [r[0] for r in edge.db.execute("SELECT reference FROM orders WHERE status = 'pending' AND created_at <= ?"
                                          " ORDER BY id LIMIT 500", (cutoff,))]
    counts: dict[str, int] = {}
    for ref in refs:
        result = await run_in_threadpool(payments.call_verify, edge, ref)
        outcome = payments.apply_verify_result(edge, ref, result, "reconcile")
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts


async def payouts_async(edge: Any) -> dict[str, int]:
    counts = payments.queue_payouts(edge)
    for payout in payments.queued_payouts(edge):
        result = await run_in_threadpool(payments.call_transfer, edge, payout)
        counts[payments.record_payout_result(edge, payout, result)] += 1
    return counts


async def _every(edge: Any, seconds: float, job: Any, stop: Any, name: str) -> None:
    import asyncio
    import contextlib

    while not stop.is_set():
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=seconds)
        if stop.is_set():
            break
        try:
            counts = await job(edge)
            if any(counts.values()):
                log.info(name, **counts)
        except Exception:  # noqa: BLE001 - a scheduled job must survive any one bad round
            log.exception(f"{name}_error")


def background_tasks(edge: Any, stop: Any) -> list[Any]:
    """Reconciliation of pending orders and the payout schedule, as asyncio tasks."""
    import asyncio

    tasks = []
    if edge.settings.RECONCILE_INTERVAL_SECONDS > 0:
        tasks.append(asyncio.create_task(_every(edge, edge.settings.RECONCILE_INTERVAL_SECONDS, reconcile_async, stop,
                                                "reconcile")))
    if edge.settings.PAYOUT_INTERVAL_SECONDS > 0:
        tasks.append(asyncio.create_task(_every(edge, edge.settings.PAYOUT_INTERVAL_SECONDS, payouts_async, stop,
                                                "payouts")))
    return tasks
