"""The admin console (issue #16): home, users (search, ban, unban, verify, role), moderation,
reports and CSV, platform metrics, audited with the admin's name. Over the repository's content,
built into a storefront."""

from __future__ import annotations

import shutil

import pytest

from checkout.accounts import sessions
from checkout.core import audit
from checkout.delivery import content
from checkout.ops import platform_metrics
from checkout.payments import ledger, payouts
from digitaldock import frontmatter

from .consoles import PASSWORD, SELLER, build_site, link, make_account, post_form, rebuild, sell, shown, sign_in


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return build_site(tmp_path_factory.mktemp("built"))


@pytest.fixture
def site(built, tmp_path):
    shutil.copytree(built, tmp_path / "site")
    return tmp_path / "site"


@pytest.fixture
def console(make_client, site):
    client = make_client(CATALOG_PATH=str(site / "output" / "catalog.json"), CONTENT_DIR=str(site / "content"),
                         REBUILD_ON_APPROVAL=False)
    edge = client.app.state.edge
    ids = {"admin": make_account(edge, "root@example.com", "admin", "Root Admin"),
           "seller": make_account(edge, "ade@example.com", "seller", "Ade Foundry"),
           "buyer": make_account(edge, "bea@example.com", "buyer", "Bea Buyer")}
    link(edge, ids["seller"])
    return client, edge, ids


def seller_meta(site, slug=SELLER):
    return frontmatter.split((site / "content" / "sellers" / f"{slug}.md").read_text("utf-8")).meta


def test_a_ban_ends_sessions_and_tokens_refuses_sign_in_unlists_and_holds_payouts(console, site):
    client, edge, ids = console
    # the seller has money available and a bank account: a payout would go
    buyer = dict(edge.db.execute("SELECT * FROM users WHERE id = ?", (ids["buyer"],)).fetchone())
    sell(client, buyer, "lagos-grotesk")
    edge.clock.offset += 8 * 86400
    payouts.release_due(edge)
    edge.db.execute("INSERT INTO payout_recipients (seller_slug, currency, recipient_code, bank_code, account_number,"
                    " account_name, created_at) VALUES (?, 'USD', 'RCP_x', '058', '0123456789', 'Ade', ?)",
                    (SELLER, edge.clock.iso()))
    edge.settings.values["PAYOUT_MINIMUM"] = 100  # type: ignore[index]
    # the seller is signed in (a session) and has an API token pair
    sign_in(client, "ade@example.com")
    seller_cookies = dict(client.cookies)
    tokens = client.post("/api/auth/token", json={"grant_type": "password", "email": "ade@example.com",
                                                  "password": PASSWORD}).json()
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert client.get("/api/me", headers=bearer).status_code == 200

    sign_in(client, "root@example.com")
    r = post_form(client, f"/admin/users/{ids['seller']}", f"/admin/users/{ids['seller']}/ban", {"reason": "x"})
    assert "Give the reason" in shown(client, r)  # a reason is required
    r = post_form(client, f"/admin/users/{ids['seller']}", f"/admin/users/{ids['seller']}/ban",
                  {"reason": "Selling fonts copied from another foundry"})
    page = shown(client, r)
    assert "is banned" in page and "payouts of adire-type-foundry are held" in page
    # sessions and tokens died at once
    assert edge.db.execute("SELECT COUNT(*) FROM sessions WHERE user_id = ?", (ids["seller"],)).fetchone()[0] == 0
    other = client.__class__(client.app, follow_redirects=False)
    other.cookies.update(seller_cookies)
    assert other.get("/seller").status_code == 303  # to the sign-in page
    r = client.get("/api/me", headers=bearer)
    assert r.status_code == 401 and r.json()["code"] == "account_banned"
    r = client.post("/api/auth/token", json={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    assert r.status_code == 400 and "revoked" in r.json()["message"]  # the ban revoked every refresh token
    # sign-in refused with a clear message
    client.cookies.clear()
    page = client.get("/login")
    from .consoles import csrf_of
    r = client.post("/login", data={"csrf_token": csrf_of(page.text), "email": "ade@example.com",
                                    "password": PASSWORD, "next": "/account"})
    assert r.status_code == 403 and "suspended" in r.text
    # the seller page is suspended in the content: its products leave the next build
    assert seller_meta(site)["suspended"] is True
    rebuild(site)
    assert not (site / "output" / "products" / "lagos-grotesk").exists()
    assert "lagos-grotesk" not in edge.catalog.current().products
    # payouts are held
    counts = payouts.queue_payouts(edge)
    assert counts["held"] == 1 and counts["queued"] == 0
    # audited with the admin's name; the seller was told why
    [row] = [a for a in audit.recent(edge, 50) if a["action"] == "admin.user_banned"]
    assert row["detail"]["by"] == "Root Admin <root@example.com>" and row["actor_id"] == ids["admin"]
    assert edge.db.execute("SELECT COUNT(*) FROM outbox WHERE template = 'account_banned'").fetchone()[0] == 1

    sign_in(client, "root@example.com")
    r = post_form(client, f"/admin/users/{ids['seller']}", f"/admin/users/{ids['seller']}/unban",
                  {"reason": "The foundry showed its licence"})
    assert "may sign in again" in shown(client, r)
    assert "suspended" not in seller_meta(site)
    rebuild(site)
    assert "lagos-grotesk" in edge.catalog.current().products
    assert payouts.queue_payouts(edge)["queued"] == 1
    sign_in(client, "ade@example.com")
    assert ledger.check(edge.db) == []


def test_an_admin_cannot_ban_or_demote_themself(console):
    client, edge, ids = console
    sign_in(client, "root@example.com")
    page = client.get(f"/admin/users/{ids['admin']}").text
    assert "your own account" in page and 'id="ban-form"' not in page
    r = post_form(client, "/account", f"/admin/users/{ids['admin']}/ban", {"reason": "testing myself"})
    assert "cannot change the standing of your own account" in shown(client, r)
    assert edge.db.execute("SELECT banned_at FROM users WHERE id = ?", (ids["admin"],)).fetchone()[0] is None


def test_verify_puts_the_badge_on_the_storefront(console, site):
    client, edge, ids = console
    sign_in(client, "root@example.com")
    r = post_form(client, f"/admin/users/{ids['seller']}", f"/admin/users/{ids['seller']}/verify", {})
    assert "verified seller" in shown(client, r)
    assert seller_meta(site)["verified"] is True
    rebuild(site)
    product = (site / "output" / "products" / "lagos-grotesk" / "index.html").read_text("utf-8")
    assert 'class="verified-badge">Verified seller' in product
    assert "Verified seller" in (site / "output" / "sellers" / SELLER / "index.html").read_text("utf-8")
    assert "Verified seller" not in (site / "output" / "products" / "afro-lofi-beats" / "index.html").read_text("utf-8")
    # taking the badge away needs a reason
    r = post_form(client, f"/admin/users/{ids['seller']}", f"/admin/users/{ids['seller']}/unverify", {"reason": ""})
    assert "Give the reason" in shown(client, r)
    r = post_form(client, f"/admin/users/{ids['seller']}", f"/admin/users/{ids['seller']}/unverify",
                  {"reason": "Documents expired"})
    assert "no longer verified" in shown(client, r) and "verified" not in seller_meta(site)


def test_a_buyer_cannot_be_verified_and_roles_change_audited(console):
    client, edge, ids = console
    sign_in(client, "root@example.com")
    r = post_form(client, f"/admin/users/{ids['buyer']}", f"/admin/users/{ids['buyer']}/verify", {})
    assert "seller first" in shown(client, r)
    r = post_form(client, f"/admin/users/{ids['buyer']}", f"/admin/users/{ids['buyer']}/role", {"role": "seller"})
    assert "is now a seller" in shown(client, r)
    trail = client.get("/admin/audit").text
    assert "user.role_changed" in trail and "Root Admin &lt;root@example.com&gt;" in trail
    assert "Bea Buyer" in trail  # people, not numbers
    r = post_form(client, f"/admin/users/{ids['buyer']}", f"/admin/users/{ids['buyer']}/role", {"role": "king"})
    assert "Role must be one of" in shown(client, r)


def test_users_are_found_by_email_or_name(console):
    client, edge, ids = console
    sign_in(client, "root@example.com")
    page = client.get("/admin/users?q=FOUNDRY").text
    assert "ade@example.com" in page and "bea@example.com" not in page
    assert "bea@example.com" in client.get("/admin/users?q=bea%40").text
    assert "No account matches." in client.get("/admin/users?q=%25_%5C").text  # LIKE wildcards are plain text
    page = client.get(f"/admin/users/{ids['buyer']}").text
    assert "Orders" in page and "Audit trail" in page


def test_non_admins_see_no_console(console):
    client, edge, ids = console
    sign_in(client, "ade@example.com")
    for path in ("/admin", "/admin/users", "/admin/reports", "/admin/moderation", "/admin/metrics", "/admin/audit"):
        assert client.get(path).status_code == 403, path


def test_a_buyer_reports_a_product_and_an_admin_unlists_it_with_a_reason(console, site):
    client, edge, ids = console
    client.cookies.clear()
    r = client.get("/report?product=adire-display")
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/report%3Fproduct%3Dadire-display"
    sign_in(client, "bea@example.com")
    assert client.get("/report?product=no-such-thing").status_code == 404
    r = post_form(client, "/report?product=adire-display", "/report", {"product": "adire-display", "reason": "other",
                                                                         "details": "bad"})
    assert r.status_code == 422 and "at least 10 characters" in r.text
    r = post_form(client, "/report?product=adire-display", "/report",
                  {"product": "adire-display", "reason": "infringement", "details": "Copied from a 1970s specimen"})
    assert r.status_code == 200 and "We received your report" in r.text
    r = post_form(client, "/report?product=adire-display", "/report",
                  {"product": "adire-display", "reason": "infringement", "details": ""})
    assert r.status_code == 409  # one open report per buyer and product

    sign_in(client, "root@example.com")
    page = client.get("/admin/moderation").text
    assert "Copied from a 1970s specimen" in page and "Reviews waiting or reported (0)" in page  # issue #14
    report_id = edge.db.execute("SELECT id FROM product_reports").fetchone()[0]
    r = post_form(client, "/admin/moderation", f"/admin/moderation/reports/{report_id}", {"action": "unlist", "reason": ""})
    assert "Give the reason" in shown(client, r)
    r = post_form(client, "/admin/moderation", f"/admin/moderation/reports/{report_id}",
                  {"action": "unlist", "reason": "The specimen's owner wrote to us"})
    assert "adire-display is unlisted" in shown(client, r)
    assert "status: withdrawn" in (site / "content" / "products" / "adire-display.md").read_text("utf-8")
    assert edge.db.execute("SELECT status FROM product_reports").fetchone()[0] == "unlisted"
    [mail] = edge.db.execute("SELECT text_body FROM outbox WHERE template = 'product_unlisted'").fetchall()
    assert "The specimen's owner wrote to us" in mail[0]
    assert "moderation.report_decided" in client.get("/admin/audit").text


def test_a_new_seller_named_like_a_catalogue_seller_asks_to_claim_it(console):
    client, edge, ids = console
    uid = make_account(edge, "bo@example.com", "seller", "Bo-Kaap Digital Studio")
    sign_in(client, "bo@example.com")
    page = client.get("/seller").text
    assert "You asked to manage the seller page" in page and "bo-kaap-studio" in page
    sign_in(client, "root@example.com")
    claim_id = edge.db.execute("SELECT id FROM seller_claims WHERE user_id = ?", (uid,)).fetchone()[0]
    r = post_form(client, "/admin/moderation", f"/admin/moderation/claims/{claim_id}", {"action": "reject", "reason": ""})
    assert "Give the reason" in shown(client, r)
    r = post_form(client, "/admin/moderation", f"/admin/moderation/claims/{claim_id}", {"action": "approve"})
    assert "now manages bo-kaap-studio" in shown(client, r)
    assert payouts.sellers_of(edge, uid) == ["bo-kaap-studio"]


def test_a_new_seller_gets_a_seller_of_their_own(console):
    client, edge, ids = console
    uid = make_account(edge, "sam@example.com", "seller", "Sam Okafor")
    sign_in(client, "sam@example.com")
    assert client.get("/seller").status_code == 200
    assert payouts.sellers_of(edge, uid) == ["sam-okafor"]
    assert "ask an administrator" not in client.get("/seller/earnings").text.lower()


def test_admin_home_shows_figures_and_attention(console):
    client, edge, ids = console
    buyer = dict(edge.db.execute("SELECT * FROM users WHERE id = ?", (ids["buyer"],)).fetchone())
    sell(client, buyer, "lagos-grotesk")
    sign_in(client, "root@example.com")
    page = client.get("/admin").text
    assert "$29.00" in page and "Gross sales" in page and "Paystack costs" in page and "Net revenue" in page
    for item in ("Product submissions waiting for review", "Reported products", "Flagged payments",
                 "Emails that could not be delivered", "Newest backup snapshot", "Litestream replica",
                 "Reviews waiting or reported"):
        assert item in page, item


def test_platform_metrics_are_charted_from_samples(console):
    client, edge, ids = console
    sign_in(client, "root@example.com")
    platform_metrics.sample(edge)
    for _ in range(5):
        client.get("/login")
    edge.clock.offset += 60
    platform_metrics.sample(edge)
    [point] = platform_metrics.series(edge, 24)
    assert point["requests_per_s"] > 0 and point["p50_ms"] is not None and point["outbox"] >= 0
    page = client.get("/admin/metrics").text
    assert page.count('class="dd-chart"') == 5 and "data:image/svg+xml;base64," in page
    for title in ("Requests per second", "Latency (milliseconds)", "Server errors", "Webhook lag", "Email queue"):
        assert title in page
    csv = client.get("/admin/metrics?format=csv")
    assert csv.headers["content-type"].startswith("text/csv") and "p95 latency (ms)" in csv.text


def test_the_audit_rows_of_console_actions_exist(console):
    assert {"admin.user_banned", "admin.user_unbanned", "admin.user_verified", "moderation.report_decided"} <= set(
        audit.ACTIONS)


def test_content_edits_keep_every_other_byte():
    text = "---\ntitle: X\n# a comment\nstatus: published\nprice: \"1.00\"\n---\nBody with status: published\n"
    assert content.with_status(text, "withdrawn") == text.replace("status: published\nprice", "status: withdrawn\nprice")
    assert content.with_status("---\ntitle: X\n---\nB\n", "withdrawn") == "---\ntitle: X\nstatus: withdrawn\n---\nB\n"


def test_sessions_helper_is_used(console):
    """`end_all_sessions` also revokes refresh tokens: the ban relies on it."""
    client, edge, ids = console
    assert sessions.end_all_sessions(edge, ids["buyer"]) == 0


# --- the same through the API ---------------------------------------------------------------------

def admin_token(client) -> dict[str, str]:
    r = client.post("/api/auth/token", json={"grant_type": "password", "email": "root@example.com",
                                             "password": PASSWORD})
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def test_the_api_bans_verifies_and_reports(console, site):
    client, edge, ids = console
    auth = admin_token(client)
    found = client.get("/api/admin/users?q=ade", headers=auth).json()["users"]
    assert [u["email"] for u in found] == ["ade@example.com"] and found[0]["banned"] is False
    r = client.post(f"/api/admin/users/{ids['seller']}/ban", json={"reason": ""}, headers=auth)
    assert r.status_code == 422 and "reason" in r.json()["fields"]
    r = client.post(f"/api/admin/users/{ids['seller']}/ban", json={"reason": "Chargebacks"}, headers=auth)
    assert r.status_code == 200 and r.json()["user"]["banned"] is True and "is banned" in r.json()["done"]
    assert seller_meta(site)["suspended"] is True
    r = client.post(f"/api/admin/users/{ids['seller']}/ban", json={"reason": "Again"}, headers=auth)
    assert r.status_code == 409
    r = client.post(f"/api/admin/users/{ids['seller']}/unban", json={"reason": "Resolved"}, headers=auth)
    assert r.json()["user"]["banned"] is False
    r = client.post(f"/api/admin/users/{ids['seller']}/verify", json={}, headers=auth)
    assert r.json()["user"]["verified"] is True
    r = client.post(f"/api/admin/users/{ids['buyer']}/role", json={"role": "seller"}, headers=auth)
    assert r.json()["user"]["role"] == "seller"
    assert client.post(f"/api/admin/users/{ids['buyer']}/explode", json={}, headers=auth).status_code == 404
    detail = client.get(f"/api/admin/users/{ids['seller']}", headers=auth).json()
    assert detail["sellers"] == [SELLER] and any(a["action"] == "admin.user_banned" and
                                                 a["actor"] == "Root Admin <root@example.com>" for a in detail["audit"])
    buyer = dict(edge.db.execute("SELECT * FROM users WHERE id = ?", (ids["buyer"],)).fetchone())
    sell(client, buyer, "lagos-grotesk")
    report = client.get("/api/admin/reports/sales?group=product", headers=auth).json()
    assert report["totals"]["USD"]["gross"] == 2900 and report["rows"][0]["product"] == "lagos-grotesk"
    assert client.get("/api/admin/reports/sales?from=nope", headers=auth).status_code == 422
    sign_in(client, "ade@example.com")
    seller_auth = {"Authorization": "Bearer " + client.post("/api/auth/token", json={
        "grant_type": "password", "email": "ade@example.com", "password": PASSWORD}).json()["access_token"]}
    assert client.get("/api/admin/users", headers=seller_auth).status_code == 403
