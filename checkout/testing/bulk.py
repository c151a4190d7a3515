"""Large, consistent databases in seconds, for benchmarks and the tests that need scale.

`fill_orders` writes paid orders the way the edge would (order, line, purchase, a posted sale
journal whose entries sum to zero, the seller's share pending) with `executemany`, so 100,000
orders take seconds instead of the minutes the real checkout path would. `ledger check`
passes on the result; nothing here is shown to a user as data (the demo store is seeded
through the real code paths by `digitaldock seed`).
"""

from __future__ import annotations

import datetime as dt
import sqlite3

SELLERS = ("ada", "kofi", "zola", "amara", "tunde")
CURRENCIES = ("NGN", "GHS", "ZAR", "KES", "USD")
CATEGORIES = ("fonts", "templates", "audio", "ebooks", "graphics", "courses")


def fill_orders(conn: sqlite3.Connection, n: int, *, start: int = 0, fee_bps: int = 1000,
                day: str = "2026-11-01", days: int = 90) -> None:
    """Add `n` paid orders (one line each) with users, purchases and balanced sale journals."""
    first = dt.date.fromisoformat(day)
    users, orders, lines, purchases, journals, entries = [], [], [], [], [], []
    base_user = (conn.execute("SELECT COALESCE(MAX(id), 0) FROM users").fetchone()[0]) + 1
    base_order = (conn.execute("SELECT COALESCE(MAX(id), 0) FROM orders").fetchone()[0]) + 1
    base_line = (conn.execute("SELECT COALESCE(MAX(id), 0) FROM order_lines").fetchone()[0]) + 1
    base_journal = (conn.execute("SELECT COALESCE(MAX(id), 0) FROM ledger_journals").fetchone()[0]) + 1
    for k in range(n):
        i = start + k
        uid, oid, lid, jid = base_user + k, base_order + k, base_line + k, base_journal + k
        when = f"{first + dt.timedelta(days=i % days)}T{(i // 60) % 24:02d}:{i % 60:02d}:00+00:00"
        seller, currency = SELLERS[i % len(SELLERS)], CURRENCIES[(i // 7) % len(CURRENCIES)]
        amount = 50_000 + (i * 7919) % 950_000
        fee = (amount * fee_bps + 5_000) // 10_000
        users.append((uid, f"bulk{i}@example.com", f"Buyer {i}", "x", "buyer", when))
        orders.append((oid, f"dd-bulk-{i}", uid, f"bulk{i}@example.com", currency, amount, "paid", "bulk", when,
                       when, when))
        lines.append((lid, oid, f"product-{i % 500}", seller, f"Product {i % 500}", amount, currency, fee_bps,
                      fee, amount - fee, CATEGORIES[i % 500 % len(CATEGORIES)]))
        purchases.append((uid, oid, lid, f"product-{i % 500}", seller, "active", when))
        journals.append((jid, "sale", oid, when))
        entries += [row for row in ((jid, "paystack:receivable", currency, amount, lid),
                                    (jid, "platform:fees", currency, -fee, lid),
                                    (jid, f"seller:{seller}:pending", currency, fee - amount, lid)) if row[3]]
    # one transaction: the edge's connections are in autocommit mode (isolation_level=None),
    # where `with conn:` opens none and every row would be a commit of its own
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.executemany("INSERT INTO users (id, email, display_name, password_hash, role, created_at)"
                         " VALUES (?,?,?,?,?,?)", users)
        conn.executemany("INSERT INTO orders (id, reference, user_id, email, currency, amount, status, catalog_hash,"
                         " created_at, paid_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)", orders)
        conn.executemany("INSERT INTO order_lines (id, order_id, product_slug, seller, title, amount, currency,"
                         " fee_bps, fee, net, category) VALUES (?,?,?,?,?,?,?,?,?,?,?)", lines)
        conn.executemany("INSERT INTO purchases (user_id, order_id, order_line_id, product_slug, seller, status,"
                         " created_at) VALUES (?,?,?,?,?,?,?)", purchases)
        conn.executemany("INSERT INTO ledger_journals (id, kind, order_id, memo, created_at) VALUES (?,?,?,'bulk',?)",
                         journals)
        conn.executemany("INSERT INTO ledger_entries (journal_id, account, currency, amount, order_line_id)"
                         " VALUES (?,?,?,?,?)", entries)
        conn.execute("UPDATE ledger_journals SET posted = 1 WHERE posted = 0 AND memo = 'bulk'")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _ids(conn: sqlite3.Connection, table: str) -> int:
    return int(conn.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}").fetchone()[0]) + 1


def add_movements(conn: sqlite3.Connection, *, refund_every: int = 10, cost_bps: int = 150, release: bool = True,
                  pay_out: bool = True, payout_day: str = "2027-03-01") -> dict[str, int]:
    """Give the paid orders of `fill_orders` the rest of the money model, as the edge would write
    it: Paystack's charge on each (`cost_bps` of the amount), a processed refund of every
    `refund_every`-th order a day after it was paid, the release of every other line a week
    after it was paid, and one successful payout per seller and currency of what was released.
    `ledger check` passes on the result; returns how many of each were written."""
    orders = conn.execute("SELECT o.id, o.amount, o.currency, o.paid_at, o.user_id, l.id AS line, l.seller, l.fee,"
                          " l.net FROM orders o JOIN order_lines l ON l.order_id = o.id WHERE o.status = 'paid'"
                          " AND o.catalog_hash = 'bulk' AND o.paystack_fees IS NULL ORDER BY o.id").fetchall()
    journal, refund_id = _ids(conn, "ledger_journals"), _ids(conn, "refunds")
    journals, entries, refunds, refunded, released, costs = [], [], [], [], [], []
    owed: dict[tuple[str, str], int] = {}
    for k, (oid, amount, currency, paid_at, uid, line, seller, fee, net) in enumerate(orders):
        cost = amount * cost_bps // 10_000
        if cost:
            costs.append((cost, oid))
            journals.append((journal, "paystack_fee", oid, None, None, None, paid_at))
            entries += [(journal, "platform:paystack-costs", currency, cost, None),
                        (journal, "paystack:receivable", currency, -cost, None)]
            journal += 1
        later = (dt.datetime.fromisoformat(paid_at) + dt.timedelta(days=1)).isoformat()
        if refund_every and k % refund_every == refund_every - 1:
            refunds.append((refund_id, oid, line, uid, amount, currency, paid_at, later, later))
            refunded.append((later, line, oid))
            journals.append((journal, "refund", oid, line, refund_id, None, later))
            entries.append((journal, "paystack:receivable", currency, -amount, line))
            if net:
                entries.append((journal, f"seller:{seller}:pending", currency, net, line))
            if fee:
                entries.append((journal, "platform:fees", currency, fee, line))
            journal, refund_id = journal + 1, refund_id + 1
        elif release and net:
            week = (dt.datetime.fromisoformat(paid_at) + dt.timedelta(days=8)).isoformat()
            released.append((week, line))
            journals.append((journal, "release", oid, line, None, None, week))
            entries += [(journal, f"seller:{seller}:pending", currency, net, line),
                        (journal, f"seller:{seller}:available", currency, -net, line)]
            journal += 1
            owed[(seller, currency)] = owed.get((seller, currency), 0) + net
    payouts = []
    if pay_out:
        payout = _ids(conn, "payouts")
        when = f"{payout_day}T09:00:00+00:00"
        for (seller, currency), amount in sorted(owed.items()):
            payouts.append((payout, f"po_bulk_{payout}", seller, currency, amount, when))
            journals += [(journal, "payout", None, None, None, payout, when),
                         (journal + 1, "payout_success", None, None, None, payout, when)]
            entries += [(journal, f"seller:{seller}:available", currency, amount, None),
                        (journal, f"seller:{seller}:payout-in-flight", currency, -amount, None),
                        (journal + 1, f"seller:{seller}:payout-in-flight", currency, amount, None),
                        (journal + 1, "paystack:receivable", currency, -amount, None)]
            journal, payout = journal + 2, payout + 1
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.executemany("UPDATE orders SET paystack_fees = ? WHERE id = ?", costs)
        conn.executemany("INSERT INTO refunds (id, order_id, order_line_id, user_id, amount, currency, reason, status,"
                         " requested_at, decided_at, processed_at) VALUES (?,?,?,?,?,?,'bulk','processed',?,?,?)", refunds)
        conn.executemany("UPDATE order_lines SET refunded_at = ? WHERE id = ?", [(w, line) for w, line, _ in refunded])
        conn.executemany("UPDATE purchases SET status = 'refunded', refunded_at = ? WHERE order_line_id = ?",
                         [(w, line) for w, line, _ in refunded])
        conn.executemany("UPDATE orders SET status = 'refunded' WHERE id = ?", [(oid,) for _, _, oid in refunded])
        conn.executemany("UPDATE order_lines SET released_at = ? WHERE id = ?", released)
        conn.executemany("INSERT INTO payouts (id, reference, seller_slug, currency, amount, recipient_code, status,"
                         " attempts, created_at, updated_at) VALUES (?,?,?,?,?,'RCP_bulk','success',1,?,?)",
                         [(*p, p[-1]) for p in payouts])
        conn.executemany("INSERT INTO ledger_journals (id, kind, order_id, order_line_id, refund_id, payout_id, memo,"
                         " created_at) VALUES (?,?,?,?,?,?,'bulk-movement',?)", journals)
        conn.executemany("INSERT INTO ledger_entries (journal_id, account, currency, amount, order_line_id)"
                         " VALUES (?,?,?,?,?)", entries)
        conn.execute("UPDATE ledger_journals SET posted = 1 WHERE posted = 0 AND memo = 'bulk-movement'")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return {"costs": len(costs), "refunds": len(refunds), "releases": len(released), "payouts": len(payouts)}
