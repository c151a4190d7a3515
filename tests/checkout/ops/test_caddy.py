"""deploy/Caddyfile itself, run by a real Caddy in front of the built storefront and a real edge
process, as production runs it (only the admin port and the site addresses differ, through the
file's own environment placeholders): the storefront's headers, and the client addresses the edge
sees through Caddy's X-Forwarded-For.

Clients bind their sockets to other loopback addresses (Linux routes all of 127.0.0.0/8 to lo):
127.0.0.1 is Caddy's address, as on a host where Caddy and the edge run side by side."""

from __future__ import annotations

import http.client
import os
import shutil
import sqlite3
import subprocess
import uuid
from pathlib import Path

import httpx
import pytest

from generator.headers import USER_FILE_CSP, site_csp

from ...servers import FAST_ENV, base_env, free_port, serve, serve_edge

ROOT = Path(__file__).resolve().parents[3]
CADDYFILE = ROOT / "deploy" / "Caddyfile"
LIMIT = 3  # failed sign-ins per address


def caddy_env(tmp: Path, **values: str) -> dict[str, str]:
    return {**os.environ, "XDG_DATA_HOME": str(tmp / "caddy-data"), "XDG_CONFIG_HOME": str(tmp / "caddy-cfg"),
            **values}


def deployed_caddyfile(tmp: Path, admin: int) -> Path:
    """deploy/Caddyfile with only the admin API moved to a free port (tests run side by side)."""
    text = CADDYFILE.read_text()
    assert "\tadmin 127.0.0.1:2019\n" in text
    conf = tmp / "Caddyfile"
    conf.write_text(text.replace("\tadmin 127.0.0.1:2019\n", f"\tadmin 127.0.0.1:{admin}\n"))
    return conf


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    if not shutil.which("caddy"):
        pytest.skip("caddy is not installed (scripts/system-packages installs it)")
    from generator.build import build

    root = tmp_path_factory.mktemp("caddy")
    site_port, checkout_port, edge_port, admin = (free_port() for _ in range(4))
    site, checkout = f"http://127.0.0.1:{site_port}", f"http://127.0.0.1:{checkout_port}"
    out = build(root / "output", ROOT / "pelicanconf.py",
                overrides={"PATH": str(ROOT / "content"), "THEME": str(ROOT / "digitaldock" / "theme"),
                           "PLUGIN_PATHS": [str(ROOT)], "SITEURL": site, "CHECKOUT_URL": checkout})
    env = base_env(**FAST_ENV, CATALOG_PATH=str(out / "catalog.json"), CONTENT_DIR=str(ROOT / "content"),
                   DIGITALDOCK_DATA_DIR=str(root / "data"), SITE_URL=site, CHECKOUT_URL=checkout,
                   TRUST_PROXY="true", FORWARDED_ALLOW_IPS="127.0.0.1", LOGIN_FAILURES=str(LIMIT),
                   OUTBOX_POLL_SECONDS="0")
    conf = deployed_caddyfile(root, admin)
    cenv = caddy_env(root, SITE_DOMAIN=site, CHECKOUT_DOMAIN=checkout, SITE_ROOT=str(out),
                     EDGE_UPSTREAMS=f"127.0.0.1:{edge_port}", SITE_URL=site, CHECKOUT_URL=checkout)
    with (serve_edge(root, env, port=edge_port, log=root / "edge.log") as edge,
          serve(["caddy", "run", "--config", str(conf), "--adapter", "caddyfile"], port=admin,
                ready=f"http://127.0.0.1:{admin}/config/", status=200, env=cenv, cwd=root, name="caddy",
                stop_timeout=10)):
        # Caddy's health check finds the edge ready within its interval (1 s)
        serve_ready = f"{checkout}/readyz?scope=proxy"
        with httpx.Client(timeout=10) as http:
            for _ in range(200):
                if http.get(serve_ready).status_code == 200:
                    break
        yield {"site": site, "checkout": checkout, "out": out, "edge": edge, "site_port": site_port,
               "checkout_port": checkout_port, "db": root / "data" / "edge.sqlite3"}


def raw_get(port: int, path: str) -> tuple[int, dict[str, str]]:
    """GET with the path exactly as written (no client-side clean-up of %-escapes or `..`)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}
    finally:
        conn.close()


# --- the storefront's headers ---------------------------------------------------------------------

def test_caddy_sends_the_storefronts_policy_on_pages_and_theme_files(stack):
    out = stack["out"]
    expected = site_csp(stack["site"], stack["checkout"])
    asset = next((out / "theme" / "js").glob("site.*.js")).relative_to(out).as_posix()
    product = next((out / "products").iterdir()).name
    for path in ("/", f"/products/{product}/", f"/{asset}", "/catalog.json", "/no/such/page/"):
        status, headers = raw_get(stack["site_port"], path)
        assert status in (200, 404), path
        assert headers["content-security-policy"] == expected, path  # the local server's policy
        assert headers["x-frame-options"] == "DENY"
        assert headers.get("x-content-type-options") == "nosniff", (path, headers)
        assert headers["referrer-policy"] == "strict-origin-when-cross-origin"
        assert status == 404 or "strict-transport-security" in headers


def test_caddy_sandboxes_every_file_under_images_however_the_path_is_written(stack):
    out = stack["out"]
    image = next(p for p in sorted((out / "images").rglob("*")) if p.is_file()).relative_to(out).as_posix()
    rest = image.removeprefix("images/")
    for path in (f"/{image}", f"/%69mages/{rest}", f"/theme/../{image}", f"/theme/%2e%2e/{image}",
                 f"//{image}", "/images/missing.svg"):
        status, headers = raw_get(stack["site_port"], path)
        assert status in (200, 404), path
        assert headers["content-security-policy"] == USER_FILE_CSP, path
        assert headers["x-content-type-options"] == "nosniff"


# --- client addresses through Caddy --------------------------------------------------------------

def client(address: str) -> httpx.Client:
    return httpx.Client(transport=httpx.HTTPTransport(local_address=address), timeout=10)


def failed_sign_in(http: httpx.Client, url: str, forwarded_for: str | None = None) -> int:
    """One failed sign-in through the login form, with a fresh email each time (so only the
    per-address limit can refuse it)."""
    page = http.get(f"{url}/login")
    token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    r = http.post(f"{url}/login", headers=headers,
                  data={"csrf_token": token, "email": f"{uuid.uuid4().hex[:12]}@example.com",
                        "password": "wrong-password-1"})
    return r.status_code


def test_two_clients_behind_caddy_are_limited_separately_and_cannot_choose_their_address(stack):
    url = stack["checkout"]
    with client("127.0.0.2") as a, client("127.0.0.3") as b, client("127.0.0.4") as c:
        first = [failed_sign_in(a, url) for _ in range(LIMIT + 1)]
        assert first[:LIMIT] == [401] * LIMIT and first[LIMIT] == 429
        # another client is not limited by the first one's failures
        assert [failed_sign_in(b, url) for _ in range(LIMIT)] == [401] * LIMIT
        # the limited client cannot claim another address: Caddy replaces its X-Forwarded-For
        assert {failed_sign_in(a, url, f"203.0.113.{n}") for n in range(1, 4)} == {429}
        assert failed_sign_in(a, url, "127.0.0.9, 198.51.100.7") == 429
        # nor can a third client spend someone else's allowance by naming their address
        assert [failed_sign_in(c, url, "127.0.0.3") for _ in range(LIMIT)] == [401] * LIMIT
        assert failed_sign_in(b, url) == 429
    # the audit log records each client's own address, never one it sent
    with sqlite3.connect(f"file:{stack['db']}?mode=ro", uri=True) as db:
        recorded = {ip for (ip,) in db.execute("SELECT ip FROM audit_log WHERE action = 'user.login_failed'")}
    assert recorded == {"127.0.0.2", "127.0.0.3", "127.0.0.4"}


def test_readyz_through_caddy_has_no_proxy_warning_and_a_direct_forwarder_gets_one(stack):
    with httpx.Client(timeout=10) as http:
        checks = http.get(f"{stack['checkout']}/readyz").json()["checks"]
    assert checks["proxy"] == {"ok": True, "trust_proxy": True}
    with client("127.0.0.2") as direct:  # X-Forwarded-For straight to the edge, not from Caddy
        direct.get(f"{stack['edge'].url}/healthz", headers={"X-Forwarded-For": "198.51.100.1"})
    with httpx.Client(timeout=10) as http:
        r = http.get(f"{stack['checkout']}/readyz")
    assert r.status_code == 200 and r.json()["status"] == "ready"
    proxy = r.json()["checks"]["proxy"]
    assert proxy["ok"] is True and proxy["peer"] == "127.0.0.2" and "FORWARDED_ALLOW_IPS" in proxy["warning"]


def test_caddy_is_trusted_by_no_one_and_passes_no_client_forwarded_for():
    """No `trusted_proxies`: Caddy (2.5 and later) then sets X-Forwarded-For to the address that
    connected, replacing what the client sent. Trusting a CDN in front needs its ranges here."""
    r = subprocess.run(["caddy", "adapt", "--config", str(CADDYFILE), "--adapter", "caddyfile"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    text = r.stdout
    assert "trusted_proxies" not in text
    assert '"X-Forwarded-For"' not in text  # no header_up that would pass the client's header on
