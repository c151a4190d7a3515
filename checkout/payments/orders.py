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
from checkout.payments import ledger, pricing
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


def create_order(edge: "Edge", user: Any, items: list[tuple[str, Any]], guest: bool = False) -> dict[str, Any]:
    """A pending order priced from the catalogue; refuses products the buyer already owns."""
    lines = price_items(edge, items)
    owned = [line.title for line in lines if owns(edge.db, user["id"], line.product_slug)]
    if owned:
        raise Conflict(f"You already own {', '.join(owned)}: it is in your library.", code="already_owned")
    state = edge.catalog.current()
    now = edge.clock.iso()
    reference = "dd-" + secrets.token_hex(10)
    total = pricing.total(lines)
    with atomic(edge.db):
        cur = edge.db.execute(
            "INSERT INTO orders (reference, user_id, email, currency, amount, status, catalog_hash, created_at,"
            " guest, updated_at) VALUES (?,?,?,?,?, 'pending', ?,?,?,?)",
            (reference, user["id"], user["email"], total.currency, total.minor, state.build_hash or "unknown",
             now, int(guest), now))
        order_id = int(cur.lastrowid)
        for line in lines:
            bps = fee_bps_for(edge, line.seller)
            fee, net = ledger.fee_split(line.amount, bps)
            edge.db.execute(
                "INSERT INTO order_lines (order_id, product_slug, seller, title, amount, currency, fee_bps, fee, net,"
                " category) VALUES (?,?,?,?,?,?,?,?,?,?)", (order_id, line.product_slug, line.seller, line.title,
                                                            line.amount, line.currency, bps, fee, net,
                                                            line.product.category or None))
    log.info("order_created", reference=reference, amount=total.minor, currency=total.currency, lines=len(lines))
    return get_order(edge, reference)


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
            " guest, updated_at) VALUES (?,?,?,?,?, 'pending', ?,?,?,?)",
            (reference, order["user_id"], order["email"], order["currency"], order["amount"], order["catalog_hash"],
             now, order["guest"], now))
        new_id = int(cur.lastrowid)
        edge.db.execute(
            "INSERT INTO order_lines (order_id, product_slug, seller, title, amount, currency, fee_bps, fee, net,"
            " category) SELECT ?, product_slug, seller, title, amount, currency, fee_bps, fee, net, category"
            " FROM order_lines WHERE order_id = ? ORDER BY id", (new_id, order["id"]))
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
                      guest_only: bool = False) -> str | None:
    """A double-clicked Buy button reuses the pending order (and Paystack page) of a moment ago.

    `among`: only these references. A guest account is anyone who types its email address, so a
    guest reuses only an order placed from the same browser (its order cookie); another browser
    gets an order of its own, which its own cookie lets it see. `guest_only`: only one placed as
    a guest (never the payment page the owner opened while signed in)."""
    lines = pricing.price_items(edge, items)
    want = sorted((x.product_slug, x.amount) for x in lines)
    for o in edge.db.execute("SELECT id, reference, authorization_url FROM orders WHERE user_id = ?"
                             " AND status = 'pending' AND authorization_url IS NOT NULL AND created_at >= ?"
                             " AND (guest = 1 OR ? = 0) ORDER BY id DESC LIMIT 5",
                             (user["id"], edge.clock.iso(-1800), int(guest_only))).fetchall():
        if among is not None and o["reference"] not in among:
            continue
        have = sorted((x["product_slug"], x["amount"]) for x in order_lines(edge, o["id"]))
        if have == want:
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
