"""End to end in real Chromium: register with consent → verify via the email file → sign in →
accept an updated policy → export data → request deletion."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from ...servers import FAST_ENV, SIGTERMED, base_env, serve_edge
from ..conftest import PASSWORD, bump_catalog, read_eml, write_catalog

pytestmark = pytest.mark.browser


@pytest.fixture
def edge_server(tmp_path):
    write_catalog(tmp_path / "catalog.json")
    env = base_env(CATALOG_PATH=str(tmp_path / "catalog.json"), OUTBOX_POLL_SECONDS="0.05", **FAST_ENV)
    with serve_edge(tmp_path, env) as edge:
        yield edge.url, tmp_path
    assert edge.returncode in SIGTERMED


@pytest.fixture
def page(chromium):
    # the session's one Playwright instance: a second sync_playwright() in the same process fails
    context = chromium.new_context(accept_downloads=True)
    pg = context.new_page()
    pg.set_default_timeout(15000)
    yield pg
    context.close()


def wait_for_email(folder, count: int):
    for _ in range(200):
        files = sorted(folder.glob("*.eml"))
        if len(files) >= count:
            return read_eml(files[count - 1])
        time.sleep(0.05)
    raise AssertionError("no email arrived")


def test_account_lifecycle_in_chromium(edge_server, page):
    url, root = edge_server
    csp_errors = []
    page.on("console", lambda m: csp_errors.append(m.text) if "Content Security Policy" in m.text else None)

    page.goto(f"{url}/register")
    page.fill("#email", "dana@example.com")
    page.fill("#display_name", "Dana Reader")
    page.fill("#password", PASSWORD)
    page.check("input[name=accept][value=terms]")
    page.check("input[name=accept][value=privacy]")
    page.click("form.edge-form button[type=submit]")
    page.wait_for_selector("text=Check your email")

    mail = wait_for_email(root / "data" / "emails", 1)
    link = re.search(r"http://\S+/verify\?token=\S+", mail.get_body(("plain",)).get_content()).group(0)
    assert link.startswith(url)
    page.goto(link)
    page.wait_for_selector("text=Your email address is confirmed.")

    page.goto(f"{url}/login")
    page.fill("#email", "dana@example.com")
    page.fill("#password", PASSWORD)
    page.click("form.edge-form button[type=submit]")
    page.wait_for_selector("h1:has-text('Your account')")
    assert "confirmed" in page.inner_text(".edge-profile")

    bump_catalog(root / "catalog.json", {"privacy": "1.1"})
    page.goto(f"{url}/account")
    page.wait_for_selector("text=We updated our legal documents")
    page.check("input[name=accept][value=privacy]")
    page.click("form.edge-form button[type=submit]")
    page.wait_for_selector("h1:has-text('Your account')")
    assert "1.1" in page.inner_text(".edge-table")

    with page.expect_download() as info:
        page.click("a[href='/account/export']")
    data = json.loads(Path(info.value.path()).read_text())
    assert data["profile"]["email"] == "dana@example.com"
    assert ("privacy", "1.1") in {(c["document"], c["version"]) for c in data["consents"]}

    page.goto(f"{url}/account/delete")
    page.fill("#password", PASSWORD)
    page.click("form.edge-form button[type=submit]")
    page.wait_for_selector("text=Account deletion requested")
    page.goto(f"{url}/account")
    page.wait_for_selector("h1:has-text('Sign in')")
    assert csp_errors == []
