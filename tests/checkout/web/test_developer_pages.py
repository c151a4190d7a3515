"""The account's API tokens page and the seller's webhooks pages (issue #21): a token shown
once and revoked, an endpoint registered, a test event sent, the delivery log and redeliver."""

from __future__ import annotations

import re

from checkout.integrations import webhooks

from .consoles import make_account, post_form, shown, sign_in


def test_a_token_is_made_on_the_account_page_shown_once_and_revoked(make_client):
    client = make_client()
    edge = client.app.state.edge
    make_account(edge, "ade@example.com", "seller", "Ade Foundry")
    sign_in(client, "ade@example.com")
    assert "/account/tokens" in client.get("/account").text
    page = client.get("/account/tokens").text
    assert "read:sales" in page and "admin:*" not in page  # only the scopes the role may hold
    r = post_form(client, "/account/tokens", "/account/tokens", {"name": "bookkeeping", "scopes": ["read:sales"]})
    assert r.status_code == 200
    token = re.search(r"ddp_[A-Za-z0-9_-]+", r.text).group(0)
    assert "shown only this once" in r.text
    # it works on the API, and the page then shows when and from where
    assert client.get("/api/v1/sales", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    again = client.get("/account/tokens").text
    assert token not in again and "bookkeeping" in again and "never" not in again
    bad = post_form(client, "/account/tokens", "/account/tokens", {"name": "", "scopes": ["admin:*"]})
    assert bad.status_code == 422 and "must be a non-empty string" in bad.text
    token_id = edge.db.execute("SELECT id FROM personal_tokens").fetchone()[0]
    r = post_form(client, "/account/tokens", f"/account/tokens/{token_id}/revoke", {})
    assert "is revoked" in shown(client, r)
    assert client.get("/api/v1/sales", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_a_seller_registers_an_endpoint_tests_it_and_redelivers_from_the_log(make_client):
    client = make_client(WEBHOOK_ALLOW_PRIVATE=True)
    edge = client.app.state.edge
    make_account(edge, "ade@example.com", "seller", "Ade Foundry")
    sign_in(client, "ade@example.com")
    r = post_form(client, "/seller/webhooks", "/seller/webhooks", {"url": "http://127.0.0.1:9/hook",
                                                                    "events": ["sale", "refund"]})
    assert r.status_code == 200 and re.search(r"whsec_[A-Za-z0-9_-]+", r.text)
    endpoint_id = edge.db.execute("SELECT id FROM webhook_endpoints").fetchone()[0]
    page = f"/seller/webhooks/{endpoint_id}"
    assert "Nothing sent yet" in client.get(page).text
    assert "A test event is on its way" in shown(client, post_form(client, page, f"{page}/test", {}))
    webhooks.process_due(edge)  # port 9 refuses: the log shows why
    log = client.get(page).text
    assert "ping" in log and "ConnectError" in log and "Redeliver" in log
    delivery_id = edge.db.execute("SELECT id FROM webhook_deliveries").fetchone()[0]
    assert "queued again" in shown(client, post_form(client, page, f"{page}/redeliver", {"delivery_id": str(delivery_id)}))
    assert edge.db.execute("SELECT COUNT(*) FROM webhook_deliveries").fetchone()[0] == 2
    assert "disabled" in shown(client, post_form(client, page, f"{page}/disable", {}))
    assert "enabled again" in shown(client, post_form(client, page, f"{page}/enable", {}))
    bad = post_form(client, "/seller/webhooks", "/seller/webhooks", {"url": "ftp://x", "events": ["sale"]})
    assert bad.status_code == 422 and "https://" in bad.text
    # another seller sees none of it
    make_account(edge, "eve@example.com", "seller", "Eve Other")
    sign_in(client, "eve@example.com")
    assert client.get(page).status_code == 404
    assert post_form(client, "/seller/webhooks", f"{page}/delete", {}).status_code == 404
    sign_in(client, "ade@example.com")
    assert "are deleted" in shown(client, post_form(client, page, f"{page}/delete", {}))
    # buyers have no webhooks
    make_account(edge, "bea@example.com", "buyer", "Bea Buyer")
    sign_in(client, "bea@example.com")
    assert client.get("/seller/webhooks").status_code == 403
