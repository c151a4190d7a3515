"""End to end in real Chromium: a seller uploads a product with a file and images and sees the
progress; an admin approves it and the storefront is rebuilt; a buyer who owns it downloads the
file from the library and gets the same bytes.

The buyer pays through issue #6's checkout and the Paystack sandbox (a real server on loopback),
exactly as a customer would."""

from __future__ import annotations

import hashlib
import io
import re
import shutil
import time
from pathlib import Path

import pytest
from PIL import Image

from checkout.accounts import users
from checkout.sandbox import Sandbox
from checkout.web.app import create_app

from ...servers import free_port, serve

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[3]


def png(color) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), color).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture
def stack(tmp_path, make_settings, helpers):
    from generator.build import build

    shutil.copytree(ROOT / "content", tmp_path / "site" / "content")
    content, output = tmp_path / "site" / "content", tmp_path / "site" / "output"
    build(output, ROOT / "pelicanconf.py", {"PATH": str(content)})

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    box = Sandbox(webhook_url=f"{url}/webhooks/paystack")
    with serve(box.app(), name="sandbox") as sandbox:
        settings = make_settings(CATALOG_PATH=str(output / "catalog.json"), CONTENT_DIR=str(content), CHECKOUT_URL=url,
                                 REBUILD_ON_APPROVAL=True, PAYSTACK_BASE_URL=sandbox.url, PAYSTACK_RETRIES=1)
        app = create_app(settings)
        edge = app.state.edge
        state = edge.legal()
        for email, role, name in (("sam@example.com", "seller", "Sam Okafor"),
                                  ("ada@example.com", "admin", "Ada Admin"), ("bea@example.com", "buyer", "Bea Buyer")):
            docs = list(state.legal.values()) if role == "seller" else [state.legal["terms"], state.legal["privacy"]]
            users.create_user(edge, email, name, role, edge.hasher.hash(helpers.PASSWORD), docs, verified=True,
                                 send_verification=False, actor_id=0)
        with serve(app, port=port, name="edge"):
            yield url, edge, output


def sign_in(browser, url, email, password):
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(20000)
    page.goto(f"{url}/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("form.edge-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/account"))
    return context, page


def test_seller_uploads_admin_approves_buyer_downloads(stack, chromium, helpers):
    url, edge, output = stack
    product = b"%PDF-1.4\n" + bytes(range(256)) * 16 * 1024 + b"\n%%EOF\n"  # about 4 MB

    context, page = sign_in(chromium, url, "sam@example.com", helpers.PASSWORD)
    page.goto(f"{url}/seller/products")
    page.fill("#title", "Lagos Night Market Poster")
    page.fill("#slug", "lagos-night-market-poster")
    page.select_option("#category", index=0)
    page.fill("#tags", "poster, lagos")
    page.fill("#price", "15.00")
    page.select_option("#currency", "USD")
    page.fill("#summary", "A printable poster of the Lagos night market, in three sizes.")
    page.fill("#description", "Printable at A4, A3 and A2.\n\n**Vector source included.**")
    page.click("#preview-button")
    page.wait_for_selector("#preview strong")
    page.set_input_files("#files", files=[{"name": "poster.pdf", "mimeType": "application/pdf", "buffer": product}])
    page.set_input_files("#cover", files=[{"name": "cover.png", "mimeType": "image/png", "buffer": png((200, 60, 20))}])
    page.set_input_files("#images", files=[{"name": "detail.png", "mimeType": "image/png", "buffer": png((20, 60, 200))}])
    assert page.locator("#upload-progress li").count() == 3
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": 0, "downloadThroughput": -1,
                                                   "uploadThroughput": 2 * 1024 * 1024})
    page.click("#product-form button[type=submit]")
    seen = 0
    for _ in range(400):  # the page's CSP forbids wait_for_function's eval, so poll from here
        seen = page.evaluate("() => { const b = document.querySelector('#progress-0'); return b ? b.value : -1; }") \
            if "/seller/products" in page.url else 100
        if seen > 0:
            break
        time.sleep(0.01)
    assert seen > 0, "no upload progress was shown"
    try:
        page.wait_for_url(re.compile(r".*/seller$"))
    except Exception:
        raise AssertionError(page.inner_text("#upload-error")) from None
    assert "pending" in page.locator(".dd-seller-products").inner_text()
    context.close()

    context, page = sign_in(chromium, url, "ada@example.com", helpers.PASSWORD)
    page.goto(f"{url}/admin/submissions")
    assert "Vector source included." in page.inner_text(".dd-submission")
    page.click(".dd-submission form[action$='/approve'] button")
    notice = page.wait_for_selector(".edge-alert", timeout=60000).inner_text()
    assert "The storefront was rebuilt." in notice, notice
    context.close()
    assert (output / "products" / "lagos-night-market-poster" / "index.html").is_file()
    assert "lagos-night-market-poster" in edge.catalog.current().products

    context, page = sign_in(chromium, url, "bea@example.com", helpers.PASSWORD)
    page.goto(f"{url}/buy?product=lagos-night-market-poster")
    assert "Lagos Night Market Poster" in page.content()
    page.get_by_role("button", name="Pay with Paystack").click()
    page.wait_for_url(re.compile(r".*/pay/[0-9a-f]+$"))
    page.get_by_role("button", name="Pay", exact=True).click()
    page.wait_for_url(re.compile(r".*/checkout/callback\?trxref=.*"))
    assert page.locator("#order-status").get_attribute("data-status") == "paid"
    page.goto(f"{url}/library")
    assert "Lagos Night Market Poster" in page.inner_text("main")
    with page.expect_download() as info:
        page.click("#purchase-1 button, article.dd-library-item button")
    path = info.value.path()
    assert info.value.suggested_filename == "poster.pdf"
    assert hashlib.sha256(Path(path).read_bytes()).hexdigest() == hashlib.sha256(product).hexdigest()
    page.goto(f"{url}/library")
    assert "4 of 5" in page.inner_text("main")
    context.close()
