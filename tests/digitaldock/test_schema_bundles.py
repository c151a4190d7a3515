"""Bundles in the product schema (issue #17): the `bundle` field's shape, and across the
catalogue that members exist, are one seller's, in one currency, are not bundles, and that the
bundle lists every member's files."""

from __future__ import annotations

import dataclasses

from digitaldock.schema import ProductFile, bundle_problems

from .test_schema import GOOD, parse


def with_bundle(value: str) -> str:
    return GOOD.replace("featured: true\n", f"featured: true\nbundle: {value}\n")


def test_a_bundle_field_parses_and_its_shape_is_checked():
    product, problems = parse(with_bundle("[harbour-sans, kente-template]"), name="font-pack")
    assert problems == [] and product.bundle == ("harbour-sans", "kente-template")
    for value, field, words in (("harbour-sans", "bundle", "list of product slugs"),
                                ("[harbour-sans]", "bundle", "2 to 20"),
                                ("[a-b, a-b]", "bundle[1]", "listed twice"),
                                ("[font-pack, a-b]", "bundle[0]", "cannot contain itself"),
                                ("[Bad Slug, a-b]", "bundle[0]", "not a product slug")):
        _, problems = parse(with_bundle(value), name="font-pack")
        assert [(p.field, words in p.message) for p in problems] == [(field, True)], (value, problems)
    assert parse(GOOD)[0].bundle == ()


def test_members_are_checked_across_the_catalogue():
    base = parse(GOOD)[0]
    file = lambda n: ProductFile(name=f"{n}.ttf", size=10, sha256=n * 64, key=f"sha256/{n * 2}/{n * 64}")  # noqa: E731
    a = dataclasses.replace(base, slug="a-font", files=(file("a"),))
    b = dataclasses.replace(base, slug="b-font", files=(file("b"),))
    other = dataclasses.replace(base, slug="c-font", seller="kofi", files=(file("c"),))
    naira = dataclasses.replace(base, slug="d-font", price=dataclasses.replace(base.price, currency="NGN"),
                                files=(file("d"),))
    pack = dataclasses.replace(base, slug="pack", bundle=("a-font", "b-font"), files=(file("a"), file("b")),
                               source="pack.md")
    products = {p.slug: p for p in (a, b, other, naira, pack)}
    assert bundle_problems(products) == []
    cases = {("a-font", "nope"): "unknown product", ("a-font", "c-font"): "kofi's",
             ("a-font", "d-font"): "priced in NGN", ("a-font", "pack2"): "is a bundle itself"}
    for members, words in cases.items():
        bad = dataclasses.replace(pack, slug="pack2", bundle=members)
        found = bundle_problems({**products, "pack2": bad})
        assert len(found) == 1 and words in found[0][2], (members, found)
    short = dataclasses.replace(pack, files=(file("a"),))
    assert bundle_problems({**products, "pack": short}) == [("pack.md", "files", "lacks b.ttf of 'b-font': a bundle "
                                                                                "lists every file of its products")]


def test_together_yml_shapes():
    from digitaldock.schema import parse_together
    assert parse_together("t.yml", "a-b: [c-d, e-f]\n") == ({"a-b": ("c-d", "e-f")}, [])
    assert parse_together("t.yml", "") == ({}, [])
    for text in ("a-b: c-d\n", "a-b: [a-b]\n", "a-b: [Not A Slug]\n", "a-b: [" + ", ".join(["x-y"] * 9) + "]\n",
                 "a-b: [1, 2]\n"):
        found, problems = parse_together("t.yml", text)
        assert found == {} and len(problems) == 1 and problems[0].field == "a-b", text
    assert parse_together("t.yml", "- a\n")[1][0].field == "together"
    assert parse_together("t.yml", "a: [\n")[1]  # broken YAML is a problem, never an exception
