"""`digitaldock ledger check|balances`, `reconcile`, `payouts run`, `seller link`, and the
Paystack client's signature and source-address checks."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from checkout.cli.edge import user
from checkout.cli.payments import ledger_group, payouts, reconcile, seller
from checkout.cli.payments import sandbox as sandbox_cmd
from checkout.core.db import atomic
from checkout.core.settings import load_settings
from checkout.payments import charges, ledger, orders, pricing
from checkout.payments import payouts as payout_flow
from checkout.payments.errors import PaystackError
from checkout.payments.paystack import Paystack, ip_allowed, signature_ok
from checkout.sandbox import sign
from checkout.wiring import build_edge
from digitaldock.money import Money

from .conftest import make_buyer


@pytest.fixture
def env(tmp_path, catalog_path, sandbox):
    return {"DIGITALDOCK_DATA_DIR": str(tmp_path / "data"), "CATALOG_PATH": str(catalog_path),
            "ARGON2_TIME_COST": "1", "ARGON2_MEMORY_COST": "8", "ARGON2_PARALLELISM": "1",
            "PAYSTACK_BASE_URL": sandbox.url, "PAYSTACK_RETRIES": "0"}


@pytest.fixture
def edge(env):
    e = build_edge(load_settings(environ=env, dotenv=None))
    e.migrate()
    yield e
    e.close()


def last(output: str):
    return json.loads(output.strip().splitlines()[-1])  # log lines come before the command's own line


def run(cmd, args, env):
    return CliRunner().invoke(cmd, args, env=env, catch_exceptions=False)


def test_ledger_check_passes_then_fails_on_a_breach(env, edge):
    r = run(ledger_group, ["check"], env)
    assert r.exit_code == 0 and "ledger ok" in r.output
    with atomic(edge.db):
        ledger.post(edge, "payout", [("seller:ada:available", Money("NGN", 5), None), (ledger.RECEIVABLE, Money("NGN", -5), None)])
    r = run(ledger_group, ["check"], env)
    assert r.exit_code == 1 and "BREACH: seller:ada:available is negative" in r.output
    r = run(ledger_group, ["balances", "--prefix", "seller:"], env)
    assert "seller:ada:available" in r.output and "NGN 5" in r.output


def test_reconcile_heals_a_missed_webhook(env, edge, sandbox):
    user = make_buyer(edge)
    order = orders.create_order(edge, user, [("lagos-grotesk", None)])
    orders.start_payment(edge, order)
    sandbox.pay(order["reference"])
    sandbox.take_held()  # the webhook is lost
    unknown = orders.create_order(edge, user, [("kente-template", None)])  # never reached Paystack
    r = run(reconcile, ["--older-than", "0"], env)
    assert r.exit_code == 0
    assert last(r.output) == {"paid": 1, "still_pending": 1}
    assert orders.get_order(edge, order["reference"])["status"] == "paid"
    assert orders.get_order(edge, unknown["reference"])["status"] == "pending"
    sandbox.faults(fail_api=1)
    assert charges.reconcile(edge, older_than=0) == {"unreachable": 1}
    assert ledger.check(edge.db) == []


def test_payouts_run_and_seller_link(env, edge):
    make_buyer(edge, "ada@example.com")
    r = run(seller, ["link", "ada@example.com", "ada", "--fee-bps", "500"], env)
    assert r.exit_code == 0 and last(r.output)["fee_bps"] == 500
    assert edge.db.execute("SELECT role FROM users WHERE email = 'ada@example.com'").fetchone()[0] == "seller"
    assert pricing.fee_bps_for(edge, "ada") == 500 and pricing.fee_bps_for(edge, "kofi") == 1000
    assert run(seller, ["link", "nobody@example.com", "ada"], env).exit_code == 1
    r = run(seller, ["link", "ada@example.com", "ada", "--fee-bps", "20000"], env)
    assert r.exit_code == 1
    r = run(seller, ["link", "ada@example.com", "not-in-catalogue"], env)
    assert r.exit_code == 0 and "warning" in r.output
    r = run(payouts, ["run"], env)
    assert r.exit_code == 0 and last(r.output)["queued"] == 0


def test_bank_account_errors(edge, sandbox):
    with pytest.raises(Exception, match="Cannot resolve account"):
        payout_flow.add_bank_account(edge, "ada", "Ada", "0123456789", "999", "NGN")
    with pytest.raises(Exception):
        payout_flow.add_bank_account(edge, "ada", "Ada", "0123456789", "058", "EUR")
    sandbox.faults(fail_api=5)
    with pytest.raises(Exception, match="not reachable"):
        payout_flow.add_bank_account(edge, "ada", "Ada", "0123456789", "058", "NGN")


def test_client_talks_to_the_sandbox_and_reports_errors(sandbox):
    client = Paystack(sandbox.url, "sk_test_digitaldock_sandbox", retries=0)
    assert {b["code"] for b in client.banks()} >= {"058"}
    with pytest.raises(PaystackError) as err:
        client.verify("missing")
    assert err.value.paystack_status == 404 and err.value.not_found and err.value.message == "Transaction reference not found"
    with pytest.raises(PaystackError) as err:
        Paystack(sandbox.url, "sk_test_wrong", retries=0).verify("x")
    assert err.value.paystack_status == 401 and err.value.message == "Invalid key"
    with pytest.raises(PaystackError) as err:
        Paystack("http://127.0.0.1:9", "k", retries=1, backoff=0.01).verify("x")
    assert err.value.retryable


def test_signature_and_ip_checks():
    body = b'{"event":"charge.success"}'
    assert signature_ok("k", body, sign("k", body))
    assert signature_ok("k", body, sign("k", body).upper())
    assert not signature_ok("k", body, None) and not signature_ok("k", body + b" ", sign("k", body))
    assert ip_allowed("52.31.139.75") and not ip_allowed("10.0.0.1") and not ip_allowed("nonsense") and not ip_allowed(None)


def test_user_link_seller_is_the_same_command(env, edge):
    make_buyer(edge, "kofi@example.com")
    r = run(user, ["link-seller", "kofi@example.com", "kofi"], env)
    assert r.exit_code == 0 and last(r.output)["seller"] == "kofi"
    assert payout_flow.sellers_of(edge, edge.db.execute("SELECT id FROM users WHERE email = 'kofi@example.com'").fetchone()[0]) == ["kofi"]


def test_sandbox_command_uses_the_edge_settings(env, monkeypatch):
    import uvicorn
    seen = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: seen.update(app=app, **kw))
    r = run(sandbox_cmd, ["--port", "8123"], {**env, "PAYSTACK_WEBHOOK_URL": "http://127.0.0.1:9/hook"})
    assert r.exit_code == 0 and seen["port"] == 8123 and seen["host"] == "127.0.0.1"
    box = seen["app"].state.sandbox
    assert box.secret_key == "sk_test_digitaldock_sandbox" and box.config["webhook_url"] == "http://127.0.0.1:9/hook"
    r = CliRunner().invoke(sandbox_cmd, [], env={**env, "DIGITALDOCK_ENV": "staging"})
    assert r.exit_code == 1 and "DIGITALDOCK_ENV" in r.output


def test_doctor_lists_the_currencies_the_paystack_account_accepts(env, edge, sandbox):
    from checkout.cli.payments import doctor
    r = run(doctor, ["--json"], env)
    found = last(r.output)
    assert r.exit_code == 0 and found["mode"] == "test" and found["reachable"] is True
    assert "USD" in found["currencies"] and found["payout_currencies"] == ["GHS", "KES", "NGN", "ZAR"]
    assert found["catalogue_currencies"] == ["NGN", "USD"] and found["problems"] == []
    sandbox.faults(currencies=["NGN", "GHS"])
    r = run(doctor, [], env)
    assert r.exit_code == 1 and "accepts: GHS, NGN" in r.output and "pays out in: GHS, NGN" in r.output
    assert "sells in USD, which the Paystack account does not accept" in r.output
    sandbox.faults(fail_api=1)
    r = run(doctor, ["--json"], env)
    assert r.exit_code == 1 and last(r.output)["reachable"] is False
