"""Messages after a form come from the server (a signed, short-lived cookie), never from the URL;
/metrics answers a bearer token or this machine only (issue #16)."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checkout.web.app import create_app
from checkout.web.flash import FLASH_COOKIE

from ..conftest import METRICS_AUTH, edge_of, login, register, link_from, outbox_rows

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

ROOT = Path(__file__).resolve().parents[3]
PHISH = "Your account is locked: call +1 555 0100 now"


def test_no_page_reads_a_banner_from_the_url():
    """The rule, checked in the source: no web module or template takes `notice` (or any
    message) from the query string."""
    for path in [*(ROOT / "checkout" / "web").glob("*.py"), *(ROOT / "digitaldock" / "theme" / "templates").rglob("*.html")]:
        text = path.read_text("utf-8")
        assert "notice=" not in text.replace("?notice=…", ""), path
        assert not re.search(r"query_params\.get\(\"(notice|message|msg|info|error|alert)\"", text), path


def admin_client(make_client):
    client = make_client()
    register(client, "root@example.com", name="Root Admin")
    client.get(link_from(outbox_rows(client, "verify")[0], "/verify"))
    edge = edge_of(client)
    edge.db.execute("UPDATE users SET role = 'admin' WHERE email = 'root@example.com'")
    assert login(client, "root@example.com").status_code == 303
    return client


@pytest.mark.parametrize("page", ["/admin", "/admin/orders", "/admin/submissions", "/orders", "/account",
                                  "/admin/users", "/admin/reports", "/admin/moderation"])
def test_a_message_in_the_url_is_not_shown(make_client, page):
    client = admin_client(make_client)
    r = client.get(f"{page}?notice={PHISH}&message={PHISH}")
    assert r.status_code == 200, (page, r.status_code)
    assert "555 0100" not in r.text


def test_a_flash_is_shown_once_and_a_forged_one_never(make_client):
    client = admin_client(make_client)
    page = client.get("/account")
    r = client.post("/admin/submissions/999/reject", data={"csrf_token": re.search(
        r'name="csrf_token" value="([^"]+)"', page.text).group(1), "reason": "Not a product"})
    assert r.status_code == 303 and r.headers["location"] == "/admin/submissions"
    assert FLASH_COOKIE in r.cookies
    shown = client.get("/admin/submissions")
    assert 'id="flash"' in shown.text and "No such submission." in shown.text
    assert 'id="flash"' not in client.get("/admin/submissions").text  # once
    client.cookies.set(FLASH_COOKIE, "eyJ0IjoiUGhpc2gifQ.forged.sig")
    assert PHISH not in client.get("/admin/submissions").text and 'id="flash"' not in client.get("/admin").text


@settings(max_examples=25, deadline=None)
@given(st.text(st.characters(min_codepoint=33, max_codepoint=126, exclude_characters='";,\\'), min_size=1,
               max_size=200))
def test_any_flash_cookie_value_is_ignored(make_client_cached, value):
    client = make_client_cached
    client.cookies.set(FLASH_COOKIE, value)
    r = client.get("/login")
    assert r.status_code == 200 and 'id="flash"' not in r.text


@pytest.fixture(scope="module")
def make_client_cached(tmp_path_factory):
    from checkout.core.settings import load_settings

    from ..conftest import FAST, write_catalog
    base = tmp_path_factory.mktemp("flash")
    write_catalog(base / "catalog.json")
    app = create_app(load_settings(environ={}, dotenv=None, DIGITALDOCK_DATA_DIR=str(base / "data"),
                                   CATALOG_PATH=str(base / "catalog.json"), CONTENT_DIR=str(base / "content"), **FAST))
    with TestClient(app, follow_redirects=False) as client:
        yield client


# --- /metrics ---------------------------------------------------------------------------------

def _client(make_settings, host: str, **overrides) -> TestClient:
    return TestClient(create_app(make_settings(**overrides)), client=(host, 40000), follow_redirects=False)


def test_metrics_need_the_token_from_elsewhere(make_settings):
    with _client(make_settings, "203.0.113.9") as c:
        assert c.get("/metrics").status_code == 401
        assert c.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert c.get("/metrics", headers={"Authorization": "Basic dGVzdA=="}).status_code == 401
        r = c.get("/metrics", headers=METRICS_AUTH)
        assert r.status_code == 200 and "digitaldock_http_requests_total" in r.text
    with _client(make_settings, "203.0.113.9", METRICS_TOKEN="") as c:
        r = c.get("/metrics", headers=METRICS_AUTH)
        assert r.status_code == 403 and "METRICS_TOKEN" in r.text


def test_metrics_from_this_machine_need_no_token_unless_forwarded_or_turned_off(make_settings):
    with _client(make_settings, "127.0.0.1", METRICS_TOKEN="") as c:
        assert c.get("/metrics").status_code == 200
        # Caddy on the same host forwards the internet from 127.0.0.1, with X-Forwarded-For
        assert c.get("/metrics", headers={"X-Forwarded-For": "198.51.100.7"}).status_code == 403
    with _client(make_settings, "::1", METRICS_TOKEN="") as c:
        assert c.get("/metrics").status_code == 200
    with _client(make_settings, "127.0.0.1", METRICS_TOKEN="", METRICS_LOOPBACK=False) as c:
        assert c.get("/metrics").status_code == 403
