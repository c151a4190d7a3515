"""The Save button's edge side without a browser: saving from the static page, a guest signing
in first, the saved state the page's script reads, the wishlist page, and price-drop emails."""

from __future__ import annotations

import os
from urllib.parse import unquote

from ..conftest import csrf_from, login, outbox_rows
from ..payments.conftest import PASSWORD, PRODUCTS, write_shop_catalog
from .helpers import SITE, edge_of, sign_in


def test_save_from_the_static_page_returns_to_it(shop):
    sign_in(shop, "ann@example.com")
    r = shop.post("/wishlist/save", data={"product": "zine-kit"}, headers=SITE)
    assert r.status_code == 303 and r.headers["location"] == "http://127.0.0.1:8000/products/zine-kit/"
    assert shop.get("/api/wishlist/saved").json() == {"signed_in": True, "saved": ["zine-kit"]}
    r = shop.post("/wishlist/save", data={"product": "zine-kit", "remove": "1"}, headers={**SITE, "accept": "application/json"})
    assert r.json() == {"saved": False, "product": "zine-kit"}
    assert shop.post("/wishlist/save", data={"product": "nope"}, headers=SITE).status_code == 404
    evil = shop.post("/wishlist/save", data={"product": "zine-kit"}, headers={"origin": "https://evil.example"})
    assert evil.status_code == 403 and shop.get("/api/wishlist/saved").json()["saved"] == []


def test_a_guest_signs_in_and_then_the_product_is_saved(shop):
    edge = edge_of(shop)
    sign_in(shop, "ann@example.com")
    shop.cookies.clear()
    assert shop.get("/api/wishlist/saved").json() == {"signed_in": False, "saved": []}
    r = shop.post("/wishlist/save", data={"product": "lagos-grotesk"}, headers=SITE)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
    back = unquote(r.headers["location"].split("next=", 1)[1])
    r = login(shop, "ann@example.com", PASSWORD, next_=back)
    assert r.headers["location"] == back
    r = shop.get(back)
    assert r.status_code == 303 and r.headers["location"].endswith("/products/lagos-grotesk/")
    user_id = edge.db.execute("SELECT id FROM users WHERE email = 'ann@example.com'").fetchone()[0]
    rows = edge.db.execute("SELECT product_slug, price_minor, currency FROM wishlist_items WHERE user_id = ?",
                           (user_id,)).fetchall()
    assert [tuple(r) for r in rows] == [("lagos-grotesk", 500000, "NGN")]
    assert shop.get("/wishlist/save?t=forged").status_code == 404


def test_wishlist_page_shows_price_and_buy_and_emails_a_price_drop_when_asked(shop, catalog_path):
    edge = edge_of(shop)
    sign_in(shop, "ann@example.com")
    shop.post("/wishlist/save", data={"product": "lagos-grotesk"}, headers=SITE)
    page = shop.get("/wishlist")
    assert "Lagos Grotesk" in page.text and "₦5,000" in page.text and 'action="/checkout"' in page.text
    # opted out by default: a drop sends nothing
    cheaper = {**PRODUCTS, "lagos-grotesk": {**PRODUCTS["lagos-grotesk"], "price": 400000}}
    _reload(edge, catalog_path, cheaper, "cat-2")
    assert outbox_rows(shop, "price_drop") == []
    r = shop.post("/wishlist/alerts", data={"csrf_token": csrf_from(page.text), "price_drop": "1"})
    assert r.status_code == 303 and "checked" in shop.get("/wishlist").text
    cheapest = {**PRODUCTS, "lagos-grotesk": {**PRODUCTS["lagos-grotesk"], "price": 300000}}
    _reload(edge, catalog_path, cheapest, "cat-3")
    mail = outbox_rows(shop, "price_drop")
    assert len(mail) == 1 and "₦3,000" in mail[0]["text_body"] and "₦4,000" in mail[0]["text_body"]
    _reload(edge, catalog_path, cheapest, "cat-4")  # the same price again: no second email
    assert len(outbox_rows(shop, "price_drop")) == 1
    link = mail[0]["text_body"].split("Stop price-drop emails: ", 1)[1].strip()
    assert "no more price-drop emails" in shop.get(link.replace("http://127.0.0.1:8001", "")).text


def _reload(edge, path, products, build_hash):
    old = path.stat().st_mtime_ns
    write_shop_catalog(path, products, build_hash)
    os.utime(path, ns=(old + 2_000_000_000, old + 2_000_000_000))
    edge.catalog.current()
