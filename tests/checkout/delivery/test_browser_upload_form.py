"""Issue #20 in real Chromium against a real edge: the product form checks its fields before it
sends a single file (errors beside their fields, named by their labels), is priced in the
seller's payout currency, disables Submit while uploading and shows percentage, speed and time
left; then the upload goes through."""

from __future__ import annotations

import io
import re
import time

import pytest
from PIL import Image

from checkout.accounts import users
from checkout.web.app import create_app

from ...servers import serve

pytestmark = pytest.mark.browser


def png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 60, 20)).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture
def edge_url(make_settings, shop, helpers, tmp_path):
    (tmp_path / "content" / "categories.yml").write_text("- slug: fonts\n  name: Fonts\n")
    app = create_app(make_settings())
    edge = app.state.edge
    docs = list(edge.legal().legal.values())
    uid = users.create_user(edge, "sam@example.com", "Sam Okafor", "seller", edge.hasher.hash(helpers.PASSWORD), docs,
                            verified=True, send_verification=False, actor_id=0)
    # Sam sells as the catalogue's "ada", who is paid out in USD
    edge.db.execute("INSERT INTO seller_accounts (seller_slug, user_id, created_at) VALUES ('ada', ?, ?)",
                    (uid, edge.clock.iso()))
    with serve(app, name="edge") as server:
        yield server.url, edge


def _poll(page, script: str, until, tries: int = 600):
    """The page's CSP forbids wait_for_function's eval, so poll with evaluate from here."""
    value = None
    for _ in range(tries):
        value = page.evaluate(script)
        if until(value):
            return value
        time.sleep(0.01)
    return value


def test_the_form_checks_fields_before_uploading_then_shows_progress(edge_url, chromium, helpers):
    url, edge = edge_url
    context = chromium.new_context()
    page = context.new_page()
    page.set_default_timeout(20000)
    page.goto(f"{url}/login")
    page.fill("#email", "sam@example.com")
    page.fill("#password", helpers.PASSWORD)
    page.click("form.edge-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/account"))
    page.goto(f"{url}/seller/products")
    assert page.eval_on_selector("#currency", "el => el.value") == "USD"  # the payout currency

    uploads = []
    page.on("request", lambda r: uploads.append(r) if r.method == "POST" and r.url.endswith("/seller/products") else None)
    page.fill("#title", "Lagos Night Market Poster")
    page.fill("#slug", "lagos-night-market-poster")
    page.fill("#price", "1.00")  # under USD's $2.00
    page.fill("#summary", "A printable poster of the Lagos night market, in three sizes.")
    page.fill("#description", "Too short.")
    product = b"%PDF-1.4\n" + bytes(range(256)) * 8 * 1024 + b"\n%%EOF\n"  # about 2 MB
    page.set_input_files("#files", files=[{"name": "poster.pdf", "mimeType": "application/pdf", "buffer": product}])
    page.set_input_files("#cover", files=[{"name": "cover.png", "mimeType": "image/png", "buffer": png()}])
    page.click("#submit-button")
    page.wait_for_selector("#price-error:not([hidden])")
    assert page.inner_text("#price-error") == "Price: USD prices must be between $2.00 and $10,000.00."
    assert page.inner_text("#description-error") == "Description must be 20 to 20000 characters, got 10."
    assert page.get_attribute("#price", "aria-invalid") == "true"
    assert page.is_enabled("#submit-button")
    assert uploads == []  # not one file byte was sent
    assert edge.db.execute("SELECT COUNT(*) FROM submissions").fetchone()[0] == 0

    page.fill("#price", "15.00")
    page.fill("#description", "Printable at A4, A3 and A2.\n\n**Vector source included.**")
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": 0, "downloadThroughput": -1,
                                                   "uploadThroughput": 512 * 1024})
    page.click("#submit-button")
    status = _poll(page, "() => [document.getElementById('upload-status').textContent,"
                         " document.getElementById('submit-button').disabled, location.pathname]",
                   lambda v: "MB/s" in v[0] or v[2] != "/seller/products")
    assert re.search(r"\d+% · [\d.]+ MB of [\d.]+ MB · [\d.]+ MB/s · (about \d+ (s|min) left|working out)", status[0]), status
    assert status[1] is True  # Submit is disabled while the upload runs
    assert page.is_hidden("#price-error")  # the earlier messages are gone
    page.wait_for_url(re.compile(r".*/seller$"))
    assert len(uploads) == 1
    row = edge.db.execute("SELECT status, fields FROM submissions").fetchone()
    assert row["status"] == "pending" and '"currency": "USD"' in row["fields"]
    context.close()
