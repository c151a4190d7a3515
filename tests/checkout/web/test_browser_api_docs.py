"""/api/docs in real Chromium (issue #21): Swagger UI, served from the edge itself, renders the
generated document's operations with the site's CSP on, and nothing breaks it."""

from __future__ import annotations

import pytest

from ...servers import FAST_ENV, SIGTERMED, base_env, serve_edge
from ..conftest import write_catalog

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def edge_url(tmp_path_factory):
    root = tmp_path_factory.mktemp("docs")
    write_catalog(root / "catalog.json")
    env = base_env(CATALOG_PATH=str(root / "catalog.json"), **FAST_ENV)
    with serve_edge(root, env) as edge:
        yield edge.url
    assert edge.returncode in SIGTERMED


def test_the_api_docs_render_in_chromium_with_the_csp_on(edge_url, chromium):
    context = chromium.new_context()
    page = context.new_page()
    page.set_default_timeout(20000)
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" or "Content Security Policy" in m.text
            else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    response = page.goto(f"{edge_url}/api/docs")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp and "unsafe-inline" not in csp
    page.wait_for_selector("text=DigitalDock checkout edge")
    sales = '.opblock-summary-path[data-path="/api/v1/sales"]'
    page.wait_for_selector(sales)
    assert page.locator(".opblock").count() >= 40  # every operation, v1 and first-party
    # an operation opens with its parameters and the scope it needs
    page.locator(sales).first.click()
    page.wait_for_selector("text=read:sales")
    page.wait_for_selector("text=created_after")
    assert problems == [], problems
    assert all(u.startswith(edge_url) or u.startswith("data:") for u in requests), requests  # no CDN
    context.close()
