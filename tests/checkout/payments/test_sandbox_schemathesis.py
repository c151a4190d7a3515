"""Schemathesis against the sandbox, from Paystack's own OpenAPI description (the pinned copy
in `paystack_openapi/`): for every operation the edge uses, generated requests (wrongly typed
fields, odd encodings, missing keys) never get a 5xx, only an answer or Paystack's 4xx envelope.

Schemathesis' own pytest plugin does not run under pytest 9 yet, so this drives its Python API
with Hypothesis directly, one operation at a time.
"""

from __future__ import annotations

import pytest

schemathesis = pytest.importorskip("schemathesis")
import yaml  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402

from .test_openapi_conformance import SPEC  # noqa: E402

# Every path the edge calls (checkout/payments/paystack.py), with the method.
USED = {("POST", "/transaction/initialize"), ("GET", "/transaction/verify/{reference}"), ("POST", "/refund"),
        ("POST", "/transferrecipient"), ("POST", "/transfer"), ("POST", "/transfer/finalize_transfer"),
        ("POST", "/transfer/resend_otp"), ("GET", "/transfer/verify/{reference}"), ("GET", "/bank"),
        ("GET", "/bank/resolve"), ("GET", "/balance")}


def test_no_generated_request_gets_a_5xx(sandbox):
    sandbox.faults(balance={"NGN": 10**9, "GHS": 10**9}, transfer_otp=False)
    schema = schemathesis.openapi.from_dict(yaml.safe_load(SPEC.read_text()))
    operations = [result.ok() for result in schema.get_all_operations()]
    chosen = [op for op in operations if (op.method.upper(), op.path) in USED]
    assert {(op.method.upper(), op.path) for op in chosen} == USED
    seen: dict[int, int] = {}
    for operation, mode in [(op, m) for op in chosen for m in GenerationMode]:

        @given(case=operation.as_strategy(mode))  # positive: valid bodies; negative: wrong types, missing keys
        @settings(max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        def check(case):
            r = case.call(base_url=sandbox.url, headers={"Authorization": f"Bearer {sandbox.box.secret_key}"})
            assert r.status_code < 500, (case.method, case.formatted_path, case.body, r.status_code, r.text[:300])
            if r.status_code >= 400:
                assert r.json()["status"] is False and r.json()["message"]
            seen[r.status_code] = seen.get(r.status_code, 0) + 1

        check()
    assert seen.get(200, 0) + seen.get(201, 0) > 0 and seen.get(400, 0) > 0
