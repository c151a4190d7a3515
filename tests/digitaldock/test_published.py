"""catalog.json as types: what the generator writes, the edge reads back exactly, and an entry
without the published shape is refused with the field named."""

from __future__ import annotations

import json

import pytest

from digitaldock.money import Money
from digitaldock.published import PublishedError, PublishedFile, PublishedProduct

ENTRY = {"title": "Lagos Grotesk", "seller": "ada", "category": "fonts", "price": 500000, "currency": "NGN",
         "pwyw_minimum": None, "version": "1.0", "license": "personal", "url": "/products/lagos-grotesk/",
         "cover": "/images/c.png", "files": [{"name": "font.zip", "size": 10, "sha256": "ab" * 32, "key": "k"}]}


def test_an_entry_reads_as_money_and_writes_back_the_same():
    product = PublishedProduct.from_json("lagos-grotesk", ENTRY)
    assert product.price == Money("NGN", 500000) and product.pwyw_minimum is None
    assert product.files == (PublishedFile("font.zip", 10, "ab" * 32, "k"),)
    assert product.to_json() == ENTRY
    assert product.file("ab" * 32).name == "font.zip" and product.file("cd" * 32) is None


@pytest.mark.parametrize(("change", "field"), [
    ({"price": "5000.00"}, "price"), ({"price": True}, "price"), ({"currency": "EUR"}, "price"),
    ({"currency": 5}, "currency"), ({"title": None}, "title"), ({"files": "font.zip"}, "files"),
    ({"files": [{"name": "x"}]}, "size"), ({"pwyw_minimum": "1"}, "pwyw_minimum"),
])
def test_an_entry_without_the_published_shape_is_refused_naming_the_field(change, field):
    with pytest.raises(PublishedError, match=field):
        PublishedProduct.from_json("p", {**ENTRY, **change})


def test_a_built_catalogue_reads_back_whole(tmp_path, repo_root):
    from generator.build import build

    out = build(tmp_path / "site", None, {"PATH": str(repo_root / "content")})
    data = json.loads((out / "catalog.json").read_text())
    products = {slug: PublishedProduct.from_json(slug, entry) for slug, entry in data["products"].items()}
    assert products and all(p.to_json() == data["products"][slug] for slug, p in products.items())
