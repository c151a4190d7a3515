"""The buyer's journey in real Chromium (#15): the static site (built into a temp dir), the edge
and the Paystack sandbox as real servers. A guest pays and downloads from the thank-you page,
then again from the receipt email's link in a fresh browser; a buyer's refund request is
approved by the seller from their dashboard and the buyer is emailed."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import threading
import time
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest

from ...servers import CLI, FAST_ENV, base_env, free_port, serve, serve_edge

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def stack(tmp_path_factory, repo_root):
    from generator.build import build
    from generator.serve import make_server

    root = tmp_path_factory.mktemp("journey")
    site_port, edge_port, sandbox_port = free_port(), free_port(), free_port()
    site, edge = f"http://127.0.0.1:{site_port}", f"http://127.0.0.1:{edge_port}"
    out = build(root / "output", repo_root / "pelicanconf.py",
                overrides={"PATH": str(repo_root / "content"), "THEME": str(repo_root / "digitaldock/theme"),
                           "PLUGIN_PATHS": [str(repo_root)], "SITEURL": site, "CHECKOUT_URL": edge})
    server = make_server(out, "127.0.0.1", site_port, site_url=site, checkout_url=edge,
                         pay_url=f"http://127.0.0.1:{sandbox_port}")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = base_env(**FAST_ENV, CATALOG_PATH=str(out / "catalog.json"), DIGITALDOCK_DATA_DIR=str(root / "data"),
                   CONTENT_DIR=str(repo_root / "content"), SITE_URL=site, CHECKOUT_URL=edge,
                   PAYSTACK_BASE_URL=f"http://127.0.0.1:{sandbox_port}",
                   PAYSTACK_WEBHOOK_URL=f"{edge}/webhooks/paystack", OUTBOX_POLL_SECONDS="0.2")
    seeded = subprocess.run([*CLI, "seed"], cwd=root, env=env, capture_output=True, text=True, check=True)
    passwords = dict(re.findall(r"^\w+\s+(\S+@example\.com)\s+(demo-\S+)$", seeded.stdout, re.M))
    seller = re.search(r"manages the catalogue seller (\S+)", seeded.stdout).group(1)
    try:
        with (serve([*CLI, "sandbox", "--port", str(sandbox_port)], port=sandbox_port, ready="/", cwd=root, env=env,
                    log=root / "sandbox.log", name="sandbox"),
              serve_edge(root, env, port=edge_port, log=root / "edge.log")):
            catalog = json.loads((out / "catalog.json").read_text())
            yield {"site": site, "edge": edge, "passwords": passwords, "seller": seller, "catalog": catalog,
                   "emails": root / "data" / "emails"}
    finally:
        server.shutdown()
        server.server_close()


def emails(folder: Path, subject: str, count: int = 1, timeout: float = 15.0) -> list:
    """The `count` first emails of this subject the edge wrote to its folder (waiting for them)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = []
        for path in sorted(folder.glob("*.eml")):
            mail = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
            if mail["subject"] == subject:
                found.append(mail)
        if len(found) >= count:
            return found
        time.sleep(0.1)
    raise AssertionError(f"no email {subject!r} arrived")


def pick(stack, seller: str | None = None, skip: tuple[str, ...] = ()) -> dict:
    for slug, p in sorted(stack["catalog"]["products"].items()):
        if p["pwyw_minimum"] is None and p["files"] and slug not in skip and (seller is None or p["seller"] == seller):
            return {"slug": slug, **p}
    raise AssertionError("no product to buy")


def pay_on_sandbox(page):
    page.wait_for_url(re.compile(r".*/pay/[0-9a-f]+$"))
    page.get_by_role("button", name="Pay", exact=True).click()
    page.wait_for_url(re.compile(r".*/checkout/callback\?trxref=.*"))
    assert page.locator("#order-status").get_attribute("data-status") == "paid"


def download_first(page) -> tuple[bytes, str]:
    """Press the first Download button; (the file's bytes, the SHA-256 the page shows for it)."""
    row = page.locator("tr.dd-file").first
    shown = row.locator("[data-sha256]").inner_text().strip()
    with page.expect_download() as info:
        row.get_by_role("button", name="Download").click()
    return Path(info.value.path()).read_bytes(), shown


def test_a_guest_downloads_on_the_thank_you_page_then_from_the_email_in_a_fresh_browser(chromium, stack):
    product = pick(stack)
    context = chromium.new_context(accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(15000)
    try:
        page.goto(stack["site"] + product["url"])
        page.get_by_role("button", name="Buy now").click()
        page.wait_for_url(re.compile(r".*/buy\?product=.*"))
        page.fill("#email", "guest.journey@example.com")
        assert page.locator("input[name=accept]").count() == 1  # consent once, in one box
        page.check("input[name=accept]")
        page.get_by_role("button", name="Continue to payment").click()
        pay_on_sandbox(page)
        assert "SHA-256" in page.content() and "sha256sum" in page.content()
        data, shown = download_first(page)
        assert hashlib.sha256(data).hexdigest() == shown
    finally:
        context.close()

    [receipt] = emails(stack["emails"], "Your DigitalDock receipt")
    body = receipt.get_body(("plain",)).get_content()
    assert "Paid with: Visa ending 4081" in body and product["title"] in body
    link = re.search(r"http://\S+/orders/\S+/files\?token=\S+", body).group(0)
    fresh = chromium.new_context(accept_downloads=True)  # another browser: no cookie of that order
    page = fresh.new_page()
    page.set_default_timeout(15000)
    try:
        page.goto(link)
        assert page.locator("h1").inner_text() == "Your files"
        data, shown = download_first(page)
        assert hashlib.sha256(data).hexdigest() == shown
        page.get_by_role("link", name="Printable receipt").click()
        assert "Visa ending 4081" in page.locator("#receipt-method").inner_text()
        assert page.get_by_role("button", name="Print").is_visible()
    finally:
        fresh.close()


def sign_in(page, stack, email):
    page.goto(stack["edge"] + "/login")
    page.fill("#email", email)
    page.fill("#password", stack["passwords"][email])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r".*/account$"))


def test_refund_request_then_seller_approval_then_the_buyer_is_emailed(chromium, stack):
    product = pick(stack, seller=stack["seller"])
    buyer = chromium.new_context()
    page = buyer.new_page()
    page.set_default_timeout(15000)
    try:
        sign_in(page, stack, "buyer@example.com")
        page.goto(stack["site"] + product["url"])
        page.get_by_role("button", name="Buy now").click()  # signed in: straight to Paystack's page
        pay_on_sandbox(page)
        page.goto(stack["edge"] + "/orders")
        order = page.locator(".edge-order", has_text=product["title"]).first
        order.locator("input[name=reason]").fill("The archive does not open on my machine")
        order.get_by_role("button", name="Request a refund").click()
        page.wait_for_selector("text=Refund requested")
    finally:
        buyer.close()
    emails(stack["emails"], "We received your DigitalDock refund request")
    emails(stack["emails"], "A buyer asked for a refund")

    seller = chromium.new_context()
    page = seller.new_page()
    page.set_default_timeout(15000)
    try:
        sign_in(page, stack, "seller@example.com")
        page.goto(stack["edge"] + "/seller/refunds")
        row = page.locator("tr", has_text="The archive does not open").first
        row.get_by_role("button", name="Approve refund").click()
        page.wait_for_selector("text=Refund approved")
    finally:
        seller.close()
    [approved] = emails(stack["emails"], "Your DigitalDock refund was approved")
    assert approved["to"] == "buyer@example.com"
    assert product["title"] in approved.get_body(("plain",)).get_content()
    emails(stack["emails"], "Your DigitalDock refund was processed")  # Paystack's webhook settled it
