"""The ledger: the fee rule's worked examples, the database refusing unbalanced or edited
journals, derived balances and `ledger.check` catching every kind of breach."""

from __future__ import annotations

import sqlite3

import pytest
from hypothesis import given
from hypothesis import strategies as st

from checkout.core.db import atomic
from checkout.payments import errors, ledger
from digitaldock.money import Money

from .test_webhooks import charge, deliver, edge_of, pending_order


@pytest.mark.parametrize("gross, bps, fee, net", [
    (500000, 1000, 50000, 450000),
    (7777, 1000, 778, 6999),     # 777.7 rounds half up to 778
    (5, 1000, 1, 4),             # 0.5 rounds up
    (4, 1000, 0, 4),
    (1250, 500, 63, 1187),       # premium seller at 5%: 62.5 → 63
    (1000, 0, 0, 1000),
    (1000, 10000, 1000, 0),
])
def test_fee_worked_examples(gross, bps, fee, net):
    assert ledger.fee_split(gross, bps) == (fee, net)


@given(st.integers(0, 10**12), st.integers(0, 10_000))
def test_fee_parts_always_add_up(gross, bps):
    fee, net = ledger.fee_split(gross, bps)
    assert fee + net == gross and fee >= 0 and net >= 0
    assert abs(fee * 10_000 - gross * bps) <= 5_000  # within half a minor unit


def test_bad_fee_inputs_are_refused():
    with pytest.raises(errors.LedgerError):
        ledger.fee_split(-1, 1000)
    with pytest.raises(errors.LedgerError):
        ledger.fee_split(1, 10_001)


def test_database_refuses_unbalanced_and_edited_journals(client):
    edge = edge_of(client)
    with pytest.raises(errors.LedgerError):
        with atomic(edge.db):
            ledger.post(edge, "payout", [("a", Money("NGN", 5), None), ("b", Money("NGN", -4), None)])
    now = edge.clock.iso()
    with atomic(edge.db):
        jid = edge.db.execute("INSERT INTO ledger_journals (kind, created_at) VALUES ('payout', ?)", (now,)).lastrowid
        edge.db.execute("INSERT INTO ledger_entries (journal_id, account, currency, amount) VALUES (?, 'a', 'NGN', 5)", (jid,))
        edge.db.execute("INSERT INTO ledger_entries (journal_id, account, currency, amount) VALUES (?, 'b', 'NGN', -4)", (jid,))
        with pytest.raises(sqlite3.IntegrityError, match="do not sum to zero"):
            edge.db.execute("UPDATE ledger_journals SET posted = 1 WHERE id = ?", (jid,))
        edge.db.execute("INSERT INTO ledger_entries (journal_id, account, currency, amount) VALUES (?, 'b', 'USD', -1)", (jid,))
        with pytest.raises(sqlite3.IntegrityError, match="do not sum to zero"):
            edge.db.execute("UPDATE ledger_journals SET posted = 1 WHERE id = ?", (jid,))
    with atomic(edge.db):
        jid = ledger.post(edge, "payout", [("a", Money("NGN", 5), None), ("b", Money("NGN", -5), None)])
    for sql in ("UPDATE ledger_entries SET amount = 6 WHERE journal_id = ?", "DELETE FROM ledger_entries WHERE journal_id = ?",
                "INSERT INTO ledger_entries (journal_id, account, currency, amount) VALUES (?, 'c', 'NGN', 1)",
                "UPDATE ledger_journals SET posted = 0 WHERE id = ?", "DELETE FROM ledger_journals WHERE id = ?"):
        with pytest.raises(sqlite3.IntegrityError):
            edge.db.execute(sql, (jid,))
    with pytest.raises(sqlite3.IntegrityError, match="at least two"):
        with atomic(edge.db):
            j = edge.db.execute("INSERT INTO ledger_journals (kind, created_at) VALUES ('payout', ?)", (now,)).lastrowid
            edge.db.execute("UPDATE ledger_journals SET posted = 1 WHERE id = ?", (j,))
    assert ledger.post(edge, "payout", [("a", Money("NGN", 0), None)]) is None
    # an unbalanced journal can only stay open, never posted; `ledger check` reports it
    problems = ledger.check(edge.db)
    assert any("never posted" in p for p in problems) and any("does not sum to zero" in p for p in problems)


def test_check_reports_open_journals_and_status_breaches(client):
    edge = edge_of(client)
    order = pending_order(edge)
    deliver(client, charge(order))
    assert ledger.check(edge.db) == []
    edge.db.execute("INSERT INTO ledger_journals (kind, created_at) VALUES ('payout', 'x')")
    edge.db.execute("UPDATE orders SET status = 'pending' WHERE id = ?", (order["id"],))
    problems = ledger.check(edge.db)
    assert any("never posted" in p for p in problems)
    assert any("is pending but has a sale journal" in p for p in problems)
    edge.db.execute("UPDATE orders SET status = 'paid', amount = 1 WHERE id = ?", (order["id"],))
    assert any("sale journal moves 500000" in p for p in ledger.check(edge.db))
    edge.db.execute("UPDATE purchases SET status = 'refunded'")
    assert any("refund record disagrees" in p for p in ledger.check(edge.db))


def test_check_reports_a_seller_owing_money(client):
    edge = edge_of(client)
    with atomic(edge.db):
        ledger.post(edge, "payout", [("seller:ada:available", Money("NGN", 10), None), (ledger.RECEIVABLE, Money("NGN", -10), None)])
    assert any("seller:ada:available is negative" in p for p in ledger.check(edge.db))


def test_seller_stats_come_from_the_ledger(client):
    edge = edge_of(client)
    for i, items in enumerate(((("lagos-grotesk", None), ("kente-template", None)), (("zine-kit", "20.00"),))):
        order = pending_order(edge, f"b{i}@example.com", items)
        deliver(client, charge(order))
    ada = ledger.seller_stats(edge, "ada")
    assert ada["NGN"] == {"sales": 1, "gross": 500000, "fees": 50000, "net": 450000, "refunded": 0,
                          "pending": 450000, "available": 0, "in_flight": 0, "paid_out": 0, "platform_discounts": 0,
                          "commissions": 0}
    assert ada["USD"]["gross"] == 2000 and ada["USD"]["net"] == 1800
    assert ledger.seller_stats(edge, "kofi")["NGN"]["net"] == 1080000
    assert ledger.seller_stats(edge, "nobody") == {}
    assert {j["kind"] for j in ledger.journals_for(edge, 1)} == {"sale", "paystack_fee"}


def test_check_reports_missing_purchases_refunds_and_payout_journals(client):
    edge = edge_of(client)
    order = pending_order(edge)
    deliver(client, charge(order))
    db = edge.db
    db.execute("DELETE FROM purchases")
    assert any("have no purchase" in p for p in ledger.check(edge.db))
    other = pending_order(edge, "other@example.com")
    db.execute("UPDATE orders SET status = 'paid' WHERE id = ?", (other["id"],))
    assert any("has 0 sale journals" in p for p in ledger.check(edge.db))
    line = db.execute("SELECT id FROM order_lines WHERE order_id = ?", (order["id"],)).fetchone()[0]
    db.execute("INSERT INTO refunds (order_id, order_line_id, user_id, amount, currency, status, requested_at)"
               " VALUES (?, ?, ?, 1, 'NGN', 'processed', 'x')", (order["id"], line, order["user_id"]))
    assert any("0 refund journals for 1 processed" in p for p in ledger.check(edge.db))
    for status in ("queued", "reversed"):
        db.execute("INSERT INTO payouts (reference, seller_slug, currency, amount, recipient_code, status, created_at,"
                   " updated_at) VALUES (?, 'ada', 'NGN', 5, 'RCP_x', ?, 'x', 'x')", (f"po_{status}_0123456789", status))
    problems = ledger.check(edge.db)
    assert any("is queued but its journals are (0, 0, 0)" in p for p in problems)
    assert any("is reversed but its journals are (0, 0, 0)" in p for p in problems)


def test_the_ledger_takes_only_money(client):
    edge = edge_of(client)
    with pytest.raises(errors.LedgerError, match="not Money"):
        with atomic(edge.db):
            ledger.post(edge, "payout", [("a", 5, None), ("b", -5, None)])
    assert edge.db.execute("SELECT COUNT(*) FROM ledger_journals").fetchone()[0] == 0
