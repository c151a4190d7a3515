"""Hostile input on the promotions consoles' forms (/seller/discounts with its checkout offers,
/seller/affiliates): wrong types, encodings, control characters and huge values in any field get
a clear 4xx naming a field, or are accepted as valid; nothing half-made is left behind."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checkout.payments import ledger, payouts

from ..conftest import csrf_from, login
from ..payments.conftest import PASSWORD, catalog_path, make_buyer, sandbox, shop  # noqa: F401 - fixtures

value = st.one_of(st.text(max_size=60), st.text(alphabet=st.characters(categories=["Cc", "Zs", "So"]), max_size=20),
                  st.integers(-10**20, 10**20).map(str), st.sampled_from(["", "10", "12.5", "2026-13-40", "NGN", "XXX",
                                                                          "lagos-grotesk", "kente-template", "ada",
                                                                          "0", "-1", "1e9", "A" * 5000, "offer", "create",
                                                                          "pause", "stop", "odd-pennies", "kofi"]))
DISCOUNT_FIELDS = ("code", "kind", "percent", "amount", "currency", "product", "max_uses", "per_buyer", "min_order",
                   "starts", "ends", "first_purchase_only", "seller", "action", "offer")
AFFILIATE_FIELDS = ("email", "percent", "code", "product", "seller", "action", "affiliate")


def _seller(client):
    edge = client.app.state.edge
    if edge.db.execute("SELECT 1 FROM users WHERE email = 'ada@example.com'").fetchone() is None:
        user = make_buyer(edge, "ada@example.com", role="seller")
        payouts.link_seller(edge, user["id"], "ada")
        make_buyer(edge, "friend@example.com")
        login(client, "ada@example.com", PASSWORD)
    return edge


def _counts(edge):
    return [edge.db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
            for t in ("discount_codes", "discount_code_products", "affiliates", "affiliate_products", "upsells")]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(fields=st.dictionaries(st.sampled_from(DISCOUNT_FIELDS), value, max_size=10))
def test_the_discount_form_answers_any_input_clearly(shop, fields):  # noqa: F811 - the imported fixture
    edge = _seller(shop)
    page = shop.get("/seller/discounts")
    before = _counts(edge)
    r = shop.post("/seller/discounts", data={"csrf_token": csrf_from(page.text), **fields})
    assert r.status_code in (303, 403, 404, 409, 413, 422), (fields, r.status_code)
    assert "Traceback" not in r.text
    if r.status_code != 303:
        assert _counts(edge) == before  # refused: nothing half-made
    if r.status_code == 422:
        assert "edge-field-error" in r.text or "edge-alert-error" in r.text
    assert ledger.check(edge.db) == []


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(fields=st.dictionaries(st.sampled_from(AFFILIATE_FIELDS), value, max_size=7))
def test_the_affiliate_form_answers_any_input_clearly(shop, fields):  # noqa: F811 - the imported fixture
    edge = _seller(shop)
    page = shop.get("/seller/affiliates")
    before = _counts(edge)
    r = shop.post("/seller/affiliates", data={"csrf_token": csrf_from(page.text), **fields})
    assert r.status_code in (303, 403, 404, 409, 413, 422), (fields, r.status_code)
    assert "Traceback" not in r.text
    if r.status_code != 303:
        assert _counts(edge) == before
