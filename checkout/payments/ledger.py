"""The double-entry ledger.

Every money movement is a *journal*: a set of signed integer entries (minor units) on named
accounts that sums to zero per currency. The database enforces it (0002_payments.sql): entries
go into an open journal, posting the journal checks the sum, posted journals and their
entries can never change. Balances are sums over entries, never stored.

Accounts (one balance per currency):

- `paystack:receivable`: what Paystack holds for us (debit, positive).
- `platform:fees`: our commission (credit, negative); `platform:paystack-costs`: Paystack's
  own charge on each payment, a cost of the platform, never of the seller (debit, positive).
- `platform:discounts`: what platform discount codes cost the platform: the part of a seller's
  share the buyer did not pay (debit, positive; docs/promotions.md).
- `tax:<COUNTRY>:payable`: tax collected for the buyer's country (issue #18), owed to its tax
  authority (credit, negative); never the platform's income nor the seller's.
- `seller:<slug>:pending`, `seller:<slug>:available`, `seller:<slug>:payout-in-flight`: what
  the platform owes a catalogue seller (credit, negative), inside the refund window, payable,
  and sent but not yet confirmed. Sellers are catalogue slugs, so money is attributed before
  the seller has an account.
- `affiliate:<id>:pending`, `:available`, `:payout-in-flight`: the same for an affiliate link's
  commission (docs/promotions.md); payouts name either kind by its payee (`payee_account`).

Fee rule: fee = round half up of (gross × bps / 10000), in integer arithmetic; the seller gets
gross − fee, so the parts always add up to the gross exactly.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Iterable

import sqlite_utils

from checkout.core.context import Edge
from checkout.payments.errors import LedgerError
from checkout.payments.taxes import tax_account
from digitaldock.money import Money

RECEIVABLE = "paystack:receivable"
FEES = "platform:fees"
COSTS = "platform:paystack-costs"
DISCOUNTS = "platform:discounts"  # what platform discount codes cost the platform (docs/promotions.md)
SELLER_BUCKETS = ("pending", "available", "payout-in-flight")
# the columns of `ledger_daily`, the roll-up reports read (0011_consoles.sql; checkout/payments/reports.py)
ROLLUP_FIGURES = ("orders", "units", "refunded_units", "gross", "refunds", "fees", "costs", "seller_net")


def fee_split(gross: int, bps: int) -> tuple[int, int]:
    """(fee, net) for a sale of `gross` minor units at `bps` basis points; fee + net == gross."""
    if gross < 0 or not 0 <= bps <= 10_000:
        raise LedgerError(f"bad fee inputs gross={gross} bps={bps}")
    fee = (gross * bps + 5_000) // 10_000
    return fee, gross - fee


def _col(line: Any, name: str) -> int:
    return int(line[name] or 0) if name in line.keys() else 0


def seller_share(line: Any) -> int:
    """What a sold line owes its seller: its net, plus what a platform discount code pays in,
    less an affiliate's commission (docs/promotions.md)."""
    return int(line["net"]) + _col(line, "subsidy") - _col(line, "commission")


def affiliate_account(affiliate_id: int, bucket: str) -> str:
    assert bucket in SELLER_BUCKETS, bucket
    return f"affiliate:{affiliate_id}:{bucket}"


AFFILIATE_PAYEE = "affiliate:"  # a payee key `affiliate:<id>`; any other payee is a catalogue seller slug


def payee_account(payee: str, bucket: str) -> str:
    """The ledger account of a payee (docs/promotions.md, "Payouts"): a seller slug's
    `seller:<slug>:<bucket>`, or an affiliate's `affiliate:<id>:<bucket>` for the payee
    `affiliate:<id>` (slugs never hold a colon, so the two never meet)."""
    if payee.startswith(AFFILIATE_PAYEE):
        return affiliate_account(int(payee[len(AFFILIATE_PAYEE):]), bucket)
    return seller_account(payee, bucket)


def sale_entries(line: Any, sign: int = 1, bucket: str = "pending", country: str | None = None) -> list["Entry"]:
    """A line's part of a sale journal (`sign` -1: its refund, from `bucket`): receivable
    +(paid + tax), fees −fee, seller −share, `platform:discounts` +subsidy for a platform code,
    the affiliate's commission, taken from the seller's share (docs/promotions.md), and the
    line's tax to `tax:<country>:payable` (docs/licensing.md). `amount` is the taxable amount
    after the discount: the fee, subsidy and commission are worked out on it, the tax sits
    beside it and is owed to the buyer's country, never the platform's or the seller's."""
    currency, line_id = line["currency"], line["id"]
    tax = _col(line, "tax")
    entries = [(RECEIVABLE, Money(currency, sign * (line["amount"] + tax)), line_id),
               (FEES, Money(currency, -sign * line["fee"]), line_id),
               (seller_account(line["seller"], bucket), Money(currency, -sign * seller_share(line)), line_id),
               (DISCOUNTS, Money(currency, sign * _col(line, "subsidy")), line_id),
               (tax_account(country), Money(currency, -sign * tax), line_id)]
    if _col(line, "commission"):
        entries.append((affiliate_account(line["affiliate_id"], bucket),
                        Money(currency, -sign * _col(line, "commission")), line_id))
    return entries


def release_entries(line: Any) -> list["Entry"]:
    """Pending → available for a line past the refund window: the seller's share, and the
    affiliate's commission."""
    currency, share = line["currency"], seller_share(line)
    entries = [(seller_account(line["seller"], "pending"), Money(currency, share), line["id"]),
               (seller_account(line["seller"], "available"), Money(currency, -share), line["id"])]
    if _col(line, "commission"):
        c = _col(line, "commission")
        entries += [(affiliate_account(line["affiliate_id"], "pending"), Money(currency, c), line["id"]),
                    (affiliate_account(line["affiliate_id"], "available"), Money(currency, -c), line["id"])]
    return entries


def seller_account(slug: str, bucket: str) -> str:
    assert bucket in SELLER_BUCKETS, bucket
    return f"seller:{slug}:{bucket}"


Entry = tuple[str, Money, "int | None"]  # account, signed amount, order_line_id


def post(edge: "Edge", kind: str, entries: Iterable[Entry], *, order_id: int | None = None,
         order_line_id: int | None = None, refund_id: int | None = None, payout_id: int | None = None,
         memo: str = "") -> int | None:
    """Write one balanced journal (call inside the caller's transaction). Zero entries are
    dropped; a journal left with nothing to move is not written and None is returned.

    Amounts are `Money` only (as hordak's `transfer_to`): a bare int cannot say its currency."""
    rows = []
    for account, amount, line in entries:
        if not isinstance(amount, Money):
            raise LedgerError(f"{kind} journal: {account} was given {amount!r}, not Money")
        if amount.minor:
            rows.append((account, amount.currency, amount.minor, line))
    if not rows:
        return None
    sums: dict[str, int] = defaultdict(int)
    for _, currency, amount, _ in rows:
        sums[currency] += amount
    if any(sums.values()):
        raise LedgerError(f"{kind} journal does not balance: {dict(sums)}")
    cur = edge.db.execute(
        "INSERT INTO ledger_journals (kind, order_id, order_line_id, refund_id, payout_id, memo, created_at)"
        " VALUES (?,?,?,?,?,?,?)", (kind, order_id, order_line_id, refund_id, payout_id, memo, edge.clock.iso()))
    journal_id = int(cur.lastrowid)
    edge.db.conn.executemany(
        "INSERT INTO ledger_entries (journal_id, account, currency, amount, order_line_id) VALUES (?,?,?,?,?)",
        [(journal_id, a, c, v, line) for a, c, v, line in rows])
    edge.db.execute("UPDATE ledger_journals SET posted = 1 WHERE id = ?", (journal_id,))
    return journal_id


def balance(edge: "Edge", account: str, currency: str) -> int:
    row = edge.db.execute("SELECT COALESCE(SUM(amount), 0) FROM ledger_entries WHERE account = ? AND currency = ?",
                          (account, currency)).fetchone()
    return int(row[0])


def balances(edge: "Edge", prefix: str = "") -> dict[tuple[str, str], int]:
    return _balances(edge.db, prefix)


def _balances(db: sqlite_utils.Database, prefix: str = "") -> dict[tuple[str, str], int]:
    rows = db.execute("SELECT account, currency, SUM(amount) AS total FROM ledger_entries WHERE account LIKE ?"
                           " GROUP BY account, currency", (prefix + "%",)).fetchall()
    return {(r["account"], r["currency"]): int(r["total"]) for r in rows}


def seller_stats(edge: "Edge", slug: str) -> dict[str, dict[str, int]]:
    """Per currency: sales, gross, fees, net, refunded, pending, available, in_flight, paid_out —
    all from ledger entries (amounts the platform owes shown as positive numbers)."""
    out: dict[str, dict[str, int]] = {}

    def bucket(currency: str) -> dict[str, int]:
        return out.setdefault(currency, dict.fromkeys(
            ("sales", "gross", "fees", "net", "refunded", "pending", "available", "in_flight", "paid_out",
             "platform_discounts", "commissions"), 0))

    sales = edge.db.execute(
        "SELECT e.currency, j.kind, e.account, SUM(e.amount) AS total, COUNT(DISTINCT e.order_line_id) AS n"
        " FROM ledger_entries e JOIN ledger_journals j ON j.id = e.journal_id"
        " JOIN order_lines l ON l.id = e.order_line_id"
        " WHERE l.seller = ? AND j.kind IN ('sale', 'refund') GROUP BY e.currency, j.kind, e.account", (slug,)).fetchall()
    for r in sales:
        b = bucket(r["currency"])
        if r["kind"] == "sale":
            if r["account"] == RECEIVABLE:
                b["gross"] += r["total"]
                b["sales"] += r["n"]
            elif r["account"] == FEES:
                b["fees"] -= r["total"]
            elif r["account"] == DISCOUNTS:
                b["platform_discounts"] += r["total"]
            elif r["account"].startswith("affiliate:"):
                b["commissions"] -= r["total"]
            elif r["account"].startswith("tax:"):
                b["gross"] += r["total"]  # the tax is the buyer's country's, never the seller's gross
        elif r["account"] == DISCOUNTS:
            b["platform_discounts"] += r["total"]
        elif r["account"].startswith("affiliate:"):
            b["commissions"] -= r["total"]
        elif r["account"] == RECEIVABLE or r["account"].startswith("tax:"):
            b["refunded"] -= r["total"]  # what was refunded, less the tax returned with it
        elif r["account"] == FEES:
            b["fees"] -= r["total"]
    for (account, currency), total in balances(edge, f"seller:{slug}:").items():
        name = {"pending": "pending", "available": "available", "payout-in-flight": "in_flight"}[account.rsplit(":", 1)[1]]
        bucket(currency)[name] = -total
    paid = edge.db.execute(
        "SELECT e.currency, SUM(e.amount) AS total FROM ledger_entries e JOIN ledger_journals j ON j.id = e.journal_id"
        " WHERE j.kind = 'payout_success' AND e.account = ? GROUP BY e.currency",
        (seller_account(slug, "payout-in-flight"),)).fetchall()
    for r in paid:
        bucket(r["currency"])["paid_out"] += r["total"]
    reversed_ = edge.db.execute(
        "SELECT e.currency, SUM(e.amount) AS total FROM ledger_entries e JOIN ledger_journals j ON j.id = e.journal_id"
        " JOIN payouts p ON p.id = j.payout_id WHERE j.kind = 'payout_return' AND p.status = 'reversed'"
        " AND e.account = ? AND EXISTS (SELECT 1 FROM ledger_journals s WHERE s.payout_id = p.id AND s.kind = 'payout_success')"
        " GROUP BY e.currency", (seller_account(slug, "available"),)).fetchall()
    for r in reversed_:
        bucket(r["currency"])["paid_out"] += r["total"]
    for b in out.values():
        b["net"] = b["gross"] - b["refunded"] - b["fees"] + b["platform_discounts"] - b["commissions"]
    return out


def _counts(db: sqlite_utils.Database, sql: str, args: tuple = ()) -> dict[Any, int]:
    """{key: number} from a query selecting (key, number) rows."""
    return {r[0]: int(r[1]) for r in db.execute(sql, args)}


def check(db: sqlite_utils.Database) -> list[str]:
    """Every invariant of the money model; returns the breaches (empty when all hold).

    Takes a database rather than an edge so the restore drill can check a restored copy.
    """
    problems: list[str] = []
    for r in db.execute("SELECT id, kind FROM ledger_journals WHERE posted = 0"):
        problems.append(f"journal {r['id']} ({r['kind']}) was never posted")
    for r in db.execute("SELECT journal_id, currency, SUM(amount) AS s FROM ledger_entries GROUP BY journal_id, currency"
                        " HAVING SUM(amount) <> 0"):
        problems.append(f"journal {r['journal_id']} does not sum to zero in {r['currency']}: {r['s']}")
    for r in db.execute("SELECT currency, SUM(amount) AS s FROM ledger_entries GROUP BY currency HAVING SUM(amount) <> 0"):
        problems.append(f"the ledger does not sum to zero in {r['currency']}: {r['s']}")
    for (account, currency), total in _balances(db, "seller:").items():
        if total > 0:
            problems.append(f"{account} is negative in {currency}: the platform is owed {total} by a seller")
    for (account, currency), total in _balances(db, "affiliate:").items():
        if total > 0:
            problems.append(f"{account} is negative in {currency}: the platform is owed {total} by an affiliate")
    for (account, currency), total in _balances(db, "tax:").items():
        if total > 0:
            problems.append(f"{account} is negative in {currency}: more tax was refunded than charged ({total})")
    if db["invoices"].exists():
        for r in db.execute("SELECT series, COUNT(*) AS n, MAX(number) AS top FROM invoices GROUP BY series"
                            " HAVING COUNT(*) <> MAX(number)"):
            problems.append(f"invoice series {r['series']} has a gap: {r['n']} documents numbered up to {r['top']}")
    # Each rule below reads its tables once, grouped, so the check grows linearly with the data
    # (per-order subqueries made it quadratic: 38 s at 6,700 orders).
    paid_states = ("paid", "refunded", "partially_refunded")
    sales = _counts(db, "SELECT order_id, COUNT(*) FROM ledger_journals WHERE kind = 'sale' GROUP BY order_id")
    gross = _counts(db, "SELECT j.order_id, SUM(e.amount) FROM ledger_entries e JOIN ledger_journals j"
                        " ON j.id = e.journal_id WHERE j.kind = 'sale' AND e.account = ? GROUP BY j.order_id", (RECEIVABLE,))
    unbought = _counts(db, "SELECT l.order_id, COUNT(*) FROM order_lines l LEFT JOIN purchases p"
                           " ON p.order_line_id = l.id WHERE p.id IS NULL GROUP BY l.order_id")
    with_purchases = set(_counts(db, "SELECT order_id, COUNT(*) FROM purchases GROUP BY order_id"))
    for o in db.execute("SELECT id, reference, status, amount FROM orders ORDER BY id"):
        n = sales.get(o["id"], 0)
        if o["status"] in paid_states:
            if n != 1:
                problems.append(f"order {o['reference']} is {o['status']} but has {n} sale journals")
            elif gross.get(o["id"], 0) != o["amount"]:
                problems.append(f"order {o['reference']} sale journal moves {gross.get(o['id'], 0)}, "
                                f"the order is {o['amount']}")
            if unbought.get(o["id"]):
                problems.append(f"order {o['reference']} is {o['status']} but {unbought[o['id']]} line(s) have no purchase")
        elif n:
            problems.append(f"order {o['reference']} is {o['status']} but has a sale journal")
        elif o["id"] in with_purchases:
            problems.append(f"order {o['reference']} is {o['status']} but has purchases")
    for r in db.execute("SELECT l.id, p.status FROM order_lines l JOIN purchases p ON p.order_line_id = l.id"
                        " WHERE (l.refunded_at IS NULL) <> (p.status = 'active')"):
        problems.append(f"order line {r['id']}: purchase is {r['status']} but the refund record disagrees")
    journals = _counts(db, "SELECT order_line_id, COUNT(*) FROM ledger_journals WHERE kind = 'refund'"
                           " AND order_line_id IS NOT NULL GROUP BY order_line_id")
    processed = _counts(db, "SELECT order_line_id, COUNT(*) FROM refunds WHERE status = 'processed' GROUP BY order_line_id")
    for line_id in sorted(set(journals) | set(processed)):
        n, done = journals.get(line_id, 0), processed.get(line_id, 0)
        if n != done or n > 1:
            problems.append(f"order line {line_id}: {n} refund journals for {done} processed refunds")
    by_payout: dict[int, dict[str, int]] = defaultdict(dict)
    for r in db.execute("SELECT payout_id, kind, COUNT(*) FROM ledger_journals WHERE payout_id IS NOT NULL"
                        " GROUP BY payout_id, kind"):
        by_payout[r[0]][r[1]] = r[2]
    for p in db.execute("SELECT id, reference, status FROM payouts ORDER BY id"):
        kinds = by_payout.get(p["id"], {})
        got = (kinds.get("payout", 0), kinds.get("payout_success", 0), kinds.get("payout_return", 0))
        want = {"queued": (1, 0, 0), "pending": (1, 0, 0), "success": (1, 1, 0), "failed": (1, 0, 1)}.get(p["status"])
        if p["status"] == "reversed":
            if got not in ((1, 0, 1), (1, 1, 1)):
                problems.append(f"payout {p['reference']} is reversed but its journals are {got}")
        elif got != want:
            problems.append(f"payout {p['reference']} is {p['status']} but its journals are {got}")
    if db["ledger_daily"].exists():
        problems += rollup_problems(db)
    return problems


def rollup_problems(db: sqlite_utils.Database) -> list[str]:
    """Where `ledger_daily` disagrees with the entries (per currency and figure); empty when it
    equals them, which `ledger.check` requires."""
    direct: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(ROLLUP_FIGURES, 0))
    for rec in db.execute(
            "SELECT e.currency, j.kind, e.account LIKE 'seller:%' AS seller, e.account, SUM(e.amount),"
            " COUNT(DISTINCT e.order_line_id), COUNT(DISTINCT j.id) FROM ledger_entries e"
            " JOIN ledger_journals j ON j.id = e.journal_id WHERE j.posted = 1"
            " AND j.kind IN ('sale', 'refund', 'paystack_fee') GROUP BY e.currency, j.kind, seller,"
            " CASE WHEN e.account LIKE 'seller:%' THEN '' ELSE e.account END"):
        currency, kind, is_seller, account, amount, lines, journals = tuple(rec)
        d = direct[currency]
        if is_seller:
            d["seller_net"] -= amount
        elif account == FEES:
            d["fees"] -= amount
        elif account == COSTS:
            d["costs"] += amount
        elif account == RECEIVABLE and kind == "sale":
            d["gross"] += amount
            d["units"] += lines
            d["orders"] += journals
        elif account == RECEIVABLE and kind == "refund":
            d["refunds"] -= amount
            d["refunded_units"] += lines
    rolled: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(ROLLUP_FIGURES, 0))
    sums = ", ".join(f"SUM({f})" for f in ROLLUP_FIGURES)
    for rec in db.execute(f"SELECT currency, {sums} FROM ledger_daily GROUP BY currency"):
        for name, value in zip(ROLLUP_FIGURES, tuple(rec)[1:]):
            rolled[rec[0]][name] = int(value or 0)
    problems = []
    for currency in sorted(set(direct) | set(rolled)):
        for name in ROLLUP_FIGURES:
            if direct[currency][name] != rolled[currency][name]:
                problems.append(f"the daily roll-up says {name} {rolled[currency][name]} in {currency}, "
                                f"the entries {direct[currency][name]}")
    return problems


def journals_for(edge: "Edge", order_id: int) -> list[dict[str, Any]]:
    rows = edge.db.execute("SELECT j.id, j.kind, e.account, e.currency, e.amount FROM ledger_journals j"
                           " JOIN ledger_entries e ON e.journal_id = j.id WHERE j.order_id = ? ORDER BY j.id, e.id",
                           (order_id,)).fetchall()
    return [dict(r) for r in rows]
