"""Registration, verification, login, lockout, sessions and passwords through the HTML pages."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ..conftest import PASSWORD, edge_of, link_from, login, outbox_rows, register, submit


def test_register_records_consents_and_queues_verification(client):
    r = register(client, email="Ann@Example.com")
    assert r.status_code == 201 and "Check your email" in r.text
    edge = edge_of(client)
    user = edge.db.execute("SELECT * FROM users").fetchone()
    assert user["email"] == "ann@example.com" and user["role"] == "buyer"
    assert user["password_hash"].startswith("$argon2id$")
    consents = edge.db.execute("SELECT document, version, ip FROM consents ORDER BY document").fetchall()
    assert [(c["document"], c["version"]) for c in consents] == [("privacy", "1.0"), ("terms", "1.0")]
    assert consents[0]["ip"] == "testclient"
    [mail] = outbox_rows(client, "verify")
    assert mail["to_addr"] == "ann@example.com" and "/verify?token=" in mail["text_body"]


def test_seller_must_accept_all_five_documents(client):
    r = register(client, role="seller", accept=("terms", "privacy"))
    assert r.status_code == 422
    assert "Seller Agreement" in r.text and "Content Guidelines" in r.text
    assert edge_of(client).db.execute("SELECT COUNT(*) FROM users").fetchone()[0] == 0
    assert register(client, role="seller").status_code == 201
    assert edge_of(client).db.execute("SELECT COUNT(*) FROM consents").fetchone()[0] == 5


def test_registration_without_consent_is_refused_and_changes_nothing(client):
    r = register(client, accept=())
    assert r.status_code == 422 and "you must accept" in r.text
    assert 'value="ann@example.com"' in r.text  # the form keeps what was typed
    assert outbox_rows(client) == []


def test_registering_a_taken_address_answers_like_a_new_one_and_tells_the_owner(client):
    """#22: 201 "Check your email" for a taken address too; its owner is emailed instead."""
    fresh = register(client, email="bob@example.com", name="Bob Buyer")
    register(client)
    taken = register(client, email="ANN@example.com", password="other-harbour-otter-77", name="Mallory")
    assert taken.status_code == fresh.status_code == 201
    assert taken.text.replace("ann@example.com", "X") == fresh.text.replace("bob@example.com", "X")
    edge = edge_of(client)
    assert edge.db.execute("SELECT COUNT(*) FROM users").fetchone()[0] == 2
    [notice] = outbox_rows(client, "registration_attempt")
    assert notice["to_addr"] == "ann@example.com"
    assert "tried to register" in notice["text_body"] and "/password-reset" in notice["text_body"]
    assert len(outbox_rows(client, "verify")) == 2  # nothing for the taken address
    register(client, email="ann@example.com")
    assert len(outbox_rows(client, "registration_attempt")) == 1  # at most one notice an hour
    assert login(client).status_code == 303  # the owner's password did not change


def test_weak_passwords_are_refused(client):
    for bad, why in (("short1", "at least 10"), ("password123", "too common"),
                     ("aaaaaaaaaaaa", "too common"), ("annbuyer-secret", "name")):
        r = register(client, password=bad, name="Ann Buyer", email="annbuyer@example.com")
        assert r.status_code == 422 and why in r.text, bad


def test_bad_fields_are_named(client):
    r = submit(client, "/register", {"email": "not-an-email", "display_name": "A", "password": PASSWORD,
                                     "role": "wizard", "accept": ["terms", "privacy"]})
    assert r.status_code == 422
    for text in ("valid email", "2 to 80", "buyer or seller"):
        assert text in r.text


def test_email_verification_link(client):
    register(client)
    link = link_from(outbox_rows(client, "verify")[0], "/verify")
    r = client.get(link)
    assert r.status_code == 303 and r.headers["location"] == "/account"
    assert edge_of(client).db.execute("SELECT email_verified_at FROM users").fetchone()[0]
    account = client.get("/account")  # registering signed the new user in (#15)
    assert account.status_code == 200 and "Ann Buyer" in account.text and "You are signed in" in account.text
    assert "already confirmed" in client.get(link).text  # reusing the link is harmless


def test_a_used_verification_link_signs_nobody_in(client):
    register(client)
    link = link_from(outbox_rows(client, "verify")[0], "/verify")
    client.get(link)
    client.cookies.clear()
    r = client.get(link)
    assert r.status_code == 200 and "already confirmed" in r.text
    assert client.get("/account").status_code == 303  # still signed out: to the sign-in page


def test_forged_and_expired_verification_links_fail(client, clock):
    register(client)
    link = link_from(outbox_rows(client, "verify")[0], "/verify")
    r = client.get(link[:-3] + "abc")
    assert r.status_code == 400 and "invalid or has expired" in r.text
    clock.advance(49 * 3600)
    assert client.get(link).status_code == 400


def test_login_rotates_session_and_logout_ends_it(signed_in):
    client = signed_in
    before = client.cookies.get("dd_session")
    r = client.get("/account")
    assert r.status_code == 200 and "Ann Buyer" in r.text
    r = login(client)  # signing in again mints a new session id
    assert client.cookies.get("dd_session") != before
    r = submit(client, "/account", {}, action="/logout")
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert client.get("/account").headers["location"].startswith("/login")


def test_session_fixation_old_cookie_is_useless_after_login(client):
    register(client)
    client.get("/login")
    login(client)
    stolen = client.cookies.get("dd_session")
    login(client)  # the victim signs in again: the planted/stolen id must die
    client.cookies.set("dd_session", stolen)
    assert client.get("/account").status_code == 303


def test_forged_session_cookie_is_ignored(client):
    client.cookies.set("dd_session", "made-up.value")
    assert client.get("/account").headers["location"] == "/login?next=/account"


def test_session_cookie_flags(client):
    register(client)
    r = login(client)
    cookie = [h for h in r.headers.get_list("set-cookie") if h.startswith("dd_session=")][0].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie


def test_secure_cookie_on_https(make_client):
    client = make_client(CHECKOUT_URL="https://checkout.example.com")
    r = client.get("/login")
    assert "secure" in r.headers["set-cookie"].lower()


def test_wrong_password_and_unknown_email_look_the_same(client):
    register(client)
    a = login(client, password="wrong-password-123")
    b = login(client, email="nobody@example.com")
    assert a.status_code == b.status_code == 401
    assert "Email or password is incorrect" in a.text and "Email or password is incorrect" in b.text


def test_lockout_after_five_failures_emails_the_owner(client, clock):
    """#20/#22: five wrong passwords, then 429 (not 423) for the right one too, with a retry
    time in words; the owner's email carries an unlock link."""
    register(client)
    for _ in range(5):
        assert login(client, password="wrong-password-123").status_code == 401
    r = login(client)
    assert r.status_code == 429 and "Too many failed sign-ins for this address. Try again in 15 minutes." in r.text
    assert 0 < int(r.headers["retry-after"]) <= 900
    [mail] = outbox_rows(client, "lockout")
    assert "5 failed attempts" in mail["text_body"] and "/login/unlock?token=" in mail["text_body"]
    actions = [r[0] for r in edge_of(client).db.execute("SELECT action FROM audit_log")]
    assert "user.locked" in actions
    clock.advance(16 * 60)
    assert login(client).status_code == 303


def test_login_rate_limit_per_ip(client):
    for i in range(5):
        login(client, email=f"user{i}@example.com")
    r = login(client, email="user9@example.com")
    assert r.status_code == 429 and "Too many failed sign-ins from your network. Try again in" in r.text
    assert int(r.headers["retry-after"]) > 0


def test_login_rate_limit_per_account(client):
    register(client)
    for _ in range(5):
        login(client, password="nope-nope-nope")
    assert login(client).status_code == 429


def test_registration_rate_limit(make_client):
    client = make_client(REGISTER_LIMIT="2/hour")
    register(client, email="a1@example.com")
    register(client, email="a2@example.com")
    assert register(client, email="a3@example.com").status_code == 429


def test_logout_everywhere_ends_every_session(signed_in):
    client = signed_in
    from starlette.testclient import TestClient
    second = TestClient(client.app, follow_redirects=False)
    login(second)
    assert second.get("/account").status_code == 200
    r = submit(client, "/account", {}, action="/logout-everywhere")
    assert r.status_code == 303
    assert second.get("/account").status_code == 303
    assert client.get("/account").status_code == 303


def test_password_change(signed_in):
    client = signed_in
    r = submit(client, "/account/password", {"current_password": "wrong", "new_password": "new-harbour-otter-7"})
    assert r.status_code == 422 and "not correct" in r.text
    r = submit(client, "/account/password", {"current_password": PASSWORD, "new_password": "short"})
    assert r.status_code == 422 and "at least 10" in r.text
    r = submit(client, "/account/password", {"current_password": PASSWORD, "new_password": "new-harbour-otter-7"})
    assert r.status_code == 200 and "Password changed" in r.text
    assert client.get("/account").status_code == 200  # this session survives
    assert [m["to_addr"] for m in outbox_rows(client, "password_changed")] == ["ann@example.com"]
    assert login(client, password="new-harbour-otter-7").status_code == 303


def test_password_reset_single_use_and_expiry(client, clock):
    register(client)
    r = submit(client, "/password-reset", {"email": "ann@example.com"})
    assert "If an account exists" in r.text
    r = submit(client, "/password-reset", {"email": "ghost@example.com"})
    assert "If an account exists" in r.text  # no account enumeration
    [mail] = outbox_rows(client, "reset")
    link = link_from(mail, "/password-reset/confirm")
    token = link.split("token=")[1]
    r = client.get(link)
    assert r.status_code == 200
    r = client.post("/password-reset/confirm", data={"csrf_token": _csrf(client, link), "token": token,
                                                   "new_password": "weak"})
    assert r.status_code == 422
    r = client.post("/password-reset/confirm", data={"csrf_token": _csrf(client, link), "token": token,
                                                   "new_password": "fresh-river-stone-9"})
    assert r.status_code == 200 and "new password is set" in r.text
    assert client.get(link).status_code == 400  # single use
    assert login(client, password="fresh-river-stone-9").status_code == 303
    submit(client, "/password-reset", {"email": "ann@example.com"})
    late = link_from(outbox_rows(client, "reset")[-1], "/password-reset/confirm")
    clock.advance(61 * 60)
    assert client.get(late).status_code == 400


def _csrf(client, page):
    from ..conftest import csrf_from
    return csrf_from(client.get(page).text)


def test_reset_link_dies_when_password_changes(signed_in):
    client = signed_in
    submit(client, "/password-reset", {"email": "ann@example.com"})
    link = link_from(outbox_rows(client, "reset")[-1], "/password-reset/confirm")
    submit(client, "/account/password", {"current_password": PASSWORD, "new_password": "new-harbour-otter-7"})
    assert client.get(link).status_code == 400


def test_reset_request_bad_email_and_rate_limit(make_client):
    client = make_client(RESET_LIMIT="2/hour")
    assert submit(client, "/password-reset", {"email": "nope"}).status_code == 422
    submit(client, "/password-reset", {"email": "a@example.com"})
    submit(client, "/password-reset", {"email": "a@example.com"})
    assert submit(client, "/password-reset", {"email": "a@example.com"}).status_code == 429


def test_resend_verification(signed_in):
    client = signed_in
    edge_of(client).db.execute("UPDATE users SET email_verified_at = NULL")
    r = client.get("/account")
    assert "not confirmed yet" in r.text
    submit(client, "/account", {}, action="/verify/resend")
    assert len(outbox_rows(client, "verify")) == 2


def test_admin_page_is_for_admins(signed_in):
    client = signed_in
    assert client.get("/admin").status_code == 403
    edge_of(client).db.execute("UPDATE users SET role = 'admin'")
    r = client.get("/admin")
    assert r.status_code == 200 and "Needs attention" in r.text
    assert "user.login" in client.get("/admin/audit").text and "verify" in client.get("/admin/emails").text


@pytest.fixture
def roomy(make_client):
    """A client whose registration limit never gets in the way of many examples."""
    return make_client(REGISTER_LIMIT="100000/hour")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(email=st.emails(), n=st.integers(0, 10**9))
def test_registration_answers_a_taken_address_like_a_free_one_whatever_the_address(roomy, email, n):
    """#22, for any address (hypothesis' emails, valid for us or not): the second registration
    of an address answers exactly like the first."""
    address = f"x{n}.{email}"[:254]
    first = register(roomy, email=address)
    again = register(roomy, email=address.upper(), password="other-harbour-otter-77", name="Mallory")
    assert first.status_code == again.status_code and first.status_code in (201, 422)
    if first.status_code == 201:  # (a 422 form shows back what was typed, in its own case)
        assert again.text == first.text
