"""On a phone (#15), in real Chromium at 390x844, and on a laptop at 1366x900: home, listing,
search, product, cart, checkout, thank-you, library and orders scroll only up and down; on the phone the
header is one line with a Menu button, the search filters are folded above the results and
every control is a touch target of at least 44 px."""

from __future__ import annotations

import re

import pytest

from ...servers import shop_stack

pytestmark = pytest.mark.browser

PHONE, LAPTOP = {"width": 390, "height": 844}, {"width": 1366, "height": 900}
# what a finger presses: controls, and links that stand alone (not a word inside a sentence)
TARGETS = ("header a, header button, header input, header summary, main button, main select, main summary,"
           " main input:not([type=checkbox]):not([type=radio]):not([type=hidden]), .pagination a, .sorts a,"
           " .edge-links a, .card-link, .breadcrumbs a")


@pytest.fixture(scope="module")
def stack(tmp_path_factory, repo_root):
    with shop_stack(tmp_path_factory.mktemp("phone"), repo_root) as stack:
        yield stack


def no_sideways_scroll(page, name):
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"{name}: the page is {widths[0]} px wide in a {widths[1]} px window"


def small_targets(page) -> tuple[int, list[str]]:
    """(how many visible targets the page has, those less than 44 px tall)."""
    return page.evaluate("""(selector) => {
      const out = []; let seen = 0;
      for (const el of document.querySelectorAll(selector)) {
        const r = el.getBoundingClientRect(), s = getComputedStyle(el);
        if (!r.width || !r.height || s.visibility === "hidden") continue;
        seen++;
        if (r.height < 43.5) out.push(el.tagName + " '" + (el.innerText || el.value || el.name || "").trim().slice(0, 30)
                                      + "' " + Math.round(r.width) + "x" + Math.round(r.height));
      }
      return [seen, out];
    }""", TARGETS)


def check(page, name, phone: bool):
    no_sideways_scroll(page, name)
    if not phone:
        return
    header = page.locator(".site-header .header-row").bounding_box()
    assert header["height"] <= 80, f"{name}: the header takes {header['height']} px"
    assert page.locator(".menu-button").is_visible() and not page.locator("#site-menu nav").is_visible()
    seen, small = small_targets(page)
    assert seen >= 2 and small == [], (name, seen, small)


def pages(stack, page, phone: bool):
    """Walk a buyer's path, checking every page on the way."""
    product = [p for _, p in sorted(stack["catalog"]["products"].items())
               if p["pwyw_minimum"] is None and p["files"]][int(phone)]  # one product per run: bought once
    page.goto(stack["site"] + "/")
    check(page, "home", phone)
    if phone:
        page.locator(".menu-button").click()
        assert page.locator("#site-menu nav").is_visible()
        assert page.locator(".menu-button").get_attribute("aria-expanded") == "true"
        no_sideways_scroll(page, "home, menu open")
    page.goto(stack["site"] + "/products/")
    check(page, "listing", phone)
    page.goto(stack["site"] + "/search/?q=font")
    page.wait_for_selector("#search:not([hidden])")
    check(page, "search", phone)
    assert page.locator("details.filters").evaluate("d => d.open") is (not phone)  # folded on a phone
    page.goto(stack["site"] + product["url"])
    check(page, "product", phone)
    page.goto(stack["edge"] + "/login")
    page.fill("#email", "buyer@example.com")
    page.fill("#password", stack["password"])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r".*/account$"))
    page.goto(stack["site"] + product["url"])
    page.get_by_role("button", name="Add to cart").click()
    page.wait_for_url(re.compile(r".*/cart$"))
    check(page, "cart", phone)
    page.goto(stack["edge"] + "/buy?cart=1")
    check(page, "checkout", phone)
    page.get_by_role("button", name="Pay with Paystack").click()
    page.wait_for_url(re.compile(r".*/pay/[0-9a-f]+$"))
    page.get_by_role("button", name="Pay", exact=True).click()
    page.wait_for_url(re.compile(r".*/checkout/callback\?trxref=.*"))
    check(page, "thank-you", phone)
    page.goto(stack["edge"] + "/library")
    check(page, "library", phone)
    page.goto(stack["edge"] + "/orders")
    check(page, "orders", phone)


@pytest.mark.parametrize("viewport", [PHONE, LAPTOP], ids=["390x844", "1366x900"])
def test_the_buyers_pages_fit_the_screen(chromium, stack, viewport):
    phone = viewport["width"] < 600
    context = chromium.new_context(viewport=viewport, is_mobile=phone, has_touch=phone)
    page = context.new_page()
    page.set_default_timeout(15000)
    try:
        pages(stack, page, phone)
    finally:
        context.close()
