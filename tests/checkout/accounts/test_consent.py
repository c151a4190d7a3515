"""Re-acceptance when a legal document's version changes: interstitial, API 403, emails."""

from __future__ import annotations

from checkout.core.catalog import Catalog

from ..conftest import bump_catalog, edge_of, outbox_rows, submit


def test_new_version_sends_users_to_the_interstitial(signed_in, catalog_path):
    client = signed_in
    assert client.get("/account").status_code == 200
    bump_catalog(catalog_path, {"privacy": "1.1"})
    r = client.get("/account")
    assert r.status_code == 303 and r.headers["location"] == "/account/consent?next=/account"
    page = client.get(r.headers["location"])
    assert "We updated our legal documents" in page.text and "version 1.1" in page.text
    assert "Terms" not in page.text.split("<form")[1].split("</form>")[0]  # only what changed
    r = submit(client, "/account/consent?next=/account", {"next": "/account"})
    assert r.status_code == 422 and "you must accept" in r.text
    r = submit(client, "/account/consent?next=/account", {"next": "/account", "accept": ["privacy"]})
    assert r.status_code == 303 and r.headers["location"] == "/account"
    assert client.get("/account").status_code == 200
    row = edge_of(client).db.execute("SELECT version, ip FROM consents WHERE document='privacy' ORDER BY id DESC").fetchone()
    assert tuple(row) == ("1.1", "testclient")
    assert client.get("/account/consent").status_code == 303  # nothing left to accept


def test_version_change_emails_affected_users_once(client, catalog_path):
    from ..conftest import register
    register(client, email="buyer@example.com")
    register(client, email="seller@example.com", role="seller")
    client.get("/login")  # first sighting of versions
    bump_catalog(catalog_path, {"seller-agreement": "2.0"})
    client.get("/login")
    client.get("/register")
    mails = outbox_rows(client, "consent_update")
    assert [m["to_addr"] for m in mails] == ["seller@example.com"]
    assert "version 2.0" in mails[0]["text_body"]


def test_next_parameter_cannot_leave_the_site(signed_in, catalog_path):
    client = signed_in
    bump_catalog(catalog_path, {"terms": "3.0"})
    r = submit(client, "/account/consent", {"next": "//evil.example/", "accept": ["terms"]})
    assert r.headers["location"] == "/account"


def test_api_answers_consent_required(signed_in, catalog_path):
    client = signed_in
    from ..conftest import PASSWORD
    tokens = client.post("/api/auth/token", json={"grant_type": "password", "email": "ann@example.com",
                                                  "password": PASSWORD}).json()
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert client.get("/api/me", headers=auth).status_code == 200
    bump_catalog(catalog_path, {"terms": "2.0"})
    r = client.get("/api/me", headers=auth)
    assert r.status_code == 403 and r.json()["code"] == "consent_required"
    assert r.json()["documents"][0]["slug"] == "terms"
    r = client.post("/api/me/consents", json={"accept": []}, headers=auth)
    assert r.status_code == 422 and r.json()["code"] == "consent_missing"
    r = client.post("/api/me/consents", json={"accept": ["terms"]}, headers=auth)
    assert r.status_code == 200 and r.json()["outstanding"] == [] and r.json()["accepted"]["terms"] == "2.0"
    assert client.get("/api/me", headers=auth).status_code == 200


def test_catalog_hot_reload_and_fallback_to_content(tmp_path):
    from ..conftest import write_catalog
    content = tmp_path / "content" / "legal"
    content.mkdir(parents=True)
    body = "\n".join(f"## {h}\n\ntext\n" for h in __import__("digitaldock.schema", fromlist=["x"]).LEGAL_DOCUMENTS["terms"])
    (content / "terms.md").write_text(f"---\ntitle: Terms of Service\nversion: \"4.2\"\neffective: 2026-11-01\n"
                                      f"summary: The rules for using DigitalDock.\n---\n{body}")
    (content / "privacy.md").write_text("---\ntitle: broken\n---\nno")
    cat = Catalog(tmp_path / "catalog.json", tmp_path / "content")
    state = cat.current()
    assert state.legal["terms"].version == "4.2" and "privacy" not in state.legal
    write_catalog(tmp_path / "catalog.json")
    assert cat.current().legal["terms"].version == "1.0"
    assert cat.current() is cat.current()  # unchanged mtime: no re-read
    bump_catalog(tmp_path / "catalog.json", {"terms": "1.5"})
    assert cat.current().legal["terms"].version == "1.5"
    (tmp_path / "catalog.json").write_text("{half-written")
    import os
    os.utime(tmp_path / "catalog.json", ns=(1, 1))
    assert cat.current().legal["terms"].version == "1.5"  # keeps the last good state
