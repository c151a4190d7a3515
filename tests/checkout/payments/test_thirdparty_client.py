"""Fidelity: a real third-party Paystack client (pypaystack2, which parses every answer into its
pydantic models of Paystack's API) pointed at the sandbox, with its parsing made strict."""

from __future__ import annotations

import json

import pytest

pypaystack2 = pytest.importorskip("pypaystack2")

from pypaystack2 import PaystackClient  # noqa: E402
from pypaystack2.base_clients import AbstractAPIClient, BaseAPIClient  # noqa: E402
from pypaystack2.enums import Country, Currency, RecipientType  # noqa: E402

from checkout.sandbox import DEFAULT_SECRET


@pytest.fixture
def paystack(sandbox, monkeypatch):
    monkeypatch.setattr(AbstractAPIClient, "_BASE_URL", sandbox.url)
    strict = BaseAPIClient._handle_request

    def handle(self, method, url, data=None, response_data_model_class=None, raise_serialization_exception=False):
        return strict(self, method, url, data, response_data_model_class, raise_serialization_exception=True)

    monkeypatch.setattr(BaseAPIClient, "_handle_request", handle)
    return PaystackClient(secret_key=DEFAULT_SECRET)


def test_a_real_client_understands_every_answer(paystack, sandbox):
    init = paystack.transactions.initialize(amount=250000, email="ann@example.com", currency=Currency.NGN,
                                            reference="tp-1", callback_url="http://127.0.0.1:9/cb")
    assert init.status and init.data.reference == "tp-1" and init.data.authorization_url.startswith(sandbox.url)
    dup = paystack.transactions.initialize(amount=250000, email="ann@example.com", reference="tp-1")
    assert dup.status is False and dup.message == "Duplicate Transaction Reference" and dup.status_code == 400
    sandbox.pay("tp-1")
    verified = paystack.transactions.verify("tp-1")
    assert verified.data.status == "success" and verified.data.amount == 250000 and verified.data.currency == "NGN"
    refund = paystack.refunds.create(transaction="tp-1", amount=100000)
    assert refund.status and refund.data.amount == 100000
    banks = paystack.miscellaneous.get_banks(country=Country.NIGERIA)
    assert {b.code for b in banks.data} >= {"058", "044"}
    recipient = paystack.transfer_recipients.create(type_=RecipientType.NUBAN, name="Ada Obi", account_number="0123456789",
                                                    bank_code="058", currency=Currency.NGN)
    assert recipient.data.recipient_code.startswith("RCP_")
    transfer = paystack.transfers.initiate(amount=50000, recipient=recipient.data.recipient_code,
                                           reference="po_thirdparty_0001", currency=Currency.NGN, reason="earnings")
    assert transfer.status and transfer.data.transfer_code.startswith("TRF_")
    held = sandbox.box.held
    assert paystack.is_verified_webhook_payload(held[0]["body"], held[0]["signature"])
    # the charge.success webhook carries the same transaction object as verify
    from pypaystack2.models.response_models import Transaction
    event = json.loads(held[0]["body"])
    assert event["event"] == "charge.success"
    assert Transaction.model_validate(paystack._normalize_data(event["data"])).reference == "tp-1"
