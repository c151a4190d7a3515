"""Hostile input to issue #19's entry points gets a clear 4xx naming the field and changes
nothing: the seller's bank-account form (currency, recipient type, bank, number, check/save),
its query (`?currency=&type=`), and the admin's transfer-OTP form."""

from __future__ import annotations

import json
import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checkout.core.settings import load_settings
from checkout.payments import payouts
from checkout.sandbox import DEFAULT_SECRET, Sandbox
from checkout.web.app import create_app

from ...servers import serve
from ..conftest import FAST, csrf_from, login
from .conftest import PASSWORD, make_buyer, write_shop_catalog

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=200)
ODD = st.one_of(TEXT, st.sampled_from(["NGN", "GHS", "ZAR", "KES", "USD", "XOF", "", "nuban", "mobile_money", "basa",
                                       "058", "MTN", "0123456789", "0241234567", "\x00", "٠١٢٣٤٥٦٧٨٩", "9" * 5000]))


@pytest.fixture(scope="module")
def app_client(tmp_path_factory):
    base = tmp_path_factory.mktemp("paystack-inputs")
    write_shop_catalog(base / "catalog.json")
    box = Sandbox(DEFAULT_SECRET, "")
    box.faults["hold_webhooks"] = True
    with serve(box.app(), name="sandbox") as server:
        app = create_app(load_settings(environ={}, dotenv=None, DIGITALDOCK_DATA_DIR=str(base / "data"),
                                       CATALOG_PATH=str(base / "catalog.json"), CONTENT_DIR=str(base / "content"),
                                       PAYSTACK_BASE_URL=server.url, PAYSTACK_RETRIES=0, **FAST))
        with TestClient(app, follow_redirects=False) as client:
            edge = app.state.edge
            admin = make_buyer(edge, "root@example.com", role="admin")
            payouts.link_seller(edge, admin["id"], "ada")
            login(client, "root@example.com", PASSWORD)
            token = csrf_from(client.get("/seller/earnings").text)
            yield client, edge, token, box


def _state(edge):
    return (edge.db.execute("SELECT COUNT(*), group_concat(recipient_code) FROM payout_recipients").fetchone()[:],
            edge.db.execute("SELECT group_concat(status || paystack_status) FROM payouts").fetchone()[0])


@SETTINGS
@given(currency=ODD, kind=ODD, bank=ODD, number=ODD, action=st.sampled_from(["check", "save", "", "x"]))
def test_any_bank_account_form_is_saved_or_refused_naming_a_field(app_client, currency, kind, bank, number, action):
    client, edge, token, _ = app_client
    before = _state(edge)
    r = client.post("/seller/earnings", data={"csrf_token": token, "seller": "ada", "currency": currency, "type": kind,
                                              "bank_code": bank, "account_number": number, "account_name": "Ada",
                                              "action": action, "current_password": PASSWORD})
    assert r.status_code in (200, 303, 422), r.text[:300]
    if r.status_code == 422:
        assert 'class="edge-field-error"' in r.text or "edge-error" in r.text
    if r.status_code != 303:
        assert _state(edge) == before


@SETTINGS
@given(currency=ODD, kind=ODD)
def test_any_account_kind_query_shows_a_form(app_client, currency, kind):
    client, *_ = app_client
    r = client.get("/seller/earnings", params={"currency": currency, "type": kind})
    assert r.status_code == 200 and 'data-form="bank-account"' in r.text


@SETTINGS
@given(payout=st.one_of(st.integers(-5, 10**20).map(str), TEXT.filter(lambda s: "/" not in s and s not in ("", ".", ".."))),
       otp=st.one_of(ODD, st.integers().map(str)))
def test_any_otp_form_is_refused_with_a_clear_answer(app_client, payout, otp):
    client, edge, token, _ = app_client
    before = _state(edge)
    from urllib.parse import quote
    for path in ("otp", "resend-otp"):
        r = client.post(f"/admin/payments/payouts/{quote(payout, safe='')}/{path}", data={"csrf_token": token, "otp": otp})
        assert r.status_code in (400, 404, 409, 422), (r.status_code, r.text[:300])
    assert _state(edge) == before


JSONISH = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20), TEXT),
                       lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(TEXT, inner, max_size=3)),
                       max_leaves=8)


@SETTINGS
@given(event=st.sampled_from(["refund.pending", "refund.processing", "refund.needs-attention", "refund.processed",
                              "refund.failed", "transfer.success", "transfer.failed", "transfer.reversed"]),
       reference=st.one_of(JSONISH, st.sampled_from(["dd-nope", "po_nope_0000000001"])),
       amount=st.one_of(JSONISH, st.sampled_from(["500000", 500000, "-1", "5e5"])),
       extra=st.dictionaries(st.sampled_from(["currency", "refund_reference", "status", "reason", "failures"]), JSONISH,
                             max_size=3))
def test_any_refund_or_transfer_event_is_answered_and_books_nothing_wrong(app_client, event, reference, amount, extra):
    from checkout.payments import ledger
    from checkout.sandbox import sign
    client, edge, *_ = app_client
    data = {**extra, "reference": reference, "transaction_reference": reference, "amount": amount}
    raw = json.dumps({"event": event, "data": data}).encode()
    r = client.post("/webhooks/paystack", content=raw, headers={"content-type": "application/json",
                                                                 "x-paystack-signature": sign(DEFAULT_SECRET, raw)})
    assert r.status_code in (200, 409), r.text[:300]
    assert ledger.check(edge.db) == []


@SETTINGS
@given(answer=JSONISH)
def test_any_transfer_verify_answer_is_applied_or_ignored(app_client, answer):
    client, edge, *_ = app_client
    payout = {"id": 0, "reference": "po_missing_000000001", "amount": 1, "currency": "NGN", "seller_slug": "ada",
              "status": "pending"}
    outcome = payouts.apply_transfer_verified(edge, payout, answer)
    assert isinstance(outcome, str)
