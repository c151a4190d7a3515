"""Payout account changes (#22): the password (or a fresh sign-in), an email to the seller with
a cancel link, and a hold before money goes to a new or changed account. No ledger rule moves."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checkout.payments import ledger, payouts

from ..conftest import csrf_from, login, outbox_rows
from .conftest import PASSWORD, make_buyer
from .test_refunds_payouts import paid_purchase

GTB, ACCESS = "058", "044"


def edge_of(client):
    return client.app.state.edge


def seller_signs_in(shop):
    edge = edge_of(shop)
    shop.cookies.clear()
    seller = make_buyer(edge, "ada@example.com", role="seller")
    payouts.link_seller(edge, seller["id"], "ada")
    assert login(shop, "ada@example.com", PASSWORD).status_code == 303
    return seller


def save_account(shop, number, bank=GTB, password=None):
    page = shop.get("/seller/earnings")
    data = {"csrf_token": csrf_from(page.text), "seller": "ada", "account_name": "Ada Obi", "account_number": number,
            "bank_code": bank, "currency": "NGN"}
    if password is not None:
        data["current_password"] = password
    return shop.post("/seller/earnings", data=data)


def recipient(shop):
    return edge_of(shop).db.execute("SELECT * FROM payout_recipients WHERE seller_slug = 'ada'").fetchone()


def cancel_link(mail):
    return re.search(r"/seller/earnings/cancel\?token=[\w.\-]+", mail["text_body"]).group(0)


def cancel(shop, link):
    page = shop.get(link)
    assert page.status_code == 200
    return page, shop.post("/seller/earnings/cancel", data={"csrf_token": csrf_from(page.text),
                                                           "token": link.split("token=")[1]})


def test_changing_the_payout_account_needs_the_password_once_the_sign_in_is_old(shop, sandbox, clock):
    seller_signs_in(shop)
    assert save_account(shop, "0123456789").status_code == 303  # just signed in: no password asked
    clock.advance(6 * 60)  # SENSITIVE_REAUTH_MINUTES is 5
    r = save_account(shop, "1111111111", ACCESS)
    assert r.status_code == 422 and "Enter your current password" in r.text
    r = save_account(shop, "1111111111", ACCESS, password="not-my-password-1")
    assert r.status_code == 422 and "not correct" in r.text
    assert recipient(shop)["account_number"] == "0123456789"  # nothing changed by a refused request
    assert save_account(shop, "1111111111", ACCESS, password=PASSWORD).status_code == 303
    assert recipient(shop)["account_number"] == "1111111111"


def test_a_new_account_is_announced_without_its_number_and_held(shop, sandbox, clock):
    edge = edge_of(shop)
    paid_purchase(shop, sandbox)
    clock.advance(8 * 86400)  # out of the refund window: the earnings are available
    seller_signs_in(shop)
    assert save_account(shop, "0123456789").status_code == 303
    [mail] = outbox_rows(shop, "payout_account_changed")
    assert mail["to_addr"] == "ada@example.com"
    assert "Guaranty Trust Bank, account ending 6789" in mail["text_body"] and "24 hours" in mail["text_body"]
    assert "0123456789" not in mail["text_body"] + mail["html_body"]
    assert cancel_link(mail)
    counts = payouts.run_payouts(edge)
    assert counts["released"] == 1 and counts["queued"] == 0  # held: the balance waits
    assert ledger.balance(edge, "seller:ada:available", "NGN") == -450000
    assert "payouts start" in shop.get("/seller/earnings").text
    save_account(shop, "0123456789")  # the same account again is no change: no email, hold not restarted
    assert len(outbox_rows(shop, "payout_account_changed")) == 1
    clock.advance(24 * 3600 + 1)
    assert payouts.run_payouts(edge)["queued"] == 1
    assert ledger.check(edge.db) == []
    actions = [r[0] for r in edge.db.execute("SELECT action FROM audit_log")]
    assert "payment.payout_account_changed" in actions


def test_the_cancel_link_puts_the_previous_account_back_at_once(shop, sandbox, clock):
    edge = edge_of(shop)
    paid_purchase(shop, sandbox)
    clock.advance(8 * 86400)
    seller_signs_in(shop)
    payouts.add_bank_account(edge, "ada", "Ada Obi", "0123456789", GTB, "NGN")  # an operator's command
    before = dict(recipient(shop))
    clock.advance(25 * 3600)
    assert save_account(shop, "1111111111", ACCESS, password=PASSWORD).status_code == 303
    mail = outbox_rows(shop, "payout_account_changed")[-1]
    assert "Before: Guaranty Trust Bank, account ending 6789" in mail["text_body"]
    assert "Now:    Access Bank, account ending 1111" in mail["text_body"]
    shop.cookies.clear()  # the link works without signing in
    page, r = cancel(shop, cancel_link(mail))
    assert "puts back: Guaranty Trust Bank, account ending 6789" in page.text
    assert r.status_code == 200 and "go to: Guaranty Trust Bank, account ending 6789" in r.text
    assert dict(recipient(shop)) == before  # the old account, trusted as before: no new hold
    counts = payouts.run_payouts(edge)
    assert counts["queued"] == 1
    assert edge.db.execute("SELECT recipient_code FROM payouts").fetchone()[0] == before["recipient_code"]
    link = cancel_link(mail)
    assert "already cancelled" in shop.get(link).text
    again = shop.post("/seller/earnings/cancel", data={"csrf_token": csrf_from(page.text), "token": link.split("=", 1)[1]})
    assert again.status_code == 200 and "already cancelled" in again.text  # a second click changes nothing
    actions = [r[0] for r in edge.db.execute("SELECT action FROM audit_log")]
    assert actions.count("payment.payout_account_change_cancelled") == 1
    assert ledger.check(edge.db) == []


def test_cancelling_a_new_account_removes_it_and_every_later_change(shop, sandbox):
    seller_signs_in(shop)
    save_account(shop, "0123456789")
    save_account(shop, "1111111111", ACCESS)
    added, changed = outbox_rows(shop, "payout_account_changed")
    assert "added" in added["text_body"] and "removes the account again" in added["text_body"]
    _, r = cancel(shop, cancel_link(added))
    assert r.status_code == 200 and "no payout account" in r.text
    assert recipient(shop) is None
    assert "already cancelled" in shop.get(cancel_link(changed)).text  # the later change went with it


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=200))
def test_forged_cancel_links_are_refused_cleanly(shop, forged):
    page = shop.get("/login")
    assert shop.get("/seller/earnings/cancel", params={"token": forged}).status_code == 400
    r = shop.post("/seller/earnings/cancel", data={"csrf_token": csrf_from(page.text), "token": forged})
    assert r.status_code == 400 and "invalid or has expired" in r.text


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=100).filter(lambda p: p != PASSWORD))
def test_no_wrong_password_changes_the_payout_account(shop, sandbox, clock, guess):
    """Any guess, once the sign-in is old: refused with a named field (or paused), nothing saved."""
    if recipient(shop) is None:
        seller_signs_in(shop)
        save_account(shop, "0123456789")
        clock.advance(6 * 60)
    r = save_account(shop, "1111111111", ACCESS, password=guess)
    assert r.status_code in (422, 429)
    assert r.status_code == 429 or "current password" in r.text
    assert recipient(shop)["account_number"] == "0123456789"
