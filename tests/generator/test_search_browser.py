"""Search in real Chromium (issue #15): the static page loads only what a query needs and finds
by description, with a hyphen variant and a typo, with the same answers as the shared rules;
with JavaScript off, the header's and the page's search forms reach the edge's results page."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest
from playwright.sync_api import expect

from ..servers import free_port, serve

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def stack(tmp_path_factory, repo_root: Path):
    from checkout.core.settings import load_settings
    from checkout.web.app import create_app
    from digitaldock.search import Index
    from generator.build import build
    from generator.serve import make_server

    base = tmp_path_factory.mktemp("search")
    edge_port = free_port()
    site_port = free_port()
    site = f"http://127.0.0.1:{site_port}"
    edge = f"http://127.0.0.1:{edge_port}"
    out = build(base / "output", repo_root / "pelicanconf.py",
                overrides={"PATH": str(repo_root / "content"), "THEME": str(repo_root / "digitaldock/theme"),
                           "PLUGIN_PATHS": [str(repo_root)], "CHECKOUT_URL": edge, "SITEURL": site})
    httpd = make_server(out, "127.0.0.1", site_port, site_url=site, checkout_url=edge)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    app = create_app(load_settings(environ={}, dotenv=None, DIGITALDOCK_DATA_DIR=str(base / "data"),
                                   CATALOG_PATH=str(out / "catalog.json"), CONTENT_DIR=str(repo_root / "content"),
                                   SITE_URL=site, CHECKOUT_URL=edge, ARGON2_TIME_COST=1, ARGON2_MEMORY_COST=8,
                                   ARGON2_PARALLELISM=1, OUTBOX_POLL_SECONDS=0, RETENTION_INTERVAL_SECONDS=0,
                                   METRICS_SAMPLE_SECONDS=0, CLAMD_DEFAULT_SOCKET=""))
    try:
        with serve(app, port=edge_port, ready="/healthz"):
            yield {"site": site, "edge": edge, "index": Index(lambda n: (out / "search" / n).read_bytes())}
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def page(chromium):
    context = chromium.new_context()
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    yield pg
    context.close()
    assert errors == []


def js_titles(page, site: str, q: str, sort: str = "") -> list[str]:
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    page.goto(f"{site}/search/?q={q}" + (f"&sort={sort}" if sort else ""))
    expect(page.locator("#search-status")).to_contain_text("found")
    page.js_requested = requested
    return page.locator("#search-results .card-title").all_inner_texts()


def py_titles(index, q: str, sort: str = "") -> list[str]:
    return [c["t"] for c in index.cards(index.search(q, {}, sort).ids[:24])]


def test_finds_by_description_hyphen_variant_and_typo(page, stack):
    site, index = stack["site"], stack["index"]
    assert "Music Production Basics" in js_titles(page, site, "studio")  # "studio" only in its summary
    for q in ("lofi", "lo-fi", "Lo%20Fi"):
        assert js_titles(page, site, q)[0] == "Afro Lo-Fi Beats", q
    assert js_titles(page, site, "templte")[0] == "Kente Landing Page Template"  # a typo
    # only the entry, the shards of the query's words, the facet columns and the cards' chunks
    fetched = [u for u in page.js_requested if "/search/" in u and u.endswith(".json")]
    assert any(u.endswith("/search/index.json") for u in fetched)
    assert not any("/sort." in u for u in fetched)
    assert len([u for u in fetched if "/search/t/" in u]) < len(index.entry["shards"]) or len(index.entry["shards"]) < 3


def test_the_browser_and_the_edge_give_the_same_answers(page, stack):
    site, index = stack["site"], stack["index"]
    for q, sort in (("studio", ""), ("template", "price-low"), ("pack", "rating"), ("afro beats", ""),
                    ("grotsk", ""), ("music lessons", "newest"), ("naïve café", ""), ("ÉCOLE ﬁne", ""),
                    ("हिंदी संगीत", ""), ("Ｌagos", "")):
        assert js_titles(page, site, q.replace(" ", "%20"), sort) == py_titles(index, q, sort), q


def test_facet_counts_follow_the_query_and_suggestions_show(page, stack):
    site = stack["site"]
    js_titles(page, site, "")
    everything = page.locator("#filter-category label").all_inner_texts()
    page.fill("#search-q", "lofi")
    expect(page.locator("#search-status")).to_have_text("1 product found")
    assert page.locator("#filter-category label").all_inner_texts() == ["Audio (1)"]
    assert len(everything) > 1
    page.get_by_label("Audio (1)").check()
    expect(page).to_have_url(re.compile(r"category=Audio"))
    page.fill("#search-q", "stdio zzzz")
    expect(page.locator("#search-status")).to_have_text("0 products found")
    assert "studio" in page.locator("#search-suggestions").inner_text()
    page.locator("#search-suggestions a").first.click()
    expect(page.locator("#search-status")).not_to_have_text("0 products found")
    # prices: bands of one currency each, labelled with its symbol
    page.goto(site + "/search/")
    expect(page.locator("#search-status")).to_contain_text("found")
    labels = page.locator("#filter-price label").all_inner_texts()
    assert any(label.startswith("Under $") for label in labels) and any("₦" in label for label in labels)
    assert not any("$" in label and "₦" in label for label in labels)


def test_with_javascript_off_the_edge_answers(chromium, stack):
    site, edge = stack["site"], stack["edge"]
    context = chromium.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(site + "/")
    page.fill("#q", "lo-fi")
    page.locator("form.header-search button").click()
    page.wait_for_url(f"{edge}/search?q=lo-fi")
    assert page.locator("#search-results .card-title").all_inner_texts() == ["Afro Lo-Fi Beats"]
    page.fill("#search-q", "studio")
    page.locator("#search-form button[type=submit]").first.click()
    page.wait_for_url(f"{edge}/search?q=studio*")
    assert "Music Production Basics" in page.locator("#search-results .card-title").all_inner_texts()
    page.locator("#filter-category input[value=Audio]").check()
    page.select_option("#search-sort", "price-high")
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url("**category=Audio**")
    assert "sort=price-high" in page.url
    assert page.locator("#filter-category input[value=Audio]").is_checked()
    assert page.locator("#search-status").inner_text().endswith("found")
    page.locator("#search-results .card-link").first.click()
    assert page.url.startswith(site + "/products/")
    # the static search page's own form goes to the edge too, with a typo
    page.goto(site + "/search/")
    page.fill("#search-q", "templte")
    page.locator("#search-form button[type=submit]").click()
    page.wait_for_url(f"{edge}/search?q=templte*")
    assert page.locator("#search-results .card-title").all_inner_texts()[0] == "Kente Landing Page Template"
    context.close()
