"""Refunds (buyer asks, seller told, admin approves, Paystack refunds, access revoked once) and
payouts (bank account, release after the window, transfer, failure returns the money)."""

from __future__ import annotations

import json

from checkout.payments import ledger, payouts, refunds
from checkout.payments.purchases import owns

from ..conftest import csrf_from, login, outbox_rows
from .conftest import PASSWORD, deliver_held, make_buyer

SITE = {"origin": "http://127.0.0.1:8000"}


def edge_of(client):
    return client.app.state.edge


def paid_purchase(shop, sandbox, products=("lagos-grotesk",), email="buyer@example.com"):
    edge = edge_of(shop)
    user = make_buyer(edge, email)
    login(shop, email, PASSWORD)
    for slug in products:
        shop.post("/cart/add", data={"product": slug}, headers=SITE)
    page = shop.get("/buy?cart=1")
    r = shop.post("/buy", data={"csrf_token": csrf_from(page.text), "cart": "1"})
    assert r.status_code == 303
    ref = edge.db.execute("SELECT reference FROM orders ORDER BY id DESC").fetchone()[0]
    sandbox.pay(ref)
    assert deliver_held(shop, sandbox.take_held()) == ["paid"]
    return user, ref


def as_admin(shop):
    edge = edge_of(shop)
    shop.cookies.clear()
    make_buyer(edge, "admin@example.com", role="admin")
    login(shop, "admin@example.com", PASSWORD)


def test_refund_from_request_to_revoked_access_exactly_once(shop, sandbox):
    edge = edge_of(shop)
    seller = make_buyer(edge, "ada@example.com", role="seller")
    payouts.link_seller(edge, seller["id"], "ada")
    user, ref = paid_purchase(shop, sandbox, ("lagos-grotesk", "kente-template"))
    assert len(outbox_rows(shop, "sale")) == 1  # ada is told of her sale; kofi has no account yet
    page = shop.get("/orders")
    assert "Request a refund" in page.text
    line = edge.db.execute("SELECT id FROM order_lines WHERE product_slug = 'lagos-grotesk'").fetchone()[0]
    r = shop.post("/orders/refund", data={"csrf_token": csrf_from(page.text), "line": line, "reason": "x"})
    assert r.status_code == 422
    r = shop.post("/orders/refund", data={"csrf_token": csrf_from(page.text), "line": line,
                                          "reason": "The font files will not open"})
    assert r.status_code == 303
    assert "Refund requested" in shop.get("/orders").text
    assert "will not open" in outbox_rows(shop, "refund_requested")[0]["text_body"]
    r = shop.post("/orders/refund", data={"csrf_token": csrf_from(page.text), "line": line, "reason": "again please"})
    assert r.status_code == 409
    as_admin(shop)
    page = shop.get("/admin/refunds")
    assert "The font files will not open" in page.text
    refund_id = edge.db.execute("SELECT id FROM refunds").fetchone()[0]
    r = shop.post("/admin/refunds", data={"csrf_token": csrf_from(page.text), "refund": refund_id, "action": "approve"})
    assert r.status_code == 303
    assert sandbox.box.refunds[0]["amount"] == 500000
    held = sandbox.take_held()
    assert [h["event"] for h in held] == ["refund.pending", "refund.processing", "refund.processed"]
    assert deliver_held(shop, held + held) == ["refund_pending", "refund_processing", "refunded",
                                               "duplicate", "duplicate", "duplicate"]
    assert not owns(edge.db, user["id"], "lagos-grotesk") and owns(edge.db, user["id"], "kente-template")
    order = edge.db.execute("SELECT status FROM orders WHERE reference = ?", (ref,)).fetchone()[0]
    assert order == "partially_refunded"
    assert ledger.check(edge.db) == []
    assert ledger.balance(edge, "seller:ada:pending", "NGN") == 0
    assert ledger.balance(edge, "platform:fees", "NGN") == -120000  # only the kente fee is left
    assert len(outbox_rows(shop, "refund_processed")) == 1
    ada = ledger.seller_stats(edge, "ada")["NGN"]
    assert (ada["gross"], ada["refunded"], ada["fees"], ada["net"], ada["pending"]) == (500000, 500000, 0, 0, 0)
    # a refund.processed replayed with another refund reference matches nothing more
    data = json.loads(held[2]["body"])
    data["data"]["refund_reference"] = "RFN-replayed"
    from .conftest import deliver
    assert deliver(shop, data).json()["outcome"] == "unmatched_refund"
    assert ledger.check(edge.db) == []


def test_declined_refund_and_refund_window(shop, sandbox, clock):
    edge = edge_of(shop)
    user, ref = paid_purchase(shop, sandbox)
    line = edge.db.execute("SELECT id FROM order_lines").fetchone()[0]
    rid = refunds.request_refund(edge, user, line, "Not what I expected at all")
    assert refunds.decide_refund(edge, rid, user["id"], approve=False, note="Works as described.") == "rejected"
    assert "Works as described" in outbox_rows(shop, "refund_declined")[0]["text_body"]
    clock.advance(8 * 86400)
    page = shop.get("/orders")
    assert "Request a refund" not in page.text


def test_refund_failure_at_paystack_is_visible(shop, sandbox):
    edge = edge_of(shop)
    user, ref = paid_purchase(shop, sandbox)
    line = edge.db.execute("SELECT id FROM order_lines").fetchone()[0]
    rid = refunds.request_refund(edge, user, line, "Broken archive file")
    assert refunds.decide_refund(edge, rid, user["id"], approve=True) == "processing"
    sandbox.faults(fail_api=10)
    assert refunds.send_refund(edge, rid) == "retry"
    sandbox.faults(fail_api=0, refund_outcome="failed")
    assert refunds.send_refund(edge, rid) == "processing"
    held = sandbox.take_held()
    assert deliver_held(shop, held) == ["refund_pending", "refund_processing", "refund_failed"]
    assert edge.db.execute("SELECT status FROM refunds").fetchone()[0] == "failed"
    assert owns(edge.db, user["id"], "lagos-grotesk")
    assert ledger.check(edge.db) == []


def test_payout_after_the_window_and_a_failed_transfer_returns_the_money(shop, sandbox, clock):
    edge = edge_of(shop)
    seller = make_buyer(edge, "ada@example.com", role="seller")
    payouts.link_seller(edge, seller["id"], "ada")
    paid_purchase(shop, sandbox)
    shop.cookies.clear()
    login(shop, "ada@example.com", PASSWORD)
    page = shop.get("/seller/earnings")
    assert page.status_code == 200 and "₦450,000" not in page.text and "₦4,500" in page.text
    r = shop.post("/seller/earnings", data={"csrf_token": csrf_from(page.text), "seller": "ada", "account_name": "Ada Obi",
                                            "account_number": "12", "bank_code": "058", "currency": "NGN"})
    assert r.status_code == 422
    r = shop.post("/seller/earnings", data={"csrf_token": csrf_from(page.text), "seller": "ada", "account_name": "Ada Obi",
                                            "account_number": "0123456789", "bank_code": "058", "currency": "NGN"})
    assert r.status_code == 303
    assert shop.post("/seller/earnings", data={"csrf_token": csrf_from(page.text), "seller": "kofi"}).status_code == 403
    # inside the refund window nothing is available
    assert payouts.run_payouts(edge)["queued"] == 0
    clock.advance(7 * 86400 + 1)
    sandbox.faults(transfer_outcome="failed")
    counts = payouts.run_payouts(edge)
    assert counts["released"] == 1 and counts["queued"] == 1 and counts["sent"] == 1
    assert ledger.balance(edge, "seller:ada:payout-in-flight", "NGN") == -450000
    assert deliver_held(shop, sandbox.take_held()) == ["payout_failed"]
    assert ledger.balance(edge, "seller:ada:available", "NGN") == -450000
    sandbox.faults(transfer_outcome="success")
    counts = payouts.run_payouts(edge)
    assert counts["queued"] == 1
    held = sandbox.take_held()
    assert deliver_held(shop, held + held) == ["payout_success", "duplicate"]
    stats = ledger.seller_stats(edge, "ada")["NGN"]
    assert (stats["available"], stats["in_flight"], stats["paid_out"], stats["net"]) == (0, 0, 450000, 450000)
    assert len(outbox_rows(shop, "payout_sent")) == 1
    assert ledger.check(edge.db) == []
    assert "success" in shop.get("/seller/earnings").text


def test_payout_retry_with_the_same_reference_never_pays_twice(shop, sandbox, clock):
    edge = edge_of(shop)
    paid_purchase(shop, sandbox)
    payouts.add_bank_account(edge, "ada", "Ada Obi", "0123456789", "058", "NGN")
    clock.advance(8 * 86400)
    sandbox.faults(fail_api=10)
    assert payouts.run_payouts(edge)["retry"] == 1
    sandbox.faults(fail_api=0)
    assert payouts.run_payouts(edge)["sent"] == 1
    ref = edge.db.execute("SELECT reference FROM payouts").fetchone()[0]
    # pretend our answer was lost: the payout is queued again; Paystack refuses the duplicate reference
    edge.db.execute("UPDATE payouts SET status = 'queued'")
    assert payouts.run_payouts(edge)["sent"] == 1
    assert len(sandbox.box.transfers) == 1 and ref in sandbox.box.transfers
    assert deliver_held(shop, sandbox.take_held()) == ["payout_success"]
    assert ledger.check(edge.db) == []


def test_reversed_transfer_after_success_returns_to_available(shop, sandbox, clock):
    edge = edge_of(shop)
    paid_purchase(shop, sandbox)
    payouts.add_bank_account(edge, "ada", "Ada Obi", "0123456789", "058", "NGN")
    clock.advance(8 * 86400)
    payouts.run_payouts(edge)
    success = sandbox.take_held()[0]
    assert deliver_held(shop, [success]) == ["payout_success"]
    reversed_ = json.loads(success["body"])
    reversed_["event"] = "transfer.reversed"
    reversed_["data"]["status"] = "reversed"
    from .conftest import deliver
    assert deliver(shop, reversed_).json()["outcome"] == "payout_reversed"
    assert ledger.balance(edge, "seller:ada:available", "NGN") == -450000
    assert ledger.check(edge.db) == []
    bad = {**reversed_, "event": "transfer.failed", "data": {**reversed_["data"], "amount": 1}}
    assert deliver(shop, bad).json()["outcome"] == "amount_mismatch"


def test_admin_pages(shop, sandbox):
    paid_purchase(shop, sandbox)
    as_admin(shop)
    page = shop.get("/admin/orders")
    assert "Every ledger invariant holds" in page.text and "paid" in page.text
    assert shop.get("/admin/orders?status=flagged").status_code == 200
    page = shop.get("/admin/payouts")
    assert "seller:ada:pending" in page.text
    r = shop.post("/admin/payouts", data={"csrf_token": csrf_from(page.text)})
    assert r.status_code == 303
    shop.cookies.clear()
    make_buyer(edge_of(shop), "nosy@example.com")
    login(shop, "nosy@example.com", PASSWORD)
    assert shop.get("/admin/orders").status_code == 403
    assert shop.get("/seller/earnings").status_code == 403


def test_admin_sends_a_refund_again_after_paystack_was_down(shop, sandbox):
    edge = edge_of(shop)
    user, ref = paid_purchase(shop, sandbox)
    line = edge.db.execute("SELECT id FROM order_lines").fetchone()[0]
    rid = refunds.request_refund(edge, user, line, "Archive will not open")
    as_admin(shop)
    page = shop.get("/admin/refunds")
    sandbox.faults(fail_api=1)
    shop.post("/admin/refunds", data={"csrf_token": csrf_from(page.text), "refund": rid, "action": "approve"})
    assert sandbox.box.refunds == []  # one 500 and no automatic retry
    page = shop.get("/admin/refunds")
    assert "Send again" in page.text and "Paystack could not be reached" in page.text
    shop.post("/admin/refunds", data={"csrf_token": csrf_from(page.text), "refund": rid, "action": "retry"})
    assert len(sandbox.box.refunds) == 1
    assert deliver_held(shop, sandbox.take_held()) == ["refund_pending", "refund_processing", "refunded"]
    assert shop.post("/admin/refunds", data={"csrf_token": csrf_from(page.text), "refund": rid,
                                             "action": "dance"}).status_code == 400
    assert ledger.check(edge.db) == []
