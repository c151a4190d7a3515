"""The order page (/checkout/callback?reference=...) shows an order only to its owner: the
signed-in account that placed it, or, for a guest order, the browser that placed it. Everyone
else gets the same 404 as a reference that does not exist."""

from __future__ import annotations

import warnings

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ..conftest import csrf_from, login
from .conftest import PASSWORD, make_buyer

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

SITE = {"origin": "http://127.0.0.1:8000"}
SAME_ID = {"X-Request-ID": "same-request-id"}


def edge_of(client):
    return client.app.state.edge


def browser(client) -> TestClient:
    """Another browser on the same edge: its own cookies, nothing else."""
    return TestClient(client.app, follow_redirects=False)


def page(client, reference: str, **headers: str):
    return client.get("/checkout/callback", params={"reference": reference}, headers={**SAME_ID, **headers})


def assert_same_as_unknown(client, reference: str) -> None:
    """The refusal is byte-for-byte the answer for a reference that does not exist."""
    for accept in ("text/html", "application/json"):
        theirs, unknown = page(client, reference, accept=accept), page(client, "dd-00000000000000000000", accept=accept)
        assert theirs.status_code == unknown.status_code == 404
        assert theirs.content == unknown.content
    assert page(client, reference, accept="application/json").json()["code"] == "unknown_order"


def guest_buy(client, email: str, product: str = "lagos-grotesk"):
    form = client.get(f"/buy?product={product}")
    return client.post("/buy", data={"csrf_token": csrf_from(form.text), "product": product, "email": email,
                                     "accept": ["terms", "privacy"]})


def test_another_buyer_and_a_stranger_cannot_see_an_order_by_its_reference(shop, sandbox):
    make_buyer(edge_of(shop), "owner@example.com")
    make_buyer(edge_of(shop), "other@example.com")
    login(shop, "owner@example.com", PASSWORD)
    assert shop.post("/checkout", data={"product": "lagos-grotesk"}, headers=SITE).status_code == 303
    ref = edge_of(shop).db.execute("SELECT reference FROM orders").fetchone()[0]
    sandbox.pay(ref)
    assert 'data-status="paid"' in page(shop, ref).text  # the owner, back from Paystack
    other = browser(shop)
    assert login(other, "other@example.com", PASSWORD).status_code == 303
    assert_same_as_unknown(other, ref)
    assert_same_as_unknown(browser(shop), ref)  # not signed in
    assert "owner@example.com" not in page(other, ref).text


def test_a_stranger_does_not_make_the_edge_verify_a_pending_order(shop, sandbox):
    make_buyer(edge_of(shop), "owner@example.com")
    login(shop, "owner@example.com", PASSWORD)
    shop.post("/checkout", data={"product": "lagos-grotesk"}, headers=SITE)
    ref = edge_of(shop).db.execute("SELECT reference FROM orders").fetchone()[0]
    sandbox.pay(ref)
    assert_same_as_unknown(browser(shop), ref)
    assert edge_of(shop).db.execute("SELECT status FROM orders").fetchone()[0] == "pending"


def test_a_guest_sees_the_order_only_in_the_browser_that_placed_it(shop, sandbox):
    r = guest_buy(shop, "guest@example.com")
    assert r.status_code == 303 and r.headers["location"].startswith(sandbox.url)
    ref = edge_of(shop).db.execute("SELECT reference FROM orders").fetchone()[0]
    assert 'data-status="pending"' in page(shop, ref).text
    sandbox.pay(ref)
    assert 'data-status="paid"' in page(shop, ref).text
    assert_same_as_unknown(browser(shop), ref)
    signed = make_buyer(edge_of(shop), "someone@example.com")
    other = browser(shop)
    login(other, signed["email"], PASSWORD)
    assert_same_as_unknown(other, ref)


def test_a_forged_or_copied_order_cookie_shows_nothing(shop, sandbox):
    guest_buy(shop, "guest@example.com")
    ref = edge_of(shop).db.execute("SELECT reference FROM orders").fetchone()[0]
    stranger = browser(shop)
    stranger.cookies.set("dd_orders", ref)  # unsigned
    assert_same_as_unknown(stranger, ref)
    stranger.cookies.set("dd_orders", edge_of(shop).tokens.sign_cookie("cart", ref))  # signed for another purpose
    assert_same_as_unknown(stranger, ref)


def test_a_signed_in_buyers_order_is_not_shown_through_a_guest_cookie(shop, sandbox):
    """The cookie grants only guest orders: a reference of an account's order in it shows nothing."""
    make_buyer(edge_of(shop), "owner@example.com")
    login(shop, "owner@example.com", PASSWORD)
    shop.post("/checkout", data={"product": "lagos-grotesk"}, headers=SITE)
    ref = edge_of(shop).db.execute("SELECT reference FROM orders").fetchone()[0]
    stranger = browser(shop)
    stranger.cookies.set("dd_orders", edge_of(shop).tokens.sign_cookie("orders", ref))
    assert_same_as_unknown(stranger, ref)


def test_a_second_browser_with_the_same_guest_email_gets_an_order_of_its_own(shop, sandbox):
    first = guest_buy(shop, "guest@example.com").headers["location"]
    assert guest_buy(shop, "guest@example.com").headers["location"] == first  # a double click: reused
    other = browser(shop)
    second = guest_buy(other, "guest@example.com").headers["location"]
    assert second != first
    refs = [r[0] for r in edge_of(shop).db.execute("SELECT reference FROM orders ORDER BY id")]
    assert len(refs) == 2
    assert page(other, refs[1]).status_code == 200
    assert_same_as_unknown(other, refs[0])
    assert page(shop, refs[0]).status_code == 200
    assert_same_as_unknown(shop, refs[1])


@settings(max_examples=60, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(reference=st.text(max_size=80), cookie=st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126,
                                                                             exclude_characters=';,"\\'),
                                                      max_size=120))
def test_any_reference_and_any_cookie_get_the_unknown_order_404(shop, reference, cookie):
    stranger = browser(shop)
    stranger.cookies.set("dd_orders", cookie)
    r = stranger.get("/checkout/callback", params={"reference": reference}, headers={"accept": "application/json"})
    assert r.status_code == 404 and r.json()["code"] == "unknown_order"
