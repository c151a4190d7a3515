"""The buyer's journey in real Chromium (#15): the static site (built into a temp dir), the edge
and the Paystack sandbox as real servers. A guest pays and downloads from the thank-you page,
then again from the receipt email's link in a fresh browser; a buyer's refund request is
approved by the seller from their dashboard and the buyer is emailed."""

from __future__ import annotations

import hashlib
import re
import time
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest

from ...servers import shop_stack

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def stack(tmp_path_factory, repo_root):
    with shop_stack(tmp_path_factory.mktemp("journey"), repo_root) as stack:
        seeded = stack["seeded"]
        yield {**stack, "passwords": dict(re.findall(r"^\w+\s+(\S+@example\.com)\s+(demo-\S+)$", seeded, re.M)),
               "seller": re.search(r"manages the catalogue seller (\S+)", seeded).group(1),
               "emails": stack["root"] / "data" / "emails"}


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
