"""Signed in, the CSRF token is bound to the session: a CSRF cookie planted from another host of
the site's domain (the storefront's script can set one for the whole domain, beside the edge's
own) does not let a forged form through."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from checkout.core.clock import Clock
from checkout.core.tokens import Tokens

from ..conftest import csrf_from


def _post_with_cookies(client, path: str, cookies: str, data: dict):
    """POST with exactly this Cookie header, as a browser holding these cookies sends it."""
    jar = dict(client.cookies)
    client.cookies.clear()
    try:
        return client.post(path, data=data, headers={"Cookie": cookies})
    finally:
        for name, value in jar.items():
            client.cookies.set(name, value)


def test_a_planted_csrf_cookie_and_its_token_do_not_pass_for_a_signed_in_user(signed_in, make_client):
    victim = signed_in
    # the attacker's own, perfectly valid pair: a CSRF cookie and the token it signs
    attacker = make_client()
    token = csrf_from(attacker.get("/login").text)
    planted = attacker.cookies["dd_csrf"]
    session, own = victim.cookies["dd_session"], victim.cookies["dd_csrf"]
    for cookies in (f"dd_session={session}; dd_csrf={own}; dd_csrf={planted}",  # planted last: it wins a parse
                    f"dd_csrf={planted}; dd_session={session}",
                    f"dd_session={session}; dd_csrf={planted}"):
        r = _post_with_cookies(victim, "/logout", cookies, {"csrf_token": token})
        assert r.status_code == 403 and "csrf" in r.text.lower(), cookies
    assert victim.get("/account").status_code == 200  # still signed in: nothing was done
    # the forms the edge renders for the user carry the session's token, and it works
    r = victim.post("/logout", data={"csrf_token": csrf_from(victim.get("/account/password").text)})
    assert r.status_code == 303
    assert victim.get("/account").status_code in (302, 303)


def test_signed_out_forms_keep_the_double_submit_cookie(client):
    token = csrf_from(client.get("/login").text)
    r = client.post("/login", data={"csrf_token": token, "email": "nobody@example.com", "password": "wrong-pass-1"})
    assert r.status_code == 401  # the token passed; the credentials did not


def test_a_token_from_before_a_key_rotation_still_passes(signed_in, make_client):
    tokens = signed_in.app.state.edge.tokens
    session = tokens.unsign_cookie("session", signed_in.cookies["dd_session"])
    old = tokens.session_csrf(session)[0]
    rotated = Tokens("a-new-key", "jwt", Clock(), "test", old_secrets=[tokens._secret[-1]])
    assert rotated.session_csrf(session)[0] != old and old in rotated.session_csrf(session)


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=1, max_size=80), st.text(min_size=1, max_size=80))
def test_session_tokens_are_fixed_per_session_and_differ_between_sessions(a, b):
    tokens = Tokens("key", "jwt", Clock(), "test", old_secrets=["older"])
    first = tokens.session_csrf(a)
    assert first == tokens.session_csrf(a) and len(first) == 2
    assert all(t and t.replace("-", "").replace("_", "").isalnum() for t in first)
    if a != b:
        assert not set(first) & set(tokens.session_csrf(b))
