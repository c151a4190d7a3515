"""The upload form asks for license keys and stamped PDFs (issue #18), and a bad activation
count is refused naming its field, with nothing stored."""

from __future__ import annotations

import json

from checkout.delivery.uploads import render_product
from digitaldock.schema import parse_product

from .uploading import FIELDS, PDF, csrf, png


def post(client, helpers, fields):
    files = [("files", ("harbour-sans.pdf", PDF, "application/pdf")), ("cover", ("cover.png", png(), "image/png"))]
    return client.post("/seller/products", data={"csrf_token": csrf(client, helpers), **FIELDS, **fields}, files=files,
                       headers={"Accept": "application/json"})


def test_the_form_sets_keys_activations_and_stamping(seller, helpers):
    client = seller()
    page = client.get("/seller/products")
    assert 'name="license_keys"' in page.text and 'name="stamp_pdfs"' in page.text
    r = post(client, helpers, {"license_keys": "on", "license_activations": "3", "stamp_pdfs": "on"})
    assert r.status_code == 201, r.text
    sub = client.app.state.edge.db.execute("SELECT fields FROM submissions").fetchone()[0]
    fields = json.loads(sub)
    assert (fields["license_keys"], fields["license_activations"], fields["stamp_pdfs"]) == ("on", "3", "on")
    text = render_product({**FIELDS, **fields}, "sam", [], [{"role": "cover", "path": "images/c.png"}], "2026-12-01")
    assert "license_keys: true\nlicense_activations: 3\nstamp_pdfs: true\n" in text
    product, problems = parse_product("content/products/harbour-sans.md", text.replace("files: []", "files:\n"
                                      "  - {name: a.pdf, size: 1, sha256: " + "a" * 64 + ", key: sha256/aa/" + "a" * 64 + "}"))
    assert [p.field for p in problems if p.field.startswith(("license", "stamp"))] == []


def test_a_bad_activation_count_is_refused_by_name(seller, helpers):
    client = seller()
    for value in ("lots", "0", "99999999999", "٣"):
        r = post(client, helpers, {"license_keys": "on", "license_activations": value})
        assert r.status_code == 422 and "license_activations" in r.json()["fields"], (value, r.text)
    r = post(client, helpers, {"license_activations": "2"})
    assert r.status_code == 422 and "license_activations" in r.json()["fields"]
    assert client.app.state.edge.db.execute("SELECT COUNT(*) FROM submissions").fetchone()[0] == 0
