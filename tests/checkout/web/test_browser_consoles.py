"""The consoles end to end in real Chromium (issue #16), over the repository's content built into a
storefront, a real edge and the Paystack sandbox on loopback:

- an admin bans a seller (the seller's session dies, the products leave the storefront after the
  rebuild, payouts are held) and unbans them;
- an admin verifies a seller and the badge appears on the storefront;
- a report for a date range matches the ledger, and its CSV downloads;
- a seller sees a sale appear on their chart, unlists a product (its buyer still downloads it),
  and edits their public page;
- the console pages fit a 390 px phone and a 1366 px laptop without sideways scrolling.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from checkout.payments import ledger, payouts, reports
from checkout.sandbox import Sandbox
from checkout.web.app import create_app

from ...servers import free_port, serve
from .consoles import PASSWORD, SELLER, build_site, link, make_account

pytestmark = pytest.mark.browser


@pytest.fixture
def stack(tmp_path, make_settings):
    site = build_site(tmp_path / "site")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    shop = Starlette(routes=[Mount("/", app=StaticFiles(directory=str(site / "output"), html=True))])
    box = Sandbox(webhook_url=f"{url}/webhooks/paystack")
    with serve(box.app(), name="sandbox") as sandbox, serve(shop, name="storefront") as storefront:
        settings = make_settings(CATALOG_PATH=str(site / "output" / "catalog.json"), CONTENT_DIR=str(site / "content"),
                                 CHECKOUT_URL=url, SITE_URL=storefront.url, REBUILD_ON_APPROVAL=True,
                                 PAYSTACK_BASE_URL=sandbox.url, PAYSTACK_RETRIES=1, PAYOUT_MINIMUM=100)
        app = create_app(settings)
        edge = app.state.edge
        ids = {"admin": make_account(edge, "root@example.com", "admin", "Root Admin"),
               "seller": make_account(edge, "ade@example.com", "seller", "Ade Foundry"),
               "buyer": make_account(edge, "bea@example.com", "buyer", "Bea Buyer")}
        link(edge, ids["seller"])
        with serve(app, port=port, name="edge"):
            yield {"url": url, "edge": edge, "site": site, "ids": ids, "shop": storefront.url}


def sign_in(browser, url, email, viewport=None):
    context = browser.new_context(accept_downloads=True, **({"viewport": viewport} if viewport else {}))
    page = context.new_page()
    page.set_default_timeout(30000)
    page.goto(f"{url}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("form.edge-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/account"))
    return context, page


def buy(browser, s, slug):
    context, page = sign_in(browser, s["url"], "bea@example.com")
    page.goto(f"{s['url']}/buy?product={slug}")
    page.get_by_role("button", name="Pay with Paystack").click()
    page.wait_for_url(re.compile(r".*/pay/[0-9a-f]+$"))
    page.get_by_role("button", name="Pay", exact=True).click()
    page.wait_for_url(re.compile(r".*/checkout/callback\?trxref=.*"))
    assert page.locator("#order-status").get_attribute("data-status") == "paid"
    return context, page


def flash_text(page) -> str:
    return page.wait_for_selector("#flash", timeout=120000).inner_text()


def fits(page) -> bool:
    """No sideways scrolling: the page is not wider than the window."""
    return page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_admin_bans_and_unbans_a_seller(stack, chromium):
    s = stack
    edge = s["edge"]
    seller_ctx, seller_page = sign_in(chromium, s["url"], "ade@example.com")
    seller_page.goto(f"{s['url']}/seller")
    assert "Lagos Grotesk" in seller_page.inner_text(".dd-seller-products")
    buyer_ctx, _ = buy(chromium, s, "lagos-grotesk")
    buyer_ctx.close()
    # the sale is past the refund window and the seller has a bank account: a payout is due
    edge.clock.offset += 8 * 86400
    payouts.release_due(edge)
    edge.db.execute("INSERT INTO payout_recipients (seller_slug, currency, recipient_code, bank_code, account_number,"
                    " account_name, created_at) VALUES (?, 'USD', 'RCP_x', '058', '0123456789', 'Ade', ?)",
                    (SELLER, edge.clock.iso()))

    admin_ctx, admin = sign_in(chromium, s["url"], "root@example.com")
    admin.goto(f"{s['url']}/admin/users?q=ade")
    admin.click("#users a:has-text('Ade Foundry')")
    admin.fill("#ban-reason", "Fonts copied from another foundry")
    admin.click("#ban-form button[type=submit]")
    said = flash_text(admin)
    assert "is banned" in said and "The storefront was rebuilt." in said, said
    assert "banned" in admin.inner_text("#standing") and "payouts held: adire-type-foundry" in admin.inner_text("#account")
    # the seller's session is gone: the next page asks them to sign in, and signing in is refused
    seller_page.goto(f"{s['url']}/seller")
    assert "/login" in seller_page.url
    seller_page.fill("#email", "ade@example.com")
    seller_page.fill("#password", PASSWORD)
    seller_page.click("form.edge-form button[type=submit]")
    assert "suspended" in seller_page.inner_text(".edge-alert")
    # the products left the storefront with the rebuild
    shop = admin_ctx.new_page()
    assert shop.goto(f"{s['shop']}/products/lagos-grotesk/").status == 404
    assert "lagos-grotesk" not in edge.catalog.current().products
    # payouts are held
    assert payouts.queue_payouts(edge)["held"] == 1

    admin.fill("#unban-reason", "The foundry showed its licence")
    admin.click("#unban-form button[type=submit]")
    assert "may sign in again" in flash_text(admin)
    assert shop.goto(f"{s['shop']}/products/lagos-grotesk/").status == 200
    assert payouts.queue_payouts(edge)["queued"] == 1
    seller_ctx.close()
    admin_ctx.close()
    assert ledger.check(edge.db) == []


def test_admin_verifies_a_seller_and_the_badge_appears(stack, chromium):
    s = stack
    context, admin = sign_in(chromium, s["url"], "root@example.com")
    shop = context.new_page()
    shop.goto(f"{s['shop']}/products/lagos-grotesk/")
    assert shop.locator(".verified-badge").count() == 0
    admin.goto(f"{s['url']}/admin/users/{s['ids']['seller']}")
    admin.click("#verify-form button[type=submit]")
    assert "now a verified seller" in flash_text(admin)
    shop.goto(f"{s['shop']}/products/lagos-grotesk/")
    assert shop.locator(".byline .verified-badge").inner_text() == "Verified seller"
    shop.goto(f"{s['shop']}/sellers/{SELLER}/")
    assert shop.locator("h1 .verified-badge").is_visible()
    context.close()


def test_a_report_for_a_date_range_matches_the_ledger_and_downloads_as_csv(stack, chromium):
    s = stack
    edge = s["edge"]
    ctx, _ = buy(chromium, s, "lagos-grotesk")
    ctx.close()
    ctx, _ = buy(chromium, s, "adire-display")
    ctx.close()
    today = edge.clock.iso()[:10]
    context, admin = sign_in(chromium, s["url"], "root@example.com")
    admin.goto(f"{s['url']}/admin/reports")
    admin.fill("input[name=from]", today)
    admin.fill("input[name=to]", today)
    admin.select_option("select[name=group]", "product")
    admin.click("#report-form button[type=submit]")
    admin.wait_for_url(re.compile(r".*group=product.*"))
    foot = admin.inner_text(".dd-report-table tfoot")
    balances = ledger.balances(edge)
    day = dt.date.fromisoformat(today)
    direct = reports.sales(edge.db, reports.Range(day, day))
    assert direct.totals["USD"]["gross"] == 2900 and direct.totals["NGN"]["gross"] == 1_500_000
    assert "$29.00" in foot and "₦15,000" in foot
    assert direct.totals["USD"]["fees"] == -balances[("platform:fees", "USD")]
    assert admin.locator(".dd-chart img").count() == 2  # one chart per currency, each with its table
    admin.click("a[href='/admin/reports/ledger']")
    tie = admin.inner_text("#tie-out-table")
    assert "NO" not in tie and tie.count("yes") == 8
    admin.go_back()
    with admin.expect_download() as info:
        admin.click("#report-csv")
    download = info.value
    assert download.suggested_filename == f"sales-product-day-{today}-{today}.csv"
    rows = list(csv.DictReader(io.StringIO(Path(download.path()).read_text("utf-8-sig"))))
    usd = next(r for r in rows if r["Period"] == "total" and r["Currency"] == "USD")
    assert usd["Gross sales"] == "29.00" and usd["Platform fees"] == "2.90"
    context.close()


def test_a_seller_sees_a_sale_unlists_a_product_and_edits_their_page(stack, chromium):
    s = stack
    edge = s["edge"]
    context, seller = sign_in(chromium, s["url"], "ade@example.com")
    seller.goto(f"{s['url']}/seller")
    assert seller.locator("#no-sales").is_visible()
    buyer_ctx, buyer = buy(chromium, s, "lagos-grotesk")
    seller.reload()
    assert seller.locator(".dd-chart img").count() == 1
    assert seller.inner_text("#net-USD") == "$26.10"
    row = seller.locator("tr[data-slug=lagos-grotesk]")
    assert row.get_attribute("data-state") == "live" and "$26.10" in row.inner_text()

    # unlist it: off the storefront after the rebuild, still in the buyer's library
    row.locator("button:has-text('Unlist')").click()
    assert "buyers keep their downloads" in flash_text(seller)
    assert seller.locator("tr[data-slug=lagos-grotesk]").get_attribute("data-state") == "unlisted"
    assert "lagos-grotesk" not in edge.catalog.current().products
    buyer.goto(f"{s['url']}/library")
    assert "Lagos Grotesk" in buyer.inner_text("main")
    with buyer.expect_download() as info:
        buyer.click("article.dd-library-item button")
    data = Path(info.value.path()).read_bytes()
    stored = next((s["site"] / "content" / "storage").rglob(hashlib.sha256(data).hexdigest()))
    assert stored.read_bytes() == data and len(data) > 0
    buyer_ctx.close()

    # edit the public page: preview first (nothing written), then save
    seller.goto(f"{s['url']}/seller/profile")
    seller.fill("#bio", "We draw **typefaces** from Yoruba adire textiles, in Lagos since 2019.")
    seller.fill("#links", "https://instagram.example/adire")
    seller.click("#preview-profile")
    assert seller.locator("#profile-preview strong").inner_text() == "typefaces"
    seller.click("#save-profile")
    assert "Your seller page was saved. The storefront was rebuilt." in flash_text(seller)
    shop = context.new_page()
    shop.goto(f"{s['shop']}/sellers/{SELLER}/")
    assert "Yoruba adire textiles" in shop.inner_text(".seller-head")
    assert shop.locator(".seller-links a[href='https://instagram.example/adire']").count() == 1
    context.close()


@pytest.mark.parametrize("viewport", [{"width": 390, "height": 844}, {"width": 1366, "height": 768}])
def test_console_pages_fit_a_phone_and_a_laptop(stack, chromium, viewport, tmp_path):
    s = stack
    ctx, _ = buy(chromium, s, "lagos-grotesk")
    ctx.close()
    for email, paths in (("root@example.com", ["/admin", "/admin/reports", "/admin/users", "/admin/moderation",
                                               "/admin/metrics", f"/admin/users/{s['ids']['seller']}"]),
                         ("ade@example.com", ["/seller", "/seller/statement", "/seller/profile", "/seller/earnings"])):
        context, page = sign_in(chromium, s["url"], email, viewport)
        for path in paths:
            page.goto(f"{s['url']}{path}")
            if not fits(page):
                wide = page.evaluate("() => Array.from(document.querySelectorAll('body *')).filter(e => "
                                     "e.getBoundingClientRect().right > window.innerWidth + 1).slice(0, 5)"
                                     ".map(e => e.tagName + '.' + e.className + '#' + e.id)")
                raise AssertionError((path, viewport, wide))
            if path in ("/admin/reports", "/seller"):
                chart = page.locator(".dd-chart img").first
                box = chart.bounding_box()
                assert box and box["width"] <= viewport["width"] and box["height"] > 100, (path, box)
                page.screenshot(path=str(tmp_path / f"{path.strip('/').replace('/', '-')}-{viewport['width']}.png"),
                                full_page=True)
        context.close()
