"""The Save button in real Chromium, with JavaScript off and on: the static site built into a
temp dir and the edge as real servers on free ports."""

from __future__ import annotations

import re
import subprocess
import threading

import pytest
from playwright.sync_api import expect

from ...generator.conftest import make_content
from ...servers import CLI, FAST_ENV, base_env, free_port, serve_edge

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    from generator.serve import make_server

    root = tmp_path_factory.mktemp("wishlist")
    site_port, edge_port = free_port(), free_port()
    site, edge = f"http://127.0.0.1:{site_port}", f"http://127.0.0.1:{edge_port}"
    content = make_content(root / "site")
    (content / "stats.json").unlink()
    from generator.build import build

    out = build(root / "output", None, {"PATH": str(content), "SITEURL": site, "CHECKOUT_URL": edge})
    server = make_server(out, "127.0.0.1", site_port, site_url=site, checkout_url=edge)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = base_env(**FAST_ENV, CATALOG_PATH=str(out / "catalog.json"), DIGITALDOCK_DATA_DIR=str(root / "data"),
                   CONTENT_DIR=str(content), SITE_URL=site, CHECKOUT_URL=edge, REVIEWS_EXPORT_SECONDS="0",
                   PAYSTACK_BASE_URL="http://127.0.0.1:9")
    seeded = subprocess.run([*CLI, "seed"], cwd=root, env=env, capture_output=True, text=True, check=True)
    password = re.search(r"^buyer\s+buyer@example.com\s+(\S+)$", seeded.stdout, re.M).group(1)
    try:
        with serve_edge(root, env, port=edge_port, log=root / "edge.log"):
            yield {"site": site, "edge": edge, "password": password}
    finally:
        server.shutdown()
        server.server_close()


def _sign_in(page, stack) -> None:
    page.fill("#email", "buyer@example.com")
    page.fill("#password", stack["password"])
    page.get_by_role("button", name="Sign in").click()


def _saved(page, stack) -> str:
    page.goto(stack["edge"] + "/wishlist")
    return page.locator("main").inner_text()


def test_save_with_javascript_off_signs_in_then_saves_and_returns(chromium, stack):
    context = chromium.new_context(java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(15000)
    try:
        page.goto(stack["site"] + "/products/second-font/")
        page.locator("article.product form.save button").click()
        page.wait_for_url(re.compile(r".*/login\?next=.*"))
        _sign_in(page, stack)
        page.wait_for_url(stack["site"] + "/products/second-font/")
        assert "Second Font" in _saved(page, stack)
        # signed in now: Save posts and comes straight back
        page.goto(stack["site"] + "/products/naira-pack/")
        page.locator("article.product form.save button").click()
        page.wait_for_url(stack["site"] + "/products/naira-pack/")
        text = _saved(page, stack)
        assert "Naira Pack" in text and "Second Font" in text
    finally:
        context.close()


def test_save_with_javascript_on_shows_the_state_and_toggles_in_place(chromium, stack):
    context = chromium.new_context()
    page = context.new_page()
    page.set_default_timeout(15000)
    try:
        page.goto(stack["edge"] + "/login")
        _sign_in(page, stack)
        page.wait_for_url(re.compile(r".*/account.*"))
        page.goto(stack["site"] + "/products/first-guide/")
        button = page.locator("article.product form.save button")
        expect(page.locator("body")).to_have_attribute("data-wishlist", "ready")
        assert button.inner_text() == "Save"
        button.click()
        expect(button).to_have_text("Saved")
        expect(button).to_have_attribute("aria-pressed", "true")
        assert page.url == stack["site"] + "/products/first-guide/"  # in place: no navigation
        assert "First Guide" in _saved(page, stack)
        page.goto(stack["site"] + "/products/first-guide/")
        expect(button).to_have_text("Saved")  # the saved state, shown on arrival
        button.click()  # and off again
        expect(button).to_have_text("Save")
        assert "First Guide" not in _saved(page, stack)
    finally:
        context.close()
