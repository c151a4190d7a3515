"""Guest checkout and existing accounts (#22): the email decides who owns what was bought, and
the answers do not tell whether an address has an account."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checkout.accounts import gdpr, users
from checkout.payments.purchases import owns

from ..conftest import csrf_from, login, outbox_rows
from .conftest import deliver_held, make_buyer


def edge_of(client):
    return client.app.state.edge


def guest_buy(client, email, product="lagos-grotesk", accept=("terms", "privacy")):
    page = client.get(f"/buy?product={product}")
    return client.post("/buy", data={"csrf_token": csrf_from(page.text), "product": product, "email": email,
                                     "accept": list(accept)})


def test_a_guest_checkout_with_a_verified_accounts_email_buys_into_that_account(shop, sandbox):
    edge = edge_of(shop)
    owner = make_buyer(edge, "owner@example.com")
    r = guest_buy(shop, "Owner@Example.com")
    assert r.status_code == 303 and r.headers["location"].startswith(sandbox.url)
    order = edge.db.execute("SELECT * FROM orders").fetchone()
    assert (order["user_id"], order["email"], order["guest"]) == (owner["id"], "owner@example.com", 1)
    assert edge.db.execute("SELECT COUNT(*) FROM users").fetchone()[0] == 1  # no second account
    sandbox.pay(order["reference"])
    assert deliver_held(shop, sandbox.take_held()) == ["paid"]
    assert owns(edge.db, owner["id"], "lagos-grotesk")  # in the owner's library
    [receipt] = outbox_rows(shop, "receipt")
    assert receipt["to_addr"] == "owner@example.com" and receipt["user_id"] == owner["id"]
    assert "/claim?token=" not in receipt["text_body"] and "/library" in receipt["text_body"]


def test_guest_checkout_answers_the_same_for_known_and_unknown_addresses(shop, sandbox):
    make_buyer(edge_of(shop), "owner@example.com")
    # the terms are asked of every guest, whoever owns the address
    known, unknown = guest_buy(shop, "owner@example.com", accept=()), guest_buy(shop, "nobody@example.com", accept=())
    assert known.status_code == unknown.status_code == 422
    assert known.text.replace("owner@example.com", "X") == unknown.text.replace("nobody@example.com", "X")
    known, unknown = guest_buy(shop, "owner@example.com"), guest_buy(shop, "nobody@example.com")
    assert known.status_code == unknown.status_code == 303
    assert known.headers["location"].startswith(sandbox.url) and unknown.headers["location"].startswith(sandbox.url)


def test_a_guest_checkout_never_reuses_the_owners_own_payment_page(shop, sandbox):
    edge = edge_of(shop)
    make_buyer(edge, "owner@example.com")
    login(shop, "owner@example.com")
    mine = shop.post("/checkout", data={"product": "lagos-grotesk"}, headers={"origin": "http://127.0.0.1:8000"})
    assert mine.status_code == 303
    shop.cookies.clear()
    theirs = guest_buy(shop, "owner@example.com")
    assert theirs.status_code == 303 and theirs.headers["location"] != mine.headers["location"]


def test_an_address_of_a_disabled_account_cannot_take_a_guest_order(shop, sandbox):
    edge = edge_of(shop)
    owner = make_buyer(edge, "gone@example.com")
    gdpr.request_deletion(edge, owner, None)
    r = guest_buy(shop, "gone@example.com")
    assert r.status_code == 422 and "cannot take a guest order" in r.text
    assert edge.db.execute("SELECT COUNT(*) FROM orders").fetchone()[0] == 0


def test_a_guest_checkout_of_a_product_the_address_owns_is_still_refused(shop, sandbox):
    """What a guest checkout still tells (docs/security.md): the duplicate-purchase rule answers
    409 for a product the address already owns."""
    edge = edge_of(shop)
    make_buyer(edge, "owner@example.com")
    guest_buy(shop, "owner@example.com")
    sandbox.pay(edge.db.execute("SELECT reference FROM orders").fetchone()[0])
    deliver_held(shop, sandbox.take_held())
    r = guest_buy(shop, "owner@example.com")
    assert r.status_code == 409 and "already own" in r.text


@pytest.fixture
def roomy_shop(make_client, sandbox):
    """A shop whose guest limit never gets in the way of many examples."""
    return make_client(PAYSTACK_BASE_URL=sandbox.url, PAYSTACK_RETRIES=1, GUEST_CHECKOUT_LIMIT="100000/hour")


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(local=st.from_regex(r"[a-z0-9][a-z0-9._+-]{0,20}", fullmatch=True), known=st.booleans(),
       n=st.integers(0, 10**9))
def test_any_guest_address_goes_to_paystack_known_or_not(roomy_shop, sandbox, local, known, n):
    shop = roomy_shop
    address = f"{local}.{n}@example.com"
    if known and users.get_by_email(edge_of(shop), address) is None:
        make_buyer(edge_of(shop), address)
    r = guest_buy(shop, address)
    assert r.status_code == 303 and r.headers["location"].startswith(sandbox.url)
    # the newest order of this address (hypothesis may repeat an address: the same browser then
    # goes back to the pending order it already started, which is not the newest of the shop)
    order = edge_of(shop).db.execute("SELECT o.guest, u.email FROM orders o JOIN users u ON u.id = o.user_id"
                                     " WHERE u.email = ? ORDER BY o.id DESC", (address,)).fetchone()
    assert order is not None and tuple(order) == (1, address)
