"""Every sandbox answer the edge can receive, validated against Paystack's own OpenAPI
description (a pinned copy of PaystackOSS/openapi `dist/paystack.yaml`; its source commit is in
`paystack_openapi/README.md`). The sandbox stands in for Paystack in every other test, so an
answer that drifts from Paystack's schema would hide a bug the edge has in production."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
import yaml

SPEC = Path(__file__).parent / "paystack_openapi" / "paystack.yaml"


@functools.cache
def spec() -> dict[str, Any]:
    return yaml.safe_load(SPEC.read_text())


def _resolve(node: Any) -> Any:
    """Inline `$ref`s and turn OpenAPI 3.0's `nullable` into JSON Schema."""
    if isinstance(node, list):
        return [_resolve(x) for x in node]
    if not isinstance(node, dict):
        return node
    while "$ref" in node:
        target: Any = spec()
        for part in node["$ref"].split("/")[1:]:
            target = target[part]
        node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    out = {k: _resolve(v) for k, v in node.items() if k not in ("example", "examples", "description")}
    if out.pop("nullable", False) and "type" in out:
        out["type"] = [out["type"], "null"]
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
    return out


def schema_for(path: str, method: str, status: int) -> dict[str, Any]:
    responses = spec()["paths"][path][method]["responses"]
    response = _resolve(responses.get(str(status)) or responses["default"])
    return response["content"]["application/json"]["schema"]


# The OpenAPI lists only `validation_error`, `processor_error` and `api_error` as an error's
# `code`, which is its `type` field's vocabulary; Paystack's answers (and its error list,
# errors/api-errors.json) carry specific codes there, e.g. `transaction_not_found`.
KNOWN_SPEC_GAPS = {"code"}


def check(answer: httpx.Response, path: str, method: str) -> dict[str, Any]:
    body = answer.json()
    schema = schema_for(path, method, answer.status_code)
    if answer.status_code >= 400:
        schema = {**schema, "properties": {k: v for k, v in schema.get("properties", {}).items()
                                           if k not in KNOWN_SPEC_GAPS}}
    errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(body), key=lambda e: list(e.path))
    assert not errors, f"{method.upper()} {path} {answer.status_code}: " + "; ".join(
        f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors[:5])
    return body


@pytest.fixture
def api(sandbox):
    with httpx.Client(base_url=sandbox.url, headers={"Authorization": f"Bearer {sandbox.box.secret_key}"}) as client:
        yield client


def test_transactions_answer_as_the_openapi_says(api, sandbox):
    r = api.post("/transaction/initialize", json={"email": "a@example.com", "amount": 500000, "currency": "NGN",
                                                  "reference": "dd-spec-1", "callback_url": "http://x.test/cb",
                                                  "metadata": {"order_id": 1}})
    check(r, "/transaction/initialize", "post")
    check(api.get("/transaction/verify/dd-spec-1"), "/transaction/verify/{reference}", "get")  # abandoned
    r = api.get("/transaction/verify/nobody")
    assert r.status_code == 404
    check(r, "/transaction/verify/{reference}", "get")
    sandbox.pay("dd-spec-1")
    body = check(api.get("/transaction/verify/dd-spec-1"), "/transaction/verify/{reference}", "get")
    assert body["data"]["status"] == "success" and "connect" in body["data"]
    r = api.post("/transaction/initialize", json={"email": "a@example.com", "amount": 500000, "reference": "dd-spec-1"})
    assert r.status_code == 400
    check(r, "/transaction/initialize", "post")
    r = api.post("/refund", json={"transaction": "dd-spec-1", "amount": 100000})
    check(r, "/refund", "post")


def test_transfers_answer_as_the_openapi_says(api, sandbox):
    sandbox.faults(balance={"NGN": 10_000_000, "GHS": 10_000_000})
    r = api.post("/transferrecipient", json={"type": "nuban", "name": "Ada Obi", "account_number": "0123456789",
                                             "bank_code": "058", "currency": "NGN"})
    recipient = check(r, "/transferrecipient", "post")["data"]
    check(api.post("/transferrecipient", json={"type": "mobile_money", "name": "Kofi", "account_number": "0241234567",
                                               "bank_code": "MTN", "currency": "GHS"}), "/transferrecipient", "post")
    r = api.post("/transfer", json={"source": "balance", "amount": 100000, "recipient": recipient["recipient_code"],
                                    "reference": "po_spec_0000000001", "currency": "NGN", "reason": "spec"})
    check(r, "/transfer", "post")
    check(api.get("/transfer/verify/po_spec_0000000001"), "/transfer/verify/{reference}", "get")
    check(api.get("/transfer/verify/po_nobody_000000001"), "/transfer/verify/{reference}", "get")
    sandbox.faults(transfer_otp=True, otp_code="123456")
    r = api.post("/transfer", json={"source": "balance", "amount": 100000, "recipient": recipient["recipient_code"],
                                    "reference": "po_spec_0000000002", "currency": "NGN", "reason": "spec"})
    body = check(r, "/transfer", "post")
    assert body["data"]["status"] == "otp"
    code = body["data"]["transfer_code"]
    check(api.post("/transfer/resend_otp", json={"transfer_code": code, "reason": "transfer"}),
          "/transfer/resend_otp", "post")
    check(api.post("/transfer/finalize_transfer", json={"transfer_code": code, "otp": "123456"}),
          "/transfer/finalize_transfer", "post")


def test_lookups_answer_as_the_openapi_says(api):
    for currency in ("NGN", "GHS", "ZAR", "KES"):
        body = check(api.get("/bank", params={"currency": currency}), "/bank", "get")
        assert body["data"] and all(b["currency"] == currency for b in body["data"])
    check(api.get("/bank/resolve", params={"account_number": "0123456789", "bank_code": "058"}), "/bank/resolve", "get")
    body = check(api.get("/balance"), "/balance", "get")
    assert {b["currency"] for b in body["data"]} >= {"NGN"}


def test_the_pinned_copy_names_its_source():
    readme = (SPEC.parent / "README.md").read_text()
    assert "PaystackOSS/openapi" in readme and len(json.dumps(spec()["paths"])) > 10_000
    assert [w for w in readme.split() if len(w.strip("`")) == 40 and all(c in "0123456789abcdef" for c in w.strip("`"))]
