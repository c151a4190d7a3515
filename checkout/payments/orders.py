"""Orders: created pending and priced from the catalogue, then sent to Paystack's
`transaction/initialize`. The network call and the database write are separate functions so
the web layer can run the call off the event loop.
"""

from __future__ import annotations

import secrets
from collections.abc import Collection
from typing import Any

import structlog

from checkout.core.context import Edge
from checkout.core.db import atomic
from checkout.core.errors import Conflict, NotFound, ServiceUnavailable
from checkout.payments import affiliates, discounts, ledger, pricing, taxes, upsells
from checkout.payments.errors import CurrencyNotEnabled, PaymentsUnavailable, PaystackError
from checkout.payments.paystack import Paystack
from checkout.payments.pricing import fee_bps_for, price_items
from checkout.payments.purchases import owns

log = structlog.get_logger("checkout.payments.orders")


PAID_STATES = ("paid", "refunded", "partially_refunded")


def paystack(edge: "Edge") -> Paystack:
    if not hasattr(edge, "_paystack"):
        edge._paystack = Paystack.for_edge(edge)  # type: ignore[attr-defined]
    return edge._paystack  # type: ignore[attr-defined]


def create_order(edge: "Edge", user: Any, items: list[tuple[str, Any]], guest: bool = False,
                 country: str | None = None, vat_id: str = "", code: str | None = None, via: str | None = None,
                 add: str | None = None) -> dict[str, Any]:
    """A pending order priced from the catalogue (with the checkout's offer `add` when asked for,
    and the discount `code`, checked and held in the same transaction), tax at the rate of the
    buyer's `country` added last, after the discount (`pricing.tax_step`); refuses products the
    buyer already owns."""
    lines = upsells.with_offer(edge, price_items(edge, items), add, user)
    owned = [line.title for line in lines if owns(edge.db, user["id"], line.product_slug)]
    if owned:
        raise Conflict(f"You already own {', '.join(owned)}: it is in your library.", code="already_owned")
    check_bundles(edge, user["id"], lines)
    state = edge.catalog.current()
    now = edge.clock.iso()
    reference = "dd-" + secrets.token_hex(10)
    included = bool(edge.settings.PRICES_INCLUDE_TAX)
    rate_bps = taxes.rates(edge).rate_for(country).bps
    with atomic(edge.db):
        lines = discounts.quote(edge, lines, code, user)  # inside: two buyers cannot hold the last use
        # the tax step is the last: on each line's price as the discount left it (issue #18)
        taxed = pricing.tax_step(lines, rate_bps, country or "", included)
        total = pricing.taxed_total(taxed)
        code_id = next((line.discount_code_id for line in lines if line.discount_code_id), None)
        cur = edge.db.execute(
            "INSERT INTO orders (reference, user_id, email, currency, amount, status, catalog_hash, created_at,"
            " guest, updated_at, tax_country, vat_id, prices_include_tax, discount_code_id)"
            " VALUES (?,?,?,?,?, 'pending', ?,?,?,?,?,?,?,?)",
            (reference, user["id"], user["email"], total.currency, total.minor, state.build_hash or "unknown",
             now, int(guest), now, country, vat_id or None, int(included), code_id))
        order_id = int(cur.lastrowid)
        for x in taxed:
            line = x.line
            bps = fee_bps_for(edge, line.seller)
            # the fee, a platform code's subsidy and an affiliate's commission are all cut from the
            # taxable amount (`base`: the discounted price, less its tax when prices include tax)
            fee, net = ledger.fee_split(x.base.minor, bps)  # the fee is a share of what the buyer pays
            subsidy = 0
            if line.discount_bearer == "platform":  # the seller gets what the full price would give
                list_base = pricing.tax_split(line.list_price.minor, x.bps, included)[0]  # type: ignore[union-attr]
                subsidy = ledger.fee_split(list_base, bps)[1] - net
            # an affiliate's referral (`via`) takes its commission from the seller's share
            affiliate_id, commission = affiliates.commission_for(edge, via, user["id"], line.seller,
                                                                 line.product_slug, x.base.minor, net + subsidy)
            edge.db.execute(
                "INSERT INTO order_lines (order_id, product_slug, seller, title, amount, currency, fee_bps, fee, net,"
                " category, list_amount, discount, subsidy, affiliate_id, commission, tax, tax_bps)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (order_id, line.product_slug, line.seller, line.title, x.base.minor, line.currency, bps, fee, net,
                 line.product.category or None, line.list_price.minor if line.list_price else None,
                 line.discount.minor, subsidy, affiliate_id, commission, x.tax.minor, x.bps))
    log.info("order_created", reference=reference, amount=total.minor, currency=total.currency, lines=len(lines))
    return get_order(edge, reference)


def check_bundles(edge: "Edge", user_id: int, lines: list[pricing.Line]) -> None:
    """The written rule for bundles (docs/promotions.md): a bundle of which the buyer already owns
    a product is refused, naming it (buy the others on their own); a product the buyer owns
    through a bundle is refused like any owned product. The same goes within one order."""
    products = edge.catalog.current().products
    slugs = {line.product_slug for line in lines}
    mine = {r[0] for r in edge.db.execute("SELECT product_slug FROM purchases WHERE user_id = ? AND status = 'active'",
                                          (user_id,))}
    for line in lines:
        members = line.product.bundle
        if members:
            have = [products[m].title if m in products else m for m in members if m in mine or m in slugs]
            if have:
                raise Conflict(f"You already own or are buying {', '.join(have)}, part of the bundle {line.title}; "
                               "buy the bundle's other products on their own instead.", code="bundle_partly_owned")
        else:
            through = [products[b].title for b in mine if b in products and line.product_slug in products[b].bundle]
            if through:
                raise Conflict(f"You already own {line.title} through the bundle {through[0]}: it is in your library.",
                               code="already_owned")


def unknown_order() -> NotFound:
    """The one answer for a reference that is not there, or not the asker's to see."""
    return NotFound("There is no order with that reference.", code="unknown_order")


def get_order(edge: "Edge", reference: str) -> dict[str, Any]:
    row = edge.db.execute("SELECT * FROM orders WHERE reference = ?", (reference,)).fetchone()
    if row is None:
        raise unknown_order()
    return dict(row)


def order_lines(edge: "Edge", order_id: int) -> list[dict[str, Any]]:
    return [dict(r) for r in edge.db.execute("SELECT * FROM order_lines WHERE order_id = ? ORDER BY id", (order_id,))]


def start_payment(edge: "Edge", order: dict[str, Any]) -> str:
    """`transaction/initialize` for a pending order; returns the URL of Paystack's pay page.
    (Network and database phases are separate functions so the web can run the call off the loop.)"""
    return record_authorization(edge, order, call_initialize(edge, order))


class Duplicate(dict):  # type: ignore[type-arg]
    """`initialize` said "Duplicate Transaction Reference": an earlier attempt whose answer was
    lost (a timeout) created the transaction. Holds what verify says of it (`verified`)."""


def call_initialize(edge: "Edge", order: dict[str, Any]) -> dict[str, Any] | PaystackError:
    client = paystack(edge)
    try:
        return client.initialize(
            order["email"], order["amount"], order["currency"], order["reference"],
            f"{edge.settings.CHECKOUT_URL}/checkout/callback", {"order_id": order["id"], "source": "digitaldock"})
    except PaystackError as exc:
        if exc.paystack_status != 400 or "duplicate" not in exc.message.lower():
            return exc
    log.warning("paystack_initialize_duplicate", reference=order["reference"])
    try:  # the transaction exists: fetch it and continue from its state
        return Duplicate(verified=client.verify(order["reference"]))
    except PaystackError as exc:
        return exc


def refused(order: dict[str, Any], error: PaystackError) -> Exception:
    """What a buyer reads when `initialize` failed: Paystack unreachable (nothing charged, come
    back), the currency not enabled on the Paystack account, or Paystack's own reason."""
    log.warning("paystack_initialize_failed", reference=order["reference"], error=error.message,
                status=error.paystack_status)
    if error.retryable:
        return PaymentsUnavailable()
    if "currency" in error.message.lower():
        log.error("paystack_currency_not_enabled", currency=order["currency"], error=error.message)
        return CurrencyNotEnabled(f"We cannot take payments in {order['currency']} at the moment (our payment "
                                  f"provider has not enabled it for this shop). Nothing was charged; the "
                                  f"shop's team has been told.")
    return ServiceUnavailable(f"Our payment provider refused this payment ({error.message}). Nothing was charged.",
                              code="payment_provider_refused")


def copy_order(edge: "Edge", order: dict[str, Any]) -> dict[str, Any]:
    """A fresh pending order (new reference) with the same lines, prices and buyer."""
    now = edge.clock.iso()
    reference = "dd-" + secrets.token_hex(10)
    with atomic(edge.db):
        cur = edge.db.execute(
            "INSERT INTO orders (reference, user_id, email, currency, amount, status, catalog_hash, created_at,"
            " guest, updated_at, tax_country, vat_id, prices_include_tax, discount_code_id)"
            " VALUES (?,?,?,?,?, 'pending', ?,?,?,?,?,?,?,?)",
            (reference, order["user_id"], order["email"], order["currency"], order["amount"], order["catalog_hash"],
             now, order["guest"], now, order.get("tax_country"), order.get("vat_id"),
             order.get("prices_include_tax") or 0, order.get("discount_code_id")))
        new_id = int(cur.lastrowid)
        # the promotions' columns too (issue #17): a copy keeps its discount, subsidy and commission
        edge.db.execute(
            "INSERT INTO order_lines (order_id, product_slug, seller, title, amount, currency, fee_bps, fee, net,"
            " category, list_amount, discount, subsidy, affiliate_id, commission, tax, tax_bps)"
            " SELECT ?, product_slug, seller, title, amount, currency, fee_bps, fee, net, category, list_amount,"
            " discount, subsidy, affiliate_id, commission, tax, tax_bps FROM order_lines WHERE order_id = ? ORDER BY id",
            (new_id, order["id"]))
    return get_order(edge, reference)


def record_authorization(edge: "Edge", order: dict[str, Any], result: dict[str, Any] | PaystackError) -> str:
    if isinstance(result, PaystackError):
        raise refused(order, result)
    url = str(result["authorization_url"])
    with atomic(edge.db):
        edge.db.execute("UPDATE orders SET authorization_url = ?, updated_at = ? WHERE id = ?",
                        (url, edge.clock.iso(), order["id"]))
    return url


def recent_same_order(edge: Any, user: Any, items: list[tuple[str, Any]], among: Collection[str] | None = None,
                      guest_only: bool = False, country: str | None = None, code: str | None = None,
                      add: str | None = None) -> str | None:
    """A double-clicked Buy button reuses the pending order (and Paystack page) of a moment ago.

    `among`: only these references. A guest account is anyone who types its email address, so a
    guest reuses only an order placed from the same browser (its order cookie); another browser
    gets an order of its own, which its own cookie lets it see. `guest_only`: only one placed as
    a guest (never the payment page the owner opened while signed in)."""
    lines = upsells.with_offer(edge, pricing.price_items(edge, items), add, user)
    want = sorted((x.product_slug, (x.list_price or x.price).minor) for x in lines)
    key = discounts.normalize_code(code) if code and code.strip() else None
    for o in edge.db.execute("SELECT id, reference, authorization_url, prices_include_tax, (SELECT code_key"
                             " FROM discount_codes d WHERE d.id = orders.discount_code_id) AS code_key FROM orders"
                             " WHERE user_id = ? AND status = 'pending' AND authorization_url IS NOT NULL"
                             " AND created_at >= ? AND (guest = 1 OR ? = 0) AND tax_country IS ?"
                             " ORDER BY id DESC LIMIT 5",
                             (user["id"], edge.clock.iso(-1800), int(guest_only), country)).fetchall():
        if among is not None and o["reference"] not in among:
            continue
        # the price the buyer chose: the catalogue price before a discount (`list_amount`), else
        # the line's amount, plus its tax when prices include tax
        have = sorted((x["product_slug"], x["list_amount"] or
                       x["amount"] + (x["tax"] if o["prices_include_tax"] else 0)) for x in order_lines(edge, o["id"]))
        if have == want and o["code_key"] == key:
            return str(o["authorization_url"])
    return None


def listing(edge: "Edge", status: str | None = None, limit: int = 100,
            before: int | None = None) -> list[dict[str, Any]]:
    """Orders for the admin, newest first, one page at a time (`before`: the last id shown), each
    with the return of its payment if it was flagged."""
    where, args = [], []
    if status:
        where.append("status = ?")
        args.append(status)
    if before is not None:
        where.append("id < ?")
        args.append(before)
    sql = "SELECT * FROM orders" + (" WHERE " + " AND ".join(where) if where else "")
    orders = [dict(r) for r in edge.db.execute(sql + " ORDER BY id DESC LIMIT ?", (*args, limit))]
    if orders:
        marks = ",".join("?" * len(orders))
        returns = {r["order_id"]: dict(r) for r in edge.db.execute(
            f"SELECT * FROM flagged_refunds WHERE order_id IN ({marks})", [o["id"] for o in orders])}
        for o in orders:
            o["refund"] = returns.get(o["id"])
    return orders


def of_user(edge: "Edge", user_id: int, limit: int = 200) -> list[dict[str, Any]]:
    """A buyer's orders, newest first, with their lines and each line's latest refund status."""
    orders = []
    for o in edge.db.execute("SELECT * FROM orders WHERE user_id = ? ORDER BY id DESC LIMIT ?", (user_id, limit)):
        order = dict(o)
        lines = order_lines(edge, order["id"])
        for line in lines:
            r = edge.db.execute("SELECT status FROM refunds WHERE order_line_id = ? ORDER BY id DESC LIMIT 1",
                                (line["id"],)).fetchone()
            line["refund"] = r["status"] if r else None
        orders.append({**order, "lines": lines})
    return orders


def flagged_unreturned(edge: "Edge", limit: int = 100) -> list[dict[str, Any]]:
    """Flagged orders whose payment has not been returned yet, newest first."""
    return [dict(r) for r in edge.db.execute(
        "SELECT o.id, o.reference, o.email, o.amount, o.currency, o.flag_reason, o.created_at, f.status AS returned"
        " FROM orders o LEFT JOIN flagged_refunds f ON f.order_id = o.id WHERE o.status = 'flagged'"
        " AND (f.status IS NULL OR f.status != 'processed') ORDER BY o.id DESC LIMIT ?", (limit,))]
