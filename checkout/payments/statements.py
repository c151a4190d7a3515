"""A seller's statement: every ledger entry on the seller's accounts, with a running balance per
currency, and each closed month sealed with a hash that chains to the month before.

A seal is the SHA-256 of the previous month's seal and of the month's entries, each written as
one canonical line (`entry id|journal id|time|kind|account|currency|amount|order line`), in
entry order. Seals are stored once (`seller_statements`, never updated) and sent to the seller
by email, so a later change to a past entry, which the ledger's triggers refuse anyway, would
still show: the month's recomputed hash would differ from the seal the seller holds and from
the stored one, and every later seal would break with it. `verify` recomputes the chain;
`digitaldock ledger statement --seller SLUG --verify` runs it and exits 1 on a mismatch.

Balances are what the platform owes the seller (pending + available + in flight), positive.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import sqlite_utils

from checkout.core import audit, outbox
from checkout.core.context import Edge
from checkout.core.db import atomic
from checkout.payments.ledger import SELLER_BUCKETS, seller_account

KIND_TEXT = {"sale": "Sale", "refund": "Refund", "release": "Released after the refund window",
             "payout": "Payout sent", "payout_success": "Payout arrived", "payout_return": "Payout returned"}
BUCKET_TEXT = {"pending": "pending", "available": "available", "payout-in-flight": "on its way"}


def _accounts(slug: str) -> list[str]:
    return [seller_account(slug, b) for b in SELLER_BUCKETS]


def entries(db: sqlite_utils.Database, slug: str, until: str | None = None) -> list[dict[str, Any]]:
    """Every entry on the seller's accounts, oldest first, with the running balance (what is
    owed, per currency) after it; `until` (an ISO time) stops before journals at or after it."""
    accounts = _accounts(slug)
    args: list[Any] = [*accounts]
    stop = ""
    if until is not None:
        stop, args = " AND j.created_at < ?", [*accounts, until]
    rows = db.execute(
        "SELECT e.id, e.journal_id, j.created_at, j.kind, e.account, e.currency, e.amount, e.order_line_id,"
        " l.product_slug, l.title, j.memo FROM ledger_entries e JOIN ledger_journals j ON j.id = e.journal_id"
        f" LEFT JOIN order_lines l ON l.id = e.order_line_id WHERE e.account IN (?, ?, ?){stop} ORDER BY e.id",
        args).fetchall()
    balance: dict[str, int] = {}
    out = []
    for r in rows:
        d = dict(r)
        owed = -d["amount"]  # the ledger's credit is what the platform owes
        balance[d["currency"]] = balance.get(d["currency"], 0) + owed
        bucket = d["account"].rsplit(":", 1)[1]
        d.update(owed=owed, balance=balance[d["currency"]], bucket=BUCKET_TEXT[bucket],
                 what=KIND_TEXT.get(d["kind"], d["kind"]), month=d["created_at"][:7])
        out.append(d)
    return out


CSV_COLUMNS = ["time", "what", "bucket", "product", "currency", "amount", "balance", "journal_id", "id"]
CSV_LABELS = {"time": "Time (UTC)", "what": "What", "bucket": "Balance part", "product": "Product", "amount": "Amount",
              "balance": "Running balance", "journal_id": "Journal", "id": "Entry"}


def csv_rows(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Entries as the statement's CSV has them: what is owed, positive."""
    return [{**e, "time": e["created_at"], "product": e["product_slug"] or "", "amount": e["owed"]} for e in found]


def line(entry: dict[str, Any]) -> str:
    """The canonical text of one entry in a seal."""
    return "|".join(str(entry[k] if entry[k] is not None else "") for k in
                    ("id", "journal_id", "created_at", "kind", "account", "currency", "amount", "order_line_id"))


def seal_hash(prev: str, month: str, month_entries: list[dict[str, Any]]) -> str:
    h = hashlib.sha256()
    h.update(f"digitaldock-statement-v1\n{prev}\n{month}\n".encode())
    for e in month_entries:
        h.update(line(e).encode() + b"\n")
    return h.hexdigest()


def _months(first: str, last: str) -> list[str]:
    """Every month from `first` to `last` (YYYY-MM), both included."""
    y, m = int(first[:4]), int(first[5:7])
    out = []
    while f"{y:04d}-{m:02d}" <= last:
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _previous_month(month: str) -> str:
    d = dt.date(int(month[:4]), int(month[5:7]), 1) - dt.timedelta(days=1)
    return f"{d.year:04d}-{d.month:02d}"


def seals(db: sqlite_utils.Database, slug: str) -> list[dict[str, Any]]:
    return [{**dict(r), "closing": json.loads(r["closing"])} for r in db.execute(
        "SELECT * FROM seller_statements WHERE seller_slug = ? ORDER BY month", (slug,))]


def seal_due(edge: "Edge", slug: str) -> list[str]:
    """Seal every closed month (before the current UTC month) not sealed yet, in order, from the
    seller's first entry; each seal is emailed to the accounts that manage the seller. Returns
    the months sealed now."""
    found = entries(edge.db, slug)
    if not found:
        return []
    current = edge.clock.iso()[:7]
    last_closed = _previous_month(current)
    done = {s["month"]: s for s in seals(edge.db, slug)}
    todo = [m for m in _months(found[0]["month"], last_closed) if m not in done]
    if not todo:
        return []
    by_month: dict[str, list[dict[str, Any]]] = {}
    for e in found:
        by_month.setdefault(e["month"], []).append(e)
    sealed = []
    with atomic(edge.db):
        prev = ""
        closing: dict[str, int] = {}
        for month in _months(found[0]["month"], last_closed):
            month_entries = by_month.get(month, [])
            for e in month_entries:
                closing[e["currency"]] = e["balance"]
            if month in done:
                prev = done[month]["hash"]
                continue
            digest = seal_hash(prev, month, month_entries)
            edge.db.execute("INSERT INTO seller_statements (seller_slug, month, entries, closing, prev_hash, hash,"
                            " sealed_at) VALUES (?,?,?,?,?,?,?)", (slug, month, len(month_entries),
                                                                   json.dumps(closing, sort_keys=True), prev, digest,
                                                                   edge.clock.iso()))
            audit.record(edge, "ledger.statement_sealed", seller=slug, month=month, hash=digest)
            for account in edge.db.execute("SELECT u.id, u.email, u.display_name FROM seller_accounts s JOIN users u"
                                           " ON u.id = s.user_id WHERE s.seller_slug = ? AND u.banned_at IS NULL",
                                           (slug,)):
                outbox.enqueue(edge, "statement_sealed", account["email"], account["id"], name=account["display_name"],
                               seller=slug, month=month, hash=digest, entries=len(month_entries),
                               link=f"{edge.settings.CHECKOUT_URL}/seller/statement?seller={slug}")
            sealed.append(month)
            prev = digest
    return sealed


@dataclass
class Verification:
    ok: bool
    months: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def verify(db: sqlite_utils.Database, slug: str) -> Verification:
    """Recompute every sealed month from the entries as they are now and compare: each month's
    hash, and each seal's link to the one before. A month with entries and no seal is fine (it
    is open or not sealed yet); a seal with nothing to match is not."""
    found = entries(db, slug)
    by_month: dict[str, list[dict[str, Any]]] = {}
    for e in found:
        by_month.setdefault(e["month"], []).append(e)
    result = Verification(True)
    prev = ""
    for s in seals(db, slug):
        month_entries = by_month.get(s["month"], [])
        digest = seal_hash(s["prev_hash"], s["month"], month_entries)
        row = {"month": s["month"], "hash": s["hash"], "entries": len(month_entries), "ok": True}
        if s["prev_hash"] != prev:
            row["ok"] = False
            result.problems.append(f"{s['month']}: the seal does not chain to the month before")
        if digest != s["hash"]:
            row["ok"] = False
            result.problems.append(f"{s['month']}: the entries no longer give the sealed hash "
                                   f"({len(month_entries)} entries now, {s['entries']} when sealed)")
        result.months.append(row)
        prev = s["hash"]
    result.ok = not result.problems
    return result
