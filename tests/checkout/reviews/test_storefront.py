"""From a paid purchase to the static page: a buyer reviews through the HTML form, a moderator
approves, the edge exports its stats and rebuilds the storefront through the approval path,
and the product page and its JSON-LD show the review. No rating anywhere comes from elsewhere."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from checkout.reviews import export, invites
from digitaldock.stats import load_stats

from ...generator.conftest import build_to, make_content
from ..conftest import csrf_from, outbox_rows
from .helpers import admin_token, buy, edge_of, sign_in


@pytest.fixture
def store(tmp_path: Path, make_client, sandbox):
    """A real content tree built once; the edge sells from its catalog.json and rebuilds it."""
    content = make_content(tmp_path / "site")
    (content / "stats.json").unlink()  # the fixture's sample numbers: only real records from here on
    output = build_to(content, tmp_path / "site" / "output")
    client = make_client(CATALOG_PATH=str(output / "catalog.json"), CONTENT_DIR=str(content),
                         PAYSTACK_BASE_URL=sandbox.url, PAYSTACK_RETRIES=1, REBUILD_ON_APPROVAL=True)
    return client, content, output


def _jsonld(html: str) -> dict:
    return json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S).group(1))


def test_a_paid_buyers_review_is_moderated_exported_rebuilt_and_shown(store, sandbox):
    shop, content, output = store
    page = (output / "products/first-guide/index.html").read_text()
    assert "No reviews yet." in page and "aggregateRating" not in page
    buy(shop, sandbox, "ann@example.com", "first-guide")
    assert 'href="/reviews/first-guide#write"' in shop.get("/library").text  # the library invites a review
    form = shop.get("/reviews/first-guide")
    assert "Publish the review" in form.text
    r = shop.post("/reviews/first-guide", data={"csrf_token": csrf_from(form.text), "rating": "4",
                                                "title": "Worth it", "body": "See www.example.com for *more*"})
    assert r.status_code == 303
    assert "waits for a moderator" in shop.get(r.headers["location"]).text
    export.publish(edge_of(shop))
    assert "aggregateRating" not in (output / "products/first-guide/index.html").read_text()  # held: not shown
    admin_token(shop)
    review_id = edge_of(shop).db.execute("SELECT id FROM reviews").fetchone()[0]
    page = shop.get(f"/admin/reviews/{review_id}")
    assert "the text contains a link" in page.text
    r = shop.post(f"/admin/reviews/{review_id}/approve", data={"csrf_token": csrf_from(page.text)})
    assert r.status_code == 303
    changed, problem = export.publish(edge_of(shop))
    assert changed and problem is None
    html = (output / "products/first-guide/index.html").read_text()
    assert "Worth it" in html and "4.0 out of 5" in html and "from 1 verified buyer" in html
    data = _jsonld(html)
    assert data["aggregateRating"]["ratingValue"] == "4.0" and data["aggregateRating"]["reviewCount"] == 1
    assert data["review"][0]["reviewRating"]["ratingValue"] == "4" and data["review"][0]["author"]["name"] == "Ann"
    assert "ann@example.com" not in html
    card = (output / "index.html").read_text()
    assert 'aria-label="Rated 4.0 out of 5 by 1 buyers"' in card
    # popularity: the sale counts, and only this product has stars
    stats = load_stats(content / "stats.json")
    assert stats.sold("first-guide") == 1 and stats.rating("second-font") is None
    assert "aggregateRating" not in (output / "products/second-font/index.html").read_text()
    # nothing moved: no rewrite, no rebuild
    assert export.publish(edge_of(shop)) == (False, None)


def test_the_running_edge_exports_and_rebuilds_by_itself(tmp_path: Path, make_client, sandbox):
    content = make_content(tmp_path / "site")
    (content / "stats.json").unlink()
    output = build_to(content, tmp_path / "site" / "output")
    shop = make_client(CATALOG_PATH=str(output / "catalog.json"), CONTENT_DIR=str(content),
                       PAYSTACK_BASE_URL=sandbox.url, PAYSTACK_RETRIES=1, REVIEWS_EXPORT_SECONDS=3600,
                       REVIEW_MODERATION="none")
    buy(shop, sandbox, "ann@example.com", "first-guide")
    form = shop.get("/reviews/first-guide")
    shop.post("/reviews/first-guide", data={"csrf_token": csrf_from(form.text), "rating": "5", "title": "Great"})
    page = output / "products/first-guide/index.html"
    for _ in range(120):  # the exporter wakes at once; the rebuild takes a few seconds
        if "5.0 out of 5" in page.read_text():
            break
        time.sleep(0.25)
    assert "5.0 out of 5" in page.read_text()


def test_invitations_go_once_after_a_few_days_and_unsubscribe_is_honoured(shop, sandbox):
    edge = edge_of(shop)
    buy(shop, sandbox, "ann@example.com", "lagos-grotesk")
    buy(shop, sandbox, "bob@example.com", "lagos-grotesk")
    assert invites.send_invitations(edge, edge.clock()) == {"review invitations": 0}  # too soon
    edge.clock.advance(3 * 86400 + 60)
    assert invites.send_invitations(edge, edge.clock()) == {"review invitations": 2}
    assert invites.send_invitations(edge, edge.clock()) == {"review invitations": 0}  # once
    mail = outbox_rows(shop, "review_invite")
    assert len(mail) == 2 and "/reviews/lagos-grotesk#write" in mail[0]["text_body"]
    link = re.search(r"/email/unsubscribe\?t=\S+", mail[0]["text_body"]).group(0)
    assert "no more invitations to review" in shop.get(link).text
    assert shop.get("/email/unsubscribe?t=forged").status_code == 400
    buy(shop, sandbox, "ann@example.com", "kente-template")
    edge.clock.advance(3 * 86400 + 60)
    assert invites.send_invitations(edge, edge.clock()) == {"review invitations": 0}  # ann unsubscribed


def test_report_reply_and_hide_with_a_reason(shop, sandbox):
    from checkout.payments import payouts

    edge = edge_of(shop)
    buy(shop, sandbox, "ann@example.com", "lagos-grotesk")
    form = shop.get("/reviews/lagos-grotesk")
    shop.post("/reviews/lagos-grotesk", data={"csrf_token": csrf_from(form.text), "rating": "2", "body": "Meh"})
    review_id = edge.db.execute("SELECT id FROM reviews").fetchone()[0]
    # any signed-in account reports it
    sign_in(shop, "carl@example.com")
    page = shop.get("/reviews/lagos-grotesk")
    r = shop.post(f"/reviews/r/{review_id}/report", data={"csrf_token": csrf_from(page.text), "reason": "Rude"})
    assert r.status_code == 303
    # the seller replies once; another account cannot
    r = shop.post(f"/reviews/r/{review_id}/reply", data={"csrf_token": csrf_from(page.text), "reply": "Sorry!"})
    assert "Only the seller" in shop.get(r.headers["location"]).text
    seller = sign_in(shop, "ada@example.com", role="seller")
    payouts.link_seller(edge, seller["id"], "ada")
    page = shop.get("/reviews/lagos-grotesk")
    assert "Reply as the seller" in page.text
    shop.post(f"/reviews/r/{review_id}/reply", data={"csrf_token": csrf_from(page.text), "reply": "Sorry to hear it"})
    r = shop.post(f"/reviews/r/{review_id}/reply", data={"csrf_token": csrf_from(page.text), "reply": "Again"})
    assert "already has the seller" in shop.get(r.headers["location"]).text
    assert "Sorry to hear it" in shop.get("/reviews/lagos-grotesk").text
    # the admin sees the report and hides the review with a reason
    admin_token(shop)
    assert "reported 1×" in shop.get("/admin/moderation").text
    page = shop.get(f"/admin/reviews/{review_id}")
    assert "Rude" in page.text
    r = shop.post(f"/admin/reviews/{review_id}/hide", data={"csrf_token": csrf_from(page.text), "reason": ""})
    assert "3 to 2,000" in shop.get(r.headers["location"]).text
    shop.post(f"/admin/reviews/{review_id}/hide", data={"csrf_token": csrf_from(page.text), "reason": "Abusive"})
    assert edge.db.execute("SELECT status FROM reviews").fetchone()[0] == "hidden"
    assert "Abusive" in outbox_rows(shop, "review_hidden")[0]["text_body"]
    assert "Meh" not in shop.get("/reviews/lagos-grotesk").text
