"""A product slug belongs to the seller who first used it, forever: another seller's upload or
approval of a slug seen in the catalogue (withdrawn products included), in a content file, in
another user's submissions or in sales is refused with a field error on `slug`."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checkout.core.errors import ValidationFailed
from checkout.delivery import approval, slugs

from .test_uploads import FIELDS, good_files, post


@pytest.fixture
def sellers(make_client, shop, helpers, tmp_path):
    """An edge with an admin and two seller accounts (Sam and Bea); Sam is signed in."""
    content = tmp_path / "content"
    content.mkdir(exist_ok=True)
    (content / "categories.yml").write_text("- slug: fonts\n  name: Fonts\n")
    (content / "sellers").mkdir(exist_ok=True)

    def make(**settings_):
        client = make_client(**{"REBUILD_ON_APPROVAL": False, "LOGIN_FAILURES": 100, **settings_})
        edge = client.app.state.edge
        edge.catalog.current()  # loaded and recorded, as on the first request
        ids = {}
        for email, role, name in (("admin@example.com", "admin", "Ada Admin"), ("bea@example.com", "seller", "Bea Seller"),
                                  ("sam@example.com", "seller", "Sam Seller")):
            ids[email.split("@")[0]] = helpers.make_user(client, email, role=role, name=name)
        return client, edge, ids
    return make


def upload(client, helpers, slug: str):
    return post(client, helpers, good_files(), {"slug": slug}, json_=True)


def refused(r) -> bool:
    return r.status_code == 422 and r.json()["fields"]["slug"] == slugs.TAKEN


def decide(client, helpers, sub_id):
    page = client.get("/account")
    return client.post(f"/admin/submissions/{sub_id}/approve", data={"csrf_token": helpers.csrf_from(page.text)})


def test_a_withdrawn_products_slug_is_not_given_to_another_seller(sellers, shop, helpers):
    client, edge, ids = sellers()
    shop.products.pop("budget-planner")  # ada's product leaves the catalogue
    shop.write()
    edge.catalog.current()
    r = upload(client, helpers, "budget-planner")
    assert refused(r), r.text
    assert edge.db.execute("SELECT COUNT(*) FROM submissions").fetchone()[0] == 0
    page = post(client, helpers, good_files(), {"slug": "budget-planner"})  # the form without JavaScript
    assert page.status_code == 422 and "belongs to another seller" in page.text


def test_a_slug_sold_under_another_seller_is_refused(sellers, helpers):
    client, edge, ids = sellers()
    buyer = helpers.make_user(client, "buyer@example.com")
    helpers.buy(edge, buyer, "old-type", seller="kofi")  # sold before the edge recorded catalogues
    helpers.sign_in(client, "sam@example.com")
    assert refused(upload(client, helpers, "old-type"))


def test_a_slug_whose_content_file_names_another_seller_is_refused(sellers, helpers, tmp_path):
    client, edge, ids = sellers()
    (tmp_path / "content" / "products").mkdir(exist_ok=True)
    (tmp_path / "content" / "products" / "pr-font.md").write_text("---\ntitle: PR Font\nseller: kofi\n---\nFrom git.\n")
    assert refused(upload(client, helpers, "pr-font"))


def test_another_users_draft_reserves_its_slug(sellers, helpers):
    client, edge, ids = sellers()
    helpers.sign_in(client, "bea@example.com")
    r = post(client, helpers, good_files(), {"action": "draft"}, json_=True)
    assert r.status_code == 201
    helpers.sign_in(client, "sam@example.com")
    assert refused(upload(client, helpers, FIELDS["slug"]))


def test_approval_refuses_a_slug_that_reached_the_catalogue_under_another_seller(sellers, shop, helpers, tmp_path):
    client, edge, ids = sellers()
    assert upload(client, helpers, "harbour-sans").status_code == 201
    shop.add_product("harbour-sans", [("hs.pdf", helpers.PDF + b"ada")], seller="ada")  # ada's pull request, merged
    edge.catalog.current()
    helpers.sign_in(client, "admin@example.com")
    sub_id = edge.db.execute("SELECT id FROM submissions").fetchone()[0]
    r = decide(client, helpers, sub_id)
    assert r.status_code == 303 and "belongs to another seller" in client.get(r.headers["location"]).text
    assert edge.db.execute("SELECT status FROM submissions").fetchone()[0] == "pending"
    assert not (tmp_path / "content" / "products" / "harbour-sans.md").exists()
    with pytest.raises(ValidationFailed) as exc:
        approval.approve(edge, sub_id, {"id": ids["admin"]})
    assert exc.value.fields == {"slug": slugs.TAKEN}


def test_a_seller_takes_their_own_withdrawn_product_back(sellers, shop, helpers):
    client, edge, ids = sellers()
    assert upload(client, helpers, "harbour-sans").status_code == 201
    helpers.sign_in(client, "admin@example.com")
    decide(client, helpers, edge.db.execute("SELECT id FROM submissions").fetchone()[0])
    shop.add_product("harbour-sans", [("hs.pdf", helpers.PDF + b"sam")], seller="sam-seller")
    edge.catalog.current()
    shop.products.pop("harbour-sans")
    shop.write()
    edge.catalog.current()
    row = edge.db.execute("SELECT seller, removed_at FROM catalog_products WHERE product_slug = 'harbour-sans'").fetchone()
    assert row["seller"] == "sam-seller" and row["removed_at"]
    helpers.sign_in(client, "sam@example.com")
    assert upload(client, helpers, "harbour-sans").status_code == 201
    helpers.sign_in(client, "bea@example.com")
    assert refused(upload(client, helpers, "harbour-sans"))


def test_a_withdrawn_product_of_an_unrecorded_seller_is_refused(sellers, helpers):
    client, edge, ids = sellers()
    edge.db.execute("INSERT INTO catalog_products (product_slug, first_seen_at, last_seen_at, removed_at)"
                    " VALUES ('old-zine', '2026-01-01', '2026-01-02', '2026-01-03')")
    assert refused(upload(client, helpers, "old-zine"))


def test_the_first_seller_keeps_the_slug_when_the_catalogue_lists_it_under_another(sellers, shop, helpers):
    client, edge, ids = sellers()
    shop.products["budget-planner"]["seller"] = "kofi"
    shop.write()
    edge.catalog.current()
    assert edge.db.execute("SELECT seller FROM catalog_products WHERE product_slug = 'budget-planner'").fetchone()[0] == "ada"


def test_a_new_seller_never_gets_a_departed_sellers_slug(sellers, helpers):
    client, edge, ids = sellers()
    buyer = helpers.make_user(client, "buyer@example.com")
    helpers.buy(edge, buyer, "budget-planner", seller="sam-seller")  # a former seller named Sam, file since removed
    slug, files = approval.seller_for(edge, ids["sam"], "Sam Seller", "USD")
    assert slug == "sam-seller-2" and "sellers/sam-seller-2.md" in files


_fresh = (f"prop-{n}" for n in itertools.count())
OWNER = st.sampled_from(["none", "me", "other"])


def test_a_slug_is_free_exactly_when_no_one_else_used_it(sellers, helpers, tmp_path):
    client, edge, ids = sellers()
    buyer = helpers.make_user(client, "buyer@example.com")
    me, other = ids["sam"], ids["bea"]
    products = tmp_path / "content" / "products"
    products.mkdir(exist_ok=True)

    @settings(max_examples=60, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(submission=OWNER, listed=st.sampled_from(["none", "me", "other", "unknown"]), sold=OWNER, content=OWNER)
    def check(submission, listed, sold, content):
        slug = next(_fresh)
        seller = {"me": "sam-seller", "other": "bea-seller"}
        if submission != "none":
            edge.db.execute("INSERT INTO submissions (user_id, product_slug, status, created_at, updated_at)"
                            " VALUES (?,?, 'draft', '2026-01-01', '2026-01-01')",
                            (me if submission == "me" else other, slug))
        if listed != "none":
            edge.db.execute("INSERT INTO catalog_products (product_slug, first_seen_at, last_seen_at, removed_at, seller)"
                            " VALUES (?, '2026-01-01', '2026-01-01', '2026-01-02', ?)", (slug, seller.get(listed)))
        if sold != "none":
            helpers.buy(edge, buyer, slug, seller=seller[sold])
        if content != "none":
            (products / f"{slug}.md").write_text(f"---\nseller: {seller[content]}\n---\n")
        uses = (submission, listed, sold, content)
        mine = "me" in uses
        expect_refused = "other" in uses or ("unknown" in uses and not mine)
        try:
            slugs.check_free_for(edge, slug, me, "sam-seller")
        except ValidationFailed as exc:
            assert expect_refused and exc.fields == {"slug": slugs.TAKEN}
        else:
            assert not expect_refused

    check()


def test_any_slug_text_is_either_free_or_a_field_error(make_client):
    edge = make_client().app.state.edge

    @settings(max_examples=60, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(slug=st.text(max_size=100))
    def check(slug):
        try:
            slugs.check_free_for(edge, slug, 1, None)
        except ValidationFailed as exc:
            assert set(exc.fields) == {"slug"}

    check()
