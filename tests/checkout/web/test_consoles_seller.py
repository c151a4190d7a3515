"""The seller dashboard (issue #16): revenue from the ledger for a range, products with views,
sales, conversion and state, unlist and delete through the content pipeline, payouts in money,
the sealed statement, the public page with preview, and view counts that track nobody."""

from __future__ import annotations

import base64
import io
import shutil

import pytest
from PIL import Image

from checkout.delivery import views
from checkout.payments import payouts, statements
from digitaldock import frontmatter

from .consoles import SELLER, build_site, link, make_account, post_form, sell, shown, sign_in


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return build_site(tmp_path_factory.mktemp("built"))


@pytest.fixture
def shop(make_client, built, tmp_path):
    site = tmp_path / "site"
    shutil.copytree(built, site)
    client = make_client(CATALOG_PATH=str(site / "output" / "catalog.json"), CONTENT_DIR=str(site / "content"),
                         REBUILD_ON_APPROVAL=False)
    edge = client.app.state.edge
    seller = make_account(edge, "ade@example.com", "seller", "Ade Foundry")
    buyer = make_account(edge, "bea@example.com", "buyer", "Bea Buyer")
    link(edge, seller)
    return client, edge, site, seller, dict(edge.db.execute("SELECT * FROM users WHERE id = ?", (buyer,)).fetchone())


def test_a_sale_shows_on_the_dashboard_in_money(shop):
    client, edge, site, seller, buyer = shop
    sign_in(client, "ade@example.com")
    page = client.get("/seller").text
    assert 'id="no-sales"' in page and "Lagos Grotesk" in page and "listed through git" in page
    sell(client, buyer, "lagos-grotesk")
    page = client.get("/seller").text
    assert "data:image/svg+xml;base64," in page and 'class="visually-hidden"' in page  # chart + its table
    assert 'id="net-USD">$26.10' in page  # $29.00 less the 10% fee
    row = page.split('data-slug="lagos-grotesk"')[1].split("</tr>")[0]
    assert ">1<" in row and "$26.10" in row  # units sold and earnings per product
    for preset in ("7d", "30d", "90d", "12m"):
        assert client.get(f"/seller?range={preset}").status_code == 200
    assert client.get("/seller?from=2026-01-01&to=2025-01-01").status_code == 422
    csv = client.get("/seller?range=30d&format=csv&table=days")
    assert "attachment" in csv.headers["content-disposition"] and "26.10" in csv.text
    assert "lagos-grotesk" in client.get("/seller?format=csv&table=products").text


def test_views_count_per_product_and_day_and_nothing_else(shop):
    client, edge, site, seller, buyer = shop
    client.cookies.clear()
    browser = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/130", "Origin": "http://127.0.0.1:8000"}
    r = client.post("/v/lagos-grotesk", headers=browser)
    assert r.status_code == 204 and "set-cookie" not in r.headers
    for headers in ({**browser, "User-Agent": "Googlebot/2.1"}, {**browser, "DNT": "1"}, {**browser, "Sec-GPC": "1"},
                    {**browser, "Origin": "https://evil.example"}, {**browser, "User-Agent": ""}):
        assert client.post("/v/lagos-grotesk", headers=headers).status_code == 204
    assert client.post("/v/no-such-product", headers=browser).status_code == 204
    day = edge.clock.iso()[:10]
    assert [tuple(r) for r in edge.db.execute("SELECT product_slug, day, views FROM product_views")] == [("lagos-grotesk", day, 1)]
    assert [c[1] for c in edge.db.execute("PRAGMA table_info(product_views)")] == ["product_slug", "day", "views"]
    sell(client, buyer, "lagos-grotesk")
    sign_in(client, "ade@example.com")
    row = client.get("/seller").text.split('data-slug="lagos-grotesk"')[1].split("</tr>")[0]
    assert "100.0%" in row  # one sale per one view


def test_view_counting_turns_off_with_one_setting(make_client, built, tmp_path):
    site = tmp_path / "s"
    shutil.copytree(built, site)
    client = make_client(CATALOG_PATH=str(site / "output" / "catalog.json"), VIEW_COUNTING=False)
    r = client.post("/v/lagos-grotesk", headers={"User-Agent": "Mozilla/5.0"})
    assert r.status_code == 204
    assert client.app.state.edge.db.execute("SELECT COUNT(*) FROM product_views").fetchone()[0] == 0


def test_a_seller_unlists_a_bought_product_and_deletes_an_unbought_one(shop):
    client, edge, site, seller, buyer = shop
    sell(client, buyer, "lagos-grotesk")
    sign_in(client, "ade@example.com")
    r = post_form(client, "/seller", "/seller/products/lagos-grotesk/delete", {})
    assert "cannot be deleted. Unlist it instead." in shown(client, r)
    r = post_form(client, "/seller", "/seller/products/lagos-grotesk/unlist", {})
    assert "is unlisted; its buyers keep their downloads" in shown(client, r)
    meta = frontmatter.split((site / "content" / "products" / "lagos-grotesk.md").read_text("utf-8")).meta
    assert meta["status"] == "withdrawn"
    r = post_form(client, "/seller", "/seller/products/adinkra-pattern-pack/delete", {})
    assert "is deleted" in shown(client, r)
    assert not (site / "content" / "products" / "adinkra-pattern-pack.md").exists()
    # another seller's product is none of this seller's business
    r = post_form(client, "/seller", "/seller/products/afro-lofi-beats/unlist", {})
    assert r.status_code == 404
    assert "seller.product_unlisted" in {r[0] for r in edge.db.execute("SELECT action FROM audit_log")}


def test_payout_minimum_and_next_payout_are_money(shop):
    client, edge, site, seller, buyer = shop
    sign_in(client, "ade@example.com")
    page = client.get("/seller/earnings").text
    assert "(minor units)" not in page and "reach ₦1,000." in page  # the seller's payout currency
    sell(client, buyer, "lagos-grotesk")
    [coming] = payouts.next_payouts(edge, SELLER)
    assert coming["display"] == "$0.00" and "refund window" in coming["why"]
    edge.clock.offset += 8 * 86400  # past the refund window: the next run releases it
    [coming] = payouts.next_payouts(edge, SELLER)
    assert coming["display"] == "$26.10" and "payout minimum" in coming["why"]
    assert "Next payout" in client.get("/seller").text


def test_statement_runs_a_balance_and_seals_months_in_a_chain(shop):
    client, edge, site, seller, buyer = shop
    sell(client, buyer, "lagos-grotesk")
    sign_in(client, "ade@example.com")
    page = client.get("/seller/statement").text
    assert "$26.10" in page and "Open: sealed once the month is over." in page
    edge.clock.offset += 40 * 86400  # the month is over
    sell(client, buyer, "adire-display")
    sign_in(client, "ade@example.com")
    page = client.get("/seller/statement").text
    assert "Every seal matches the entries" in page
    seals = statements.seals(edge.db, SELLER)
    assert seals and seals[0]["prev_hash"] == "" and all(b["prev_hash"] == a["hash"] for a, b in zip(seals, seals[1:]))
    assert edge.db.execute("SELECT COUNT(*) FROM outbox WHERE template = 'statement_sealed'").fetchone()[0] == len(seals)
    assert statements.verify(edge.db, SELLER).ok
    assert "Seal (SHA-256)" in client.get("/seller/statement?format=csv").text
    # a later change to a sealed month shows: an entry written into it afterwards
    month = seals[0]["month"]
    edge.db.execute("INSERT INTO ledger_journals (kind, memo, created_at) VALUES ('payout_return', 'forged', ?)",
                    (f"{month}-15T12:00:00+00:00",))
    jid = edge.db.execute("SELECT MAX(id) FROM ledger_journals").fetchone()[0]
    edge.db.execute("INSERT INTO ledger_entries (journal_id, account, currency, amount) VALUES (?, ?, 'USD', -100)",
                    (jid, f"seller:{SELLER}:available"))
    edge.db.execute("INSERT INTO ledger_entries (journal_id, account, currency, amount) VALUES (?, ?, 'USD', 100)",
                    (jid, "paystack:receivable"))
    edge.db.execute("UPDATE ledger_journals SET posted = 1 WHERE id = ?", (jid,))
    check = statements.verify(edge.db, SELLER)
    assert not check.ok and f"{month}: the entries no longer give the sealed hash" in check.problems[0]
    assert "A seal no longer matches" in client.get("/seller/statement").text


def png(size=(300, 200), color=(200, 50, 50)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "PNG")
    return buf.getvalue()


def test_the_public_page_is_previewed_then_saved_through_the_pipeline(shop):
    client, edge, site, seller, buyer = shop
    sign_in(client, "ade@example.com")
    page = client.get("/seller/profile")
    assert "Adire Type Foundry" in page.text
    from .consoles import csrf_of
    token = csrf_of(page.text)
    form = {"csrf_token": token, "seller": SELLER, "name": "Adire Type Foundry", "location": "Lagos, Nigeria",
            "bio": "We draw **typefaces** from Yoruba textile patterns.", "website": "https://adire.example",
            "links": "https://instagram.example/adire\nhttps://fonts.example/adire"}
    before = (site / "content" / "sellers" / f"{SELLER}.md").read_text("utf-8")
    r = client.post("/seller/profile", data={**form, "action": "preview"}, files={"avatar": ("a.png", png(), "image/png")})
    assert r.status_code == 200 and "<strong>typefaces</strong>" in r.text and 'id="profile-preview"' in r.text
    assert (site / "content" / "sellers" / f"{SELLER}.md").read_text("utf-8") == before  # a preview writes nothing
    carried = r.text.split('name="avatar_data" value="')[1].split('"')[0]
    assert Image.open(io.BytesIO(base64.b64decode(carried))).size == (256, 171)  # made small, metadata gone
    r = client.post("/seller/profile", data={**form, "action": "save", "avatar_data": carried})
    assert "Your seller page was saved." in shown(client, r)
    meta = frontmatter.split((site / "content" / "sellers" / f"{SELLER}.md").read_text("utf-8")).meta
    assert meta["links"] == ["https://instagram.example/adire", "https://fonts.example/adire"]
    assert (site / "content" / meta["avatar"]).is_file() and meta["payout_currency"] == "NGN"
    r = client.post("/seller/profile", data={**form, "website": "javascript:alert(1)", "action": "save"})
    assert r.status_code == 422 and "is not an https:// address" in r.text
    r = client.post("/seller/profile", data={**form, "action": "save"},
                    files={"avatar": ("evil.svg", b"<svg onload=alert(1)>", "image/svg+xml")})
    assert r.status_code == 422 and "SVG images are not accepted" in r.text
    r = client.post("/seller/profile", data={**form, "seller": "bo-kaap-studio", "action": "save"})
    assert r.status_code == 403


def test_every_product_state_is_named(shop):
    client, edge, site, seller, buyer = shop
    sign_in(client, "ade@example.com")
    page = client.get("/seller").text
    states = {chunk.split('"')[0] for chunk in page.split('data-state="')[1:]}
    assert states <= {"live", "approved", "pending", "draft", "rejected", "unlisted", "suspended", "deleted"}
    assert "live" in states


def test_views_helpers():
    assert views.conversion(1, 0) == "–" and views.conversion(1, 40) == "2.5%"


def test_the_privacy_policy_tells_of_view_counting_in_its_data_table():
    from .consoles import ROOT
    doc = frontmatter.split((ROOT / "content" / "legal" / "privacy.md").read_text("utf-8"))
    table = [line for line in doc.body.splitlines() if line.startswith("| Counting product page views")]
    assert table and "no cookie, no IP address" in table[0]
    assert doc.meta["version"] == "1.2"  # the text changed (1.2: the referral cookie, #17): users accept again
