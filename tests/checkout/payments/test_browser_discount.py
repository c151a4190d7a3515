"""End to end in real Chromium, with JavaScript on and off: the static site (built into a temp
dir), the edge and the Paystack sandbox as real servers. A discount code reaches the checkout
page from a product link's `?code=` (JavaScript on) or typed into the field (JavaScript off); the
discounted total is shown before paying and is what the sandbox charges."""

from __future__ import annotations

import re
import sqlite3

import pytest

from ...servers import shop_stack

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def stack(tmp_path_factory, repo_root):
    with shop_stack(tmp_path_factory.mktemp("stack"), repo_root,
                    commands=[["discount", "create", "TAKE10", "--percent", "10"]]) as stack:
        yield stack


def _fixed_price_products(stack) -> list[tuple[str, dict]]:
    return [(slug, p) for slug, p in sorted(stack["catalog"]["products"].items()) if p["pwyw_minimum"] is None]


def _guest_pays(page, email: str) -> None:
    page.fill("#email", email)
    for box in page.locator('input[name="accept"]').all():
        box.check()
    page.get_by_role("button", name="Continue to payment").click()
    page.wait_for_url(re.compile(r".*/pay/[0-9a-f]+$"))
    page.get_by_role("button", name="Pay", exact=True).click()
    page.wait_for_url(re.compile(r".*/checkout/callback\?trxref=.*"))
    assert page.locator("#order-status").get_attribute("data-status") == "paid"


def _last_order(stack) -> tuple[int, str]:
    """(amount, status) of the newest order, read from the edge's database file."""
    with sqlite3.connect(stack["root"] / "data" / "edge.sqlite3") as db:
        return db.execute("SELECT amount, status FROM orders ORDER BY id DESC LIMIT 1").fetchone()


def _ninety_percent(minor: int) -> int:
    return minor - (minor * 1000 + 5000) // 10000


def test_a_product_link_with_a_code_shows_the_discount_before_paying_javascript_on(chromium, stack):
    slug, product = _fixed_price_products(stack)[0]
    context = chromium.new_context()
    page = context.new_page()
    page.set_default_timeout(15000)
    try:
        page.goto(stack["site"] + product["url"] + "?code=take10")
        assert page.locator('form.buy input[name="code"]').input_value() == "take10"
        page.get_by_role("button", name="Buy now").click()
        page.wait_for_url(re.compile(r".*/buy\?product=.*code=TAKE10.*"))
        assert page.locator("#discount").is_visible()
        total = page.locator("#total").inner_text()
        assert page.locator("#code").input_value() == "TAKE10"
        _guest_pays(page, "js-on@example.com")
        assert _last_order(stack) == (_ninety_percent(product["price"]), "paid")
        assert total in page.content()
    finally:
        context.close()


def test_the_code_field_works_with_javascript_off(chromium, stack):
    slug, product = _fixed_price_products(stack)[1]
    context = chromium.new_context(java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(15000)
    try:
        page.goto(stack["site"] + product["url"] + "?code=take10")  # no script: the link's code is not carried
        page.get_by_role("button", name="Buy now").click()
        page.wait_for_url(re.compile(r".*/buy\?product=[^&]+$"))
        assert page.locator("#discount").count() == 0
        page.fill("#code", "nosuchcode")
        page.get_by_role("button", name="Apply").click()
        assert "There is no discount code NOSUCHCODE" in page.locator("#code-error").inner_text()
        page.fill("#code", "take10")
        page.get_by_role("button", name="Apply").click()
        page.wait_for_url(re.compile(r".*code=take10.*"))
        assert page.locator("#discount").is_visible()
        _guest_pays(page, "js-off@example.com")
        assert _last_order(stack) == (_ninety_percent(product["price"]), "paid")
    finally:
        context.close()
