"""Rotating signing keys: download links signed with a previous key keep working for their 24 h
while that key is listed, stop once it is removed, and new links use the newest key; a
SECRET_KEY rotation with SECRET_KEYS_OLD signs nobody out and keeps emailed links valid."""

from __future__ import annotations

import pytest
from itsdangerous import URLSafeTimedSerializer

from checkout.core import keyring
from checkout.core.errors import NotAuthenticated
from checkout.core.settings import load_settings
from checkout.wiring import build_edge

HOUR = 3600


def _token(link: str) -> str:
    return link.rsplit("/", 1)[1]


def _signed_with(key: str, token: str) -> bool:
    try:
        URLSafeTimedSerializer(key, salt="digitaldock.download").loads(token)
    except Exception:
        return False
    return True


def _buyer(make_client, shop, helpers, **settings):
    client = make_client(**settings)
    edge = client.app.state.edge
    uid = helpers.make_user(client, "ann@example.com")
    pid = helpers.buy(edge, uid, "budget-planner")
    return client, edge, pid, shop.products["budget-planner"]["files"][0]["sha256"]


def test_a_link_signed_with_the_old_key_downloads_after_rotation_within_its_24_hours(
        make_client, shop, helpers, clock):
    before, _, pid, sha = _buyer(make_client, shop, helpers, DOWNLOAD_SECRET_KEYS="old-download-key")
    old_link = helpers.link_for(before, pid, sha)
    assert _signed_with("old-download-key", _token(old_link))

    clock.advance(20 * HOUR)
    after = make_client(DOWNLOAD_SECRET_KEYS="new-download-key, old-download-key")  # the deploy after rotation
    helpers.sign_in(after, "ann@example.com")
    r = after.get(old_link)
    assert r.status_code == 200 and r.content == helpers.PDF

    # new links use the newest key only
    new_link = helpers.link_for(after, pid, sha)
    assert _signed_with("new-download-key", _token(new_link))
    assert not _signed_with("old-download-key", _token(new_link))
    assert after.get(new_link).status_code == 200

    # the old link still expires on time: rotation does not extend it
    clock.advance(5 * HOUR)
    expired = after.get(old_link, headers={"Accept": "application/json"})
    assert expired.status_code == 410 and expired.json()["code"] == "link_expired"


def test_a_link_signed_with_a_key_removed_from_the_list_is_refused(make_client, shop, helpers):
    before, _, pid, sha = _buyer(make_client, shop, helpers, DOWNLOAD_SECRET_KEYS="old-download-key")
    old_link = helpers.link_for(before, pid, sha)
    after = make_client(DOWNLOAD_SECRET_KEYS="new-download-key")  # the old key dropped
    helpers.sign_in(after, "ann@example.com")
    r = after.get(old_link, headers={"Accept": "application/json"})
    assert r.status_code == 400 and r.json()["code"] == "invalid_token"
    edge = after.app.state.edge
    assert edge.db.execute("SELECT COUNT(*) FROM downloads WHERE outcome = 'started'").fetchone()[0] == 0


def test_without_download_keys_links_follow_secret_key_and_its_old_values(make_client, shop, helpers):
    before, _, pid, sha = _buyer(make_client, shop, helpers, SECRET_KEY="first-secret")
    link = helpers.link_for(before, pid, sha)
    assert _signed_with("first-secret", _token(link))
    after = make_client(SECRET_KEY="second-secret", SECRET_KEYS_OLD="first-secret")
    helpers.sign_in(after, "ann@example.com")
    assert after.get(link).status_code == 200


def test_secret_key_rotation_with_old_keys_keeps_people_signed_in(make_client, shop, helpers):
    before = make_client(SECRET_KEY="first-secret")
    helpers.make_user(before, "ann@example.com")
    cookies = dict(before.cookies)
    assert before.get("/account").status_code == 200

    kept = make_client(SECRET_KEY="second-secret", SECRET_KEYS_OLD="first-secret")
    kept.cookies.update(cookies)
    assert kept.get("/account").status_code == 200

    dropped = make_client(SECRET_KEY="second-secret")
    dropped.cookies.update(cookies)
    r = dropped.get("/account")
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_email_links_signed_before_a_rotation_still_verify(make_settings, clock):
    old = build_edge(make_settings(SECRET_KEY="first-secret"), clock)
    token = old.tokens.dumps("reset", {"u": 1})
    new = build_edge(make_settings(SECRET_KEY="second-secret", SECRET_KEYS_OLD="first-secret, older"), clock)
    assert new.tokens.loads("reset", token, 3600) == {"u": 1}
    fresh = new.tokens.dumps("reset", {"u": 2})
    with pytest.raises(Exception):
        old.tokens.loads("reset", fresh, 3600)  # new tokens are signed with the new key
    gone = build_edge(make_settings(SECRET_KEY="second-secret"), clock)
    with pytest.raises(Exception):
        gone.tokens.loads("reset", token, 3600)
    for e in (old, new, gone):
        e.close()


def test_api_tokens_signed_before_a_jwt_rotation_still_verify(make_settings, clock):

    key1, key2 = "first-jwt-secret-long-enough-for-hs256", "second-jwt-secret-long-enough-for-hs256"
    old = build_edge(make_settings(JWT_SECRET=key1), clock)
    token = old.tokens.access_token(7, "buyer", 15)
    new = build_edge(make_settings(JWT_SECRET=key2, JWT_SECRETS_OLD=f"{key1}, older-key"), clock)
    assert new.tokens.decode_access(token)["sub"] == "7"
    with pytest.raises(NotAuthenticated, match="invalid"):
        old.tokens.decode_access(new.tokens.access_token(8, "buyer", 15))  # the new key signs
    gone = build_edge(make_settings(JWT_SECRET=key2), clock)
    with pytest.raises(NotAuthenticated, match="invalid"):
        gone.tokens.decode_access(token)
    clock.advance(16 * 60)
    with pytest.raises(NotAuthenticated, match="expired"):  # an old key never extends a token's life
        new.tokens.decode_access(token)
    for e in (old, new, gone):
        e.close()


def test_key_lists_are_read_newest_first_and_handed_to_itsdangerous_oldest_first():
    s = load_settings(environ={}, dotenv=None, SECRET_KEY="current", SECRET_KEYS_OLD=" prev , current,, older ",
                      DOWNLOAD_SECRET_KEYS="d3,d2,d1,d2")
    assert keyring.old_secret_keys(s) == ["prev", "older"]
    assert keyring.secret_keys(s) == ["older", "prev", "current"]
    assert keyring.download_keys(s) == ["d1", "d2", "d3"]
    plain = load_settings(environ={}, dotenv=None, SECRET_KEY="current")
    assert keyring.download_keys(plain) == ["current"]
    assert "d3" not in repr(s)  # the key lists are secrets


def test_production_accepts_download_keys_or_secret_key_as_before():
    base = {"DIGITALDOCK_ENV": "production", "SECRET_KEY": "k" * 40, "JWT_SECRET": "j" * 40,
            "PAYSTACK_SECRET_KEY": "sk_live_x", "EMAIL_BACKEND": "file"}
    s = load_settings(environ={}, dotenv=None, **base)
    assert keyring.download_keys(s) == ["k" * 40]
    s = load_settings(environ={}, dotenv=None, **base, DOWNLOAD_SECRET_KEYS="dnew,dold")
    assert keyring.download_keys(s) == ["dold", "dnew"]
