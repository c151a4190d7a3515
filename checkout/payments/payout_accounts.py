"""Payout accounts change under the seller's eye (issue #22).

Whoever holds a seller's session could otherwise send the next payout to their own bank. So a
new or changed account (a) needs the current password or a fresh sign-in (the web layer
checks), (b) is announced to the seller's address with what changed, bank and last four digits
only, and a signed cancel link, and (c) receives no payout for PAYOUT_ACCOUNT_HOLD_HOURS:
`payouts.queue_payouts` skips it, the balance simply stays available. Nothing here posts to the
ledger.

Each change keeps the account it replaced (`payout_account_changes`), so a cancel puts that one
back (or removes an account that was new), together with every later change of the same
seller and currency: the state before the change, whatever happened since.
"""

from __future__ import annotations

from typing import Any

from checkout.core import audit, outbox
from checkout.core.clock import iso, parse_iso
from checkout.core.context import Edge
from checkout.core.db import atomic
from checkout.core.errors import InvalidToken

CANCEL_LINK_DAYS = 7  # longer than the hold: a seller who reads mail late still gets the old account back


def describe(bank_name: str | None, bank_code: str | None, account_number: str | None) -> str:
    """'Guaranty Trust Bank, account ending 6789': enough to recognise, never the full number."""
    bank = bank_name or f"bank {bank_code}"
    return f"{bank}, account ending {(account_number or '')[-4:]}"


def held_until(edge: "Edge", recipient: Any) -> str | None:
    """When payouts to this account may start, or None when they may now."""
    if not recipient["changed_at"]:
        return None  # saved before changes were held
    until = parse_iso(recipient["changed_at"]) + edge.settings.PAYOUT_ACCOUNT_HOLD_HOURS * 3600
    return iso(until) if until > edge.clock() else None


def hold_cutoff(edge: "Edge") -> str:
    """Accounts changed after this moment are still held."""
    return edge.clock.iso(-edge.settings.PAYOUT_ACCOUNT_HOLD_HOURS * 3600)


def save(edge: "Edge", seller_slug: str, currency: str, recipient_code: str, bank_code: str, bank_name: str | None,
         account_number: str, account_name: str, actor_id: int | None = None, ip: str | None = None) -> int | None:
    """Make this the seller's account for `currency`; returns the change's id, or None when it
    is the bank account already there (the same bank and number: no hold, no email)."""
    now = edge.clock.iso()
    with atomic(edge.db):
        old = edge.db.execute("SELECT * FROM payout_recipients WHERE seller_slug = ? AND currency = ?",
                              (seller_slug, currency)).fetchone()
        if old is not None and (old["bank_code"], old["account_number"]) == (bank_code, account_number):
            edge.db.execute("UPDATE payout_recipients SET recipient_code = ?, account_name = ?,"
                            " bank_name = COALESCE(?, bank_name) WHERE id = ?",
                            (recipient_code, account_name, bank_name, old["id"]))
            return None
        edge.db.execute(
            "INSERT INTO payout_recipients (seller_slug, currency, recipient_code, bank_code, bank_name, account_number,"
            " account_name, created_at, changed_at) VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT (seller_slug, currency)"
            " DO UPDATE SET recipient_code = excluded.recipient_code, bank_code = excluded.bank_code,"
            " bank_name = excluded.bank_name, account_number = excluded.account_number,"
            " account_name = excluded.account_name, changed_at = excluded.changed_at",
            (seller_slug, currency, recipient_code, bank_code, bank_name, account_number, account_name, now, now))
        before = dict(old) if old is not None else {}
        cur = edge.db.execute(
            "INSERT INTO payout_account_changes (seller_slug, currency, changed_at, changed_by, old_recipient_code,"
            " old_bank_code, old_bank_name, old_account_number, old_account_name, old_created_at, old_changed_at,"
            " new_recipient_code, new_bank_code, new_bank_name, new_account_number) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (seller_slug, currency, now, actor_id, before.get("recipient_code"), before.get("bank_code"),
             before.get("bank_name"), before.get("account_number"), before.get("account_name"),
             before.get("created_at"), before.get("changed_at"), recipient_code, bank_code, bank_name, account_number))
        change_id = int(cur.lastrowid)
        audit.record(edge, "payment.payout_account_changed", actor_id=actor_id, ip=ip, seller=seller_slug,
                     currency=currency, change=change_id, last4=account_number[-4:])
        _announce(edge, change_id)
    return change_id


def _announce(edge: "Edge", change_id: int) -> None:
    """Email every account linked to the seller (its current address) about the change."""
    c = change(edge, change_id)
    s = edge.settings
    token = edge.tokens.dumps("payout_cancel", {"c": change_id})
    for account in payee_users(edge, c["seller_slug"]):
        outbox.enqueue(
            edge, "payout_account_changed", account["email"], account["id"], name=account["display_name"],
            seller=c["seller_slug"], currency=c["currency"],
            new=describe(c["new_bank_name"], c["new_bank_code"], c["new_account_number"]),
            old=describe(c["old_bank_name"], c["old_bank_code"], c["old_account_number"]) if c["old_recipient_code"] else "",
            hours=s.PAYOUT_ACCOUNT_HOLD_HOURS, days=CANCEL_LINK_DAYS,
            link=f"{s.CHECKOUT_URL}/seller/earnings/cancel?token={token}")


AFFILIATE_PAYEE = "affiliate:"  # = ledger.AFFILIATE_PAYEE: a payee is a seller slug or `affiliate:<id>`


def affiliate_payee(affiliate_id: int) -> str:
    return f"{AFFILIATE_PAYEE}{affiliate_id}"


def payee_users(edge: "Edge", payee: str) -> list[Any]:
    """The accounts a payee's payout mail goes to (id, email, display_name): every account linked
    to a seller slug, or the affiliate's own account for `affiliate:<id>`."""
    if payee.startswith(AFFILIATE_PAYEE):
        return edge.db.execute("SELECT u.id, u.email, u.display_name FROM affiliates a JOIN users u ON u.id = a.user_id"
                               " WHERE a.id = ?", (payee[len(AFFILIATE_PAYEE):],)).fetchall()
    return edge.db.execute("SELECT u.id, u.email, u.display_name FROM seller_accounts a JOIN users u"
                           " ON u.id = a.user_id WHERE a.seller_slug = ?", (payee,)).fetchall()


def change(edge: "Edge", change_id: int) -> Any:
    return edge.db.execute("SELECT * FROM payout_account_changes WHERE id = ?", (change_id,)).fetchone()


def check_cancel_token(edge: "Edge", token: str) -> Any:
    """The change a cancel link names (raises InvalidToken for a forged or expired one)."""
    data = edge.tokens.loads("payout_cancel", token or "", CANCEL_LINK_DAYS * 86400)
    found = change(edge, data["c"]) if isinstance(data.get("c"), int) else None
    if found is None:
        raise InvalidToken()
    return found


def restores(c: Any) -> str:
    """What cancelling change `c` leaves, in words."""
    if not c["old_recipient_code"]:
        return "no payout account for this currency (you can add one again from your earnings page)"
    return describe(c["old_bank_name"], c["old_bank_code"], c["old_account_number"])


def cancel(edge: "Edge", token: str, ip: str | None) -> tuple[Any, bool]:
    """Put back the account from before the change (and undo every later change of the same
    seller and currency). Returns (the change, whether this call cancelled it); a second click
    changes nothing."""
    c = check_cancel_token(edge, token)
    with atomic(edge.db):
        c = change(edge, c["id"])
        if c["cancelled_at"]:
            return c, False
        key = (c["seller_slug"], c["currency"])
        if c["old_recipient_code"]:
            edge.db.execute(
                "UPDATE payout_recipients SET recipient_code = ?, bank_code = ?, bank_name = ?, account_number = ?,"
                " account_name = ?, created_at = ?, changed_at = ? WHERE seller_slug = ? AND currency = ?",
                (c["old_recipient_code"], c["old_bank_code"], c["old_bank_name"], c["old_account_number"],
                 c["old_account_name"], c["old_created_at"], c["old_changed_at"], *key))
        else:
            edge.db.execute("DELETE FROM payout_recipients WHERE seller_slug = ? AND currency = ?", key)
        undone = edge.db.execute("UPDATE payout_account_changes SET cancelled_at = ? WHERE seller_slug = ?"
                                 " AND currency = ? AND id >= ? AND cancelled_at IS NULL",
                                 (edge.clock.iso(), *key, c["id"])).rowcount
        audit.record(edge, "payment.payout_account_change_cancelled", ip=ip, seller=c["seller_slug"],
                     currency=c["currency"], change=c["id"], changes_undone=undone)
    return change(edge, c["id"]), True
