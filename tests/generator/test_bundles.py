"""A bundle on the static side (issue #17): catalog.json tells the edge its products, its page
lists them by title (and follows a member's new title on an incremental rebuild), and a bundle
of another seller's product stops the build with the file and field named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


def test_a_bundle_is_listed_with_its_products(content: Path, tmp_path: Path, kit):
    kit.write_product(content, "guide-pack", bundle=["first-guide", "second-font"], price='"25.00"')
    out = kit.build_to(content, tmp_path / "out")
    catalog = json.loads((out / "catalog.json").read_text())
    assert catalog["products"]["guide-pack"]["bundle"] == ["first-guide", "second-font"]
    assert "bundle" not in catalog["products"]["first-guide"]
    page = (out / "products/guide-pack/index.html").read_text()
    assert "A bundle of 2 products" in page and ">First Guide</a>" in page and ">Second Font</a>" in page
    kit.write_product(content, "second-font", category="fonts", price='"20.00"', published="2026-04-01",
                      tags=["type"], title="Second Font Pro")
    again = kit.build_to(content, tmp_path / "out")
    assert ">Second Font Pro</a>" in (again / "products/guide-pack/index.html").read_text()


def test_a_bundle_of_another_sellers_product_is_refused(content: Path, tmp_path: Path, kit):
    (content / "sellers" / "other-seller.md").write_text(
        (content / "sellers" / "test-seller.md").read_text().replace("Test Seller", "Other Seller"), encoding="utf-8")
    kit.write_product(content, "their-font", seller="other-seller")
    kit.write_product(content, "mixed-pack", bundle=["first-guide", "their-font"])
    from digitaldock.schema import ContentError
    with pytest.raises(ContentError) as info:
        kit.build_to(content, tmp_path / "out")
    assert "mixed-pack.md" in str(info.value) and "bundle[1]" in str(info.value) and "other-seller's" in str(info.value)


def test_often_bought_together_comes_from_together_yml(content: Path, tmp_path: Path, kit):
    (content / "together.yml").write_text("first-guide: [second-font, draft-thing, naira-pack]\n", encoding="utf-8")
    out = kit.build_to(content, tmp_path / "out")
    page = (out / "products/first-guide/index.html").read_text()
    block = page.split("Often bought together", 1)[1].split("</ul>", 1)[0]
    assert ">Second Font</a>" in block and ">Naira Pack</a>" in block and "Draft" not in block  # only public ones
    assert "Often bought together" not in (out / "products/second-font/index.html").read_text()
    (content / "together.yml").write_text("first-guide: [no-such-product]\n", encoding="utf-8")
    from digitaldock.schema import ContentError
    with pytest.raises(ContentError) as info:
        kit.build_to(content, tmp_path / "out2")
    assert "together.yml" in str(info.value) and "'no-such-product' does not exist" in str(info.value)
