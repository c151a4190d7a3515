"""Releases and payouts: earnings move from pending to available after the refund window, and
available balances go to sellers as Paystack transfers (journal first, then the call, so a
queued payout is resent with the same reference and never paid twice).
"""

from __future__ import annotations

import secrets
from typing import Any

import structlog

from checkout.core import outbox, signals
from checkout.core.clock import iso, parse_iso
from checkout.core.context import Edge
from checkout.core.db import atomic
from checkout.core.errors import ServiceUnavailable, ValidationFailed
from checkout.payments import ledger, payout_accounts
from checkout.payments.errors import PaystackError
from checkout.payments.ledger import RECEIVABLE, seller_account
from checkout.payments.listings import money_json
from checkout.payments.orders import paystack
from checkout.payments.paystack import amount_of
from digitaldock.money import CURRENCIES, Money, format_money

log = structlog.get_logger("checkout.payments.payouts")


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
            ledger.post(edge, "release", [(seller_account(line["seller"], "pending"), Money(line["currency"], line["net"]), line["id"]),
                                          (seller_account(line["seller"], "available"), Money(line["currency"], -line["net"]), line["id"])],
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
                        result: dict[str, Any] | PaystackError, actor_id: int | None = None,
                        ip: str | None = None) -> dict[str, Any]:
    """Save the recipient Paystack created; a new or changed account is held and announced
    (`payout_accounts.save`)."""
    if isinstance(result, PaystackError):
        if result.retryable:
            raise ServiceUnavailable("Our payment provider is not reachable; please try again.")
        raise ValidationFailed(result.message, fields={"account_number": result.message})
    details = result.get("details") or {}
    payout_accounts.save(edge, seller_slug, currency, result["recipient_code"], bank_code.strip(),
                         details.get("bank_name") or None, account_number.strip(),
                         str(details.get("account_name") or name), actor_id=actor_id, ip=ip)
    return result


def run_payouts(edge: "Edge") -> dict[str, int]:
    """Release what is due, queue a payout of each seller's available balance at or above
    PAYOUT_MINIMUM (journal: available → in flight, in the same transaction), then send every
    queued payout. A queued payout is resent with the same reference, so Paystack never pays twice."""
    counts = queue_payouts(edge)
    for payout in queued_payouts(edge):
        counts[record_payout_result(edge, payout, call_transfer(edge, payout))] += 1
    return counts


def held_sellers(edge: "Edge") -> set[str]:
    """Catalogue sellers whose payouts wait whatever their balance: every seller of a banned
    account (issue #16); unbanning releases them at the next run."""
    return {r[0] for r in edge.db.execute("SELECT s.seller_slug FROM seller_accounts s JOIN users u ON u.id = s.user_id"
                                          " WHERE u.banned_at IS NOT NULL")}


LAST_RUN = "payouts_last_run"  # ops_state: when the payout run last started (the next one follows)


def next_payouts(edge: "Edge", slug: str) -> list[dict[str, Any]]:
    """Per currency the seller earns in: when the next payout run is due and what it would pay
    (available now plus earnings whose refund window ends by then), or why it would pay
    nothing (no bank account, a new account's hold, a banned account, under the minimum)."""
    now = edge.clock()
    interval = edge.settings.PAYOUT_INTERVAL_SECONDS
    row = edge.db.execute("SELECT value FROM ops_state WHERE name = ?", (LAST_RUN,)).fetchone()
    run_at = max(now, parse_iso(row[0]) + interval) if row and interval > 0 else now + max(interval, 0)
    window = edge.settings.REFUND_WINDOW_DAYS * 86400
    releasing: dict[str, int] = {}
    waiting: dict[str, int] = {}
    for line in edge.db.execute(
            "SELECT l.currency, l.net, o.paid_at FROM order_lines l JOIN orders o ON o.id = l.order_id"
            " WHERE l.seller = ? AND o.status IN ('paid', 'partially_refunded') AND l.released_at IS NULL"
            " AND l.refunded_at IS NULL AND NOT EXISTS (SELECT 1 FROM refunds r WHERE r.order_line_id = l.id"
            " AND r.status IN ('requested', 'approved', 'processing'))", (slug,)):
        if line["paid_at"] and parse_iso(line["paid_at"]) + window <= run_at:
            releasing[line["currency"]] = releasing.get(line["currency"], 0) + line["net"]
        else:
            waiting[line["currency"]] = waiting.get(line["currency"], 0) + line["net"]
    available = {c: -v for (a, c), v in ledger.balances(edge, seller_account(slug, "available")).items()
                 if a == seller_account(slug, "available")}
    accounts = {r["currency"]: r for r in recipients(edge, slug)}
    banned = slug in held_sellers(edge)
    out = []
    for currency in sorted(set(available) | set(releasing) | set(accounts) | set(waiting)):
        amount = available.get(currency, 0) + releasing.get(currency, 0)
        when, why = iso(run_at), ""
        rec = accounts.get(currency)
        if interval <= 0:
            why = "Payouts run when an administrator starts them."
        if banned:
            when, why = None, "Payouts are held while the account is suspended."
        elif rec is None:
            when, why = None, f"Add a bank account for {currency} to be paid."
        elif payout_accounts.held_until(edge, rec):
            held = payout_accounts.held_until(edge, rec)
            when = max(when, held) if when else held
            why = "Your bank account changed recently: payouts to it start after the hold."
        if amount <= 0 and waiting.get(currency):
            when, why = None, (f"{format_money(waiting[currency], currency)} is still inside the refund window "
                               f"({edge.settings.REFUND_WINDOW_DAYS} days after each sale).")
        elif amount < edge.settings.PAYOUT_MINIMUM or amount <= 0:
            when, why = None, (f"Below the payout minimum of {format_money(edge.settings.PAYOUT_MINIMUM, currency)}:"
                               " it carries over to a later payout.")
        out.append({"currency": currency, "amount": amount, "display": format_money(amount, currency),
                    "date": when, "why": why})
    return out


def note_run(edge: "Edge") -> None:
    """Remember when this payout run started: the dashboard's next payout date follows from it."""
    edge.db.execute("INSERT INTO ops_state (name, value, updated_at) VALUES (?,?,?) ON CONFLICT(name) DO UPDATE"
                    " SET value = excluded.value, updated_at = excluded.updated_at",
                    (LAST_RUN, edge.clock.iso(), edge.clock.iso()))


def queue_payouts(edge: "Edge") -> dict[str, int]:
    note_run(edge)
    counts = {"released": release_due(edge), "queued": 0, "sent": 0, "failed": 0, "retry": 0, "held": 0}
    minimum = edge.settings.PAYOUT_MINIMUM
    held = payout_accounts.hold_cutoff(edge)
    banned = held_sellers(edge)
    with atomic(edge.db):
        for rec in edge.db.execute("SELECT * FROM payout_recipients ORDER BY seller_slug, currency").fetchall():
            if rec["changed_at"] and rec["changed_at"] > held:
                continue  # a new or changed account: the balance waits (payout_accounts)
            if rec["seller_slug"] in banned:
                counts["held"] += 1  # the account is banned: the balance stays available, unpaid
                continue
            available = -ledger.balance(edge, seller_account(rec["seller_slug"], "available"), rec["currency"])
            if available < minimum or available <= 0:
                continue
            now = edge.clock.iso()
            reference = "po_" + secrets.token_hex(12)
            cur = edge.db.execute("INSERT INTO payouts (reference, seller_slug, currency, amount, recipient_code, status,"
                                  " created_at, updated_at) VALUES (?,?,?,?,?, 'queued', ?, ?)",
                                  (reference, rec["seller_slug"], rec["currency"], available, rec["recipient_code"], now, now))
            ledger.post(edge, "payout", [(seller_account(rec["seller_slug"], "available"), Money(rec["currency"], available), None),
                                         (seller_account(rec["seller_slug"], "payout-in-flight"), Money(rec["currency"], -available), None)],
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
        entries = [(RECEIVABLE, Money(currency, amount), None), (seller_account(slug, "available"), Money(currency, -amount), None)]
    else:
        entries = [(seller_account(slug, "payout-in-flight"), Money(currency, amount), None),
                   (seller_account(slug, "available"), Money(currency, -amount), None)]
    ledger.post(edge, "payout_return", entries, payout_id=payout["id"], memo=payout["reference"])
    edge.db.execute("UPDATE payouts SET status = ?, updated_at = ? WHERE id = ?", (status, edge.clock.iso(), payout["id"]))


def apply_transfer(edge: "Edge", outcome: str, data: dict[str, Any]) -> str:
    row = edge.db.execute("SELECT * FROM payouts WHERE reference = ?", (str(data.get("reference")),)).fetchone()
    if row is None:
        return "unknown_reference"
    payout = dict(row)
    if amount_of(data.get("amount")) != payout["amount"] or data.get("currency") != payout["currency"]:
        log.error("transfer_amount_mismatch", reference=payout["reference"])
        return "amount_mismatch"
    if outcome == "success":
        if payout["status"] not in ("queued", "pending"):
            return f"no_change_{payout['status']}"
        ledger.post(edge, "payout_success", [
            (seller_account(payout["seller_slug"], "payout-in-flight"), Money(payout["currency"], payout["amount"]), None),
            (RECEIVABLE, Money(payout["currency"], -payout["amount"]), None)], payout_id=payout["id"], memo=payout["reference"])
        edge.db.execute("UPDATE payouts SET status = 'success', updated_at = ? WHERE id = ?", (edge.clock.iso(), payout["id"]))
        for account in edge.db.execute("SELECT u.id, u.email, u.display_name FROM seller_accounts s JOIN users u"
                                       " ON u.id = s.user_id WHERE s.seller_slug = ?", (payout["seller_slug"],)):
            outbox.enqueue(edge, "payout_sent", account["email"], account["id"], name=account["display_name"],
                           amount=format_money(payout["amount"], payout["currency"]))
        _payout_event(edge, payout, "success")
        return "payout_success"
    if payout["status"] in ("failed", "reversed"):
        return f"no_change_{payout['status']}"
    if outcome == "failed" and payout["status"] == "success":
        return "no_change_success"
    _return_payout(edge, payout, outcome)
    _payout_event(edge, payout, outcome)
    return f"payout_{outcome}"


def _payout_event(edge: "Edge", payout: dict[str, Any], status: str) -> None:
    signals.emit(edge, "payout", {"seller": payout["seller_slug"], "payout_id": payout["id"],
                                  "reference": payout["reference"], "status": status,
                                  "amount": money_json(payout["amount"], payout["currency"]), "at": edge.clock.iso()})


def listing(edge: "Edge", limit: int = 300, seller: str | None = None) -> list[dict[str, Any]]:
    """Payouts, newest first (one seller's, or everyone's)."""
    if seller is not None:
        return [dict(r) for r in edge.db.execute("SELECT * FROM payouts WHERE seller_slug = ? ORDER BY id DESC LIMIT ?",
                                                 (seller, limit))]
    return [dict(r) for r in edge.db.execute("SELECT * FROM payouts ORDER BY id DESC LIMIT ?", (limit,))]


def recipients(edge: "Edge", seller: str) -> list[dict[str, Any]]:
    """A seller's payout accounts, one per currency."""
    return [dict(r) for r in edge.db.execute("SELECT * FROM payout_recipients WHERE seller_slug = ?", (seller,))]


def managed_sellers(edge: "Edge", user: Any) -> list[str]:
    """The catalogue sellers a user sees the earnings of: their own, or every linked one for an admin."""
    if user["role"] == "admin":
        return [r[0] for r in edge.db.execute("SELECT seller_slug FROM seller_accounts ORDER BY seller_slug")]
    return sellers_of(edge, user["id"])


def owed_balances(edge: "Edge") -> list[tuple[str, str, int]]:
    """(account, currency, amount) the platform owes each seller account, non-zero ones, sorted."""
    return sorted((account, currency, -total) for (account, currency), total in ledger.balances(edge, "seller:").items()
                  if total)
