"""Paystack as it behaves in production (issue #19), through the edge and the sandbox: transfer
OTP, transfer outcomes and their reconciliation, recipients per currency, 429s, a duplicate
initialize reference, 404 verify, fee-less events, the circuit breaker, refunds from the
dashboard and refunds that need attention. `ledger check` holds after each."""

from __future__ import annotations

import json

import pytest

from checkout.core.errors import ValidationFailed
from checkout.payments import charges, ledger, orders, payouts
from checkout.payments.purchases import owns

from ..conftest import csrf_from, login, outbox_rows
from .conftest import PASSWORD, deliver, deliver_held, make_buyer
from .test_refunds_payouts import as_admin, edge_of, paid_purchase


def _payout_ready(shop, sandbox, clock):
    """Ada sold one font; her NGN account is saved and the refund window and hold have passed."""
    edge = edge_of(shop)
    seller = make_buyer(edge, "ada@example.com", role="seller")
    payouts.link_seller(edge, seller["id"], "ada")
    paid_purchase(shop, sandbox)
    payouts.add_bank_account(edge, "ada", "Ada Obi", "0123456789", "058", "NGN")
    clock.advance(8 * 86400)
    return edge


def test_an_otp_payout_is_finalised_by_an_admin(shop, sandbox, clock):
    edge = _payout_ready(shop, sandbox, clock)
    sandbox.faults(transfer_otp=True, otp_code="424242")
    assert payouts.run_payouts(edge)["otp"] == 1
    assert sandbox.take_held() == []  # nothing leaves Paystack before the OTP
    payout = payouts.awaiting_otp(edge)[0]
    assert payout["status"] == "pending" and payout["paystack_status"] == "otp"
    from checkout.ops import alerts
    assert "wait for the transfer OTP" in alerts.check_payouts_waiting(edge)
    as_admin(shop)
    page = shop.get("/admin/payments")
    assert page.status_code == 200 and payout["reference"] in page.text and "Finalise" in page.text
    token = csrf_from(page.text)
    r = shop.post(f"/admin/payments/payouts/{payout['id']}/resend-otp", data={"csrf_token": token})
    assert r.status_code == 303 and sandbox.box.otps_sent == 1
    r = shop.post(f"/admin/payments/payouts/{payout['id']}/otp", data={"csrf_token": token, "otp": "abc"})
    assert r.status_code == 422
    r = shop.post(f"/admin/payments/payouts/{payout['id']}/otp", data={"csrf_token": token, "otp": "111111"})
    assert r.status_code == 303 and "Invalid OTP" in shop.get("/admin/payments").text
    r = shop.post(f"/admin/payments/payouts/{payout['id']}/otp", data={"csrf_token": token, "otp": "424242"})
    assert r.status_code == 303
    assert deliver_held(shop, sandbox.take_held()) == ["payout_success"]
    assert payouts.awaiting_otp(edge) == [] and alerts.check_payouts_waiting(edge) is None
    assert ledger.balance(edge, "seller:ada:payout-in-flight", "NGN") == 0
    assert shop.post(f"/admin/payments/payouts/{payout['id']}/otp",
                     data={"csrf_token": token, "otp": "424242"}).status_code == 409
    assert ledger.check(edge.db) == []


def test_a_reversed_transfer_found_by_reconcile_restores_the_balance_and_emails(shop, sandbox, clock):
    edge = _payout_ready(shop, sandbox, clock)
    sandbox.faults(transfer_outcome="reversed")
    assert payouts.run_payouts(edge)["sent"] == 1
    sandbox.take_held()  # the transfer.reversed webhook is lost
    assert ledger.balance(edge, "seller:ada:available", "NGN") == 0
    assert payouts.verify_in_flight(edge) == {}  # not old enough yet
    clock.advance(edge.settings.TRANSFER_VERIFY_AFTER_SECONDS + 1)
    assert payouts.verify_in_flight(edge) == {"payout_reversed": 1}
    assert ledger.balance(edge, "seller:ada:available", "NGN") == -450000  # back in her available balance
    mail = outbox_rows(shop, "payout_returned")
    assert len(mail) == 1 and "reversed" in mail[0]["text_body"] and "₦4,500" in mail[0]["text_body"]
    assert ledger.check(edge.db) == []


def test_a_transfer_paystack_never_saw_is_sent_again_with_its_reference(shop, sandbox, clock):
    edge = _payout_ready(shop, sandbox, clock)
    payouts.run_payouts(edge)
    sandbox.take_held()
    ref = edge.db.execute("SELECT reference FROM payouts").fetchone()[0]
    sandbox.box.transfers.pop(ref)
    clock.advance(edge.settings.TRANSFER_VERIFY_AFTER_SECONDS + 1)
    assert payouts.verify_in_flight(edge) == {"requeued": 1}
    assert edge.db.execute("SELECT status FROM payouts").fetchone()[0] == "queued"


def test_a_429_leaves_the_payout_queued_and_it_goes_out_later(shop, sandbox, clock):
    edge = _payout_ready(shop, sandbox, clock)
    sandbox.faults(rate_limit=10, retry_after=0)
    assert payouts.run_payouts(edge)["retry"] == 1
    row = edge.db.execute("SELECT status, last_error FROM payouts").fetchone()
    assert row["status"] == "queued" and "429" in row["last_error"]
    sandbox.faults(rate_limit=1, retry_after=0)  # one 429, then the retry inside the call succeeds
    assert payouts.run_payouts(edge)["sent"] == 1
    assert deliver_held(shop, sandbox.take_held()) == ["payout_success"]
    assert ledger.check(edge.db) == []


def test_a_long_retry_after_is_not_waited_for_inside_a_call(shop, sandbox, clock):
    edge = _payout_ready(shop, sandbox, clock)
    sandbox.faults(rate_limit=1, retry_after=3600)
    assert payouts.run_payouts(edge)["retry"] == 1
    assert edge.db.execute("SELECT status FROM payouts").fetchone()[0] == "queued"


def test_recipients_per_currency(shop, sandbox):
    edge = edge_of(shop)
    ghs = payouts.add_bank_account(edge, "ada", "Ada Obi", "0241234567", "MTN", "GHS", "mobile_money")
    assert ghs["type"] == "mobile_money" and ghs["currency"] == "GHS"
    zar = payouts.add_bank_account(edge, "kofi", "Kofi Mensah", "1234567890123", "051001", "ZAR")
    assert zar["type"] == "basa" and zar["details"]["bank_name"] == "Standard Bank"
    kinds = {(r["currency"], r["recipient_type"]) for s in ("ada", "kofi") for r in payouts.recipients(edge, s)}
    assert kinds == {("GHS", "mobile_money"), ("ZAR", "basa")}
    with pytest.raises(ValidationFailed) as exc:
        payouts.add_bank_account(edge, "ada", "Ada Obi", "0123456789", "058", "USD")
    assert "cannot pay out in USD" in exc.value.fields["currency"]
    with pytest.raises(ValidationFailed) as exc:
        payouts.check_bank_account("0123456789", "ZAR", "nuban")
    assert "basa" in exc.value.fields["type"]
    with pytest.raises(ValidationFailed):
        payouts.check_bank_account("12", "GHS", "ghipss")
    banks = payouts.call_banks(edge, "KES", "mobile_money")
    assert [b["name"] for b in banks] == ["M-PESA"]
    sandbox.faults(fail_api=5)
    assert payouts.call_banks(edge, "KES", "mobile_money") == banks  # kept: no call per page view
    assert isinstance(payouts.call_banks(edge, "ZAR"), Exception)  # not kept yet, and Paystack is down
    sandbox.faults(fail_api=0)
    assert payouts.call_banks(edge, "USD").paystack_status == 400
    resolved = payouts.call_resolve(edge, "0123456789", "058", "NGN")
    assert resolved["account_number"] == "0123456789" and resolved["account_name"]
    assert payouts.call_resolve(edge, "1234567890123", "051001", "ZAR") is None  # Paystack resolves NGN/GHS only


def test_a_timed_out_initialize_still_completes(make_client, sandbox):
    shop = make_client(PAYSTACK_BASE_URL=sandbox.url, PAYSTACK_RETRIES=1, PAYSTACK_TIMEOUT_SECONDS=0.3)
    sandbox.faults(delay_api=1, delay_seconds=1.0)  # Paystack creates it, its answer comes too late
    edge = edge_of(shop)
    make_buyer(edge)
    login(shop, "buyer@example.com", PASSWORD)
    page = shop.get("/buy?product=lagos-grotesk")
    r = shop.post("/buy", data={"csrf_token": csrf_from(page.text), "product": "lagos-grotesk"})
    assert r.status_code == 303 and "/pay/" in r.headers["location"]
    rows = edge.db.execute("SELECT reference, status FROM orders ORDER BY id").fetchall()
    assert [x["status"] for x in rows] == ["abandoned", "pending"]  # the first one's page was never shown
    sandbox.pay(rows[1]["reference"])
    assert deliver_held(shop, sandbox.take_held()) == ["paid"]
    assert ledger.check(edge.db) == []


def test_a_duplicate_reference_already_paid_goes_to_its_order(shop, sandbox):
    edge = edge_of(shop)
    user = make_buyer(edge)
    order = orders.create_order(edge, user, [("lagos-grotesk", None)])
    orders.start_payment(edge, order)
    sandbox.pay(order["reference"])
    edge.db.execute("UPDATE orders SET authorization_url = NULL WHERE id = ?", (order["id"],))  # its answer was lost
    url = charges.record_initialize(edge, order, orders.call_initialize(edge, order))
    assert "/checkout/callback?" in url and order["reference"] in url
    assert orders.get_order(edge, order["reference"])["status"] == "paid"


def test_a_404_verify_expires_a_never_initialised_order(shop, sandbox, clock):
    edge = edge_of(shop)
    user = make_buyer(edge)
    order = orders.create_order(edge, user, [("lagos-grotesk", None)])  # initialize never happened
    assert charges.reconcile(edge, older_than=0) == {"still_pending": 1}
    clock.advance(edge.settings.ORDER_ABANDON_HOURS * 3600 + 1)
    assert charges.reconcile(edge, older_than=0) == {"abandoned": 1}
    assert orders.get_order(edge, order["reference"])["status"] == "abandoned"


def test_a_currency_the_account_does_not_accept_is_named(shop, sandbox):
    edge = edge_of(shop)
    sandbox.faults(currencies=["NGN"])
    make_buyer(edge)
    login(shop, "buyer@example.com", PASSWORD)
    page = shop.get("/buy?product=zine-kit")
    r = shop.post("/buy", data={"csrf_token": csrf_from(page.text), "product": "zine-kit"})
    assert r.status_code == 409 and "cannot take payments in USD" in r.text
    assert [b["currency"] for b in orders.paystack(edge).balances()] == ["NGN"]


def test_fees_missing_from_the_event_are_booked_from_verify(shop, sandbox):
    edge = edge_of(shop)
    sandbox.faults(omit_fees=True)
    user, ref = paid_purchase(shop, sandbox)
    order = orders.get_order(edge, ref)
    assert order["status"] == "paid" and order["paystack_fees"] is None  # unknown, not zero
    assert ledger.balance(edge, "platform:paystack-costs", "NGN") == 0
    assert charges.reconcile(edge) == {"fees_booked": 1}
    assert orders.get_order(edge, ref)["paystack_fees"] == 17500
    assert ledger.balance(edge, "platform:paystack-costs", "NGN") == 17500
    assert charges.reconcile(edge) == {}
    assert ledger.check(edge.db) == []


def test_the_circuit_opens_fails_fast_and_closes_after_a_probe(make_client, sandbox, clock):
    shop = make_client(PAYSTACK_BASE_URL=sandbox.url, PAYSTACK_RETRIES=0, PAYSTACK_BREAKER_FAILURES=2,
                       PAYSTACK_BREAKER_SECONDS=60)
    edge = edge_of(shop)
    make_buyer(edge)
    make_buyer(edge, "admin@example.com", role="admin")
    login(shop, "buyer@example.com", PASSWORD)
    sandbox.faults(fail_api=2)
    for _ in range(2):
        page = shop.get("/buy?product=lagos-grotesk")
        r = shop.post("/buy", data={"csrf_token": csrf_from(page.text), "product": "lagos-grotesk"})
        assert r.status_code == 503 and "briefly unavailable" in r.text
    breaker = orders.paystack(edge).breaker
    assert breaker.state == "open"
    calls = len(sandbox.box.transactions)
    page = shop.get("/buy?product=lagos-grotesk")
    r = shop.post("/buy", data={"csrf_token": csrf_from(page.text), "product": "lagos-grotesk"})
    assert r.status_code == 503 and len(sandbox.box.transactions) == calls  # failed fast: Paystack not asked
    assert any(a["template"] == "alert" and "paystack_unavailable" in a["text_body"] for a in outbox_rows(shop))
    clock.advance(61)
    assert breaker.state == "half_open"
    page = shop.get("/buy?product=lagos-grotesk")
    r = shop.post("/buy", data={"csrf_token": csrf_from(page.text), "product": "lagos-grotesk"})
    assert r.status_code == 303 and breaker.state == "closed"
    from checkout.ops import alerts
    assert "paystack_unavailable" not in [a["kind"] for a in alerts.active(edge)]  # over once Paystack answers


def _refundable(shop, sandbox):
    edge = edge_of(shop)
    seller = make_buyer(edge, "ada@example.com", role="seller")
    payouts.link_seller(edge, seller["id"], "ada")
    user, ref = paid_purchase(shop, sandbox, ("lagos-grotesk", "kente-template"))
    return edge, user, ref


def _refund_event(event, ref, amount):
    return {"event": event, "data": {"status": event.split(".")[1], "transaction_reference": ref,
                                     "refund_reference": f"RFN-{amount}", "amount": str(amount), "currency": "NGN",
                                     "processor": "card", "customer": {"email": "buyer@example.com"},
                                     "integration": 412829, "domain": "test"}}


def test_a_dashboard_refund_is_matched_by_transaction_reference(shop, sandbox):
    edge, user, ref = _refundable(shop, sandbox)
    assert deliver(shop, _refund_event("refund.processed", ref, 500000)).json()["outcome"] == "dashboard_refunded"
    assert not owns(edge.db, user["id"], "lagos-grotesk") and owns(edge.db, user["id"], "kente-template")
    row = edge.db.execute("SELECT origin, status FROM refunds").fetchone()
    assert (row["origin"], row["status"]) == ("dashboard", "processed")
    assert len(outbox_rows(shop, "refund_processed")) == 1 and len(outbox_rows(shop, "refund_seller")) == 1
    # an amount that is no line and not the rest: unmatched, an alert
    assert deliver(shop, _refund_event("refund.processed", ref, 1234)).json()["outcome"] == "unmatched_refund"
    from checkout.ops import alerts
    assert "matched no purchase" in alerts.check_refunds_attention(edge)
    # the rest of the order at once
    assert deliver(shop, _refund_event("refund.processed", ref, 1200000)).json()["outcome"] == "dashboard_refunded"
    assert edge.db.execute("SELECT status FROM orders WHERE reference = ?", (ref,)).fetchone()[0] == "refunded"
    assert ledger.check(edge.db) == []


def test_a_refund_that_needs_attention_is_shown_to_admins(shop, sandbox):
    edge, user, ref = _refundable(shop, sandbox)
    line = edge.db.execute("SELECT id FROM order_lines WHERE product_slug = 'lagos-grotesk'").fetchone()[0]
    page = shop.get("/orders")
    shop.post("/orders/refund", data={"csrf_token": csrf_from(page.text), "line": line,
                                      "reason": "The font files will not open"})
    refund_id = edge.db.execute("SELECT id FROM refunds").fetchone()[0]
    from checkout.payments import refunds
    refunds.decide_refund(edge, refund_id, user["id"], True)
    sandbox.faults(refund_outcome="needs-attention")
    refunds.send_refund(edge, refund_id)
    assert deliver_held(shop, sandbox.take_held()) == ["refund_pending", "refund_processing", "refund_needs-attention"]
    as_admin(shop)
    page = shop.get("/admin/payments")
    assert "needs-attention" in page.text and "Paystack dashboard" in page.text and ref in page.text
    assert owns(edge.db, user["id"], "lagos-grotesk")  # nothing revoked until Paystack processes it
    assert ledger.check(edge.db) == []


def test_wrongly_typed_input_gets_paystacks_400(sandbox):
    import httpx
    bad = [("/transfer", {"source": "balance", "amount": 100, "recipient": "RCP_x", "currency": ["NGN"]}),
           ("/transfer", {"source": "balance", "amount": 100, "recipient": {"a": 1}}),
           ("/transaction/initialize", {"email": "a@b.co", "amount": 100, "callback_url": 12}),
           ("/transaction/initialize", {"email": "a@b.co", "amount": 100, "currency": {"x": 1}}),
           ("/transferrecipient", {"type": "nuban", "name": ["x"], "account_number": "0123456789", "bank_code": "058"}),
           ("/refund", {"transaction": ["x"]}),
           ("/transfer/finalize_transfer", {"transfer_code": 1, "otp": 2})]
    with httpx.Client(base_url=sandbox.url, headers={"Authorization": f"Bearer {sandbox.box.secret_key}"}) as api:
        for path, body in bad:
            r = api.post(path, content=json.dumps(body), headers={"content-type": "application/json"})
            assert r.status_code == 400 and r.json()["status"] is False and r.json()["message"], (path, body)


def test_a_seller_adds_a_ghana_mobile_money_account_after_checking_its_name(shop, sandbox):
    edge = edge_of(shop)
    seller = make_buyer(edge, "ada@example.com", role="seller")
    payouts.link_seller(edge, seller["id"], "ada")
    login(shop, "ada@example.com", PASSWORD)
    page = shop.get("/seller/earnings?currency=GHS&type=mobile_money")
    assert "MTN Mobile Money" in page.text and "Mobile-money number" in page.text
    assert "not in USD" in page.text  # where USD earnings wait is said up front
    form = {"csrf_token": csrf_from(page.text), "seller": "ada", "currency": "GHS", "type": "mobile_money",
            "bank_code": "MTN", "account_number": "0241234567", "account_name": ""}
    r = shop.post("/seller/earnings?currency=GHS&type=mobile_money", data={**form, "action": "check"})
    assert r.status_code == 200 and "Paystack has this account as" in r.text and "SANDBOX ACCOUNT 4567" in r.text
    r = shop.post("/seller/earnings", data={**form, "account_name": "Ada Obi", "action": "save",
                                            "current_password": PASSWORD})
    assert r.status_code == 303
    rec = payouts.recipients(edge, "ada")[0]
    assert (rec["currency"], rec["recipient_type"], rec["bank_code"]) == ("GHS", "mobile_money", "MTN")
    r = shop.post("/seller/earnings", data={**form, "currency": "USD", "action": "save", "current_password": PASSWORD})
    assert r.status_code == 422 and "cannot pay out in USD" in r.text
    r = shop.post("/seller/earnings", data={**form, "currency": "ZAR", "type": "basa", "bank_code": "051001",
                                            "account_number": "1234567890123", "action": "check"})
    assert r.status_code == 200 and "cannot look up names of ZAR accounts" in r.text


def test_a_failed_refund_is_listed_until_the_buyer_asks_again(shop, sandbox, clock):
    from checkout.ops import alerts
    from checkout.payments import refunds
    edge, user, ref = _refundable(shop, sandbox)
    line = edge.db.execute("SELECT id FROM order_lines WHERE product_slug = 'lagos-grotesk'").fetchone()[0]
    first = refunds.request_refund(edge, user, line, "The font files will not open")
    refunds.decide_refund(edge, first, user["id"], True)
    sandbox.faults(refund_outcome="failed")
    refunds.send_refund(edge, first)
    assert deliver_held(shop, sandbox.take_held())[-1] == "refund_failed"
    assert [r["paystack_status"] for r in refunds.attention(edge)] == ["failed"]
    assert "need attention" in alerts.check_refunds_attention(edge)
    refunds.request_refund(edge, user, line, "Asking again, still broken")
    assert refunds.attention(edge) == [] and alerts.check_refunds_attention(edge) is None


def test_the_sandbox_can_retry_webhooks_on_paystacks_schedule():
    import asyncio
    import time

    import httpx

    from checkout.sandbox import Sandbox
    from checkout.sandbox.app import PAYSTACK_RETRY_SCHEDULE

    box = Sandbox(webhook_url="http://127.0.0.1:9/nobody-listens")
    box.config["retry_schedule"] = "paystack"
    box.emit("charge.success", {"reference": "dd-1"})
    item = box.queue.pop()

    async def attempts(n):
        async with httpx.AsyncClient(timeout=1.0) as client:
            for _ in range(n):
                await box._deliver(client, item)
                box.queue.clear()
    asyncio.run(attempts(5))
    assert item["status"] == "retrying" and item["attempts"] == 5
    assert 3500 < item["due"] - time.monotonic() <= 3600  # after 4 tries 3 minutes apart, hourly
    assert PAYSTACK_RETRY_SCHEDULE[:4] == [180.0] * 4 and len(PAYSTACK_RETRY_SCHEDULE) == 76  # 72 hours of hourly
    asyncio.run(attempts(len(PAYSTACK_RETRY_SCHEDULE) - 4))
    assert item["status"] == "failed"
