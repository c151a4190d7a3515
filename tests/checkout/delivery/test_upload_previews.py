"""A seller attaches a preview on the upload form (#15): it is type-checked and scanned like
every upload, stored beside the product files, and approval writes it as the product's public
`preview`; a paid file cannot be its own preview, and a second one is refused."""

from __future__ import annotations

import json

from digitaldock import schema

from . import test_approval
from . import test_uploads as uploads_tests
from .test_approval import decide
from .uploading import FIELDS, PDF, csrf

submitted = test_approval.submitted  # the approval tests' fixture: a seller's pending submission

WAV = b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x10\x00\x00\x00\x01\x00\x01\x00\x40\x1f\x00\x00\x80\x3e\x00\x00" \
      b"\x02\x00\x10\x00data\x00\x00\x00\x00"


def with_preview(data=WAV, name="sample.wav"):
    return [*uploads_tests.good_files(), ("sample", (name, data, "audio/wav"))]


def test_an_uploaded_preview_is_approved_into_the_products_front_matter(submitted, helpers, make_client):
    client, edge, sub_id, content = submitted()
    helpers.sign_in(client, "sam@example.com")
    r = uploads_tests.post(client, helpers, with_preview())
    assert r.status_code == 303, r.text
    files = json.loads(edge.db.execute("SELECT files FROM submissions").fetchone()[0])
    assert [f.get("role") for f in files] == [None, "preview"]
    helpers.sign_in(client, "admin@example.com")
    assert decide(client, helpers, sub_id, "approve").status_code == 303
    text = (content / "products" / "harbour-sans.md").read_text()
    product, problems = schema.parse_product("products/harbour-sans.md", text, ["fonts"], {"sam-seller"})
    assert problems == [] and product.preview.name == "sample.wav" and [f.name for f in product.files] == [
        "harbour-sans.pdf"]
    assert (content / "storage" / product.preview.key).read_bytes() == WAV


def test_a_preview_of_a_kind_no_page_shows_is_refused_and_quarantined(seller, helpers):
    client = seller()
    zipped = b"PK\x03\x04" + b"\0" * 100
    r = uploads_tests.post(client, helpers, with_preview(zipped, "bundle.zip"))
    assert r.status_code == 422 and "Preview" in r.text
    assert client.app.state.edge.db.execute("SELECT COUNT(*) FROM submissions").fetchone()[0] == 0


def test_the_paid_file_cannot_be_its_own_preview_and_one_preview_only(seller, helpers):
    client = seller()
    r = uploads_tests.post(client, helpers, with_preview(PDF, "harbour-sans.pdf"))
    assert r.status_code == 422 and "never the paid file" in r.text
    two = [*with_preview(), ("sample", ("other.wav", WAV + b"x", "audio/wav"))]
    r = uploads_tests.post(client, helpers, two)
    assert r.status_code == 422 and "one preview only" in r.text
    check = client.post("/seller/products/check", json={"fields": FIELDS, "files": [
        {"field": "files", "name": "a.pdf", "size": 10}, {"field": "cover", "name": "c.png", "size": 10},
        {"field": "sample", "name": "a.wav", "size": 10}, {"field": "sample", "name": "b.wav", "size": 10}]},
        headers={"X-CSRF-Token": csrf(client, helpers)})
    assert check.status_code == 422 and "one preview only" in check.json()["fields"]["sample"]
