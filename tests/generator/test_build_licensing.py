"""Product pages and catalog.json carry issue #18's fields: tax stated per the setting, license
keys and personalised PDFs stated, and the catalogue's fields written only when set."""

from __future__ import annotations

import json
from pathlib import Path

from generator.build import build


def test_product_pages_state_tax_keys_and_stamping(content: Path, tmp_path: Path, kit):
    kit.write_product(content, "keyed-font", license_keys="true", license_activations="3", stamp_pdfs="true")
    out = kit.build_to(content, tmp_path / "out")
    page = (out / "products" / "keyed-font" / "index.html").read_text()
    assert "Plus tax for your country, added at checkout." in page
    assert "Included, for up to 3 activations" in page and "Personalised with your email address" in page
    catalog = json.loads((out / "catalog.json").read_text())["products"]
    assert (catalog["keyed-font"]["license_keys"], catalog["keyed-font"]["license_activations"],
            catalog["keyed-font"]["stamp_pdfs"]) == (True, 3, True)
    plain = [p for slug, p in catalog.items() if slug != "keyed-font"]
    assert plain and all("license_keys" not in p and "stamp_pdfs" not in p for p in plain)


def test_prices_including_tax_are_stated(content: Path, tmp_path: Path, kit):
    root = Path(__file__).resolve().parents[2]
    out = build(tmp_path / "out", root / "pelicanconf.py",
                overrides={"PATH": str(content), "THEME": str(root / "digitaldock" / "theme"),
                           "PLUGIN_PATHS": [str(root)], "PRICES_INCLUDE_TAX": "true"})
    pages = list((out / "products").glob("*/index.html"))
    assert pages and all("Price includes tax." in p.read_text() for p in pages)
