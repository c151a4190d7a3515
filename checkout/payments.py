"""Orders, payment events, refunds and payouts: where money moves.

One rule runs through this module: a state change, its ledger journal, its purchases and its
outbox emails are written in **one** SQLite transaction (`atomic`), and every entry point is
idempotent on the state it finds. So a webhook, the callback's verify and the reconciliation
job can all report the same payment, in any order and any number of times, and it is applied
once. Paystack is called outside transactions; what must happen after a call is recorded
before it (a `processing` refund, a `queued` payout) so a crash leaves a visible, resumable
state instead of a lost or doubled movement.

Order states: pending → paid | failed | abandoned | flagged; a late success still turns
failed/abandoned into paid (the money was taken); paid → partially_refunded → refunded.
"""

from __future__ import annotations

import json
import secrets
from typing import TYPE_CHECKING, Any

import structlog

from digitaldock.money import CURRENCIES, MoneyError, parse_amount, to_decimal

from . import ledger, outbox
from .clock import parse_iso
from .db import atomic
from .errors import Conflict, NotFound, ServiceUnavailable, ValidationFailed
from .ledger import COSTS, FEES, RECEIVABLE, seller_account
from .paystack import Paystack, PaystackError

if TYPE_CHECKING:
    from .context import Edge

log = structlog.get_logger("checkout.payments")

outbox.SUBJECTS.update({
    "receipt": "Your DigitalDock receipt",
    "sale": "You made a sale on DigitalDock",
    "refund_requested": "A buyer asked for a refund",
    "refund_processed": "Your DigitalDock refund was processed",
    "refund_declined": "Your DigitalDock refund request was declined",
    "payout_sent": "DigitalDock sent you a payout",
})
PAID_STATES = ("paid", "refunded", "partially_refunded")
OPEN_REFUND = ("requested", "approved", "processing")


class RetryLater(Exception):
    """An event arrived before what it depends on (a refund before its payment): answer non-200
    so Paystack delivers it again later, and store nothing now."""


def display(amount: int, currency: str) -> str:
    c = CURRENCIES.get(currency)
    if c is None:
        return f"{currency} {amount}"
    sign, text = ("-", to_decimal(-amount, currency)) if amount < 0 else ("", to_decimal(amount, currency))
    whole, _, frac = text.partition(".")
    return f"{sign}{c.symbol}{int(whole):,}" + (f".{frac}" if frac else "")


def paystack(edge: "Edge") -> Paystack:
    if not hasattr(edge, "_paystack"):
        edge._paystack = Paystack.for_edge(edge)  # type: ignore[attr-defined]
    return edge._paystack  # type: ignore[attr-defined]


# --- catalogue pricing ----------------------------------------------------------------------

def fee_bps_for(edge: "Edge", seller: str) -> int:
    row = edge.db.execute("SELECT fee_bps FROM seller_accounts WHERE seller_slug = ?", (seller,)).fetchone()
    if row is not None and row["fee_bps"] is not None:
        return int(row["fee_bps"])
    return int(edge.settings.PLATFORM_FEE_BPS)


def price_line(edge: "Edge", slug: str, amount_text: str | int | None = None) -> dict[str, Any]:
    """Price one product from the loaded catalogue; a pay-what-you-want amount must be ≥ the minimum.
    Prices never come from the browser, except a PWYW amount checked against the catalogue."""
    state = edge.catalog.current()
    product = state.products.get(slug) if isinstance(slug, str) else None
    if not isinstance(product, dict):
        raise NotFound("That product is not in the catalogue.", code="unknown_product")
    currency, price = str(product["currency"]), int(product["price"])
    minimum = product.get("pwyw_minimum")
    amount = price
    if minimum is not None and amount_text not in (None, ""):
        try:
            amount = amount_text if isinstance(amount_text, int) else parse_amount(str(amount_text), currency)
        except MoneyError as exc:
            raise ValidationFailed(fields={"amount": str(exc)}) from None
        if amount < int(minimum):
            raise ValidationFailed(f"Pay at least {display(int(minimum), currency)} for {product['title']}.",
                                   fields={"amount": f"at least {display(int(minimum), currency)}"}, code="amount_too_low")
        if currency in CURRENCIES and amount > CURRENCIES[currency].maximum:
            raise ValidationFailed(fields={"amount": "That amount is too large."}, code="amount_too_high")
    return {"product_slug": slug, "seller": str(product["seller"]), "title": str(product["title"]),
            "amount": amount, "currency": currency, "url": str(product.get("url", "")),
            "pwyw_minimum": minimum}


def price_items(edge: "Edge", items: list[tuple[str, Any]]) -> list[dict[str, Any]]:
    lines, seen = [], set()
    for slug, amount in items:
        if slug in seen:
            continue
        seen.add(slug)
        lines.append(price_line(edge, slug, amount))
    if not lines:
        raise ValidationFailed("Your cart is empty.", code="empty_cart")
    currencies = sorted({line["currency"] for line in lines})
    if len(currencies) > 1:
        raise ValidationFailed(
            f"One order can only be paid in one currency; your cart mixes {' and '.join(currencies)}. "
            "Please buy the items of each currency separately.", code="mixed_currency")
    return lines


# --- orders ---------------------------------------------------------------------------------

def create_order(edge: "Edge", user: Any, items: list[tuple[str, Any]], guest: bool = False) -> dict[str, Any]:
    """A pending order priced from the catalogue; refuses products the buyer already owns."""
    from .purchases import owns

    lines = price_items(edge, items)
    owned = [line["title"] for line in lines if owns(edge.db, user["id"], line["product_slug"])]
    if owned:
        raise Conflict(f"You already own {', '.join(owned)}: it is in your library.", code="already_owned")
    state = edge.catalog.current()
    now = edge.clock.iso()
    reference = "dd-" + secrets.token_hex(10)
    total = sum(line["amount"] for line in lines)
    with atomic(edge.db):
        cur = edge.db.execute(
            "INSERT INTO orders (reference, user_id, email, currency, amount, status, catalog_hash, created_at,"
            " guest, updated_at) VALUES (?,?,?,?,?, 'pending', ?,?,?,?)",
            (reference, user["id"], user["email"], lines[0]["currency"], total, state.build_hash or "unknown",
             now, int(guest), now))
        order_id = int(cur.lastrowid)
        for line in lines:
            bps = fee_bps_for(edge, line["seller"])
            fee, net = ledger.fee_split(line["amount"], bps)
            edge.db.execute(
                "INSERT INTO order_lines (order_id, product_slug, seller, title, amount, currency, fee_bps, fee, net)"
                " VALUES (?,?,?,?,?,?,?,?,?)", (order_id, line["product_slug"], line["seller"], line["title"],
                                                line["amount"], line["currency"], bps, fee, net))
    log.info("order_created", reference=reference, amount=total, currency=lines[0]["currency"], lines=len(lines))
    return get_order(edge, reference)


def get_order(edge: "Edge", reference: str) -> dict[str, Any]:
    row = edge.db.execute("SELECT * FROM orders WHERE reference = ?", (reference,)).fetchone()
    if row is None:
        raise NotFound("There is no order with that reference.", code="unknown_order")
    return dict(row)


def order_lines(edge: "Edge", order_id: int) -> list[dict[str, Any]]:
    return [dict(r) for r in edge.db.execute("SELECT * FROM order_lines WHERE order_id = ? ORDER BY id", (order_id,))]


def start_payment(edge: "Edge", order: dict[str, Any]) -> str:
    """`transaction/initialize` for a pending order; returns the URL of Paystack's pay page.
    (Network and database phases are separate functions so the web can run the call off the loop.)"""
    return record_authorization(edge, order, call_initialize(edge, order))


def call_initialize(edge: "Edge", order: dict[str, Any]) -> dict[str, Any] | PaystackError:
    try:
        return paystack(edge).initialize(
            order["email"], order["amount"], order["currency"], order["reference"],
            f"{edge.settings.CHECKOUT_URL}/checkout/callback", {"order_id": order["id"], "source": "digitaldock"})
    except PaystackError as exc:
        return exc


def record_authorization(edge: "Edge", order: dict[str, Any], result: dict[str, Any] | PaystackError) -> str:
    if isinstance(result, PaystackError):
        log.warning("paystack_initialize_failed", reference=order["reference"], error=result.message)
        raise ServiceUnavailable("We could not reach our payment provider. Nothing was charged; please try again "
                                 "in a moment.", code="payment_provider_unavailable")
    url = str(result["authorization_url"])
    with atomic(edge.db):
        edge.db.execute("UPDATE orders SET authorization_url = ?, updated_at = ? WHERE id = ?",
                        (url, edge.clock.iso(), order["id"]))
    return url


# --- events ---------------------------------------------------------------------------------

def _amount(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def dedup_key(event: str, data: dict[str, Any]) -> str:
    """Paystack events carry no id: the event name plus what identifies its subject."""
    if event.startswith("refund."):
        return f"{data.get('transaction_reference')}:{data.get('refund_reference') or ''}:{_amount(data.get('amount'))}"
    return str(data.get("reference") or data.get("transfer_code") or data.get("id") or "")


def receive_event(edge: "Edge", raw: bytes, source: str = "webhook") -> str:
    """Store, deduplicate and apply one verified event in a single transaction; return the outcome."""
    with atomic(edge.db):
        outcome, logged = store_and_apply(edge, raw, source)
    if logged:
        log.info("payment_event", **logged)
    return outcome


def store_and_apply(edge: "Edge", raw: bytes, source: str = "webhook") -> tuple[str, dict[str, Any] | None]:
    """The inside of `receive_event`: the outcome, and what to log once the transaction holding
    it has committed (None when nothing was applied). Must run inside a transaction."""
    try:
        body = json.loads(raw)
        event, data = str(body["event"]), body["data"]
        if not isinstance(data, dict):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        return "malformed", None
    key = dedup_key(event, data)
    reference = data.get("reference") or data.get("transaction_reference")
    with atomic(edge.db):  # a savepoint: an event that fails leaves no trace, even in a batch
        cur = edge.db.execute(
            "INSERT OR IGNORE INTO payment_events (source, event, dedup_key, reference, raw_body, signature_ok,"
            " received_at) VALUES (?,?,?,?,?,1,?)", (source, event, key, reference, raw.decode("utf-8", "replace"),
                                                    edge.clock.iso()))
        if not cur.rowcount:
            return "duplicate", None
        event_id = int(cur.lastrowid)
        outcome = apply_event(edge, event, data)
        edge.db.execute("UPDATE payment_events SET applied_at = ?, outcome = ? WHERE id = ?",
                        (edge.clock.iso(), outcome, event_id))
    return outcome, {"name": event, "reference": reference, "outcome": outcome, "source": source}


def record_rejected(edge: "Edge", raw: bytes, outcome: str) -> None:
    """Keep a refused webhook (bad signature, wrong source) for the alerting job: a unique
    dedup key, so it can never take the place of the genuine event; the body is truncated."""
    with atomic(edge.db):
        edge.db.execute(
            "INSERT INTO payment_events (source, event, dedup_key, reference, raw_body, signature_ok, received_at,"
            " outcome) VALUES ('webhook', 'rejected', ?, NULL, ?, 0, ?, ?)",
            (f"rejected:{secrets.token_hex(12)}", raw[:4096].decode("utf-8", "replace"), edge.clock.iso(), outcome))


def prune_rejected(edge: "Edge", now: float) -> dict[str, int]:
    """Retention hook: refused webhooks (forgeries, wrong source) are kept LOG_RETENTION_DAYS."""
    from .clock import iso

    cur = edge.db.execute("DELETE FROM payment_events WHERE signature_ok = 0 AND received_at < ?",
                          (iso(now - edge.settings.LOG_RETENTION_DAYS * 86400),))
    return {"rejected_webhooks_deleted": cur.rowcount}


def apply_event(edge: "Edge", event: str, data: dict[str, Any]) -> str:
    if event == "charge.success":
        return apply_charge(edge, data)
    if event == "refund.processed":
        return apply_refund_processed(edge, data)
    if event == "refund.failed":
        return apply_refund_failed(edge, data)
    if event in ("transfer.success", "transfer.failed", "transfer.reversed"):
        return apply_transfer(edge, event.split(".", 1)[1], data)
    return "ignored"


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
        amount, currency = _amount(data.get("amount")), data.get("currency")
        reason = None
        if amount != order["amount"] or currency != order["currency"]:
            reason = (f"Paystack reported {currency} {amount}, the order is {order['currency']} {order['amount']}")
        lines = order_lines(edge, order["id"])
        if reason is None:
            from .purchases import owns
            owned = [line["title"] for line in lines if owns(edge.db, order["user_id"], line["product_slug"])]
            if owned:
                reason = f"The buyer already owned {', '.join(owned)} when this payment arrived (paid twice)"
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
    fees = _amount(data.get("fees")) or 0
    currency = order["currency"]
    edge.db.execute("UPDATE orders SET status = 'paid', paid_at = ?, paystack_id = ?, paystack_fees = ?, updated_at = ?"
                    " WHERE id = ?", (now, data.get("id"), fees, now, order["id"]))
    entries: list[ledger.Entry] = []
    for line in lines:
        entries += [(RECEIVABLE, currency, line["amount"], line["id"]),
                    (FEES, currency, -line["fee"], line["id"]),
                    (seller_account(line["seller"], "pending"), currency, -line["net"], line["id"])]
        edge.db.execute("INSERT INTO purchases (user_id, order_id, order_line_id, product_slug, seller, status, created_at)"
                        " VALUES (?,?,?,?,?, 'active', ?)", (order["user_id"], order["id"], line["id"],
                                                             line["product_slug"], line["seller"], now))
    ledger.post(edge, "sale", entries, order_id=order["id"], memo=order["reference"])
    if fees:
        ledger.post(edge, "paystack_fee", [(COSTS, currency, fees, None), (RECEIVABLE, currency, -fees, None)],
                    order_id=order["id"], memo=order["reference"])
    _receipt(edge, order, lines)
    for seller, seller_lines in _by_seller(lines).items():
        for account in edge.db.execute("SELECT u.id, u.email, u.display_name FROM seller_accounts s JOIN users u"
                                       " ON u.id = s.user_id WHERE s.seller_slug = ?", (seller,)):
            outbox.enqueue(edge, "sale", account["email"], account["id"], name=account["display_name"],
                           lines=[{"title": x["title"], "amount": display(x["amount"], currency),
                                   "net": display(x["net"], currency)} for x in seller_lines],
                           days=edge.settings.REFUND_WINDOW_DAYS)


def _by_seller(lines: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for line in lines:
        out.setdefault(line["seller"], []).append(line)
    return out


def _receipt(edge: "Edge", order: dict[str, Any], lines: list[dict[str, Any]]) -> None:
    user = edge.db.execute("SELECT * FROM users WHERE id = ?", (order["user_id"],)).fetchone()
    claim = ""
    if user["email_verified_at"] is None:
        token = edge.tokens.dumps("claim", {"u": user["id"], "e": user["email"]})
        claim = f"{edge.settings.CHECKOUT_URL}/claim?token={token}"
    outbox.enqueue(edge, "receipt", order["email"], user["id"], name=user["display_name"],
                   reference=order["reference"], total=display(order["amount"], order["currency"]),
                   lines=[{"title": x["title"], "amount": display(x["amount"], x["currency"])} for x in lines],
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
        log.warning("paystack_verify_failed", reference=reference, error=result.message, status=result.status)
        if result.status == 400 and "not found" in result.message.lower():
            return _not_found_at_paystack(edge, reference)
        return "unreachable"
    return apply_verified(edge, reference, result, source)


def apply_verified(edge: "Edge", reference: str, data: dict[str, Any], source: str) -> str:
    if not isinstance(data, dict) or data.get("reference") != reference:
        return "mismatched_reference"
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


def reconcile(edge: "Edge", older_than: float | None = None, limit: int = 500) -> dict[str, int]:
    """Verify every order left pending longer than RECONCILE_AFTER_SECONDS; a missed webhook heals."""
    age = edge.settings.RECONCILE_AFTER_SECONDS if older_than is None else older_than
    cutoff = edge.clock.iso(-age)
    refs = [r[0] for r in edge.db.execute("SELECT reference FROM orders WHERE status = 'pending' AND created_at <= ?"
                                          " ORDER BY id LIMIT ?", (cutoff, limit))]
    counts: dict[str, int] = {}
    for ref in refs:
        outcome = verify_and_apply(edge, ref, "reconcile")
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts


# --- refunds --------------------------------------------------------------------------------

def refundable(edge: "Edge", order: dict[str, Any], line: dict[str, Any]) -> bool:
    if order["status"] not in ("paid", "partially_refunded") or line["refunded_at"] or line["released_at"]:
        return False
    if edge.clock() - parse_iso(order["paid_at"]) > edge.settings.REFUND_WINDOW_DAYS * 86400:
        return False
    return edge.db.execute("SELECT 1 FROM refunds WHERE order_line_id = ? AND status NOT IN ('rejected', 'failed')",
                           (line["id"],)).fetchone() is None


def request_refund(edge: "Edge", user: Any, line_id: int, reason: str) -> int:
    from . import audit

    reason = (reason or "").strip()[:2000]
    if len(reason) < 5:
        raise ValidationFailed(fields={"reason": "Tell us briefly what went wrong."})
    with atomic(edge.db):
        line = edge.db.execute("SELECT * FROM order_lines WHERE id = ?", (line_id,)).fetchone()
        order = edge.db.execute("SELECT * FROM orders WHERE id = ?", (line["order_id"],)).fetchone() if line else None
        if line is None or order is None or order["user_id"] != user["id"]:
            raise NotFound("There is no such purchase in your orders.")
        if not refundable(edge, dict(order), dict(line)):
            raise Conflict(f"This purchase cannot be refunded: refunds are possible within "
                           f"{edge.settings.REFUND_WINDOW_DAYS} days of payment, once per purchase.",
                           code="not_refundable")
        cur = edge.db.execute("INSERT INTO refunds (order_id, order_line_id, user_id, amount, currency, reason, status,"
                              " requested_at) VALUES (?,?,?,?,?,?, 'requested', ?)",
                              (order["id"], line["id"], user["id"], line["amount"], line["currency"], reason,
                               edge.clock.iso()))
        refund_id = int(cur.lastrowid)
        for account in edge.db.execute("SELECT u.id, u.email, u.display_name FROM seller_accounts s JOIN users u"
                                       " ON u.id = s.user_id WHERE s.seller_slug = ?", (line["seller"],)):
            outbox.enqueue(edge, "refund_requested", account["email"], account["id"], name=account["display_name"],
                           title=line["title"], reason=reason, amount=display(line["amount"], line["currency"]))
        audit.record(edge, "payment.refund_requested", actor_id=user["id"], subject_id=user["id"],
                     refund_id=refund_id, order=order["reference"])
    return refund_id


def decide_refund(edge: "Edge", refund_id: int, admin_id: int, approve: bool, note: str = "") -> str:
    """Approve (then call Paystack's POST /refund) or decline a requested refund."""
    from . import audit

    with atomic(edge.db):
        refund = edge.db.execute("SELECT * FROM refunds WHERE id = ?", (refund_id,)).fetchone()
        if refund is None:
            raise NotFound("There is no such refund request.")
        if refund["status"] != "requested":
            raise Conflict(f"This refund is already {refund['status']}.", code="refund_decided")
        status = "processing" if approve else "rejected"
        edge.db.execute("UPDATE refunds SET status = ?, decided_at = ?, decided_by = ? WHERE id = ?",
                        (status, edge.clock.iso(), admin_id, refund_id))
        audit.record(edge, "payment.refund_decided", actor_id=admin_id, refund_id=refund_id, approved=approve)
        if not approve:
            user = edge.db.execute("SELECT * FROM users WHERE id = ?", (refund["user_id"],)).fetchone()
            line = edge.db.execute("SELECT title FROM order_lines WHERE id = ?", (refund["order_line_id"],)).fetchone()
            outbox.enqueue(edge, "refund_declined", user["email"], user["id"], name=user["display_name"],
                           title=line["title"], note=note)
            return "rejected"
    return "processing"


def send_refund(edge: "Edge", refund_id: int) -> str:
    """Call POST /refund for a refund in `processing`. The state was written first, so a crash
    here leaves a visible `processing` refund for an admin to retry, never a silent double."""
    row = refund_to_send(edge, refund_id)
    return record_refund_result(edge, refund_id, call_refund(edge, row))


def refund_to_send(edge: "Edge", refund_id: int) -> dict[str, Any]:
    refund = edge.db.execute("SELECT r.*, o.reference FROM refunds r JOIN orders o ON o.id = r.order_id"
                             " WHERE r.id = ?", (refund_id,)).fetchone()
    if refund is None or refund["status"] != "processing":
        raise Conflict("Only a refund being processed can be sent to Paystack.", code="refund_not_processing")
    return dict(refund)


def call_refund(edge: "Edge", refund: dict[str, Any]) -> dict[str, Any] | PaystackError:
    try:
        return paystack(edge).refund(refund["reference"], refund["amount"], refund["currency"], f"refund {refund['id']}")
    except PaystackError as exc:
        return exc


def record_refund_result(edge: "Edge", refund_id: int, result: dict[str, Any] | PaystackError) -> str:
    with atomic(edge.db):
        if isinstance(result, PaystackError):
            if result.retryable:
                edge.db.execute("UPDATE refunds SET last_error = ? WHERE id = ?", (result.message, refund_id))
                return "retry"
            edge.db.execute("UPDATE refunds SET status = 'failed', last_error = ? WHERE id = ? AND status = 'processing'",
                            (result.message, refund_id))
            return "failed"
        edge.db.execute("UPDATE refunds SET paystack_refund_id = ?, last_error = NULL WHERE id = ?",
                        (result.get("id") if isinstance(result, dict) else None, refund_id))
    return "processing"


# --- flagged payments: returned whole -------------------------------------------------------

def request_flagged_refund(edge: "Edge", order_id: int, admin_id: int) -> dict[str, Any]:
    """Record, before Paystack is called, that a flagged order's payment is being returned in
    full; a crash after this leaves a visible `processing` row, never a silent second refund."""
    from . import audit

    with atomic(edge.db):
        order = edge.db.execute("SELECT * FROM orders WHERE id = ?", (order_id,)).fetchone()
        if order is None:
            raise NotFound("There is no such order.")
        if order["status"] != "flagged":
            raise Conflict("Only a flagged order's payment is returned from here; a paid order is "
                           "refunded line by line on the refunds page.", code="order_not_flagged")
        row = edge.db.execute("SELECT status FROM flagged_refunds WHERE order_id = ?", (order_id,)).fetchone()
        now = edge.clock.iso()
        if row is not None and row["status"] != "failed":
            raise Conflict(f"This payment's refund is already {row['status']}.", code="refund_exists")
        if row is None:
            edge.db.execute("INSERT INTO flagged_refunds (order_id, status, requested_by, requested_at)"
                            " VALUES (?, 'processing', ?, ?)", (order_id, admin_id, now))
        else:
            edge.db.execute("UPDATE flagged_refunds SET status = 'processing', requested_by = ?, requested_at = ?,"
                            " last_error = NULL WHERE order_id = ?", (admin_id, now, order_id))
        audit.record(edge, "payment.flagged_refund_requested", actor_id=admin_id, order_id=order_id)
    return dict(order)


def call_flagged_refund(edge: "Edge", order: dict[str, Any]) -> dict[str, Any] | PaystackError:
    try:  # no amount: Paystack returns the whole payment, whatever it was
        return paystack(edge).refund(order["reference"], None, None, f"flagged order {order['reference']}")
    except PaystackError as exc:
        return exc


def record_flagged_refund_result(edge: "Edge", order_id: int, result: dict[str, Any] | PaystackError) -> str:
    """`processing` until Paystack's refund event arrives, or `failed` with Paystack's reason
    (an admin may try again; an event for an earlier attempt still completes it)."""
    if not isinstance(result, PaystackError):
        return "processing"
    with atomic(edge.db):
        edge.db.execute("UPDATE flagged_refunds SET status = 'failed', last_error = ? WHERE order_id = ?"
                        " AND status = 'processing'", (result.message, order_id))
    return "failed"


def _flagged_refund_event(edge: "Edge", order: Any, data: dict[str, Any], processed: bool) -> str:
    row = edge.db.execute("SELECT * FROM flagged_refunds WHERE order_id = ? AND status != 'processed'",
                          (order["id"],)).fetchone()
    if row is None:
        log.error("refund_unmatched", reference=order["reference"], amount=data.get("amount"))
        return "unmatched_refund"
    now = edge.clock.iso()
    if not processed:
        edge.db.execute("UPDATE flagged_refunds SET status = 'failed', last_error = 'Paystack: refund failed'"
                        " WHERE id = ?", (row["id"],))
        return "refund_failed"
    amount, currency = _amount(data.get("amount")), str(data.get("currency") or order["currency"])
    edge.db.execute("UPDATE flagged_refunds SET status = 'processed', amount = ?, currency = ?, processed_at = ?,"
                    " last_error = NULL WHERE id = ?", (amount, currency, now, row["id"]))
    user = edge.db.execute("SELECT * FROM users WHERE id = ?", (order["user_id"],)).fetchone()
    titles = ", ".join(line["title"] for line in order_lines(edge, order["id"]))
    if user is not None:
        outbox.enqueue(edge, "refund_processed", user["email"], user["id"], name=user["display_name"],
                       title=titles, amount=display(amount, currency) if amount is not None else "")
    return "flagged_refunded"


def apply_refund_processed(edge: "Edge", data: dict[str, Any]) -> str:
    reference = str(data.get("transaction_reference") or "")
    amount = _amount(data.get("amount"))
    order = edge.db.execute("SELECT * FROM orders WHERE reference = ?", (reference,)).fetchone()
    if order is None:
        return "unknown_reference"
    if order["status"] in ("pending", "failed", "abandoned"):
        raise RetryLater("refund before payment")
    if order["status"] == "flagged":
        return _flagged_refund_event(edge, order, data, processed=True)
    refund = edge.db.execute("SELECT * FROM refunds WHERE order_id = ? AND amount = ? AND status IN ('processing', 'approved')"
                             " ORDER BY id LIMIT 1", (order["id"], amount)).fetchone()
    if refund is None:
        log.error("refund_unmatched", reference=reference, amount=amount)
        return "unmatched_refund"
    line = edge.db.execute("SELECT * FROM order_lines WHERE id = ?", (refund["order_line_id"],)).fetchone()
    now = edge.clock.iso()
    bucket = "available" if line["released_at"] else "pending"
    ledger.post(edge, "refund", [(RECEIVABLE, line["currency"], -line["amount"], line["id"]),
                                 (FEES, line["currency"], line["fee"], line["id"]),
                                 (seller_account(line["seller"], bucket), line["currency"], line["net"], line["id"])],
                order_id=order["id"], order_line_id=line["id"], refund_id=refund["id"], memo=reference)
    edge.db.execute("UPDATE refunds SET status = 'processed', processed_at = ? WHERE id = ?", (now, refund["id"]))
    edge.db.execute("UPDATE order_lines SET refunded_at = ? WHERE id = ?", (now, line["id"]))
    edge.db.execute("UPDATE purchases SET status = 'refunded', refunded_at = ? WHERE order_line_id = ?", (now, line["id"]))
    left = edge.db.execute("SELECT COUNT(*) FROM order_lines WHERE order_id = ? AND refunded_at IS NULL",
                           (order["id"],)).fetchone()[0]
    edge.db.execute("UPDATE orders SET status = ?, updated_at = ? WHERE id = ?",
                    ("refunded" if left == 0 else "partially_refunded", now, order["id"]))
    user = edge.db.execute("SELECT * FROM users WHERE id = ?", (order["user_id"],)).fetchone()
    outbox.enqueue(edge, "refund_processed", user["email"], user["id"], name=user["display_name"],
                   title=line["title"], amount=display(line["amount"], line["currency"]))
    return "refunded"


def apply_refund_failed(edge: "Edge", data: dict[str, Any]) -> str:
    order = edge.db.execute("SELECT * FROM orders WHERE reference = ?", (str(data.get("transaction_reference")),)).fetchone()
    if order is None:
        return "unknown_reference"
    if order["status"] == "flagged":
        return _flagged_refund_event(edge, order, data, processed=False)
    cur = edge.db.execute("UPDATE refunds SET status = 'failed', last_error = 'Paystack: refund failed' WHERE id ="
                          " (SELECT id FROM refunds WHERE order_id = ? AND amount = ? AND status = 'processing'"
                          " ORDER BY id LIMIT 1)", (order["id"], _amount(data.get("amount"))))
    return "refund_failed" if cur.rowcount else "unmatched_refund"


# --- releases and payouts -------------------------------------------------------------------

def release_due(edge: "Edge") -> int:
    """Move seller earnings from pending to available once the refund window has passed."""
    cutoff = edge.clock.iso(-edge.settings.REFUND_WINDOW_DAYS * 86400)
    n = 0
    with atomic(edge.db):
        rows = edge.db.execute(
            "SELECT l.* FROM order_lines l JOIN orders o ON o.id = l.order_id"
            " WHERE o.status IN ('paid', 'partially_refunded') AND o.paid_at <= ? AND l.released_at IS NULL"
            " AND l.refunded_at IS NULL AND NOT EXISTS (SELECT 1 FROM refunds r WHERE r.order_line_id = l.id"
            " AND r.status IN ('requested', 'approved', 'processing'))", (cutoff,)).fetchall()
        for line in rows:
            ledger.post(edge, "release", [(seller_account(line["seller"], "pending"), line["currency"], line["net"], line["id"]),
                                          (seller_account(line["seller"], "available"), line["currency"], -line["net"], line["id"])],
                        order_id=line["order_id"], order_line_id=line["id"])
            edge.db.execute("UPDATE order_lines SET released_at = ? WHERE id = ?", (edge.clock.iso(), line["id"]))
            n += 1
    return n


def link_seller(edge: "Edge", user_id: int, seller_slug: str, fee_bps: int | None = None) -> None:
    if fee_bps is not None and not 0 <= fee_bps <= 10_000:
        raise ValidationFailed(fields={"fee_bps": "between 0 and 10000"})
    with atomic(edge.db):
        edge.db.execute("INSERT INTO seller_accounts (seller_slug, user_id, fee_bps, created_at) VALUES (?,?,?,?)"
                        " ON CONFLICT (seller_slug) DO UPDATE SET user_id = excluded.user_id, fee_bps = excluded.fee_bps",
                        (seller_slug, user_id, fee_bps, edge.clock.iso()))


def sellers_of(edge: "Edge", user_id: int) -> list[str]:
    return [r[0] for r in edge.db.execute("SELECT seller_slug FROM seller_accounts WHERE user_id = ? ORDER BY seller_slug",
                                          (user_id,))]


def add_bank_account(edge: "Edge", seller_slug: str, name: str, account_number: str, bank_code: str,
                     currency: str) -> dict[str, Any]:
    check_bank_account(account_number, currency)
    return record_bank_account(edge, seller_slug, name, bank_code, account_number, currency,
                               call_recipient(edge, name or seller_slug, account_number, bank_code, currency))


def check_bank_account(account_number: str, currency: str) -> None:
    if not (account_number.strip().isdigit() and len(account_number.strip()) == 10):
        raise ValidationFailed(fields={"account_number": "Enter the 10-digit account number."})
    if currency not in CURRENCIES:
        raise ValidationFailed(fields={"currency": "Choose a supported currency."})


def call_recipient(edge: "Edge", name: str, account_number: str, bank_code: str,
                   currency: str) -> dict[str, Any] | PaystackError:
    try:
        return paystack(edge).create_recipient(name.strip(), account_number.strip(), bank_code.strip(), currency)
    except PaystackError as exc:
        return exc


def record_bank_account(edge: "Edge", seller_slug: str, name: str, bank_code: str, account_number: str, currency: str,
                        result: dict[str, Any] | PaystackError) -> dict[str, Any]:
    if isinstance(result, PaystackError):
        if result.retryable:
            raise ServiceUnavailable("Our payment provider is not reachable; please try again.")
        raise ValidationFailed(result.message, fields={"account_number": result.message})
    details = result.get("details") or {}
    with atomic(edge.db):
        edge.db.execute(
            "INSERT INTO payout_recipients (seller_slug, currency, recipient_code, bank_code, account_number, account_name,"
            " created_at) VALUES (?,?,?,?,?,?,?) ON CONFLICT (seller_slug, currency) DO UPDATE SET"
            " recipient_code = excluded.recipient_code, bank_code = excluded.bank_code,"
            " account_number = excluded.account_number, account_name = excluded.account_name",
            (seller_slug, currency, result["recipient_code"], bank_code.strip(), account_number.strip(),
             str(details.get("account_name") or name), edge.clock.iso()))
    return result


def run_payouts(edge: "Edge") -> dict[str, int]:
    """Release what is due, queue a payout of each seller's available balance at or above
    PAYOUT_MINIMUM (journal: available → in flight, in the same transaction), then send every
    queued payout. A queued payout is resent with the same reference, so Paystack never pays twice."""
    counts = queue_payouts(edge)
    for payout in queued_payouts(edge):
        counts[record_payout_result(edge, payout, call_transfer(edge, payout))] += 1
    return counts


def queue_payouts(edge: "Edge") -> dict[str, int]:
    counts = {"released": release_due(edge), "queued": 0, "sent": 0, "failed": 0, "retry": 0}
    minimum = edge.settings.PAYOUT_MINIMUM
    with atomic(edge.db):
        for rec in edge.db.execute("SELECT * FROM payout_recipients ORDER BY seller_slug, currency").fetchall():
            available = -ledger.balance(edge, seller_account(rec["seller_slug"], "available"), rec["currency"])
            if available < minimum or available <= 0:
                continue
            now = edge.clock.iso()
            reference = "po_" + secrets.token_hex(12)
            cur = edge.db.execute("INSERT INTO payouts (reference, seller_slug, currency, amount, recipient_code, status,"
                                  " created_at, updated_at) VALUES (?,?,?,?,?, 'queued', ?, ?)",
                                  (reference, rec["seller_slug"], rec["currency"], available, rec["recipient_code"], now, now))
            ledger.post(edge, "payout", [(seller_account(rec["seller_slug"], "available"), rec["currency"], available, None),
                                         (seller_account(rec["seller_slug"], "payout-in-flight"), rec["currency"], -available, None)],
                        payout_id=int(cur.lastrowid), memo=reference)
            counts["queued"] += 1
    return counts


def queued_payouts(edge: "Edge") -> list[dict[str, Any]]:
    return [dict(r) for r in edge.db.execute("SELECT * FROM payouts WHERE status = 'queued' ORDER BY id")]


def call_transfer(edge: "Edge", payout: dict[str, Any]) -> dict[str, Any] | PaystackError:
    try:
        return paystack(edge).transfer(payout["amount"], payout["recipient_code"], payout["reference"],
                                       payout["currency"], f"DigitalDock earnings ({payout['seller_slug']})")
    except PaystackError as exc:
        return exc


def record_payout_result(edge: "Edge", payout: dict[str, Any], result: dict[str, Any] | PaystackError) -> str:
    with atomic(edge.db):
        current = edge.db.execute("SELECT * FROM payouts WHERE id = ?", (payout["id"],)).fetchone()
        if current["status"] != "queued":  # a webhook already settled it
            return "sent"
        if isinstance(result, PaystackError):
            edge.db.execute("UPDATE payouts SET attempts = attempts + 1, last_error = ? WHERE id = ?",
                            (result.message, payout["id"]))
            if result.retryable:
                return "retry"
            if "reference already exists" in result.message.lower():
                # an earlier attempt reached Paystack; its webhook settles the payout
                edge.db.execute("UPDATE payouts SET status = 'pending' WHERE id = ?", (payout["id"],))
                return "sent"
            _return_payout(edge, dict(current), "failed")
            return "failed"
        edge.db.execute("UPDATE payouts SET status = 'pending', transfer_code = ?, attempts = attempts + 1,"
                        " last_error = NULL, updated_at = ? WHERE id = ?",
                        (result.get("transfer_code"), edge.clock.iso(), payout["id"]))
    return "sent"


def _return_payout(edge: "Edge", payout: dict[str, Any], status: str) -> None:
    """Money of a payout that did not leave (or came back) returns to the seller's available balance."""
    slug, currency, amount = payout["seller_slug"], payout["currency"], payout["amount"]
    if payout["status"] == "success":  # reversed after it had left: it comes back from Paystack
        entries = [(RECEIVABLE, currency, amount, None), (seller_account(slug, "available"), currency, -amount, None)]
    else:
        entries = [(seller_account(slug, "payout-in-flight"), currency, amount, None),
                   (seller_account(slug, "available"), currency, -amount, None)]
    ledger.post(edge, "payout_return", entries, payout_id=payout["id"], memo=payout["reference"])
    edge.db.execute("UPDATE payouts SET status = ?, updated_at = ? WHERE id = ?", (status, edge.clock.iso(), payout["id"]))


def apply_transfer(edge: "Edge", outcome: str, data: dict[str, Any]) -> str:
    row = edge.db.execute("SELECT * FROM payouts WHERE reference = ?", (str(data.get("reference")),)).fetchone()
    if row is None:
        return "unknown_reference"
    payout = dict(row)
    if _amount(data.get("amount")) != payout["amount"] or data.get("currency") != payout["currency"]:
        log.error("transfer_amount_mismatch", reference=payout["reference"])
        return "amount_mismatch"
    if outcome == "success":
        if payout["status"] not in ("queued", "pending"):
            return f"no_change_{payout['status']}"
        ledger.post(edge, "payout_success", [
            (seller_account(payout["seller_slug"], "payout-in-flight"), payout["currency"], payout["amount"], None),
            (RECEIVABLE, payout["currency"], -payout["amount"], None)], payout_id=payout["id"], memo=payout["reference"])
        edge.db.execute("UPDATE payouts SET status = 'success', updated_at = ? WHERE id = ?", (edge.clock.iso(), payout["id"]))
        for account in edge.db.execute("SELECT u.id, u.email, u.display_name FROM seller_accounts s JOIN users u"
                                       " ON u.id = s.user_id WHERE s.seller_slug = ?", (payout["seller_slug"],)):
            outbox.enqueue(edge, "payout_sent", account["email"], account["id"], name=account["display_name"],
                           amount=display(payout["amount"], payout["currency"]))
        return "payout_success"
    if payout["status"] in ("failed", "reversed"):
        return f"no_change_{payout['status']}"
    if outcome == "failed" and payout["status"] == "success":
        return "no_change_success"
    _return_payout(edge, payout, outcome)
    return f"payout_{outcome}"


__all__ = ["RetryLater", "apply_charge", "create_order", "receive_event", "reconcile", "run_payouts",
           "store_and_apply"]


def _register_retention() -> None:
    from . import gdpr

    if prune_rejected not in gdpr.RETENTION_HOOKS:
        gdpr.RETENTION_HOOKS.append(prune_rejected)


_register_retention()
