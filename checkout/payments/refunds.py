"""Refunds: a buyer asks within the window, an admin decides, Paystack's `POST /refund` is
called after the decision is recorded, and `refund.processed` reverses the sale's journal.
Flagged payments (amount mismatch, paid twice) are returned whole.
"""

from __future__ import annotations

from typing import Any

import structlog

from checkout.core import audit, outbox, signals
from checkout.core.clock import iso, parse_iso
from checkout.core.context import Edge
from checkout.core.db import atomic
from checkout.core.errors import Conflict, NotFound, ValidationFailed
from checkout.payments import invoices, ledger, licenses
from checkout.payments.errors import PaystackError, RetryLater
from checkout.payments.listings import money_json
from checkout.payments.orders import order_lines, paystack
from checkout.payments.paystack import amount_of
from digitaldock.money import format_money

log = structlog.get_logger("checkout.payments.refunds")


def refundable(edge: "Edge", order: dict[str, Any], line: dict[str, Any]) -> bool:
    if order["status"] not in ("paid", "partially_refunded") or line["refunded_at"] or line["released_at"]:
        return False
    if edge.clock() - parse_iso(order["paid_at"]) > edge.settings.REFUND_WINDOW_DAYS * 86400:
        return False
    return edge.db.execute("SELECT 1 FROM refunds WHERE order_line_id = ? AND status NOT IN ('rejected', 'failed')",
                           (line["id"],)).fetchone() is None


def request_refund(edge: "Edge", user: Any, line_id: int, reason: str) -> int:
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
                              (order["id"], line["id"], user["id"], line["amount"] + line["tax"], line["currency"], reason,
                               edge.clock.iso()))
        refund_id = int(cur.lastrowid)
        amount = format_money(line["amount"], line["currency"])
        until = seller_deadline(edge, dict(order))
        for account in edge.db.execute("SELECT u.id, u.email, u.display_name FROM seller_accounts s JOIN users u"
                                       " ON u.id = s.user_id WHERE s.seller_slug = ?", (line["seller"],)):
            outbox.enqueue(edge, "refund_requested", account["email"], account["id"], name=account["display_name"],
                           title=line["title"], reason=reason, amount=amount, until=until[:10],
                           decide=f"{edge.settings.CHECKOUT_URL}/seller/refunds")
        # the buyer's address from the account, not from the caller's dict (which may hold only the id)
        buyer = edge.db.execute("SELECT id, email, display_name FROM users WHERE id = ?", (order["user_id"],)).fetchone()
        outbox.enqueue(edge, "refund_received", buyer["email"], buyer["id"], name=buyer["display_name"],
                       title=line["title"], reason=reason, reference=order["reference"],
                       amount=format_money(line["amount"] + line["tax"], line["currency"]))  # what they get back, tax included
        audit.record(edge, "payment.refund_requested", actor_id=user["id"], subject_id=user["id"],
                     refund_id=refund_id, order=order["reference"])
    return refund_id


def seller_deadline(edge: "Edge", order: dict[str, Any]) -> str:
    """Until when the seller may decide a refund of this order themselves: the refund window."""
    return iso(parse_iso(order["paid_at"]) + edge.settings.REFUND_WINDOW_DAYS * 86400)


def decide_refund(edge: "Edge", refund_id: int, admin_id: int, approve: bool, note: str = "",
                  as_role: str = "admin") -> str:
    """Approve (then call Paystack's POST /refund) or decline a requested refund. Declining needs
    a reason, which the buyer is emailed and sees on their orders page. `as_role`: who decided
    (`seller` from their dashboard, through `decide_as_seller`, or `admin`)."""
    note = (note or "").strip()[:2000]
    if not approve and len(note) < 5:
        raise ValidationFailed(fields={"note": "Tell the buyer why the refund is declined (at least 5 characters)."})
    with atomic(edge.db):
        refund = edge.db.execute("SELECT * FROM refunds WHERE id = ?", (refund_id,)).fetchone()
        if refund is None:
            raise NotFound("There is no such refund request.")
        if refund["status"] != "requested":
            raise Conflict(f"This refund is already {refund['status']}.", code="refund_decided")
        status = "processing" if approve else "rejected"
        edge.db.execute("UPDATE refunds SET status = ?, decided_at = ?, decided_by = ?, decided_as = ?,"
                        " decision_note = ? WHERE id = ?",
                        (status, edge.clock.iso(), admin_id, as_role, note or None, refund_id))
        audit.record(edge, "payment.refund_decided", actor_id=admin_id, subject_id=refund["user_id"],
                     refund_id=refund_id, approved=approve, decided_as=as_role)
        user = edge.db.execute("SELECT * FROM users WHERE id = ?", (refund["user_id"],)).fetchone()
        line = edge.db.execute("SELECT title FROM order_lines WHERE id = ?", (refund["order_line_id"],)).fetchone()
        if not approve:
            outbox.enqueue(edge, "refund_declined", user["email"], user["id"], name=user["display_name"],
                           title=line["title"], note=note)
            return "rejected"
        outbox.enqueue(edge, "refund_approved", user["email"], user["id"], name=user["display_name"],
                       title=line["title"], amount=format_money(refund["amount"], refund["currency"]))
    return "processing"


def seller_requests(edge: "Edge", sellers: list[str], limit: int = 200) -> list[dict[str, Any]]:
    """Refund requests of the lines these catalogue sellers sold, newest first, each with whether
    the seller may still decide it (a request, within the refund window)."""
    if not sellers:
        return []
    marks = ",".join("?" * len(sellers))
    rows = [dict(r) for r in edge.db.execute(
        "SELECT r.*, o.reference, o.paid_at, l.title, l.seller FROM refunds r JOIN orders o ON o.id = r.order_id"
        f" JOIN order_lines l ON l.id = r.order_line_id WHERE l.seller IN ({marks}) ORDER BY r.id DESC LIMIT ?",
        (*sellers, limit))]
    now = edge.clock.iso()
    for r in rows:
        r["until"] = seller_deadline(edge, r)
        r["decidable"] = r["status"] == "requested" and now <= r["until"]
        r["display"] = format_money(r["amount"], r["currency"])
    return rows


def decide_as_seller(edge: "Edge", refund_id: int, user_id: int, sellers: list[str], approve: bool,
                     note: str = "") -> str:
    """The seller decides a refund of their own sale, within the refund window; after it, or for
    another seller's sale, an admin decides (the same 404 as an unknown request: nothing leaks)."""
    row = next((r for r in seller_requests(edge, sellers, limit=100000) if r["id"] == refund_id), None)
    if row is None:
        raise NotFound("There is no such refund request.")
    if row["status"] == "requested" and not row["decidable"]:
        raise Conflict("The refund window of this order has closed: an administrator decides it now.",
                       code="refund_window_closed")
    return decide_refund(edge, refund_id, user_id, approve, note, as_role="seller")


def of_lines(edge: "Edge", line_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """Every refund request of these order lines, oldest first, with its steps in words, for the
    buyer's orders page: asked (and why), decided (by whom, and the reason of a decline), sent,
    refunded or failed."""
    if not line_ids:
        return {}
    marks = ",".join("?" * len(line_ids))
    out: dict[int, list[dict[str, Any]]] = {}
    for r in edge.db.execute(f"SELECT * FROM refunds WHERE order_line_id IN ({marks}) ORDER BY id", line_ids):
        who = {"seller": "the seller", "admin": "DigitalDock"}.get(r["decided_as"] or "admin", "DigitalDock")
        steps = [(r["requested_at"], f"You asked for a refund: {r['reason']}")]
        if r["decided_at"] and r["status"] == "rejected":
            steps.append((r["decided_at"], f"Declined by {who}: {r['decision_note'] or 'no reason given'}"))
        elif r["decided_at"]:
            steps.append((r["decided_at"], f"Approved by {who}; the refund was sent to Paystack"))
        if r["status"] == "processed":
            steps.append((r["processed_at"], "Refunded to your payment method; the purchase's downloads ended"))
        elif r["status"] == "failed":
            steps.append((r["decided_at"] or r["requested_at"], "Paystack could not refund it; we are looking into it"))
        out.setdefault(r["order_line_id"], []).append({"id": r["id"], "status": r["status"], "steps": steps})
    return out


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


def request_flagged_refund(edge: "Edge", order_id: int, admin_id: int) -> dict[str, Any]:
    """Record, before Paystack is called, that a flagged order's payment is being returned in
    full; a crash after this leaves a visible `processing` row, never a silent second refund."""

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
    amount, currency = amount_of(data.get("amount")), str(data.get("currency") or order["currency"])
    edge.db.execute("UPDATE flagged_refunds SET status = 'processed', amount = ?, currency = ?, processed_at = ?,"
                    " last_error = NULL WHERE id = ?", (amount, currency, now, row["id"]))
    user = edge.db.execute("SELECT * FROM users WHERE id = ?", (order["user_id"],)).fetchone()
    titles = ", ".join(line["title"] for line in order_lines(edge, order["id"]))
    if user is not None:
        outbox.enqueue(edge, "refund_processed", user["email"], user["id"], name=user["display_name"],
                       title=titles, amount=format_money(amount, currency) if amount is not None else "")
    return "flagged_refunded"


def apply_refund_processed(edge: "Edge", data: dict[str, Any]) -> str:
    reference = str(data.get("transaction_reference") or "")
    amount = amount_of(data.get("amount"))
    order = edge.db.execute("SELECT * FROM orders WHERE reference = ?", (reference,)).fetchone()
    if order is None:
        return "unknown_reference"
    if order["status"] in ("pending", "failed", "abandoned"):
        raise RetryLater("refund before payment")
    if order["status"] == "flagged":
        return _flagged_refund_event(edge, order, data, processed=True)
    refund = edge.db.execute("SELECT * FROM refunds WHERE order_id = ? AND amount = ? AND status IN ('processing', 'approved')"
                             " ORDER BY id LIMIT 1", (order["id"], amount)).fetchone()
    if refund is not None:
        _refund_line(edge, order, dict(refund), reference)
        return "refunded"
    made = _dashboard_refunds(edge, order, amount)
    if not made:
        log.error("refund_unmatched", reference=reference, amount=amount)
        return "unmatched_refund"
    for refund_row in made:
        _refund_line(edge, order, refund_row, reference, dashboard=True)
    audit.record(edge, "payment.dashboard_refund", order=reference, lines=len(made), amount=amount)
    return "dashboard_refunded"


def _dashboard_refunds(edge: "Edge", order: Any, amount: int | None) -> list[dict[str, Any]]:
    """A refund made in Paystack's dashboard: the order line(s) it pays back, recorded as
    refunds (origin 'dashboard'). It matches one unrefunded line of that amount, or every
    unrefunded line when it is their sum; anything else is left unmatched for a person."""
    if amount is None:
        return []
    open_lines = [dict(r) for r in edge.db.execute(
        "SELECT * FROM order_lines WHERE order_id = ? AND refunded_at IS NULL AND NOT EXISTS (SELECT 1 FROM refunds r"
        " WHERE r.order_line_id = order_lines.id AND r.status NOT IN ('rejected', 'failed')) ORDER BY id", (order["id"],))]
    # what the buyer paid for a line is its amount plus its tax (issue #18)
    lines = next(([x] for x in open_lines if x["amount"] + x["tax"] == amount), None)
    if lines is None and open_lines and sum(x["amount"] + x["tax"] for x in open_lines) == amount:
        lines = open_lines
    now = edge.clock.iso()
    out = []
    for line in lines or []:
        cur = edge.db.execute("INSERT INTO refunds (order_id, order_line_id, user_id, amount, currency, reason, status,"
                              " requested_at, decided_at, origin) VALUES (?,?,?,?,?,?, 'processing', ?, ?, 'dashboard')",
                              (order["id"], line["id"], order["user_id"], line["amount"] + line["tax"], line["currency"],
                               "Refunded from the Paystack dashboard", now, now))
        out.append(dict(edge.db.execute("SELECT * FROM refunds WHERE id = ?", (int(cur.lastrowid),)).fetchone()))
    return out


def _refund_line(edge: "Edge", order: Any, refund: dict[str, Any], reference: str, dashboard: bool = False) -> None:
    """The refund of one order line: journal reversed, access revoked, buyer and seller told."""
    line = edge.db.execute("SELECT * FROM order_lines WHERE id = ?", (refund["order_line_id"],)).fetchone()
    now = edge.clock.iso()
    bucket = "available" if line["released_at"] else "pending"
    # the sale's entries reversed exactly: fee, seller's share, subsidy, commission and tax
    ledger.post(edge, "refund", ledger.sale_entries(line, sign=-1, bucket=bucket, country=order["tax_country"]),
                order_id=order["id"], order_line_id=line["id"], refund_id=refund["id"], memo=reference)
    licenses.disable_for_line(edge, line["id"])
    invoices.issue_credit_note(edge, dict(order), dict(line), refund["id"])
    edge.db.execute("UPDATE refunds SET status = 'processed', paystack_status = 'processed', processed_at = ?"
                    " WHERE id = ?", (now, refund["id"]))
    audit.record(edge, "payment.refund_processed", subject_id=order["user_id"], refund_id=refund["id"], order=reference)
    edge.db.execute("UPDATE order_lines SET refunded_at = ? WHERE id = ?", (now, line["id"]))
    edge.db.execute("UPDATE purchases SET status = 'refunded', refunded_at = ? WHERE order_line_id = ?", (now, line["id"]))
    left = edge.db.execute("SELECT COUNT(*) FROM order_lines WHERE order_id = ? AND refunded_at IS NULL",
                           (order["id"],)).fetchone()[0]
    edge.db.execute("UPDATE orders SET status = ?, updated_at = ? WHERE id = ?",
                    ("refunded" if left == 0 else "partially_refunded", now, order["id"]))
    user = edge.db.execute("SELECT * FROM users WHERE id = ?", (order["user_id"],)).fetchone()
    outbox.enqueue(edge, "refund_processed", user["email"], user["id"], name=user["display_name"],
                   title=line["title"], amount=format_money(line["amount"] + line["tax"], line["currency"]))
    signals.emit(edge, "refund", {"seller": line["seller"], "refund_id": refund["id"], "sale_id": line["id"],
                                  "order_reference": reference, "product_slug": line["product_slug"],
                                  "title": line["title"], "amount": money_json(line["amount"], line["currency"]),
                                  "net_reversed": money_json(ledger.seller_share(line), line["currency"]), "processed_at": now})
    if dashboard:  # the seller did not approve this one here: tell them their earnings went back
        for account in edge.db.execute("SELECT u.id, u.email, u.display_name FROM seller_accounts s JOIN users u"
                                       " ON u.id = s.user_id WHERE s.seller_slug = ?", (line["seller"],)):
            outbox.enqueue(edge, "refund_seller", account["email"], account["id"], name=account["display_name"],
                           title=line["title"], amount=format_money(line["amount"] + line["tax"], line["currency"]),
                           dashboard=True)


REFUND_STATES = {"refund.pending": "pending", "refund.processing": "processing", "refund.needs-attention": "needs-attention"}


def apply_refund_progress(edge: "Edge", event: str, data: dict[str, Any]) -> str:
    """refund.pending / refund.processing / refund.needs-attention: Paystack's state is noted on
    the refund it concerns (needs-attention is shown to admins with what to do)."""
    status = REFUND_STATES[event]
    order = edge.db.execute("SELECT * FROM orders WHERE reference = ?", (str(data.get("transaction_reference")),)).fetchone()
    if order is None:
        return "unknown_reference"
    if order["status"] == "flagged":
        cur = edge.db.execute("UPDATE flagged_refunds SET paystack_status = ? WHERE order_id = ? AND status = 'processing'",
                              (status, order["id"]))
    else:
        cur = edge.db.execute("UPDATE refunds SET paystack_status = ? WHERE id = (SELECT id FROM refunds WHERE order_id = ?"
                              " AND amount = ? AND status = 'processing' ORDER BY id LIMIT 1)",
                              (status, order["id"], amount_of(data.get("amount"))))
    if status == "needs-attention":
        log.error("refund_needs_attention", reference=order["reference"])
    return f"refund_{status}" if cur.rowcount else "no_refund_in_progress"


FAILED_SHOWN_DAYS = 30  # a failed refund nobody asked again for leaves the list (and the alert) after this

ATTENTION_SQL = (
    " FROM refunds r JOIN orders o ON o.id = r.order_id JOIN order_lines l ON l.id = r.order_line_id"
    " JOIN users u ON u.id = r.user_id WHERE l.refunded_at IS NULL AND NOT EXISTS (SELECT 1 FROM refunds n"
    " WHERE n.order_line_id = r.order_line_id AND n.id > r.id) AND ((r.paystack_status = 'needs-attention'"
    " AND r.status = 'processing') OR (r.paystack_status = 'failed' AND r.status = 'failed'"
    " AND COALESCE(r.decided_at, r.requested_at) >= ?))")


def attention(edge: "Edge", limit: int = 100) -> list[dict[str, Any]]:
    """Refunds Paystack could not complete, newest first: needs-attention until it completes;
    failed until the buyer asks again, the line is refunded, or FAILED_SHOWN_DAYS pass."""
    return [dict(r) for r in edge.db.execute(
        "SELECT r.*, o.reference, l.title, u.email" + ATTENTION_SQL + " ORDER BY r.id DESC LIMIT ?",
        (edge.clock.iso(-FAILED_SHOWN_DAYS * 86400), limit))]


def attention_count(edge: "Edge") -> int:
    return int(edge.db.execute("SELECT COUNT(*)" + ATTENTION_SQL,
                               (edge.clock.iso(-FAILED_SHOWN_DAYS * 86400),)).fetchone()[0])


def apply_refund_failed(edge: "Edge", data: dict[str, Any]) -> str:
    order = edge.db.execute("SELECT * FROM orders WHERE reference = ?", (str(data.get("transaction_reference")),)).fetchone()
    if order is None:
        return "unknown_reference"
    if order["status"] == "flagged":
        return _flagged_refund_event(edge, order, data, processed=False)
    cur = edge.db.execute("UPDATE refunds SET status = 'failed', paystack_status = 'failed',"
                          " last_error = 'Paystack: refund failed' WHERE id ="
                          " (SELECT id FROM refunds WHERE order_id = ? AND amount = ? AND status = 'processing'"
                          " ORDER BY id LIMIT 1)", (order["id"], amount_of(data.get("amount"))))
    if cur.rowcount:
        audit.record(edge, "payment.refund_failed", subject_id=order["user_id"], order=order["reference"])
    return "refund_failed" if cur.rowcount else "unmatched_refund"


def listing(edge: "Edge", limit: int = 300) -> list[dict[str, Any]]:
    """Refund requests for the admin, newest first, with the order reference, title and buyer."""
    return [dict(r) for r in edge.db.execute(
        "SELECT r.*, o.reference, l.title, u.email FROM refunds r JOIN orders o ON o.id = r.order_id"
        " JOIN order_lines l ON l.id = r.order_line_id JOIN users u ON u.id = r.user_id ORDER BY r.id DESC LIMIT ?",
        (limit,))]
