"""A transaction's outcome, one code path for the webhook, the callback's verify and the
reconciliation job: fulfil (purchases, sale journal, receipt), flag, fail or abandon.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import structlog

from checkout.core import outbox, signals
from checkout.core.clock import parse_iso
from checkout.core.context import Edge
from checkout.core.db import atomic
from checkout.payments import discounts, invoices, ledger, licenses, receipts, taxes
from checkout.payments.errors import PaymentsUnavailable, PaystackError
from checkout.payments.ledger import COSTS, RECEIVABLE
from checkout.payments.listings import money_json
from checkout.payments.orders import (
    PAID_STATES,
    Duplicate,
    copy_order,
    get_order,
    order_lines,
    paystack,
    record_authorization,
)
from checkout.payments.paystack import amount_of
from checkout.payments.purchases import owns
from digitaldock.money import Money, format_money

log = structlog.get_logger("checkout.payments.charges")


def apply_charge(edge: "Edge", data: dict[str, Any]) -> str:
    """The one code path for a transaction's outcome (webhook, callback verify, reconcile).
    Must run inside a transaction."""
    reference = str(data.get("reference") or "")
    row = edge.db.execute("SELECT * FROM orders WHERE reference = ?", (reference,)).fetchone()
    if row is None:
        log.warning("payment_for_unknown_order", reference=reference)
        return "unknown_reference"
    order = dict(row)
    status = data.get("status")
    now = edge.clock.iso()
    if status == "success":
        if order["status"] in PAID_STATES:
            return "already_paid"
        if order["status"] == "flagged":
            return "already_flagged"
        amount, currency = amount_of(data.get("amount")), data.get("currency")
        reason = None
        if amount != order["amount"] or currency != order["currency"]:
            reason = (f"Paystack reported {currency} {amount}, the order is {order['currency']} {order['amount']}")
        lines = order_lines(edge, order["id"])
        if reason is None:
            owned = [line["title"] for line in lines if owns(edge.db, order["user_id"], line["product_slug"])]
            if owned:
                reason = f"The buyer already owned {', '.join(owned)} when this payment arrived (paid twice)"
        if reason is None:  # the code's use is counted here, in the fulfilling transaction
            reason = discounts.claim_use(edge, order, lines)
        if reason:
            edge.db.execute("UPDATE orders SET status = 'flagged', flag_reason = ?, paystack_id = ?, updated_at = ?"
                            " WHERE id = ?", (reason, data.get("id"), now, order["id"]))
            log.error("order_flagged", reference=reference, reason=reason)
            return "flagged"
        _fulfil(edge, order, lines, data, now)
        return "paid"
    if order["status"] != "pending":
        return f"no_change_{order['status']}"
    if status == "failed":
        edge.db.execute("UPDATE orders SET status = 'failed', updated_at = ? WHERE id = ?", (now, order["id"]))
        return "failed"
    if status == "abandoned":
        age = edge.clock() - parse_iso(order["created_at"])
        if age >= edge.settings.ORDER_ABANDON_HOURS * 3600:
            edge.db.execute("UPDATE orders SET status = 'abandoned', updated_at = ? WHERE id = ?", (now, order["id"]))
            return "abandoned"
    return "still_pending"


def _fulfil(edge: "Edge", order: dict[str, Any], lines: list[dict[str, Any]], data: dict[str, Any], now: str) -> None:
    # Paystack's own sample event has "fees": null: then the cost stays unknown (NULL) until
    # reconciliation reads it from verify (`book_missing_fees`), never a silent zero
    fees = amount_of(data.get("fees"))
    if fees is None:
        log.warning("payment_without_fees", reference=order["reference"])
    currency = order["currency"]
    edge.db.execute("UPDATE orders SET status = 'paid', paid_at = ?, paystack_id = ?, paystack_fees = ?, updated_at = ?,"
                    " payment_method = ? WHERE id = ?",
                    (now, data.get("id"), fees, now, receipts.payment_method(data), order["id"]))
    entries: list[ledger.Entry] = []
    for line in lines:
        # the buyer paid amount + tax: the fee, the seller's share, a platform code's subsidy and an
        # affiliate's commission come from the taxable amount, the tax is owed to the buyer's country
        entries += ledger.sale_entries(line, country=order["tax_country"])
        edge.db.execute("INSERT INTO purchases (user_id, order_id, order_line_id, product_slug, seller, status, created_at)"
                        " VALUES (?,?,?,?,?, 'active', ?)", (order["user_id"], order["id"], line["id"],
                                                             line["product_slug"], line["seller"], now))
    ledger.post(edge, "sale", entries, order_id=order["id"], memo=order["reference"])
    if fees:
        _book_fees(edge, order, fees)
    taxes.check_card_country(edge, order, data)
    keys = licenses.issue_for_order(edge, order["id"])
    invoice = invoices.issue_invoice(edge, order, lines)
    _receipt(edge, order, lines, keys, invoice)
    for seller, seller_lines in _by_seller(lines).items():
        for account in edge.db.execute("SELECT u.id, u.email, u.display_name FROM seller_accounts s JOIN users u"
                                       " ON u.id = s.user_id WHERE s.seller_slug = ?", (seller,)):
            outbox.enqueue(edge, "sale", account["email"], account["id"], name=account["display_name"],
                           lines=[{"title": x["title"], "amount": format_money(x["amount"], currency),
                                   "net": format_money(ledger.seller_share(x), currency)} for x in seller_lines],
                           days=edge.settings.REFUND_WINDOW_DAYS)
        signals.emit(edge, "sale", {
            "seller": seller, "order_reference": order["reference"], "sold_at": now,
            "total": money_json(sum(x["amount"] for x in seller_lines), currency),
            "net": money_json(sum(ledger.seller_share(x) for x in seller_lines), currency),
            "lines": [{"sale_id": x["id"], "product_slug": x["product_slug"], "title": x["title"],
                       "price": money_json(x["amount"], currency), "fee": money_json(x["fee"], currency),
                       "net": money_json(ledger.seller_share(x), currency)} for x in seller_lines]})


def _book_fees(edge: "Edge", order: dict[str, Any], fees: int) -> None:
    currency = order["currency"]
    ledger.post(edge, "paystack_fee", [(COSTS, Money(currency, fees), None), (RECEIVABLE, Money(currency, -fees), None)],
                order_id=order["id"], memo=order["reference"])


def orders_without_fees(edge: "Edge", limit: int = 200) -> list[str]:
    """Paid orders whose event carried no `fees` (references, oldest first)."""
    return [r[0] for r in edge.db.execute("SELECT reference FROM orders WHERE paystack_fees IS NULL AND paid_at IS NOT NULL"
                                          " AND status IN ('paid', 'refunded', 'partially_refunded') AND catalog_hash != 'bulk'"
                                          " ORDER BY id LIMIT ?", (limit,))]


def apply_fees(edge: "Edge", reference: str, result: dict[str, Any] | PaystackError) -> str:
    """Book Paystack's fee for a paid order from what verify says (once)."""
    fees = amount_of(result.get("fees")) if isinstance(result, dict) else None
    if fees is None or not isinstance(result, dict) or result.get("reference") != reference:
        return "fees_unknown"
    with atomic(edge.db):
        order = edge.db.execute("SELECT * FROM orders WHERE reference = ?", (reference,)).fetchone()
        if order is None or order["paystack_fees"] is not None or order["status"] not in PAID_STATES:
            return "fees_known"  # not paid yet: fulfilment books the fees it is given
        edge.db.execute("UPDATE orders SET paystack_fees = ? WHERE id = ?", (fees, order["id"]))
        if fees:
            _book_fees(edge, dict(order), fees)
    return "fees_booked"


def book_missing_fees(edge: "Edge") -> dict[str, int]:
    counts: dict[str, int] = {}
    for ref in orders_without_fees(edge):
        outcome = apply_fees(edge, ref, call_verify(edge, ref))
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts


def _by_seller(lines: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for line in lines:
        out.setdefault(line["seller"], []).append(line)
    return out


def _receipt(edge: "Edge", order: dict[str, Any], lines: list[dict[str, Any]], keys: list[dict[str, Any]],
             invoice: dict[str, Any]) -> None:
    """The receipt email: seller, date, order number, payment method, lines, tax and total, the
    license keys and the invoice, and a link that opens the order's files without a password
    (setting one is offered, never required)."""
    user = edge.db.execute("SELECT * FROM users WHERE id = ?", (order["user_id"],)).fetchone()
    claim = ""
    if user["email_verified_at"] is None:
        token = edge.tokens.dumps("claim", {"u": user["id"], "e": user["email"]})
        claim = f"{edge.settings.CHECKOUT_URL}/claim?token={token}"
    shown = receipts.receipt(edge, order["reference"])
    token = receipts.order_token(edge, order)
    # a guest order opens from the email without a password; an account's order is in its library
    files = receipts.order_link(edge, order, "files", token) if order["guest"] else f"{edge.settings.CHECKOUT_URL}/library"
    printable = receipts.order_link(edge, order, "receipt", token if order["guest"] else "")
    outbox.enqueue(edge, "receipt", order["email"], user["id"], name=user["display_name"],
                   reference=order["reference"], total=shown["total"], lines=shown["lines"],
                   sellers=shown["sellers"], date=shown["date"], method=shown["method"],
                   files=files, guest=bool(order["guest"]), link_days=edge.settings.ORDER_LINK_DAYS,
                   receipt=printable,
                   tax=shown["tax"], license_keys=keys, invoice=invoice["number"],
                   invoice_url=f"{edge.settings.CHECKOUT_URL}/invoices/{invoice['number']}",
                   library=f"{edge.settings.CHECKOUT_URL}/library", claim=claim,
                   days=edge.settings.REFUND_WINDOW_DAYS)


def verify_and_apply(edge: "Edge", reference: str, source: str = "verify") -> str:
    """Ask Paystack about one order and take the same path as the webhook. Call outside a
    transaction (it does network I/O with retries)."""
    return apply_verify_result(edge, reference, call_verify(edge, reference), source)


def call_verify(edge: "Edge", reference: str) -> dict[str, Any] | PaystackError:
    try:
        return paystack(edge).verify(reference)
    except PaystackError as exc:
        return exc


def apply_verify_result(edge: "Edge", reference: str, result: dict[str, Any] | PaystackError, source: str) -> str:
    if isinstance(result, PaystackError):
        log.warning("paystack_verify_failed", reference=reference, error=result.message, status=result.paystack_status)
        if result.not_found:  # 404 per Paystack's OpenAPI, or the older 400 "not found"
            return _not_found_at_paystack(edge, reference)
        return "unreachable"
    return apply_verified(edge, reference, result, source)


def apply_verified(edge: "Edge", reference: str, data: dict[str, Any], source: str) -> str:
    if not isinstance(data, dict) or data.get("reference") != reference:
        return "mismatched_reference"
    if data.get("status") == "success" and amount_of(data.get("fees")) is not None:
        apply_fees(edge, reference, data)  # an order paid by a fee-less event learns its fees here
    with atomic(edge.db):
        outcome = apply_charge(edge, data)
        if outcome in ("still_pending", "already_paid", "already_flagged") or outcome.startswith("no_change"):
            return outcome  # nothing changed: no event row for every poll of a pending order
        edge.db.execute(
            "INSERT OR IGNORE INTO payment_events (source, event, dedup_key, reference, raw_body, signature_ok,"
            " received_at, applied_at, outcome) VALUES (?,?,?,?,?,1,?,?,?)",
            (source, f"verify.{data.get('status')}", f"{reference}:{edge.clock.iso()}", reference,
             json.dumps(data, sort_keys=True), edge.clock.iso(), edge.clock.iso(), outcome))
    return outcome


def _not_found_at_paystack(edge: "Edge", reference: str) -> str:
    with atomic(edge.db):
        order = edge.db.execute("SELECT * FROM orders WHERE reference = ?", (reference,)).fetchone()
        if order is None or order["status"] != "pending":
            return "unknown"
        if edge.clock() - parse_iso(order["created_at"]) >= edge.settings.ORDER_ABANDON_HOURS * 3600:
            edge.db.execute("UPDATE orders SET status = 'abandoned', updated_at = ? WHERE id = ?",
                            (edge.clock.iso(), order["id"]))
            return "abandoned"
    return "still_pending"


def pending_to_verify(edge: "Edge", older_than: float | None = None, limit: int = 500) -> list[str]:
    age = edge.settings.RECONCILE_AFTER_SECONDS if older_than is None else older_than
    return [r[0] for r in edge.db.execute("SELECT reference FROM orders WHERE status = 'pending' AND created_at <= ?"
                                          " ORDER BY id LIMIT ?", (edge.clock.iso(-age), limit))]


def reconcile(edge: "Edge", older_than: float | None = None, limit: int = 500) -> dict[str, int]:
    """Verify every order left pending longer than RECONCILE_AFTER_SECONDS (a missed webhook
    heals; one Paystack never saw expires), and book fees a fee-less event left unknown."""
    counts: dict[str, int] = {}
    for ref in pending_to_verify(edge, older_than, limit):
        outcome = verify_and_apply(edge, ref, "reconcile")
        counts[outcome] = counts.get(outcome, 0) + 1
    for outcome, n in book_missing_fees(edge).items():
        counts[outcome] = counts.get(outcome, 0) + n
    return counts


def record_initialize(edge: "Edge", order: dict[str, Any], result: dict[str, Any] | PaystackError) -> str | dict[str, Any]:
    """After `call_initialize`: the URL to send the buyer to. For a duplicate reference (an
    earlier attempt timed out after Paystack created the transaction), continue from what verify
    says: paid → the callback page; otherwise its pay page was never shown, so the order is
    retired (abandoned; a late payment of it would still be applied) and a fresh order with the
    same lines is returned for the caller to initialize."""
    if not isinstance(result, Duplicate):
        return record_authorization(edge, order, result)
    data = result["verified"]
    ref = order["reference"]
    if not isinstance(data, dict) or data.get("reference") != ref:
        raise PaymentsUnavailable()  # verify answered without this transaction: nothing charged, try again
    current = get_order(edge, ref)
    if current["authorization_url"]:
        return str(current["authorization_url"])
    if data.get("status") == "success":
        apply_verified(edge, ref, data, "verify")
        return f"{edge.settings.CHECKOUT_URL}/checkout/callback?" + urlencode({"trxref": ref, "reference": ref})
    with atomic(edge.db):
        edge.db.execute("UPDATE orders SET status = 'abandoned', updated_at = ? WHERE id = ? AND status = 'pending'",
                        (edge.clock.iso(), order["id"]))
    log.warning("order_replaced_after_duplicate_reference", reference=ref, paystack_status=data.get("status"))
    return copy_order(edge, order)
