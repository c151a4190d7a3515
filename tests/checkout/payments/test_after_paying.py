"""After paying (#15): a guest downloads from the thank-you page at once, and again from the
receipt email's link in another browser; an expired link emails a fresh one to the order's own
address; the receipt names the seller, the date, the order number and the payment method."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checkout.payments import receipts
from digitaldock.schema import storage_key

from ..conftest import csrf_from, login, outbox_rows
from .conftest import PRODUCTS, deliver_held, make_buyer, write_shop_catalog

FONT = b"PK\x05\x06" + b"\0" * 18 + b"lagos grotesk"
SPECIMEN = b"%PDF-1.4\n" + b"specimen " * 300 + b"%%EOF\n"


def _entry(content: Path, name: str, data: bytes) -> dict:
    sha = hashlib.sha256(data).hexdigest()
    path = content / "storage" / storage_key(sha)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return {"name": name, "size": len(data), "sha256": sha, "key": storage_key(sha)}


@pytest.fixture
def catalog_path(tmp_path: Path) -> Path:
    """The shop's catalogue, where Lagos Grotesk has two files in the content folder's storage."""
    path = tmp_path / "catalog.json"
    content = tmp_path / "content"
    products = {**PRODUCTS, "lagos-grotesk": {**PRODUCTS["lagos-grotesk"], "files": [
        _entry(content, "LagosGrotesk.zip", FONT), _entry(content, "specimen.pdf", SPECIMEN)]}}
    write_shop_catalog(path, products)
    return path


def edge_of(client):
    return client.app.state.edge


def guest_pays(client, sandbox, email="guest@example.com", product="lagos-grotesk", action="pay"):
    page = client.get(f"/buy?product={product}")
    r = client.post("/buy", data={"csrf_token": csrf_from(page.text), "product": product, "email": email,
                                  "accept": ["terms", "privacy"]})
    assert r.status_code == 303, r.text
    ref = edge_of(client).db.execute("SELECT reference FROM orders ORDER BY id DESC").fetchone()[0]
    sandbox.pay(ref, action)
    deliver_held(client, sandbox.take_held())
    return ref


def download_from(client, page, index=0):
    """Press the page's `index`-th Download button and follow the link to the file."""
    forms = re.findall(r'<form method="post" action="([^"]+)">.*?name="purchase_id" value="(\d+)">'
                       r'<input type="hidden" name="sha256" value="([0-9a-f]{64})">', page.text)
    action, purchase, sha = forms[index]
    r = client.post(action, data={"csrf_token": csrf_from(page.text), "purchase_id": purchase, "sha256": sha})
    assert r.status_code == 303, r.text
    got = client.get(r.headers["location"])
    return got, sha


def files_link(client, index=0):
    receipt = outbox_rows(client, "receipt")[index]
    m = re.search(r"/orders/[\w-]+/files\?token=[\w.\-]+", receipt["text_body"])
    assert m, receipt["text_body"]
    return m.group(0)


def test_a_guest_downloads_from_the_thank_you_page_at_once(shop, sandbox):
    ref = guest_pays(shop, sandbox)
    page = shop.get(f"/checkout/callback?reference={ref}")
    assert page.status_code == 200 and 'data-status="paid"' in page.text
    assert "LagosGrotesk.zip" in page.text and "specimen.pdf" in page.text
    assert hashlib.sha256(FONT).hexdigest() in page.text and "sha256sum" in page.text
    got, sha = download_from(shop, page)
    assert got.status_code == 200 and hashlib.sha256(got.content).hexdigest() == sha
    again = shop.get(f"/checkout/callback?reference={ref}")
    assert "4 of 5" in again.text  # the delivery rules still count


def test_the_receipt_email_opens_the_orders_files_in_a_fresh_browser(shop, sandbox, make_client):
    guest_pays(shop, sandbox)
    [receipt] = outbox_rows(shop, "receipt")
    for text in ("Ada", "Visa ending 4081", "Order number", "Total", "Printable receipt"):
        assert text in receipt["text_body"], text
    assert "/claim?token=" in receipt["text_body"] and "Optional" in receipt["text_body"]
    fresh = shop.__class__(shop.app, follow_redirects=False)  # another browser: no cookies
    page = fresh.get(files_link(shop))
    assert page.status_code == 200 and "LagosGrotesk.zip" in page.text
    got, sha = download_from(fresh, page, 1)
    assert got.status_code == 200 and got.content == SPECIMEN
    # the browser now holds the order: the page opens again without the token
    ref = edge_of(shop).db.execute("SELECT reference FROM orders").fetchone()[0]
    assert fresh.get(f"/orders/{ref}/files").status_code == 200


def test_the_printable_receipt_names_seller_date_number_method_lines_and_total(shop, sandbox):
    ref = guest_pays(shop, sandbox)
    page = shop.get(f"/orders/{ref}/receipt")
    assert page.status_code == 200
    for text in (ref, "Ada", "Visa ending 4081", "Lagos Grotesk", "data-print",
                 edge_of(shop).clock.iso()[:10]):
        assert text in page.text, text
    assert re.search(r'id="receipt-total">[^<]*5,000', page.text)


def test_an_expired_link_offers_a_fresh_one_by_email_and_reveals_nothing(shop, sandbox, clock):
    guest_pays(shop, sandbox)
    link = files_link(shop)
    clock.advance(8 * 86400)
    stranger = shop.__class__(shop.app, follow_redirects=False)
    page = stranger.get(link)
    assert page.status_code == 410 and "Email me a fresh link" in page.text
    assert "guest@example.com" not in page.text and "LagosGrotesk.zip" not in page.text
    ref = link.split("/")[2]
    token = link.split("token=")[1]
    sent = stranger.post(f"/orders/{ref}/files/resend", data={"csrf_token": csrf_from(page.text), "token": token})
    assert sent.status_code == 200 and "guest@example.com" not in sent.text
    [fresh] = outbox_rows(shop, "order_link")
    assert fresh["to_addr"] == "guest@example.com"
    new_link = re.search(r"/orders/[\w-]+/files\?token=[\w.\-]+", fresh["text_body"]).group(0)
    assert stranger.get(new_link).status_code == 200
    for _ in range(2):
        stranger.post(f"/orders/{ref}/files/resend", data={"csrf_token": csrf_from(page.text), "token": token})
    limited = stranger.post(f"/orders/{ref}/files/resend", data={"csrf_token": csrf_from(page.text), "token": token})
    assert limited.status_code == 429 and len(outbox_rows(shop, "order_link")) == 3


def test_a_forged_or_foreign_token_opens_nothing(shop, sandbox):
    ref = guest_pays(shop, sandbox)
    stranger = shop.__class__(shop.app, follow_redirects=False)
    assert stranger.get(f"/orders/{ref}/files?token=forged").status_code == 400
    assert stranger.get(f"/orders/{ref}/files").status_code == 404
    assert stranger.get(f"/orders/{ref}/receipt").status_code == 404
    token = files_link(shop).split("token=")[1]
    other = guest_pays(stranger, sandbox, email="other@example.com", product="kente-template")
    # a genuine token of one order does not open another
    assert shop.__class__(shop.app, follow_redirects=False).get(f"/orders/{other}/files?token={token}").status_code == 404


def test_an_accounts_order_is_in_its_library_not_behind_an_email_link(shop, sandbox):
    edge = edge_of(shop)
    make_buyer(edge, "owner@example.com")
    login(shop, "owner@example.com")
    shop.post("/checkout", data={"product": "lagos-grotesk"}, headers={"origin": "http://127.0.0.1:8000"})
    ref = edge.db.execute("SELECT reference FROM orders").fetchone()[0]
    sandbox.pay(ref)
    deliver_held(shop, sandbox.take_held())
    [receipt] = outbox_rows(shop, "receipt")
    assert "/files?token=" not in receipt["text_body"] and "/library" in receipt["text_body"]
    library = shop.get("/library")
    assert hashlib.sha256(FONT).hexdigest() in library.text and "shasum -a 256" in library.text
    assert shop.get(f"/orders/{ref}/receipt").status_code == 200


def test_buying_what_you_own_answers_you_already_own_this(shop, sandbox):
    edge = edge_of(shop)
    make_buyer(edge, "owner@example.com")
    login(shop, "owner@example.com")
    site = {"origin": "http://127.0.0.1:8000"}
    shop.post("/checkout", data={"product": "lagos-grotesk"}, headers=site)
    sandbox.pay(edge.db.execute("SELECT reference FROM orders").fetchone()[0])
    deliver_held(shop, sandbox.take_held())
    r = shop.post("/checkout", data={"product": "lagos-grotesk"}, headers=site)
    assert r.status_code == 409 and "You already own this" in r.text and 'href="/library"' in r.text
    assert "Already exists" not in r.text


def test_a_declined_payment_offers_to_try_again_with_the_same_cart(shop, sandbox):
    ref = guest_pays(shop, sandbox, action="decline")
    page = shop.get(f"/checkout/callback?reference={ref}")
    assert 'data-status="failed"' in page.text and "Try again with the same cart" in page.text
    r = shop.post(f"/orders/{ref}/retry", data={"csrf_token": csrf_from(page.text)})
    assert r.status_code == 303 and r.headers["location"] == "/buy?cart=1"
    again = shop.get("/buy?cart=1")
    assert "Lagos Grotesk" in again.text


@pytest.mark.parametrize(("data", "expected"), [
    ({"channel": "card", "authorization": {"brand": "visa", "last4": "4081"}}, "Visa ending 4081"),
    ({"channel": "card", "authorization": {"card_type": "mastercard DEBIT", "last4": "1234"}}, "Mastercard ending 1234"),
    ({"channel": "mobile_money", "authorization": {"bank": "MTN", "mobile_money_number": "0551234987"}},
     "Mobile money (MTN 0551234987)"),
    ({"channel": "bank_transfer", "authorization": {"bank": "Access Bank"}}, "Bank transfer (Access Bank)"),
    ({"channel": "ussd", "authorization": {}}, "USSD"),
    ({}, None),
])
def test_the_payment_method_reads_as_paystack_reported_it(data, expected):
    assert receipts.payment_method(data) == expected


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.sampled_from(["channel", "authorization"]),
                       st.one_of(st.none(), st.integers(), st.text(max_size=300),
                                 st.dictionaries(st.text(max_size=20), st.one_of(st.text(max_size=200), st.integers(),
                                                                                 st.none())))))
def test_any_paystack_payload_gives_a_short_method_or_none(data):
    found = receipts.payment_method(data)
    assert found is None or (isinstance(found, str) and len(found) <= 110)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(token=st.text(max_size=3000), purchase=st.text(max_size=50))
def test_any_token_or_form_answers_a_clear_4xx_and_changes_nothing(shop, sandbox, token, purchase):
    stranger = shop.__class__(shop.app, follow_redirects=False)
    before = edge_of(shop).db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]
    page = stranger.get("/buy?product=lagos-grotesk")
    csrf = csrf_from(page.text)
    for r in (stranger.get("/orders/dd-x/files", params={"token": token}),
              stranger.post("/orders/dd-x/files/resend", data={"csrf_token": csrf, "token": token}),
              stranger.post("/orders/dd-x/link", data={"csrf_token": csrf, "purchase_id": purchase, "sha256": token}),
              stranger.post("/orders/dd-x/retry", data={"csrf_token": csrf})):
        assert 400 <= r.status_code < 500, (r.status_code, r.text[:200])
    assert edge_of(shop).db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0] == before


def test_guest_checkout_asks_consent_once_in_one_box_and_records_each_version(shop, sandbox):
    page = shop.get("/buy?product=lagos-grotesk")
    boxes = re.findall(r'<input type="checkbox" name="accept" value="([^"]+)"', page.text)
    assert boxes == ["terms,privacy"]  # one box, naming both documents and their versions
    assert "Terms</a> (version 1.0) and <a" in page.text and "Privacy</a> (version 1.0)" in page.text
    r = shop.post("/buy", data={"csrf_token": csrf_from(page.text), "product": "lagos-grotesk",
                                "email": "guest@example.com", "accept": boxes})
    assert r.status_code == 303
    rows = edge_of(shop).db.execute("SELECT document, version FROM consents ORDER BY document").fetchall()
    assert [tuple(x) for x in rows] == [("privacy", "1.0"), ("terms", "1.0")]
    unticked = shop.post("/buy", data={"csrf_token": csrf_from(page.text), "product": "kente-template",
                                       "email": "guest2@example.com"})
    assert unticked.status_code == 422 and "accept" in unticked.text


def test_a_guest_buying_again_what_the_address_owns_is_told_so(shop, sandbox):
    guest_pays(shop, sandbox)
    again = shop.get("/buy?product=lagos-grotesk")
    r = shop.post("/buy", data={"csrf_token": csrf_from(again.text), "product": "lagos-grotesk",
                                "email": "guest@example.com", "accept": ["terms,privacy"]})
    assert r.status_code == 409 and "You already own this" in r.text and "receipt email" in r.text


def test_an_unpaid_order_has_no_files_nor_receipt_yet(shop, sandbox):
    page = shop.get("/buy?product=lagos-grotesk")
    shop.post("/buy", data={"csrf_token": csrf_from(page.text), "product": "lagos-grotesk",
                            "email": "guest@example.com", "accept": ["terms,privacy"]})
    ref = edge_of(shop).db.execute("SELECT reference FROM orders").fetchone()[0]
    r = shop.get(f"/orders/{ref}/files")
    assert r.status_code == 303 and r.headers["location"] == f"/checkout/callback?reference={ref}"
    assert shop.get(f"/orders/{ref}/receipt").status_code == 404
    r = shop.post(f"/orders/{ref}/retry", data={"csrf_token": csrf_from(page.text)})
    assert r.headers["location"] == f"/checkout/callback?reference={ref}"  # nothing to retry while pending


def test_an_expired_download_link_offers_a_fresh_one_to_the_guest(shop, sandbox, clock):
    ref = guest_pays(shop, sandbox)
    page = shop.get(f"/checkout/callback?reference={ref}")
    forms = re.findall(r'name="purchase_id" value="(\d+)"><input type="hidden" name="sha256" value="([0-9a-f]{64})"',
                       page.text)
    r = shop.post(f"/orders/{ref}/link", data={"csrf_token": csrf_from(page.text), "purchase_id": forms[0][0],
                                                "sha256": forms[0][1]})
    clock.advance(25 * 3600)
    expired = shop.get(r.headers["location"])
    assert expired.status_code == 410 and f'action="/orders/{ref}/link"' in expired.text
    # a purchase of another order is not this order's to mint
    other = guest_pays(shop, sandbox, email="other@example.com", product="kente-template")
    purchase = edge_of(shop).db.execute("SELECT p.id FROM purchases p JOIN orders o ON o.id = p.order_id"
                                        " WHERE o.reference = ?", (other,)).fetchone()[0]
    r = shop.post(f"/orders/{ref}/link", data={"csrf_token": csrf_from(page.text), "purchase_id": purchase,
                                                "sha256": forms[0][1]})
    assert r.status_code == 404


def test_an_expired_receipt_link_and_a_resend_for_another_order_reveal_nothing(shop, sandbox, clock):
    ref = guest_pays(shop, sandbox)
    link = files_link(shop)
    token = link.split("token=")[1]
    clock.advance(8 * 86400)
    assert shop.get(f"/orders/{ref}/receipt?token={token}").status_code == 410
    page = shop.get("/buy?product=kente-template")
    r = shop.post("/orders/dd-somebody-else/files/resend", data={"csrf_token": csrf_from(page.text), "token": token})
    assert r.status_code == 404 and outbox_rows(shop, "order_link") == []
