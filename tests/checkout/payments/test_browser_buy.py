"""End to end in real Chromium, JavaScript off: the static site (built into a temp dir), the edge
and the Paystack sandbox as real servers on free ports. Sign in, buy two products from their
static product pages through the sandbox's pay page, and see both paid on /orders."""

from __future__ import annotations

import re
import subprocess

import pytest

from ...servers import CLI, base_env, shop_stack

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def stack(tmp_path_factory, repo_root):
    with shop_stack(tmp_path_factory.mktemp("stack"), repo_root) as stack:
        yield stack


def test_buy_two_products_with_javascript_off(chromium, stack):
    products = [slug for slug, p in sorted(stack["catalog"]["products"].items()) if p["pwyw_minimum"] is None][:2]
    assert len(products) == 2
    context = chromium.new_context(java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(15000)
    try:
        for n, slug in enumerate(products):
            product = stack["catalog"]["products"][slug]
            page.goto(stack["site"] + product["url"])
            page.get_by_role("button", name="Buy now").click()
            if n == 0:  # first purchase: the edge asks us to sign in, then brings us back
                page.wait_for_url(re.compile(r".*/buy\?product=.*"))
                assert product["title"] in page.content()
                page.get_by_role("link", name="Sign in to pay").click()
                page.fill("#email", "buyer@example.com")
                page.fill("#password", stack["password"])
                page.get_by_role("button", name="Sign in").click()
                page.wait_for_url(re.compile(r".*/buy\?product=.*"))
                page.get_by_role("button", name="Pay with Paystack").click()
            page.wait_for_url(re.compile(r".*/pay/[0-9a-f]+$"))
            assert "Paystack sandbox" in page.content()
            page.get_by_role("button", name="Pay", exact=True).click()
            page.wait_for_url(re.compile(r".*/checkout/callback\?trxref=.*"))
            assert page.locator("#order-status").get_attribute("data-status") == "paid"
        page.goto(stack["edge"] + "/orders")
        statuses = page.locator(".edge-order .order-status").all_inner_texts()
        assert statuses == ["paid", "paid"]
        text = page.content()
        for slug in products:
            assert stack["catalog"]["products"][slug]["title"] in text
        # the ledger holds whether the webhooks or the callbacks got there first
        out = subprocess.run([*CLI, "ledger", "check"], cwd=stack["root"], capture_output=True, text=True,
                             env=base_env(DIGITALDOCK_DATA_DIR=str(stack["root"] / "data"),
                                          CATALOG_PATH=str(stack["root"] / "output" / "catalog.json")))
        assert out.returncode == 0, out.stderr
    finally:
        context.close()
