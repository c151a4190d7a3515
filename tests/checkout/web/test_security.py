"""CSRF, security headers, CORS, body limits, error pages and request ids."""

from __future__ import annotations

from checkout.accounts import gdpr

from ..conftest import PASSWORD, csrf_from, edge_of, register, scrape


def test_form_post_without_csrf_token_is_refused(client):
    client.get("/register")
    r = client.post("/register", data={"email": "a@example.com", "display_name": "Ann", "password": PASSWORD,
                                       "role": "buyer", "accept": ["terms", "privacy"]})
    assert r.status_code == 403 and "form expired" in r.text
    assert edge_of(client).db.execute("SELECT COUNT(*) FROM users").fetchone()[0] == 0


def test_wrong_csrf_token_is_refused(client):
    client.get("/register")
    r = client.post("/login", data={"csrf_token": "guess", "email": "a@example.com", "password": "x"})
    assert r.status_code == 403


def test_csrf_token_from_another_browser_is_refused(client, make_client):
    token = csrf_from(client.get("/login").text)
    other = make_client()
    other.get("/login")
    assert other.post("/login", data={"csrf_token": token, "email": "a@b.co", "password": "x"}).status_code == 403


def test_csrf_header_and_multipart_are_accepted(client):
    token = csrf_from(client.get("/login").text)
    r = client.post("/login", data={"email": "a@example.com", "password": "x"}, headers={"X-CSRF-Token": token})
    assert r.status_code == 401
    r = client.post("/login", data={"csrf_token": token, "email": "a@example.com", "password": "x"},
                    files={"f": ("a.txt", b"x")})
    assert r.status_code == 401


def test_csrf_json_error_for_json_clients(client):
    r = client.post("/logout", headers={"Accept": "application/json"})
    assert r.status_code == 403 and r.json()["code"] == "csrf_failed"


def test_security_headers(client):
    r = client.get("/login")
    csp = r.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert "strict-transport-security" not in r.headers
    assert "<script>" not in r.text  # no inline script anywhere


def test_hsts_on_https(client):
    r = client.get("https://testserver/healthz")
    assert r.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains; preload"


def test_cors_only_for_storefront_origin(client):
    ok = client.options("/api/cart/summary", headers={"Origin": "http://127.0.0.1:8000",
                                                      "Access-Control-Request-Method": "GET"})
    assert ok.headers["access-control-allow-origin"] == "http://127.0.0.1:8000"
    bad = client.get("/api/cart/summary", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in bad.headers


def test_oversized_body_gets_413(make_client):
    client = make_client(MAX_BODY_BYTES=1000, FORM_MAX_BODY_BYTES=1000)
    r = client.post("/api/auth/token", content=b"x" * 2000, headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and r.json()["code"] == "payload_too_large"
    r = client.post("/login", content=b"a=" + b"x" * 2000, headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 413 and "too large" in r.text

    def chunks():
        for _ in range(5):
            yield b"x" * 400
    r = client.post("/api/auth/token", content=chunks(), headers={"Content-Type": "application/json"})
    assert r.status_code == 413


def test_request_id_is_echoed_or_minted(client):
    assert client.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers["x-request-id"] == "abc-123"
    minted = client.get("/healthz", headers={"X-Request-ID": "bad id!"}).headers["x-request-id"]
    assert minted != "bad id!" and len(minted) == 32


def test_errors_are_json_for_api_and_themed_pages_for_browsers(client):
    r = client.get("/api/nothing")
    assert r.status_code == 404 and r.json() == {"code": "not_found", "message": "Not found."}
    r = client.get("/nothing")
    assert r.status_code == 404 and "Page not found" in r.text and "/theme/css/edge.css" in r.text
    r = client.get("/nothing", headers={"Accept": "application/json"})
    assert r.json()["code"] == "not_found"
    r = client.get("/logout")
    assert r.status_code == 405 and r.headers["content-type"].startswith("text/html")


def test_unexpected_error_has_no_stack_trace(client, monkeypatch):

    def boom(*a, **k):
        raise RuntimeError("secret internals")
    monkeypatch.setattr(gdpr, "export", boom)
    register(client)
    from ..conftest import login
    login(client)
    r = client.get("/account/export")
    assert r.status_code == 500 and "Something went wrong" in r.text
    assert "Traceback" not in r.text and "secret internals" not in r.text
    r = client.get("/api/me/export", headers={"Authorization": "Bearer x"})
    assert r.status_code == 401


def test_all_user_text_is_escaped(client):
    register(client, name="<script>alert(1)</script>")
    from ..conftest import login
    login(client)
    r = client.get("/account")
    assert "<script>alert(1)</script>" not in r.text and "&lt;script&gt;" in r.text


def test_health_ready_metrics(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    r = client.get("/readyz")
    assert r.status_code == 200 and r.json()["checks"]["catalog"]["legal"][0] == "content-guidelines"
    client.get("/login")
    text = scrape(client)
    assert 'digitaldock_http_requests_total{method="GET",route="/login",status="200"}' in text
    assert "digitaldock_outbox_depth 0.0" in text and "digitaldock_emails_dead_total" in text


def test_readyz_not_ready_without_legal_documents(make_client, tmp_path):
    client = make_client(CATALOG_PATH=str(tmp_path / "missing.json"))
    r = client.get("/readyz")
    assert r.status_code == 503 and r.json()["checks"]["catalog"]["ok"] is False
    r = register(client)
    assert r.status_code == 503 and "legal documents are not available" in r.text


def test_theme_assets_are_served(client):
    r = client.get("/theme/css/edge.css")
    assert r.status_code == 200 and "edge-form" in r.text
    assert "cache-control" not in r.headers or "no-store" not in r.headers["cache-control"]


def test_api_docs_page_uses_local_script(client):
    r = client.get("/api/docs")
    assert r.status_code == 200 and '<script src="/api/docs/init.js">' in r.text and "cdn" not in r.text.lower()
    assert "<script>" not in r.text  # no inline script: the CSP stays strict (issue #21)
