"""The Paystack sandbox follows Paystack's published API: paths, Bearer auth, envelopes, errors,
subunit amounts, duplicate references, the hosted pay page, signed webhooks with retries."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from checkout.sandbox import DEFAULT_SECRET, Sandbox

from ...servers import serve

AUTH = {"Authorization": f"Bearer {DEFAULT_SECRET}"}


@pytest.fixture
def api(sandbox):
    with httpx.Client(base_url=sandbox.url, headers=AUTH) as client:
        yield client


def init(api, **extra):
    body = {"email": "ann@example.com", "amount": 500000, "currency": "NGN", "reference": "ref-1",
            "callback_url": "http://127.0.0.1:9/cb", **extra}
    return api.post("/transaction/initialize", json=body)


def test_initialize_answers_the_paystack_envelope(api):
    r = init(api)
    assert r.status_code == 200
    body = r.json()
    assert body["status"] is True and body["message"] == "Authorization URL created"
    assert set(body["data"]) == {"authorization_url", "access_code", "reference"}
    assert body["data"]["reference"] == "ref-1"
    assert body["data"]["authorization_url"].endswith("/pay/" + body["data"]["access_code"])


def test_bad_or_missing_key_is_401_with_paystack_messages(sandbox):
    r = httpx.post(f"{sandbox.url}/transaction/initialize", json={})
    assert r.status_code == 401 and r.json() == {**r.json(), "status": False,
                                                 "message": "Format is Authorization Bearer [secret key]"}
    r = httpx.get(f"{sandbox.url}/transaction/verify/x", headers={"Authorization": "Bearer sk_test_wrong"})
    assert r.status_code == 401 and r.json()["message"] == "Invalid key"


@pytest.mark.parametrize("extra, message", [
    ({"amount": "12.5"}, "Invalid Amount Sent"),
    ({"amount": 0}, "Invalid Amount Sent"),
    ({"email": ""}, "Email is required"),
    ({"currency": "EUR"}, "Currency not supported by merchant"),
    ({"reference": "bad ref!"}, "Invalid transaction reference. Only -, ., = and alphanumeric characters allowed."),
])
def test_initialize_validation_errors(api, extra, message):
    r = init(api, **extra)
    assert r.status_code == 400
    assert r.json()["status"] is False and r.json()["message"] == message


def test_duplicate_reference_is_refused(api):
    assert init(api).status_code == 200
    r = init(api)
    assert r.status_code == 400 and r.json()["message"] == "Duplicate Transaction Reference"


def test_unpaid_transaction_verifies_as_abandoned_and_unknown_is_400(api):
    init(api)
    data = api.get("/transaction/verify/ref-1").json()["data"]
    assert data["status"] == "abandoned" and data["amount"] == 500000 and data["currency"] == "NGN"
    r = api.get("/transaction/verify/nope")
    assert r.status_code == 404 and r.json()["message"] == "Transaction reference not found"


def test_pay_page_pays_and_redirects_with_trxref(api, sandbox):
    url = init(api).json()["data"]["authorization_url"]
    page = httpx.get(url)
    assert "NGN" in page.text and "5,000.00" in page.text
    assert "<script" not in page.text and "script-src" not in page.headers["content-security-policy"]
    r = httpx.post(url, data={"action": "pay"})
    assert r.status_code == 303
    assert r.headers["location"] == "http://127.0.0.1:9/cb?trxref=ref-1&reference=ref-1"
    data = api.get("/transaction/verify/ref-1").json()["data"]
    assert data["status"] == "success" and data["fees"] == 7500 + 10000 and data["paid_at"]
    held = sandbox.take_held()
    assert [h["event"] for h in held] == ["charge.success"]
    body = held[0]["body"]
    assert held[0]["signature"] == hmac.new(DEFAULT_SECRET.encode(), body, hashlib.sha512).hexdigest()
    assert json.loads(body)["data"]["reference"] == "ref-1"
    # paying twice does nothing more
    httpx.post(url, data={"action": "pay"})
    assert sandbox.take_held() == []


def test_decline_fails_and_unknown_pay_link_is_404(api):
    url = init(api).json()["data"]["authorization_url"]
    httpx.post(url, data={"action": "decline"})
    assert api.get("/transaction/verify/ref-1").json()["data"]["status"] == "failed"
    assert httpx.get(url.rsplit("/", 1)[0] + "/nothing").status_code == 404


def test_fault_injection_5xx_and_different_amount(api, sandbox):
    init(api)
    sandbox.faults(fail_api=1, report_amount=100)
    assert api.get("/transaction/verify/ref-1").status_code == 500
    assert api.get("/transaction/verify/ref-1").json()["data"]["amount"] == 100


def test_refund_rules(api, sandbox):
    init(api)
    r = api.post("/refund", json={"transaction": "ref-1"})
    assert r.status_code == 400  # not paid yet
    sandbox.pay("ref-1")
    sandbox.take_held()
    assert api.post("/refund", json={"transaction": "ref-1", "amount": 600000}).status_code == 400
    r = api.post("/refund", json={"transaction": "ref-1", "amount": 200000})
    assert r.json()["message"] == "Refund has been queued for processing"
    assert r.json()["data"]["status"] == "pending" and r.json()["data"]["amount"] == 200000
    held = sandbox.take_held()
    assert [h["event"] for h in held] == ["refund.pending", "refund.processing", "refund.processed"]
    processed = json.loads(held[1]["body"])["data"]
    assert processed["amount"] == "200000" and processed["transaction_reference"] == "ref-1"
    api.post("/refund", json={"transaction": "ref-1"})
    r = api.post("/refund", json={"transaction": "ref-1"})
    assert r.status_code == 400 and r.json()["message"] == "Transaction has been fully reversed"
    assert api.post("/refund", json={"transaction": "missing"}).status_code == 404


def test_recipients_transfers_and_banks(api, sandbox):
    banks = api.get("/bank", params={"country": "nigeria"}).json()
    assert {"044", "058", "011", "033"} <= {b["code"] for b in banks["data"]} and "meta" in banks
    body = {"type": "nuban", "name": "Ada Obi", "account_number": "0123456789", "bank_code": "058", "currency": "NGN"}
    first = api.post("/transferrecipient", json=body)
    assert first.status_code == 201 and first.json()["data"]["recipient_code"].startswith("RCP_")
    again = api.post("/transferrecipient", json=body).json()["data"]
    assert again["recipient_code"] == first.json()["data"]["recipient_code"]
    assert api.post("/transferrecipient", json={**body, "bank_code": "999"}).status_code == 400
    code = again["recipient_code"]
    transfer = {"source": "balance", "amount": 5000, "recipient": code, "reference": "po_0123456789abcdef",
                "currency": "NGN", "reason": "x"}
    r = api.post("/transfer", json=transfer)
    assert r.status_code == 400 and r.json()["message"] == "Your balance is not enough to fulfill this request"
    sandbox.faults(balance={"NGN": 10000})
    r = api.post("/transfer", json=transfer)
    assert r.json()["message"] == "Transfer has been queued" and r.json()["data"]["transfer_code"].startswith("TRF_")
    r = api.post("/transfer", json=transfer)
    assert r.json()["message"] == "Please provide a unique reference. Reference already exists on a transfer"
    assert api.post("/transfer", json={**transfer, "reference": "SHORT"}).status_code == 400
    held = sandbox.take_held()
    assert [h["event"] for h in held] == ["transfer.success"]
    assert json.loads(held[0]["body"])["data"]["integration"]["business_name"] == "DigitalDock"


def test_webhooks_are_retried_until_200_and_can_be_duplicated_or_reordered():
    seen: list[dict] = []
    answers = iter([500, 200, 200, 200, 200, 200, 200, 200])

    async def receiver(request: Request):
        seen.append({"body": json.loads(await request.body()), "sig": request.headers["x-paystack-signature"]})
        return JSONResponse({}, status_code=next(answers))

    with serve(Starlette(routes=[Route("/hook", receiver, methods=["POST"])]), name="receiver") as rx:
        box = Sandbox(DEFAULT_SECRET, f"{rx.url}/hook", retry_seconds=0.05)
        with serve(box.app(), name="sandbox") as sb, httpx.Client(base_url=sb.url, headers=AUTH) as api:
            for ref in ("a-1", "a-2", "a-3"):
                api.post("/transaction/initialize", json={"email": "x@example.com", "amount": 10000, "reference": ref})
            api.post("/_sandbox/pay/a-1")
            for _ in range(300):
                if len(seen) >= 2:
                    break
                time.sleep(0.01)
            assert [s["body"]["data"]["reference"] for s in seen] == ["a-1", "a-1"]  # 500, then retried
            api.post("/_sandbox/faults", json={"duplicate_webhooks": True, "reorder_webhooks": True})
            api.post("/_sandbox/pay/a-2")
            api.post("/_sandbox/pay/a-3")
            for _ in range(300):
                if len(seen) >= 6:
                    break
                time.sleep(0.01)
            refs = [s["body"]["data"]["reference"] for s in seen[2:]]
            assert refs == ["a-3", "a-3", "a-2", "a-2"]
            state = api.get("/_sandbox/state").json()["data"]
            assert any(d["attempts"] == 2 and d["status"] == "delivered" for d in state["deliveries"])


@pytest.mark.parametrize("path, body, message", [
    ("/transferrecipient", {"type": "nuban", "name": "A"}, "account_number is required"),
    ("/transferrecipient", {"type": "bogus", "name": "A", "account_number": "0123456789", "bank_code": "058"},
     "Recipient type is invalid"),
    ("/transfer", {"source": "balance", "amount": "x"}, "Invalid Amount Sent"),
    ("/transfer", {"source": "card", "amount": 5}, "Invalid transfer source"),
    ("/transfer", {"source": "balance", "amount": 5, "recipient": "RCP_none"}, "Recipient specified is invalid"),
    ("/refund", {}, "Transaction reference or id is required"),
])
def test_more_validation_errors(api, path, body, message):
    r = api.post(path, json=body)
    assert r.status_code == 400 and r.json()["message"] == message


def test_form_bodies_ids_metadata_and_non_json(api, sandbox):
    r = api.post("/transaction/initialize", data={"email": "f@example.com", "amount": "2000", "metadata": '{"a": 1}'})
    ref = r.json()["data"]["reference"]
    assert sandbox.box.transactions[ref]["metadata"] == {"a": 1}
    sandbox.pay(ref)
    tid = sandbox.box.transactions[ref]["id"]
    assert api.post("/refund", json={"transaction": tid, "amount": "0"}).json()["message"] == "Invalid Amount Sent"
    assert api.post("/refund", json={"transaction": tid}).status_code == 200
    for path in ("/transaction/initialize", "/refund", "/transferrecipient", "/transfer"):
        r = api.post(path, content=b"{nope", headers={"content-type": "application/json"})
        assert r.status_code == 400 and r.json()["message"] == "Invalid JSON body"
    assert api.get("/nowhere").json()["status"] is False
    assert {b["type"] for b in api.get("/bank", params={"country": "ghana"}).json()["data"]} == {"ghipss", "mobile_money"}
    assert api.get("/").json()["status"] is True


def test_control_endpoints_hold_release_and_show_state(api, sandbox):
    init(api)
    sandbox.pay("ref-1")
    held = api.get("/_sandbox/webhooks").json()["data"]
    assert [h["event"] for h in held] == ["charge.success"]
    assert api.post("/_sandbox/webhooks/release").json()["data"]["released"] == 1
    state = api.get("/_sandbox/state").json()["data"]
    assert state["transactions"][0]["status"] == "success" and state["balance"]["NGN"] == 500000 - 17500
    assert api.post("/_sandbox/pay/missing").status_code == 400
    assert api.post("/_sandbox/faults", json={"drop_webhooks": 1, "hold_webhooks": False}).status_code == 200
    init(api, reference="ref-2")
    sandbox.pay("ref-2")
    dropped = api.get("/_sandbox/state").json()["data"]["deliveries"][-1]
    assert dropped["status"] == "dropped"


def test_abandon_keeps_abandoned_and_shows_the_result(api):
    url = init(api).json()["data"]["authorization_url"]
    r = httpx.post(url, data={"action": "abandon"})
    assert r.status_code == 303
    page = httpx.get(url)
    assert 'id=status>abandoned' in page.text and "<button" not in page.text
    assert api.get("/transaction/verify/ref-1").json()["data"]["status"] == "abandoned"


def test_reorder_buffer_is_flushed_when_the_fault_is_cleared(sandbox, api):
    sandbox.faults(hold_webhooks=False, reorder_webhooks=True, webhook_url="http://127.0.0.1:9/none", max_attempts=1)
    init(api)
    sandbox.pay("ref-1")
    assert len(sandbox.box.reorder_buffer) == 1
    sandbox.faults(reorder_webhooks=False)
    assert sandbox.box.reorder_buffer == []
