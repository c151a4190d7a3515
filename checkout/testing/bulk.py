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
                      fee, amount - fee))
        purchases.append((uid, oid, lid, f"product-{i % 500}", seller, "active", when))
        journals.append((jid, "sale", oid, when))
        entries += [(jid, "paystack:receivable", currency, amount, lid),
                    (jid, "platform:fees", currency, -fee, lid),
                    (jid, f"seller:{seller}:pending", currency, fee - amount, lid)]
    with conn:
        conn.executemany("INSERT INTO users (id, email, display_name, password_hash, role, created_at)"
                         " VALUES (?,?,?,?,?,?)", users)
        conn.executemany("INSERT INTO orders (id, reference, user_id, email, currency, amount, status, catalog_hash,"
                         " created_at, paid_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)", orders)
        conn.executemany("INSERT INTO order_lines (id, order_id, product_slug, seller, title, amount, currency,"
                         " fee_bps, fee, net) VALUES (?,?,?,?,?,?,?,?,?,?)", lines)
        conn.executemany("INSERT INTO purchases (user_id, order_id, order_line_id, product_slug, seller, status,"
                         " created_at) VALUES (?,?,?,?,?,?,?)", purchases)
        conn.executemany("INSERT INTO ledger_journals (id, kind, order_id, memo, created_at) VALUES (?,?,?,'bulk',?)",
                         journals)
        conn.executemany("INSERT INTO ledger_entries (journal_id, account, currency, amount, order_line_id)"
                         " VALUES (?,?,?,?,?)", entries)
        conn.execute("UPDATE ledger_journals SET posted = 1 WHERE posted = 0 AND memo = 'bulk'")
