"""`digitaldock validate` checks issue #18's content: the tax rates file and the products'
license and stamping fields, naming the file, the line and the field."""

from __future__ import annotations

import json
from pathlib import Path

from digitaldock import taxrates
from digitaldock.published import PublishedProduct

PRODUCT = "content/products/budget-planner.md"


def with_fields(tree, fields: str) -> None:
    text = tree.product_text()
    tree.product("budget-planner", text.replace("\nstatus:", f"\n{fields}\nstatus:", 1))


def test_the_repositorys_tax_rates_are_valid(tree):
    rates = taxrates.load(Path(__file__).resolve().parents[2] / "content" / "tax_rates.yml")
    assert rates.rate_for("DE").bps == 1900 and rates.rate_for("FI").percent == "25.5"
    assert rates.rate_for("ZZ").bps == 0 and len([r for r in rates.countries.values() if r.tax == "VAT"]) == 27


def test_a_broken_tax_rates_file_is_reported(tree):
    (tree.root / "tax_rates.yml").write_text("countries:\n  de: {name: Germany, bps: 1900}\n")
    result = tree.invoke("validate")
    assert result.exit_code == 1
    assert "content/tax_rates.yml:1: tax_rates: countries: 'de' is not a two-letter country code" in result.stdout
    (tree.root / "tax_rates.yml").write_text("countries:\n  DE: {name: Germany, bps: 19.5}\n")
    assert "countries.DE.bps: expected whole basis points" in tree.invoke("validate").stdout
    (tree.root / "tax_rates.yml").write_text("countries: [\n")
    assert "content/tax_rates.yml:" in tree.invoke("validate").stdout
    (tree.root / "tax_rates.yml").write_text("version: \"1\"\ncountries:\n  DE: {name: Germany, tax: VAT, bps: 1900}\n")
    assert tree.invoke("validate").exit_code == 0


def test_license_and_stamping_fields_are_checked(tree):
    with_fields(tree, "license_keys: true\nlicense_activations: 3\nstamp_pdfs: true")
    assert tree.invoke("validate").exit_code == 0
    with_fields(tree, "license_keys: yes\nlicense_activations: 0\nstamp_pdfs: 1")
    out = tree.invoke("validate").stdout
    assert "license_keys: must be true or false" in out and "license_activations: must be a whole number from 1" in out
    assert "stamp_pdfs: must be true or false" in out
    with_fields(tree, "license_activations: 2")
    assert "license_activations: needs license_keys: true" in tree.invoke("validate").stdout


def test_the_fields_reach_the_catalogue_only_when_set(tree):
    with_fields(tree, "license_keys: true\nlicense_activations: 3\nstamp_pdfs: true")
    product = PublishedProduct.from_json("budget-planner", {
        "title": "T", "seller": "s", "price": 100, "currency": "USD", "license_keys": True,
        "license_activations": 3, "stamp_pdfs": True})
    assert (product.license_keys, product.license_activations, product.stamp_pdfs) == (True, 3, True)
    assert json.loads(json.dumps(product.to_json()))["license_activations"] == 3
    plain = PublishedProduct.from_json("x", {"title": "T", "seller": "s", "price": 100, "currency": "USD"})
    assert "license_keys" not in plain.to_json() and not plain.stamp_pdfs
