"""Affiliates are paid out like sellers (docs/promotions.md, "Payouts"): the affiliate sets a
payout account on /affiliate with the sellers' form (password re-check, email, hold), the payout
run queues their available commission and transfers it through the sandbox exactly once, and a
reversed transfer returns the money to `affiliate:<id>:available`."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checkout.payments import ledger, payouts

from ..conftest import csrf_from, login
from .conftest import PASSWORD, deliver, deliver_held
from .test_affiliates import buy_through_link, edge_of, invite_through_console

BANK = {"account_name": "Amaka Eze", "account_number": "0123456789", "bank_code": "058", "currency": "NGN",
        "type": "nuban", "action": "save"}


def as_affiliate(shop):
    shop.cookies.clear()
    login(shop, "aff@example.com", PASSWORD)
    return shop.get("/affiliate")


def test_an_affiliate_is_paid_once_and_a_reversed_transfer_restores_the_balance(shop, sandbox, clock):
    edge = edge_of(shop)
    aff = invite_through_console(shop)
    buy_through_link(shop, sandbox)
    available = f"affiliate:{aff['id']}:available"
    page = as_affiliate(shop)
    assert page.status_code == 200 and "No bank account yet" in page.text
    form = {"csrf_token": csrf_from(page.text), "affiliate": aff["id"], **BANK}
    r = shop.post("/affiliate", data={**form, "account_number": "12", "current_password": PASSWORD})
    assert r.status_code == 422 and "10-digit account number" in r.text
    r = shop.post("/affiliate", data={**form, "affiliate": aff["id"] + 99, "current_password": PASSWORD})
    assert r.status_code == 403
    r = shop.post("/affiliate", data={**form, "current_password": PASSWORD})
    assert r.status_code == 303, r.text
    page = shop.get("/affiliate")
    assert "account ending 6789" in page.text and "payouts start" in page.text  # the 24 h hold
    mail = edge.db.execute("SELECT to_addr FROM outbox WHERE template = 'payout_account_changed'").fetchall()
    assert [m[0] for m in mail] == ["aff@example.com"]  # announced to the affiliate, not the seller
    # inside the refund window nothing is paid
    assert payouts.run_payouts(edge)["queued"] == 0
    clock.advance(8 * 86400)
    counts = payouts.run_payouts(edge)
    assert (counts["released"], counts["queued"], counts["sent"]) == (1, 1, 1)
    assert payouts.run_payouts(edge)["queued"] == 0  # run twice: nothing more to pay
    assert len(sandbox.box.transfers) == 1
    payout = edge.db.execute("SELECT * FROM payouts").fetchone()
    assert (payout["seller_slug"], payout["amount"]) == (f"affiliate:{aff['id']}", 100000)
    assert ledger.balance(edge, available, "NGN") == 0
    assert ledger.balance(edge, f"affiliate:{aff['id']}:payout-in-flight", "NGN") == -100000
    assert ledger.balance(edge, "seller:ada:available", "NGN") == -350000  # the seller's share is untouched
    success = sandbox.take_held()[0]
    assert deliver_held(shop, [success, success]) == ["payout_success", "duplicate"]
    assert ledger.balance(edge, f"affiliate:{aff['id']}:payout-in-flight", "NGN") == 0
    assert ledger.check(edge.db) == []
    assert "success" in as_affiliate(shop).text
    # the transfer comes back: the commission is available again, and paid at the next run
    reversed_ = json.loads(success["body"])
    reversed_["event"] = "transfer.reversed"
    reversed_["data"]["status"] = "reversed"
    assert deliver(shop, reversed_).json()["outcome"] == "payout_reversed"
    assert deliver(shop, reversed_).json()["outcome"] in ("duplicate", "no_change_reversed")
    assert ledger.balance(edge, available, "NGN") == -100000
    assert ledger.check(edge.db) == []
    returned = edge.db.execute("SELECT to_addr FROM outbox WHERE template = 'payout_returned'").fetchall()
    assert [m[0] for m in returned] == ["aff@example.com"]
    assert payouts.run_payouts(edge)["queued"] == 1
    assert ledger.check(edge.db) == []


def test_a_crash_between_queueing_and_the_answer_resends_the_same_reference(shop, sandbox, clock):
    edge = edge_of(shop)
    aff = invite_through_console(shop)
    buy_through_link(shop, sandbox)
    payouts.add_bank_account(edge, f"affiliate:{aff['id']}", "Amaka Eze", "0123456789", "058", "NGN")
    clock.advance(8 * 86400)
    payouts.run_payouts(edge)
    edge.db.execute("UPDATE payouts SET status = 'queued'")  # our record of Paystack's answer was lost
    assert payouts.run_payouts(edge)["sent"] == 1
    assert len(sandbox.box.transfers) == 1  # Paystack refused the same reference: paid once
    assert deliver_held(shop, sandbox.take_held()) == ["payout_success"]
    assert ledger.balance(edge, f"affiliate:{aff['id']}:available", "NGN") == 0
    assert ledger.check(edge.db) == []


def test_a_banned_affiliates_commission_waits(shop, sandbox, clock):
    edge = edge_of(shop)
    aff = invite_through_console(shop)
    buy_through_link(shop, sandbox)
    payouts.add_bank_account(edge, f"affiliate:{aff['id']}", "Amaka Eze", "0123456789", "058", "NGN")
    edge.db.execute("UPDATE users SET banned_at = ? WHERE id = ?", (edge.clock.iso(), aff["user_id"]))
    clock.advance(8 * 86400)
    counts = payouts.run_payouts(edge)
    assert (counts["queued"], counts["held"]) == (0, 1)
    assert ledger.balance(edge, f"affiliate:{aff['id']}:available", "NGN") == -100000


TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(number=st.one_of(TEXT, st.from_regex(r"[0-9]{1,25}", fullmatch=True)), bank=TEXT,
       currency=st.one_of(TEXT, st.sampled_from(["NGN", "GHS", "USD", "KES"])), kind=TEXT,
       affiliate=st.one_of(TEXT, st.integers(-5, 10**6).map(str)))
def test_hostile_payout_account_forms_are_refused_naming_a_field(shop, sandbox, number, bank, currency, kind, affiliate):
    edge = edge_of(shop)
    if edge.db.execute("SELECT 1 FROM affiliates").fetchone() is None:
        invite_through_console(shop)
        as_affiliate(shop)
    page = shop.get("/affiliate")
    before = edge.db.execute("SELECT COUNT(*) FROM payout_recipients").fetchone()[0]
    r = shop.post("/affiliate", data={"csrf_token": csrf_from(page.text), "affiliate": affiliate, "account_name": "x",
                                      "account_number": number, "bank_code": bank, "currency": currency, "type": kind,
                                      "action": "save", "current_password": "not the password"})
    assert 400 <= r.status_code < 500, r.text
    if r.status_code == 422:
        assert any(f in r.text for f in ("account number", "currency", "bank", "password", "For ", "mobile-money"))
    assert edge.db.execute("SELECT COUNT(*) FROM payout_recipients").fetchone()[0] == before


def test_the_admin_sees_what_affiliates_are_owed(shop, sandbox, clock):
    from .test_refunds_payouts import as_admin
    aff = invite_through_console(shop)
    buy_through_link(shop, sandbox)
    as_admin(shop)
    page = shop.get("/admin/payouts")
    assert f"affiliate:{aff['id']}:pending" in page.text and "seller:ada:pending" in page.text
