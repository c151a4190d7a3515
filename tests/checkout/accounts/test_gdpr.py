"""GDPR export, deletion request, anonymisation and the retention job."""

from __future__ import annotations

import json

from checkout.core import retention
from checkout.core.outbox import FileBackend, process_due

from ..conftest import PASSWORD, edge_of, login, outbox_rows, submit


def test_export_contains_everything_and_no_secrets(signed_in):
    client = signed_in
    r = client.get("/account/export")
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    data = json.loads(r.text)
    assert data["profile"]["email"] == "ann@example.com"
    assert {c["document"] for c in data["consents"]} == {"terms", "privacy"}
    assert data["sessions"] and data["emails"][0]["template"] == "verify"
    assert any(a["action"] == "user.login" for a in data["audit_log"])
    assert data["orders"] == [] and data["downloads"] == []
    assert "argon2" not in r.text and "password_hash" not in r.text and "token_hash" not in r.text


def test_deletion_disables_now_and_anonymises_after_30_days(signed_in, clock):
    client = signed_in
    r = submit(client, "/account/delete", {"password": "wrong"})
    assert r.status_code == 422 and "not correct" in r.text
    r = submit(client, "/account/delete", {"password": PASSWORD})
    assert r.status_code == 200 and "will be anonymised on" in r.text
    assert client.get("/account").status_code == 303
    assert login(client).status_code == 403
    assert outbox_rows(client, "deletion")
    edge = edge_of(client)
    assert retention.run(edge)["accounts_anonymised"] == 0
    clock.advance(31 * 86400)
    report = retention.run(edge)
    assert report["accounts_anonymised"] == 1
    user = edge.db.execute("SELECT * FROM users").fetchone()
    assert user["email"] == f"deleted-{user['id']}@deleted.invalid" and user["display_name"] == "Deleted user"
    assert user["password_hash"] == ""
    assert edge.db.execute("SELECT COUNT(*) FROM consents WHERE ip IS NOT NULL").fetchone()[0] == 0
    assert edge.db.execute("SELECT COUNT(*) FROM consents").fetchone()[0] == 2  # proof of consent stays
    assert edge.db.execute("SELECT COUNT(*) FROM outbox WHERE status='sent'").fetchone()[0] == 0


def test_retention_removes_old_logs_and_emails(signed_in, clock):
    client = signed_in
    edge = edge_of(client)
    process_due(edge, FileBackend(edge.settings.email_dir, "x@y"))
    audit_before = edge.db.execute("SELECT COUNT(*) FROM audit_log").fetchone()[0]
    clock.advance(31 * 86400)
    report = retention.run(edge)
    assert report["audit_rows_deleted"] == audit_before and report["sessions_deleted"] == 1
    assert report["emails_deleted"] == 0
    clock.advance(400 * 86400)
    assert retention.run(edge)["emails_deleted"] == 1
    assert edge.db.execute("SELECT COUNT(*) FROM users").fetchone()[0] == 1  # accounts are not "logs"


def test_audit_log_is_append_only(signed_in):
    import sqlite3

    import pytest
    edge = edge_of(signed_in)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        edge.db.execute("UPDATE audit_log SET action = 'x'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        edge.db.execute("DELETE FROM audit_log")


def test_api_export_and_deletion(signed_in):
    client = signed_in
    tok = client.post("/api/auth/token", json={"grant_type": "password", "email": "ann@example.com",
                                               "password": PASSWORD}).json()
    auth = {"Authorization": f"Bearer {tok['access_token']}"}
    assert client.get("/api/me/export", headers=auth).json()["profile"]["display_name"] == "Ann Buyer"
    assert client.post("/api/me/deletion", json={"password": "nope"}, headers=auth).status_code == 422
    r = client.post("/api/me/deletion", json={"password": PASSWORD}, headers=auth)
    assert r.status_code == 202 and r.json()["disabled"] is True
    assert client.get("/api/me", headers=auth).json()["code"] == "account_disabled"
    r = client.post("/api/auth/token", json={"grant_type": "refresh_token", "refresh_token": tok["refresh_token"]})
    assert r.status_code == 400
