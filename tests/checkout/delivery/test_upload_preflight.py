"""Issue #20, the upload form: `POST /seller/products/check` says what the upload would refuse
before a file is sent (the same `validate_fields`, every field at once, each message opening
with the field's label), and a new product is priced in the seller's payout currency."""

from __future__ import annotations

from checkout.delivery import slugs

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checkout.delivery.uploads import TEXT_FIELDS

from .uploading import FIELDS, csrf  # noqa: F401

MIB = 1024 * 1024
GOOD_FILES = [{"field": "files", "name": "harbour-sans.pdf", "size": 120_000},
              {"field": "cover", "name": "cover.png", "size": 20_000}]


def check(client, token: str, fields: dict[str, Any] | None = None, files: list | None = None, **kw):
    body = {"fields": {**FIELDS, **(fields or {})}, "files": GOOD_FILES if files is None else files}
    return client.post("/seller/products/check", json=body,
                       headers={"X-CSRF-Token": token, "Accept": "application/json", **kw.get("headers", {})})


def test_a_good_form_passes_and_nothing_is_stored(seller, helpers):
    client = seller()
    r = check(client, csrf(client, helpers))
    assert r.status_code == 200 and r.json() == {"ok": True}
    assert client.app.state.edge.db.execute("SELECT COUNT(*) FROM submissions").fetchone()[0] == 0


def test_every_field_problem_at_once_named_by_its_label(seller, helpers):
    client = seller()
    r = check(client, csrf(client, helpers), {"price": "20000", "description": "Too short.", "category": "poems",
                                              "title": "", "slug": "Bad Slug"})
    assert r.status_code == 422 and r.json()["code"] == "validation_failed"
    fields = r.json()["fields"]
    assert fields["price"] == "Price: USD prices must be between $2.00 and $10,000.00."
    assert fields["description"] == "Description must be 20 to 20000 characters, got 10."
    assert fields["category"].startswith("Category: unknown category 'poems'")
    assert fields["title"] == "Title is required."
    assert fields["slug"].startswith("Web address (slug): use 3–80 lowercase letters")
    assert all(not m.startswith("body") for m in fields.values())


def test_the_price_range_follows_the_currency(seller, helpers):
    client = seller()
    token = csrf(client, helpers)
    assert check(client, token, {"price": "20000", "currency": "NGN"}).status_code == 200
    r = check(client, token, {"price": "20", "currency": "NGN"})
    assert r.json()["fields"]["price"] == "Price: NGN prices must be between ₦50 and ₦10,000,000."


def test_files_are_checked_by_name_size_and_count_before_they_are_sent(seller, helpers):
    client = seller()
    token = csrf(client, helpers)
    r = check(client, token, files=[{"field": "files", "name": "../guide.pdf", "size": 10},
                                    {"field": "cover", "name": "cover.png", "size": 60 * MIB}])
    fields = r.json()["fields"]
    assert fields["files"].startswith("Product files: the file name “../guide.pdf” must be a plain file name")
    assert fields["cover"] == "Cover image: cover.png is larger than 10 MB."
    r = check(client, token, files=[*GOOD_FILES, *({"field": "images", "name": f"{i}.png", "size": 1} for i in range(11))])
    assert r.json()["fields"] == {"images": "Gallery images: at most 10 images per product."}
    r = check(client, token, files=[])
    assert r.json()["fields"] == {"files": "Product files: add at least one product file.",
                                  "cover": "Cover image: add a cover image."}


def test_an_edit_keeps_its_files_so_none_need_choosing(seller, helpers):
    from .uploading import PDF, multipart, png, post_raw

    client = seller()
    token = csrf(client, helpers)
    assert post_raw(client, multipart(token, [("files", b"a.pdf", PDF), ("cover", b"c.png", png())])).status_code == 201
    assert check(client, token, {"version": "1.1"}, files=[]).status_code == 200
    helpers.make_user(client, "kofi@example.com", role="seller", name="Kofi")  # another seller, same address
    r = check(client, csrf(client, helpers), files=[])
    assert r.json()["fields"]["slug"] == slugs.TAKEN


def test_only_signed_in_sellers_with_the_csrf_token(seller, helpers):
    client = seller()
    assert check(client, "forged").status_code == 403
    helpers.make_user(client, "bea@example.com", role="buyer", name="Bea")
    r = check(client, helpers.csrf_from(client.get("/account").text))
    assert r.status_code == 403 and r.json()["code"] == "not_a_seller"


def test_malformed_bodies_get_a_clear_400(seller, helpers):
    client = seller()
    token = csrf(client, helpers)
    headers = {"X-CSRF-Token": token, "Accept": "application/json", "Content-Type": "application/json"}
    for body, says in ((b"not json", "Send the form as JSON"), (b"[]", "Send the form as JSON"),
                       (b'{"fields": {"price": 12}}', "must be text: Price"),
                       (b'{"files": [{"field": "files", "name": "a.pdf", "size": -1}]}', "Each file must be")):
        r = client.post("/seller/products/check", content=body, headers=headers)
        assert r.status_code == 400 and says in r.json()["message"], (body, r.text)


def test_a_full_length_description_fits_the_route_but_other_forms_stay_small(seller, helpers):
    client = seller()
    token = csrf(client, helpers)
    long = "Ọjà " * 5000  # 20,000 characters, 3 bytes each for the Ọ and à
    r = check(client, token, {"description": long})
    assert r.status_code == 200, r.text
    r = client.post("/seller/preview", data={"description": long}, headers={"X-CSRF-Token": token})
    assert r.status_code == 200  # percent-encoded this is about 150 KB
    r = client.post("/seller/earnings", data={"csrf_token": token, "x": "y" * (70 * 1024)})
    assert r.status_code == 413


field_values = st.dictionaries(st.sampled_from([*TEXT_FIELDS, "unknown"]), st.one_of(st.text(max_size=300), st.integers()),
                               max_size=8)
file_items = st.lists(st.fixed_dictionaries({"field": st.sampled_from(["files", "cover", "images", "other"]),
                                             "name": st.text(max_size=60), "size": st.integers(-1, 2 * 10 ** 9)}),
                      max_size=14)


def test_any_input_gets_a_json_answer_naming_known_fields(seller, helpers):
    from checkout.delivery.uploads import LABELS

    client = seller()
    token = csrf(client, helpers)

    @given(fields=field_values, files=file_items)
    @settings(max_examples=60, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    def run(fields, files):
        r = client.post("/seller/products/check", json={"fields": fields, "files": files},
                        headers={"X-CSRF-Token": token, "Accept": "application/json"})
        assert r.status_code in (200, 400, 422), r.text
        body = r.json()
        if r.status_code == 422:
            for key, message in body["fields"].items():
                assert key in LABELS and message.startswith(LABELS[key]), (key, message)
        elif r.status_code == 400:
            assert body["code"] == "invalid_json" and body["message"]
    run()


def test_a_new_product_is_priced_in_the_sellers_payout_currency(seller, helpers, shop):
    client = seller()
    edge = client.app.state.edge
    page = client.get("/seller/products").text
    assert '<option value="NGN" selected>' in page  # no catalogue seller yet: the first currency
    uid = edge.db.execute("SELECT id FROM users WHERE email = 'sam@example.com'").fetchone()[0]
    edge.db.execute("INSERT INTO seller_accounts (seller_slug, user_id, created_at) VALUES ('ada', ?, ?)",
                    (uid, edge.clock.iso()))  # sells as "ada", whose payout currency is USD
    page = client.get("/seller/products").text
    assert '<option value="USD" selected>' in page and page.count(" selected>") == 1
