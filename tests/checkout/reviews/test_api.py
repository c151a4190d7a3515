"""The seed's five review endpoints through the real edge: who may write, edit, delete and
approve; pagination and sorts; refunds; hostile text; the OpenAPI document."""

from __future__ import annotations

from ...generator.test_build import XSS
from .helpers import admin_token, buy, edge_of, refund, sign_in, token


def test_a_buyer_reviews_edits_and_deletes_and_nobody_else_can(shop, sandbox):
    buy(shop, sandbox, "ann@example.com", "lagos-grotesk")
    ann = token(shop, "ann@example.com")
    r = shop.post("/api/reviews", headers=ann, json={"product": "lagos-grotesk", "rating": 5, "title": "Lovely",
                                                     "body": "Crisp at *every* size."})
    assert r.status_code == 201, r.text
    review = r.json()
    assert (review["status"], review["rating"], review["author"]) == ("approved", 5, "Ann")
    assert "email" not in review and "ann@example.com" not in r.text
    again = shop.post("/api/reviews", headers=ann, json={"product": "lagos-grotesk", "rating": 4})
    assert again.status_code == 409 and again.json()["code"] == "already_reviewed"
    # another buyer cannot touch it, a non-buyer cannot write one
    sign_in(shop, "bob@example.com")
    bob = token(shop, "bob@example.com")
    r = shop.post("/api/reviews", headers=bob, json={"product": "lagos-grotesk", "rating": 1, "body": "bad"})
    assert r.status_code == 403 and r.json()["code"] == "not_a_buyer"
    assert shop.put(f"/api/reviews/{review['id']}", headers=bob, json={"rating": 1}).status_code == 403
    assert shop.delete(f"/api/reviews/{review['id']}", headers=bob).status_code == 403
    assert edge_of(shop).db.execute("SELECT COUNT(*) FROM reviews").fetchone()[0] == 1
    # the author edits, then deletes
    r = shop.put(f"/api/reviews/{review['id']}", headers=ann, json={"rating": 4, "title": "Good", "body": "Fine."})
    assert r.status_code == 200 and r.json()["rating"] == 4
    listed = shop.get("/api/reviews/product/lagos-grotesk").json()
    assert listed["aggregate"] == {"count": 1, "average": "4.0", "histogram": [0, 0, 0, 1, 0]}
    assert shop.delete(f"/api/reviews/{review['id']}", headers=ann).status_code == 204
    assert shop.get("/api/reviews/product/lagos-grotesk").json()["total"] == 0


def test_links_and_young_accounts_are_held_until_an_admin_approves(shop, sandbox):
    buy(shop, sandbox, "new@example.com", "lagos-grotesk", age_days=0)
    new = token(shop, "new@example.com")
    r = shop.post("/api/reviews", headers=new, json={"product": "lagos-grotesk", "rating": 2, "body": "meh"})
    assert r.json()["status"] == "pending" and "younger than a day" in r.json()["held_reason"]
    buy(shop, sandbox, "old@example.com", "lagos-grotesk")
    old = token(shop, "old@example.com")
    r2 = shop.post("/api/reviews", headers=old, json={"product": "lagos-grotesk", "rating": 5,
                                                      "body": "Buy cheap fonts at http://spam.example"})
    assert r2.json()["status"] == "pending" and "link" in r2.json()["held_reason"]
    assert shop.get("/api/reviews/product/lagos-grotesk").json()["total"] == 0
    # the buyer may not approve; an admin may
    assert shop.post(f"/api/reviews/{r.json()['id']}/approve", headers=old).status_code == 403
    admin = admin_token(shop)
    assert "review #" in shop.get("/admin/moderation").text  # the moderation queue lists both
    r = shop.post(f"/api/reviews/{r.json()['id']}/approve", headers=admin)
    assert r.status_code == 200 and r.json()["status"] == "approved"
    r = shop.post(f"/api/reviews/{r2.json()['id']}/hide", headers=admin, json={"reason": "Spam link"})
    assert r.json()["status"] == "hidden"
    audit = [a for a in edge_of(shop).db.execute("SELECT action, detail FROM audit_log WHERE action LIKE 'review.%'")]
    assert ("review.hidden" in [a[0] for a in audit]) and any("Spam link" in (a[1] or "") for a in audit)
    listed = shop.get("/api/reviews/product/lagos-grotesk").json()
    assert [x["rating"] for x in listed["reviews"]] == [2]


def test_a_refund_takes_the_review_out_of_the_aggregate(shop, sandbox):
    buy(shop, sandbox, "ann@example.com", "lagos-grotesk")
    r = shop.post("/api/reviews", headers=token(shop, "ann@example.com"),
                  json={"product": "lagos-grotesk", "rating": 1, "body": "Broken"})
    assert r.status_code == 201
    assert shop.get("/api/reviews/product/lagos-grotesk").json()["aggregate"]["count"] == 1
    refund(shop, sandbox, "ann@example.com", "lagos-grotesk")
    listed = shop.get("/api/reviews/product/lagos-grotesk").json()
    assert listed["aggregate"]["count"] == 0 and listed["reviews"] == []
    # and a refunded buyer cannot edit or write one
    r = shop.put(f"/api/reviews/{r.json()['id']}", headers=token(shop, "ann@example.com"), json={"rating": 5})
    assert r.status_code == 403 and r.json()["code"] == "not_a_buyer"


def test_listing_paginates_and_sorts(shop, sandbox):
    for i, rating in enumerate([3, 5, 1]):
        buy(shop, sandbox, f"b{i}@example.com", "lagos-grotesk")
        shop.post("/api/reviews", headers=token(shop, f"b{i}@example.com"),
                  json={"product": "lagos-grotesk", "rating": rating, "title": f"r{i}"})
        edge_of(shop).clock.advance(60)
    base = "/api/reviews/product/lagos-grotesk"
    assert [x["rating"] for x in shop.get(base + "?sort=highest").json()["reviews"]] == [5, 3, 1]
    assert [x["rating"] for x in shop.get(base + "?sort=lowest").json()["reviews"]] == [1, 3, 5]
    assert [x["title"] for x in shop.get(base).json()["reviews"]] == ["r2", "r1", "r0"]
    page2 = shop.get(base + "?per_page=2&page=2").json()
    assert page2["total"] == 3 and [x["title"] for x in page2["reviews"]] == ["r0"]
    # most helpful: one vote for r0
    sign_in(shop, "voter@example.com")
    first = shop.get(base + "?sort=lowest").json()["reviews"][-1]
    page = shop.get("/reviews/lagos-grotesk")
    from ..conftest import csrf_from
    shop.post(f"/reviews/r/{first['id']}/helpful", data={"csrf_token": csrf_from(page.text)})
    assert shop.get(base + "?sort=helpful").json()["reviews"][0]["id"] == first["id"]
    bad = shop.get(base + "?sort=random")
    assert bad.status_code == 422 and "sort" in bad.json()["fields"]
    assert shop.get("/api/reviews/product/no-such-thing").status_code == 404


def test_hostile_text_is_stored_as_text_and_never_runs(shop, sandbox):
    buy(shop, sandbox, "ann@example.com", "lagos-grotesk")
    body = "Fine font.\n\n" + "\n\n".join(XSS)
    r = shop.post("/api/reviews", headers=token(shop, "ann@example.com"),
                  json={"product": "lagos-grotesk", "rating": 4, "title": "<b>x</b>", "body": body})
    assert r.status_code == 201
    admin = admin_token(shop)
    shop.post(f"/api/reviews/{r.json()['id']}/approve", headers=admin)
    html = shop.get("/reviews/lagos-grotesk").text.lower()
    section = html.split('<div class="review-body">', 1)[1].split("</div>", 1)[0]
    section += html.split('class="review-title">', 1)[1].split("</strong>", 1)[0]
    assert "fine font." in section
    for needle in ("<script", "onerror", "=\"javascript:", "<iframe", "onload", "<object", "onclick",
                   "<form", "style=", "<svg", "<b>x</b>"):
        assert needle not in section, needle
    bad = shop.post("/api/reviews", headers=token(shop, "ann@example.com"),
                    json={"product": "lagos-grotesk", "rating": 9, "title": "a\x00b", "body": "x" * 6000})
    assert bad.status_code == 422 and set(bad.json()["fields"]) == {"rating", "title", "body"}


def test_the_openapi_document_lists_the_review_endpoints(shop):
    paths = shop.get("/api/openapi.json").json()["paths"]
    assert {"/api/reviews", "/api/reviews/product/{product}", "/api/reviews/{review_id}",
            "/api/reviews/{review_id}/approve"} <= set(paths)
    assert {"put", "delete"} <= set(paths["/api/reviews/{review_id}"])
