"""Releases and payouts: earnings move from pending to available after the refund window, and
available balances go to sellers as Paystack transfers (journal first, then the call, so a
queued payout is resent with the same reference and never paid twice).
"""

from __future__ import annotations

import secrets
from typing import Any

import structlog

from checkout.core import audit, outbox, signals
from checkout.core.clock import iso, parse_iso
from checkout.core.context import Edge
from checkout.core.db import atomic
from checkout.core.errors import Conflict, NotFound, ServiceUnavailable, ValidationFailed
from checkout.payments import ledger, payout_accounts
from checkout.payments.errors import PaystackError
from checkout.payments.ledger import RECEIVABLE, payee_account, seller_account
from checkout.payments.listings import money_json
from checkout.payments.orders import paystack
from checkout.payments.paystack import RECIPIENT_TYPES, RESOLVABLE, TRANSFER_CURRENCIES, amount_of
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
            ledger.post(edge, "release", ledger.release_entries(line),
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
                     currency: str, type_: str | None = None) -> dict[str, Any]:
    type_ = check_bank_account(account_number, currency, type_)
    return record_bank_account(edge, seller_slug, name, bank_code, account_number, currency,
                               call_recipient(edge, name or seller_slug, account_number, bank_code, currency, type_),
                               type_=type_)


NO_TRANSFERS = ("Paystack cannot pay out in {currency}: payouts go to bank or mobile-money accounts in "
                + ", ".join(TRANSFER_CURRENCIES) + ". Add an account in one of those currencies; {currency} "
                "earnings stay in your available balance until then (docs/payments.md).")


def check_bank_account(account_number: str, currency: str, type_: str | None = None) -> str:
    """The recipient type to use, or a ValidationFailed naming the field: the currency must be
    one Paystack transfers in, the type one its country takes, the number that type's shape
    (a NUBAN has 10 digits; other banks and mobile-money numbers 6 to 20)."""
    if currency not in CURRENCIES:
        raise ValidationFailed(fields={"currency": "Choose a supported currency."})
    if currency not in RECIPIENT_TYPES:
        raise ValidationFailed(fields={"currency": NO_TRANSFERS.format(currency=currency)})
    allowed = RECIPIENT_TYPES[currency]
    type_ = type_ or allowed[0]
    if type_ not in allowed:
        raise ValidationFailed(fields={"type": f"For {currency} choose one of: {', '.join(allowed)}."})
    number = account_number.strip()
    if type_ == "nuban":
        if not (number.isascii() and number.isdigit() and len(number) == 10):
            raise ValidationFailed(fields={"account_number": "Enter the 10-digit account number."})
    elif not (number.isascii() and number.isdigit() and 6 <= len(number) <= 20):
        what = "mobile-money number" if type_ == "mobile_money" else "account number"
        raise ValidationFailed(fields={"account_number": f"Enter the {what}: 6 to 20 digits."})
    return type_


def call_recipient(edge: "Edge", name: str, account_number: str, bank_code: str,
                   currency: str, type_: str | None = None) -> dict[str, Any] | PaystackError:
    try:
        return paystack(edge).create_recipient(name.strip(), account_number.strip(), bank_code.strip(), currency, type_)
    except PaystackError as exc:
        return exc


def call_resolve(edge: "Edge", account_number: str, bank_code: str, currency: str) -> dict[str, Any] | PaystackError | None:
    """The account's name from `/bank/resolve` (NGN and GHS banks), None where Paystack offers no lookup."""
    if currency not in RESOLVABLE:
        return None
    try:
        return paystack(edge).resolve_account(account_number.strip(), bank_code.strip())
    except PaystackError as exc:
        return exc


BANKS_KEPT_SECONDS = 3600.0  # Paystack's bank lists change rarely: one call an hour per list, not one per page view


def call_banks(edge: "Edge", currency: str, type_: str | None = None) -> list[dict[str, Any]] | PaystackError:
    """Paystack's banks (or mobile-money operators, `type_`) for a payout currency, kept for
    BANKS_KEPT_SECONDS; a failure is not kept (the form then asks for the bank code)."""
    if currency not in RECIPIENT_TYPES:
        return PaystackError(NO_TRANSFERS.format(currency=currency), 400)
    kind = type_ if type_ == "mobile_money" else None
    kept = edge.__dict__.setdefault("_bank_lists", {})
    found = kept.get((currency, kind))
    if found is not None and edge.clock() - found[0] < BANKS_KEPT_SECONDS:
        return found[1]
    try:
        rows = paystack(edge).banks(currency, kind)
    except PaystackError as exc:
        return exc
    banks = [{"name": str(b.get("name")), "code": str(b.get("code")), "type": b.get("type")}
             for b in rows or [] if isinstance(b, dict) and b.get("active", True)]
    kept[(currency, kind)] = (edge.clock(), banks)
    return banks


def record_bank_account(edge: "Edge", seller_slug: str, name: str, bank_code: str, account_number: str, currency: str,
                        result: dict[str, Any] | PaystackError, actor_id: int | None = None,
                        ip: str | None = None, type_: str | None = None) -> dict[str, Any]:
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
    edge.db.execute("UPDATE payout_recipients SET recipient_type = ? WHERE seller_slug = ? AND currency = ?",
                    (type_ or result.get("type") or RECIPIENT_TYPES.get(currency, ("nuban",))[0], seller_slug, currency))
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
    """Payees whose payouts wait whatever their balance: every seller of a banned account
    (issue #16), and every affiliate link of one; unbanning releases them at the next run."""
    held = {r[0] for r in edge.db.execute("SELECT s.seller_slug FROM seller_accounts s JOIN users u ON u.id = s.user_id"
                                          " WHERE u.banned_at IS NOT NULL")}
    return held | {ledger.AFFILIATE_PAYEE + str(r[0]) for r in edge.db.execute(
        "SELECT a.id FROM affiliates a JOIN users u ON u.id = a.user_id WHERE u.banned_at IS NOT NULL")}


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
            "SELECT l.currency, l.net + l.subsidy - l.commission AS net, o.paid_at FROM order_lines l JOIN orders o ON o.id = l.order_id"
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
    counts = {"released": release_due(edge), "queued": 0, "sent": 0, "otp": 0, "failed": 0, "retry": 0, "held": 0}
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
            available = -ledger.balance(edge, payee_account(rec["seller_slug"], "available"), rec["currency"])
            if available < minimum or available <= 0:
                continue
            now = edge.clock.iso()
            reference = "po_" + secrets.token_hex(12)
            cur = edge.db.execute("INSERT INTO payouts (reference, seller_slug, currency, amount, recipient_code, status,"
                                  " created_at, updated_at) VALUES (?,?,?,?,?, 'queued', ?, ?)",
                                  (reference, rec["seller_slug"], rec["currency"], available, rec["recipient_code"], now, now))
            ledger.post(edge, "payout", [(payee_account(rec["seller_slug"], "available"), Money(rec["currency"], available), None),
                                         (payee_account(rec["seller_slug"], "payout-in-flight"), Money(rec["currency"], -available), None)],
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
            if result.retryable:  # unreachable, rate limited (429) or circuit open: stays queued for the next run
                return "retry"
            if "reference already exists" in result.message.lower():
                # an earlier attempt reached Paystack; its webhook settles the payout
                edge.db.execute("UPDATE payouts SET status = 'pending' WHERE id = ?", (payout["id"],))
                return "sent"
            _return_payout(edge, dict(current), "failed", result.message)
            return "failed"
        result = result if isinstance(result, dict) else {}  # accepted, whatever `data` it carried
        paystack_status = str(result.get("status") or "pending")
        edge.db.execute("UPDATE payouts SET status = 'pending', transfer_code = ?, attempts = attempts + 1,"
                        " last_error = NULL, paystack_status = ?, updated_at = ? WHERE id = ?",
                        (result.get("transfer_code"), paystack_status, edge.clock.iso(), payout["id"]))
    return "otp" if paystack_status == "otp" else "sent"


def _return_payout(edge: "Edge", payout: dict[str, Any], status: str, reason: str = "") -> None:
    """Money of a payout that did not leave (or came back) returns to the seller's available balance."""
    slug, currency, amount = payout["seller_slug"], payout["currency"], payout["amount"]
    if payout["status"] == "success":  # reversed after it had left: it comes back from Paystack
        entries = [(RECEIVABLE, Money(currency, amount), None), (payee_account(slug, "available"), Money(currency, -amount), None)]
    else:
        entries = [(payee_account(slug, "payout-in-flight"), Money(currency, amount), None),
                   (payee_account(slug, "available"), Money(currency, -amount), None)]
    ledger.post(edge, "payout_return", entries, payout_id=payout["id"], memo=payout["reference"])
    edge.db.execute("UPDATE payouts SET status = ?, paystack_status = COALESCE(?, paystack_status), updated_at = ?"
                    " WHERE id = ?", (status, status if status in ("failed", "reversed") else None, edge.clock.iso(),
                                      payout["id"]))
    for account in _seller_users(edge, slug):
        outbox.enqueue(edge, "payout_returned", account["email"], account["id"], name=account["display_name"],
                       amount=format_money(amount, currency), outcome=status, reason=reason)


def _seller_users(edge: "Edge", slug: str) -> list[Any]:
    """Who is told about a payee's payouts: the accounts linked to a seller slug, or the affiliate's own."""
    return payout_accounts.payee_users(edge, slug)


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
        edge.db.execute("UPDATE payouts SET paystack_status = 'success' WHERE id = ?", (payout["id"],))
        ledger.post(edge, "payout_success", [
            (payee_account(payout["seller_slug"], "payout-in-flight"), Money(payout["currency"], payout["amount"]), None),
            (RECEIVABLE, Money(payout["currency"], -payout["amount"]), None)], payout_id=payout["id"], memo=payout["reference"])
        edge.db.execute("UPDATE payouts SET status = 'success', updated_at = ? WHERE id = ?", (edge.clock.iso(), payout["id"]))
        for account in _seller_users(edge, payout["seller_slug"]):
            outbox.enqueue(edge, "payout_sent", account["email"], account["id"], name=account["display_name"],
                           amount=format_money(payout["amount"], payout["currency"]))
        _payout_event(edge, payout, "success")
        return "payout_success"
    if payout["status"] in ("failed", "reversed"):
        return f"no_change_{payout['status']}"
    if outcome == "failed" and payout["status"] == "success":
        return "no_change_success"
    reason = data.get("reason") if outcome != "failed" else (data.get("failures") or data.get("gateway_response"))
    _return_payout(edge, payout, outcome, str(reason or "") if isinstance(reason, str) else "")
    _payout_event(edge, payout, outcome)
    return f"payout_{outcome}"


def _payout_event(edge: "Edge", payout: dict[str, Any], status: str) -> None:
    signals.emit(edge, "payout", {"seller": payout["seller_slug"], "payout_id": payout["id"],
                                  "reference": payout["reference"], "status": status,
                                  "amount": money_json(payout["amount"], payout["currency"]), "at": edge.clock.iso()})


# --- transfers that need an OTP, and transfers verified by reconciliation --------------------

def awaiting_otp(edge: "Edge") -> list[dict[str, Any]]:
    """Payouts Paystack holds until an admin enters the OTP it sent the business (oldest first)."""
    return [dict(r) for r in edge.db.execute("SELECT * FROM payouts WHERE status = 'pending' AND paystack_status = 'otp'"
                                             " ORDER BY id")]


def otp_payout(edge: "Edge", payout_id: int) -> dict[str, Any]:
    row = edge.db.execute("SELECT * FROM payouts WHERE id = ?", (payout_id,)).fetchone()
    if row is None:
        raise NotFound("There is no such payout.")
    if row["status"] != "pending" or row["paystack_status"] != "otp" or not row["transfer_code"]:
        raise Conflict(f"This payout does not wait for an OTP (it is {row['status']}).", code="payout_not_otp")
    return dict(row)


def check_otp(otp: str) -> str:
    otp = (otp or "").strip()
    if not (otp.isascii() and otp.isdigit() and 4 <= len(otp) <= 10):
        raise ValidationFailed(fields={"otp": "Enter the OTP Paystack sent (digits only)."})
    return otp


def call_finalize(edge: "Edge", payout: dict[str, Any], otp: str) -> dict[str, Any] | PaystackError:
    try:
        return paystack(edge).finalize_transfer(payout["transfer_code"], otp)
    except PaystackError as exc:
        return exc


def record_finalize(edge: "Edge", payout_id: int, result: dict[str, Any] | PaystackError, admin_id: int | None) -> str:
    """After `/transfer/finalize_transfer`: the transfer is on its way (its webhook settles the
    payout), or Paystack's reason (a wrong OTP) is raised for the admin to read."""
    with atomic(edge.db):
        audit.record(edge, "payment.payout_otp", actor_id=admin_id, payout_id=payout_id,
                     ok=not isinstance(result, PaystackError))
        if isinstance(result, PaystackError):
            edge.db.execute("UPDATE payouts SET last_error = ? WHERE id = ?", (result.message, payout_id))
        else:
            status = str((result or {}).get("status") or "pending") if isinstance(result, dict) else "pending"
            edge.db.execute("UPDATE payouts SET paystack_status = ?, last_error = NULL, updated_at = ? WHERE id = ?"
                            " AND status = 'pending'", (status, edge.clock.iso(), payout_id))
    if isinstance(result, PaystackError):
        if result.retryable:
            raise ServiceUnavailable("Our payment provider is not reachable; the OTP was not used. Try again.")
        raise ValidationFailed(result.message, fields={"otp": f"Paystack refused the OTP: {result.message}"})
    return "finalized"


def call_resend_otp(edge: "Edge", payout: dict[str, Any]) -> Any:
    try:
        return paystack(edge).resend_otp(payout["transfer_code"])
    except PaystackError as exc:
        return exc


def call_verify_transfer(edge: "Edge", payout: dict[str, Any]) -> dict[str, Any] | PaystackError:
    try:
        return paystack(edge).verify_transfer(payout["reference"])
    except PaystackError as exc:
        return exc


def in_flight_to_verify(edge: "Edge", limit: int = 200) -> list[dict[str, Any]]:
    """Payouts Paystack accepted longer than TRANSFER_VERIFY_AFTER_SECONDS ago with no final
    word (their webhook was lost, or they wait for an OTP), least recently verified first."""
    cutoff = edge.clock.iso(-edge.settings.TRANSFER_VERIFY_AFTER_SECONDS)
    return [dict(r) for r in edge.db.execute(
        "SELECT * FROM payouts WHERE status = 'pending' AND updated_at <= ? AND (verified_at IS NULL OR verified_at <= ?)"
        " ORDER BY COALESCE(verified_at, ''), id LIMIT ?", (cutoff, cutoff, limit))]


def apply_transfer_verified(edge: "Edge", payout: dict[str, Any], result: dict[str, Any] | PaystackError) -> str:
    """What `GET /transfer/verify/:reference` said, applied like its webhook would be."""
    with atomic(edge.db):
        edge.db.execute("UPDATE payouts SET verified_at = ? WHERE id = ?", (edge.clock.iso(), payout["id"]))
        if isinstance(result, PaystackError):
            if result.not_found:  # Paystack never took it: send it again, same reference (no double pay)
                edge.db.execute("UPDATE payouts SET status = 'queued', last_error = ? WHERE id = ? AND status = 'pending'",
                                (result.message, payout["id"]))
                return "requeued"
            return "unreachable"
        if not isinstance(result, dict):  # an answer without the transfer: ask again next time
            return "unreadable"
        status = str(result.get("status") or "")
        if status in ("success", "failed", "reversed"):
            return apply_transfer(edge, status, {**result, "reference": payout["reference"]})
        edge.db.execute("UPDATE payouts SET paystack_status = ? WHERE id = ?", (status or None, payout["id"]))
        return f"still_{status or 'unknown'}"


def verify_in_flight(edge: "Edge") -> dict[str, int]:
    """Reconciliation of transfers: ask Paystack about every payout long in flight."""
    counts: dict[str, int] = {}
    for payout in in_flight_to_verify(edge):
        outcome = apply_transfer_verified(edge, payout, call_verify_transfer(edge, payout))
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts


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
    """(account, currency, amount) the platform owes each seller and affiliate account, non-zero ones, sorted."""
    owed = {**ledger.balances(edge, "seller:"), **ledger.balances(edge, "affiliate:")}
    return sorted((account, currency, -total) for (account, currency), total in owed.items() if total)
