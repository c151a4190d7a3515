"""Changing the account's email address: confirmed from the new inbox, announced to the old one."""

from __future__ import annotations

from ..conftest import PASSWORD, edge_of, link_from, login, outbox_rows, register, submit


def test_email_change_needs_the_password_and_a_confirmation(signed_in, clock):
    client = signed_in
    r = submit(client, "/account/email", {"email": "ann@new.example", "current_password": "wrong"})
    assert r.status_code == 422 and "not correct" in r.text
    r = submit(client, "/account/email", {"email": "not-an-email", "current_password": PASSWORD})
    assert r.status_code == 422 and "valid email" in r.text
    r = submit(client, "/account/email", {"email": "ANN@example.com", "current_password": PASSWORD})
    assert r.status_code == 422 and "already your email" in r.text
    assert outbox_rows(client, "email_change") == []

    r = submit(client, "/account/email", {"email": "Ann@New.example", "current_password": PASSWORD})
    assert r.status_code == 200 and "ann@new.example" in r.text
    [confirm] = outbox_rows(client, "email_change")
    [notice] = outbox_rows(client, "email_changed")
    assert confirm["to_addr"] == "ann@new.example" and notice["to_addr"] == "ann@example.com"
    edge = edge_of(client)
    assert edge.db.execute("SELECT email FROM users").fetchone()["email"] == "ann@example.com"

    link = link_from(confirm, "/account/email/confirm")
    r = client.get(link)
    assert r.status_code == 200 and "now uses ann@new.example" in r.text
    assert edge.db.execute("SELECT email FROM users").fetchone()["email"] == "ann@new.example"
    actions = [row["action"] for row in edge.db.execute("SELECT action FROM audit_log ORDER BY id")]
    assert "user.email_change_requested" in actions and actions[-1] == "user.email_changed"
    # the link was for the old address: it cannot be replayed
    assert client.get(link).status_code == 400
    client.post("/logout", data={"csrf_token": ""})
    assert login(client, email="ann@new.example").status_code == 303


def test_email_change_refuses_a_taken_address_and_expired_links(client, clock):
    register(client, email="bob@example.com", name="Bob")
    register(client)
    client.get(link_from(outbox_rows(client, "verify")[1], "/verify"))
    login(client)
    r = submit(client, "/account/email", {"email": "bob@example.com", "current_password": PASSWORD})
    assert r.status_code == 409 and "already uses" in r.text
    submit(client, "/account/email", {"email": "ann2@example.com", "current_password": PASSWORD})
    link = link_from(outbox_rows(client, "email_change")[0], "/account/email/confirm")
    clock.advance(49 * 3600)
    assert client.get(link).status_code == 400
    assert client.get("/account/email/confirm?token=forged").status_code == 400
    assert edge_of(client).db.execute("SELECT email FROM users WHERE display_name = 'Ann Buyer'").fetchone()[0] \
        == "ann@example.com"
