"""The JSON API: tokens, refresh rotation and reuse detection, registration, admin endpoints."""

from __future__ import annotations

import jwt

from ..conftest import PASSWORD, edge_of, outbox_rows, register


def _token(client, email="ann@example.com", password=PASSWORD):
    return client.post("/api/auth/token", json={"grant_type": "password", "email": email, "password": password})


def test_register_via_api_and_get_tokens(client):
    r = client.post("/api/users", json={"email": "bob@example.com", "password": PASSWORD, "display_name": "Bob",
                                        "accept": ["terms", "privacy"]})
    assert r.status_code == 202 and r.json()["email"] == "bob@example.com" and "sent an email" in r.json()["message"]
    # #22: a taken address gets the very same answer (its owner is emailed instead)
    again = client.post("/api/users", json={"email": "BOB@example.com", "password": "another-pass-phrase-9",
                                            "display_name": "Mallory", "accept": ["terms", "privacy"]})
    assert (again.status_code, again.json()) == (r.status_code, r.json())
    assert [m["to_addr"] for m in outbox_rows(client, "registration_attempt")] == ["bob@example.com"]
    r = client.post("/api/users", json={"email": "c@example.com", "password": PASSWORD, "display_name": "Cy", "accept": []})
    assert r.status_code == 422 and r.json()["code"] == "consent_missing"
    r = client.post("/api/users", json={"email": 5, "accept": "x"})
    assert r.status_code == 422 and r.json()["code"] == "validation_failed"
    tok = _token(client, "bob@example.com").json()
    assert tok["token_type"] == "bearer" and tok["expires_in"] == 900
    me = client.get("/api/me", headers={"Authorization": f"Bearer {tok['access_token']}"})
    assert me.json()["display_name"] == "Bob"


def test_bad_requests(client):
    assert client.post("/api/auth/token", content=b"{", headers={"Content-Type": "application/json"}).json()["code"] == "invalid_json"
    assert client.post("/api/auth/token", content=b"[]", headers={"Content-Type": "application/json"}).json()["code"] == "invalid_json"
    assert client.post("/api/auth/token", data={"a": "b"}).json()["code"] == "unsupported_media_type"
    assert client.post("/api/auth/token", json={"grant_type": "magic"}).json()["code"] == "unsupported_grant_type"
    assert _token(client, "nobody@example.com").status_code == 401


def test_missing_forged_and_expired_access_tokens(client, clock):
    register(client)
    assert client.get("/api/me").json()["code"] == "not_authenticated"
    forged = jwt.encode({"sub": "1", "exp": 9999999999, "iat": 1, "iss": "http://127.0.0.1:8001", "typ": "access"},
                        "a-wrong-key-that-is-long-enough-for-hs256", algorithm="HS256")
    r = client.get("/api/me", headers={"Authorization": f"Bearer {forged}"})
    assert r.status_code == 401 and r.json()["code"] == "invalid_token"
    access = _token(client).json()["access_token"]
    clock.advance(16 * 60)
    r = client.get("/api/me", headers={"Authorization": f"Bearer {access}"})
    assert r.status_code == 401 and r.json()["code"] == "token_expired"


def test_refresh_rotation_and_reuse_detection(client):
    register(client)
    first = _token(client).json()
    r = client.post("/api/auth/token", json={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]})
    second = r.json()
    assert r.status_code == 200 and second["refresh_token"] != first["refresh_token"]
    r = client.post("/api/auth/token", json={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]})
    assert r.status_code == 400 and r.json()["code"] == "token_reused"
    r = client.post("/api/auth/token", json={"grant_type": "refresh_token", "refresh_token": second["refresh_token"]})
    assert r.status_code == 400  # the whole family was revoked
    r = client.post("/api/auth/token", json={"grant_type": "refresh_token", "refresh_token": "forged.token"})
    assert r.status_code == 400 and r.json()["code"] == "invalid_token"


def test_revoke_and_expiry_of_refresh_tokens(client, clock):
    register(client)
    tok = _token(client).json()
    assert client.post("/api/auth/revoke", json={"refresh_token": tok["refresh_token"]}).json() == {"revoked": True}
    assert client.post("/api/auth/token", json={"grant_type": "refresh_token",
                                                "refresh_token": tok["refresh_token"]}).status_code == 400
    assert client.post("/api/auth/revoke", json={"refresh_token": "x.y"}).status_code == 400
    tok = _token(client).json()
    clock.advance(31 * 86400)
    assert client.post("/api/auth/token", json={"grant_type": "refresh_token",
                                                "refresh_token": tok["refresh_token"]}).status_code == 400


def test_admin_endpoints(client):
    register(client)
    edge = edge_of(client)
    auth = {"Authorization": f"Bearer {_token(client).json()['access_token']}"}
    assert client.get("/api/admin/audit", headers=auth).status_code == 403
    edge.db.execute("UPDATE users SET role='admin'")
    r = client.get("/api/admin/audit?limit=5", headers=auth)
    assert r.status_code == 200 and len(r.json()["entries"]) <= 5
    assert client.get("/api/admin/audit?limit=0", headers=auth).status_code == 422
    r = client.get("/api/admin/outbox?status=pending", headers=auth)
    assert r.json()["emails"][0]["template"] == "verify"
    assert client.get("/api/admin/outbox?status=weird", headers=auth).status_code == 422
    assert client.post("/api/admin/outbox/999/resend", headers=auth).status_code == 404
    assert client.post("/api/admin/outbox/abc/resend", headers=auth).status_code == 404


def test_legal_and_openapi(client):
    docs = client.get("/api/legal").json()["documents"]
    assert [d["slug"] for d in docs][:2] == ["content-guidelines", "privacy"]
    spec = client.get("/api/openapi.json").json()
    assert spec["openapi"].startswith("3.") and "/api/auth/token" in spec["paths"]
