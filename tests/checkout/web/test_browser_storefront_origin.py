"""The storefront's origin in real Chromium, as production lays it out: the static site on
`digitaldock.test` and the edge on `checkout.digitaldock.test` (one site, two hosts; Chromium
maps both names to loopback), the local storefront server, the real edge process and the
Paystack sandbox.

(a) A hostile SVG (and an HTML file) among the files sellers supply, opened directly, runs no
script in any of the forms script can take in an SVG.
(b) Even a script that does run on the storefront's origin (a compromised file of the site)
cannot change a signed-in seller's payout account on the edge, nor read anything of theirs:
not by reading the CSRF token through a credentialed fetch (CORS grants nothing there), not by
posting without it, not by planting a CSRF cookie for the whole domain with a token of its own.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from ...servers import CLI, FAST_ENV, base_env, free_port, serve, serve_edge

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[3]
SITE_HOST, EDGE_HOST = "digitaldock.test", "checkout.digitaldock.test"
# as tests/conftest.py launches Chromium, plus the two names of the site
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync", "--disable-quic",
                 f"--host-resolver-rules=MAP {SITE_HOST} 127.0.0.1, MAP {EDGE_HOST} 127.0.0.1"]


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium with the site's two host names; one per module, like `chromium`."""
    from playwright.sync_api import sync_playwright

    executable = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield b
        b.close()


class Beacon:
    """A loopback listener that records every request: what a script that ran would call."""

    def __init__(self):
        self.hits: list[str] = []
        hits = self.hits

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - stdlib name
                hits.append(self.path)
                self.send_response(204)
                self.send_header("Access-Control-Allow-Origin", "*")
                self.end_headers()

            do_POST = do_GET  # noqa: N815

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    from generator.build import build
    from generator.serve import make_server

    root = tmp_path_factory.mktemp("origin")
    site_port, edge_port, sandbox_port = free_port(), free_port(), free_port()
    site, edge = f"http://{SITE_HOST}:{site_port}", f"http://{EDGE_HOST}:{edge_port}"
    sandbox = f"http://127.0.0.1:{sandbox_port}"
    out = build(root / "output", ROOT / "pelicanconf.py",
                overrides={"PATH": str(ROOT / "content"), "THEME": str(ROOT / "digitaldock/theme"),
                           "PLUGIN_PATHS": [str(ROOT)], "SITEURL": site, "CHECKOUT_URL": edge})
    server = make_server(out, "127.0.0.1", site_port, site_url=site, checkout_url=edge, pay_url=sandbox)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = base_env(**FAST_ENV, CATALOG_PATH=str(out / "catalog.json"), DIGITALDOCK_DATA_DIR=str(root / "data"),
                   CONTENT_DIR=str(ROOT / "content"), SITE_URL=site, CHECKOUT_URL=edge, PAYSTACK_BASE_URL=sandbox,
                   PAYSTACK_WEBHOOK_URL=f"http://127.0.0.1:{edge_port}/webhooks/paystack", OUTBOX_POLL_SECONDS="0")
    seeded = subprocess.run([*CLI, "seed"], cwd=root, env=env, capture_output=True, text=True, check=True)
    password = re.search(r"^seller\s+seller@example.com\s+(\S+)$", seeded.stdout, re.M).group(1)
    seller = sorted(json.loads((out / "catalog.json").read_text())["sellers"])[0]
    subprocess.run([*CLI, "user", "link-seller", "seller@example.com", seller], cwd=root, env=env,
                   capture_output=True, text=True, check=True)
    beacon = Beacon()
    try:
        with (serve([*CLI, "sandbox", "--port", str(sandbox_port)], port=sandbox_port, ready="/", cwd=root, env=env,
                    log=root / "sandbox.log", name="sandbox"),
              serve_edge(root, env, port=edge_port, log=root / "edge.log") as edge_server):
            yield {"site": site, "edge": edge, "out": out, "root": root, "password": password, "seller": seller,
                   "beacon": beacon, "edge_server": edge_server, "db": root / "data" / "edge.sqlite3",
                   "edge_local": f"http://127.0.0.1:{edge_port}"}
    finally:
        beacon.close()
        server.shutdown()
        server.server_close()


# --- (a) a hostile SVG among the seller files ------------------------------------------------------

def hostile_svg(beacon: str) -> str:
    """Script in every form an SVG can carry it; each one, if it runs, marks the document, sets
    its title and calls the beacon (the last may also be stopped by a policy: the marks not)."""
    def effect(kind: str) -> str:
        return (f"document.documentElement.setAttribute('data-ran-{kind}','1');document.title='ran {kind}';"
                f"try{{fetch('{beacon}/{kind}')}}catch(e){{}};try{{new Image().src='{beacon}/img-{kind}'}}catch(e){{}};"
                f"try{{top.name='ran {kind}'}}catch(e){{}}")
    srcdoc = (f"<script>try{{parent.document.documentElement.setAttribute('data-ran-iframe','1')}}catch(e){{}};"
              f"{effect('iframe')}</script>").replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:s="http://www.w3.org/2000/svg"
     xmlns:h="http://www.w3.org/1999/xhtml" width="240" height="160" onload="{effect('onload')}">
  <title>untouched</title>
  <rect width="240" height="160" fill="#c84"/>
  <script type="text/javascript">{effect('script')}</script>
  <s:script>{effect('namespaced')}</s:script>
  <foreignObject width="240" height="160">
    <h:iframe srcdoc="{srcdoc}" width="200" height="100"/>
    <h:script>{effect('xhtml')}</h:script>
  </foreignObject>
  <image href="{beacon}/image-load" width="1" height="1"/>
</svg>
"""


def hostile_html(beacon: str) -> str:
    return (f"<!doctype html><title>untouched</title><body onload=\"document.title='ran onload'\">"
            f"<script>document.documentElement.setAttribute('data-ran-script','1');document.title='ran script';"
            f"fetch('{beacon}/html')</script><img src=x onerror=\"document.title='ran onerror'\"></body>")


def marks(page) -> dict:
    """What a script would have changed, read from outside the page: the DevTools protocol
    reaches a document whose own scripts are off, and frames inside it (`pierce`)."""
    cdp = page.context.new_cdp_session(page)
    try:
        root = cdp.send("DOM.getDocument", {"depth": -1, "pierce": True})["root"]
    finally:
        cdp.detach()
    ran: set[str] = set()
    todo = [root]
    while todo:
        node = todo.pop()
        names = node.get("attributes", [])[::2]
        ran.update(n.removeprefix("data-ran-") for n in names if n.startswith("data-ran-"))
        todo += node.get("children", []) + node.get("shadowRoots", [])
        if "contentDocument" in node:
            todo.append(node["contentDocument"])
    return {"ran": sorted(ran), "title": page.title()}


def test_a_hostile_svg_or_html_file_under_images_runs_no_script(browser, stack):
    beacon = stack["beacon"]
    images = stack["out"] / "images"
    (images / "hostile.svg").write_text(hostile_svg(beacon.url))
    (images / "hostile.html").write_text(hostile_html(beacon.url))
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15000)
    try:
        for name in ("hostile.svg", "hostile.html"):
            response = page.goto(f"{stack['site']}/images/{name}")
            assert response.status == 200
            assert "sandbox" in response.headers["content-security-policy"]
            page.wait_for_load_state("load")
            time.sleep(1.0)  # anything a script scheduled has had its turn
            seen = marks(page)
            assert seen["ran"] == [], (name, seen)
            assert seen["title"] == "untouched", (name, seen)
        assert beacon.hits == []
    finally:
        context.close()


# --- (b) a script on the storefront's origin against a signed-in seller ----------------------------

ATTACK_JS = """// What a compromised file of the static site could run in a signed-in seller's browser.
(async function () {
  const edge = %(edge)s, seller = %(seller)s, planted = %(planted)s, token = %(token)s;
  const report = {};
  const form = (csrf) => new URLSearchParams({csrf_token: csrf, seller: seller, account_name: "Mallory",
                                              account_number: "0987654321", bank_code: "044", currency: "NGN"});
  // 1. read the earnings page (and its CSRF token) with the seller's cookies
  try {
    const r = await fetch(edge + "/seller/earnings", {credentials: "include"});
    report.read = await r.text();
  } catch (e) { report.read_error = String(e); }
  try {
    const r = await fetch(edge + "/seller/earnings", {credentials: "include", mode: "no-cors"});
    report.opaque = {type: r.type, status: r.status, body: await r.text()};
  } catch (e) { report.opaque_error = String(e); }
  const found = /name="csrf_token" value="([^"]+)"/.exec(report.read || "");
  // 2. post a new bank account with whatever token it found (none)
  try {
    await fetch(edge + "/seller/earnings", {method: "POST", credentials: "include", mode: "no-cors",
                                            body: form(found ? found[1] : "")});
    report.post = "sent";
  } catch (e) { report.post_error = String(e); }
  // 3. plant a CSRF cookie for the whole domain (the edge's host gets it too) with the
  //    attacker's own token, then post again
  document.cookie = "dd_csrf=" + planted + "; domain=%(domain)s; path=/";
  report.planted = document.cookie.indexOf("dd_csrf=") >= 0;
  try {
    await fetch(edge + "/seller/earnings", {method: "POST", credentials: "include", mode: "no-cors",
                                            body: form(token)});
    report.post_planted = "sent";
  } catch (e) { report.post_planted_error = String(e); }
  document.body.setAttribute("data-report", JSON.stringify(report));
})();
"""


def sign_in(browser, edge: str, password: str):
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(20000)
    page.goto(f"{edge}/login")
    page.fill("#email", "seller@example.com")
    page.fill("#password", password)
    page.click("form.edge-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/account"))
    return context, page


def recipients(db: Path) -> list[tuple]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return conn.execute("SELECT seller_slug, currency, recipient_code, bank_code, account_number, account_name"
                            " FROM payout_recipients ORDER BY seller_slug, currency").fetchall()


def csrf_refusals(edge_server) -> list[dict]:
    lines = [json.loads(line) for line in edge_server.read_output().splitlines() if line.startswith("{")]
    return [e for e in lines if e.get("event") == "csrf_failed" and e.get("path") == "/seller/earnings"]


def test_a_script_on_the_storefront_cannot_read_or_change_the_sellers_payout_account(browser, stack):
    context, page = sign_in(browser, stack["edge"], stack["password"])
    try:
        # the seller saves their bank account, as they would
        page.goto(f"{stack['edge']}/seller/earnings")
        slug = stack["seller"]
        page.fill(f"#account_name-{slug}", "Real Seller")
        page.fill(f"#account_number-{slug}", "0123456789")
        page.select_option(f"#bank_code-{slug}", "058")  # Paystack's bank list for NGN
        with page.expect_navigation():
            page.click(f"section[data-seller='{slug}'] button[value=save]")
        assert "Your bank account was saved" in page.inner_text("main")
        before = recipients(stack["db"])
        assert [(r[0], r[4]) for r in before] == [(slug, "0123456789")]

        # the attacker's own CSRF cookie and token, fetched from their own machine
        with httpx.Client(base_url=stack["edge_local"], timeout=10) as own:
            token = re.search(r'name="csrf_token" value="([^"]+)"', own.get("/login").text).group(1)
            planted = own.cookies["dd_csrf"]
        out = stack["out"]
        (out / "attack.js").write_text(ATTACK_JS % {"edge": json.dumps(stack["edge"]), "seller": json.dumps(slug),
                                                    "planted": json.dumps(planted), "token": json.dumps(token),
                                                    "domain": SITE_HOST})
        (out / "attack.html").write_text('<!doctype html><title>sale</title><body><script src="/attack.js"></script>')
        refused_before = len(csrf_refusals(stack["edge_server"]))
        page.goto(f"{stack['site']}/attack.html")
        page.wait_for_selector("body[data-report]", state="attached")
        report = json.loads(page.get_attribute("body", "data-report"))

        assert "read" not in report and "Failed to fetch" in report["read_error"]  # CORS: nothing to read
        assert report["opaque"] == {"type": "opaque", "status": 0, "body": ""}
        assert report["post"] == "sent" and report["post_planted"] == "sent" and report["planted"] is True
        # both posts reached the edge, which refused them
        deadline = time.monotonic() + 10
        while len(csrf_refusals(stack["edge_server"])) < refused_before + 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(csrf_refusals(stack["edge_server"])) == refused_before + 2
        assert recipients(stack["db"]) == before
        # and the seller is still signed in, with their own account shown
        page.goto(f"{stack['edge']}/seller/earnings")
        assert "account ending 6789" in page.inner_text("main") and "0123456789" not in page.inner_text("main") and "Mallory" not in page.content()
    finally:
        context.close()
