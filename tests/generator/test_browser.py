"""The storefront in real headless Chromium: browse, search with a filter, and read without JS."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(tmp_path_factory, repo_root: Path):
    from generator.build import build
    from generator.serve import make_server

    out = build(tmp_path_factory.mktemp("site") / "output", repo_root / "pelicanconf.py",
                overrides={"PATH": str(repo_root / "content"),
                           "THEME": str(repo_root / "digitaldock/theme"),
                           "PLUGIN_PATHS": [str(repo_root)]})
    server = make_server(out, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def page(chromium):
    context = chromium.new_context()
    # the checkout edge is not running in these tests; keep the page from trying to reach it
    context.route(re.compile(r"http://127\.0\.0\.1:8001/.*"), lambda route: route.abort())
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    yield pg
    context.close()
    assert errors == []


def test_home_to_category_to_product(page, site):
    page.goto(site + "/")
    assert page.title().startswith("DigitalDock")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Fonts").click()
    assert page.url == site + "/category/fonts/"
    assert page.get_by_role("heading", level=1).inner_text() == "Fonts"
    page.get_by_role("link", name="Lagos Grotesk").first.click()
    assert page.url == site + "/products/lagos-grotesk/"
    assert page.get_by_role("heading", level=1).inner_text() == "Lagos Grotesk"
    buy = page.locator("form.buy")
    assert buy.get_attribute("action") == "http://127.0.0.1:8001/checkout"
    assert buy.get_attribute("method") == "post"
    assert page.locator("form.buy button[type=submit]").is_visible()
    assert page.locator(".files tbody tr").count() >= 1
    # the footer links every legal document
    footer = page.get_by_role("navigation", name="Legal")
    assert footer.get_by_role("link").count() == 5


def test_keyboard_reaches_the_buy_button(page, site):
    page.goto(site + "/products/lagos-grotesk/")
    for _ in range(60):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == "Buy now":
            break
    else:
        pytest.fail("Buy now is not reachable with the keyboard")


def test_search_with_a_filter_and_sort(page, site):
    from playwright.sync_api import expect

    page.goto(site + "/search/?q=template")
    expect(page.locator("#search-status")).to_contain_text("found")
    titles = page.locator("#search-results .card-title").all_inner_texts()
    assert "Kente Landing Page Template" in titles
    page.fill("#search-q", "")
    expect(page).not_to_have_url(re.compile("q=template"))
    page.get_by_label("Fonts (", exact=False).check()  # counts follow the query: all products now
    expect(page).to_have_url(re.compile("category=Fonts"))
    titles = page.locator("#search-results .card-title").all_inner_texts()
    assert titles and "Lagos Grotesk" in titles and "Kente Landing Page Template" not in titles
    page.select_option("#search-sort", "price-low")
    expect(page).to_have_url(re.compile("sort=price-low"))
    cards = page.locator("#search-results .price").all_inner_texts()
    assert len(cards) == len(titles)
    assert "category=Fonts" in page.url


def test_pages_read_with_javascript_off(chromium, site):
    context = chromium.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(site + "/")
    assert page.get_by_role("heading", name="Featured").is_visible()
    page.goto(site + "/products/sort/price-low/")
    prices = page.locator(".cards .price").all_inner_texts()
    assert len(prices) >= 14
    page.goto(site + "/search/")
    # the search form goes to the edge's results page (tests/generator/test_search_browser.py)
    assert page.locator("#search-form").get_attribute("action") == "http://127.0.0.1:8001/search"
    assert page.locator("form.header-search").get_attribute("action") == "http://127.0.0.1:8001/search"
    page.get_by_role("link", name="Audio").last.click()
    assert page.url == site + "/category/audio/"
    page.locator(".cards .card-link").first.click()
    assert page.locator("form.buy").is_visible()
    context.close()


def test_unknown_page_gets_the_404_page(page, site):
    response = page.goto(site + "/products/no-such-thing/")
    assert response.status == 404
    assert page.get_by_role("heading", level=1).inner_text() == "We can't find that page"
