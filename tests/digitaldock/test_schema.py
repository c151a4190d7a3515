"""The one product schema: every problem reported with file, line and field."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from digitaldock.schema import (
    LEGAL_DOCUMENTS,
    ContentError,
    load_catalog,
    parse_categories,
    parse_legal,
    parse_product,
    parse_seller,
)

GOOD = textwrap.dedent("""\
    ---
    title: Lagos Grotesk
    seller: adire
    category: fonts
    tags: [sans, display]
    price: 25.00
    currency: USD
    pwyw_minimum: "10"
    summary: A sturdy grotesque for signage and screens.
    cover: images/lagos.png
    gallery: [images/a.png, images/b.png]
    files:
      - name: LagosGrotesk.ttf
        size: 20480
        sha256: %s
        key: sha256/ab/%s
    license: Desktop and web, unlimited projects
    version: 1.2
    published: 2026-05-01
    status: published
    featured: true
    ---
    ## Twelve weights

    Built for the streets of Lagos.
    """) % ("ab" * 32, "ab" * 32)


def parse(text, name="lagos-grotesk"):
    return parse_product(f"content/products/{name}.md", text, ["fonts", "ebooks"], ["adire"])


def test_good_product_parses_to_integer_money():
    product, problems = parse(GOOD)
    assert problems == []
    assert product.price.minor == 2500 and product.price.currency == "USD"
    assert product.pwyw_minimum.minor == 1000
    assert product.version == "1.2"
    assert product.files[0].size == 20480
    assert product.price_display == "$25.00"
    assert product.total_size == 20480
    assert product.is_public and product.featured


def lines(problems):
    return [str(p) for p in problems]


def test_every_problem_in_one_pass_with_lines():
    bad = (GOOD.replace("category: fonts", "category: font")
               .replace("price: 25.00", "price: 25.001")
               .replace("seller: adire", "seller: adir")
               .replace("status: published", "status: live")
               .replace("title: Lagos Grotesk", "titel: Lagos Grotesk"))
    product, problems = parse(bad)
    assert product is None
    assert lines(problems) == [
        "content/products/lagos-grotesk.md:1: title: is required",
        "content/products/lagos-grotesk.md:2: titel: unknown field; did you mean 'title'?",
        "content/products/lagos-grotesk.md:3: seller: unknown seller 'adir'; did you mean 'adire'?",
        "content/products/lagos-grotesk.md:4: category: unknown category 'font'; did you mean 'fonts'?",
        "content/products/lagos-grotesk.md:6: price: USD has 2 decimal places, '25.001' has 3",
        "content/products/lagos-grotesk.md:20: status: 'live' is not one of draft, published, withdrawn",
    ]


@pytest.mark.parametrize("change,expected", [
    (("pwyw_minimum: \"10\"", "pwyw_minimum: \"30\""),
     "8: pwyw_minimum: 30.00 must not exceed the suggested price 25.00"),
    (("price: 25.00", "price: 0.50"), "6: price: USD prices must be between $2.00 and $10,000.00"),
    (("currency: USD", "currency: usd"),
     "7: currency: 'usd' is not an accepted currency (NGN, GHS, ZAR, KES, USD); did you mean 'USD'?"),
    (("size: 20480", "size: 600000000"), "14: files[0].size: 600000000 bytes is over the 500 MB limit"),
    (("name: LagosGrotesk.ttf", "name: ../etc/passwd"),
     "13: files[0].name: '../etc/passwd' must be a plain file name, not a path"),
    (("published: 2026-05-01", "published: 2026-13-01"),
     "19: published: '2026-13-01' is not a date in the form YYYY-MM-DD"),
    (("cover: images/lagos.png", "cover: /etc/lagos.png"),
     "10: cover: '/etc/lagos.png' must be a path under images/, such as images/my-cover.png"),
    (("tags: [sans, display]", "tags: [Sans, display]"),
     "5: tags[0]: 'Sans' is not a tag (lowercase letters, digits, hyphens, ≤ 30)"),
    (("featured: true", "featured: yes please"), "21: featured: must be true or false, got text"),
    (("version: 1.2", "version: one"), "18: version: 'one' is not a version such as 1.0 or 2.1.3"),
])
def test_single_mistakes(change, expected):
    _, problems = parse(GOOD.replace(*change))
    assert lines(problems) == [f"content/products/lagos-grotesk.md:{expected}"]


def test_slug_from_file_name():
    _, problems = parse(GOOD, name="Lagos_Grotesk")
    assert lines(problems) == ["content/products/Lagos_Grotesk.md:1: slug: file name 'Lagos_Grotesk' must "
                               "be a slug of 3–80 characters (lowercase letters, digits and single hyphens)"]
    _, problems = parse(GOOD, name="page")
    assert "reserved for listing pages" in lines(problems)[0]


def test_broken_yaml_and_missing_description():
    _, problems = parse("---\ntitle: [unclosed\n---\nbody")
    assert lines(problems)[0].startswith("content/products/lagos-grotesk.md:")
    assert "front matter: invalid YAML" in lines(problems)[0]
    _, problems = parse(GOOD.split("## Twelve")[0])
    assert lines(problems) == ["content/products/lagos-grotesk.md:23: description: body must be 20 to 20000 "
                               "characters, got 0"]


def test_files_and_gallery_shapes():
    _, problems = parse(GOOD.replace("gallery: [images/a.png, images/b.png]",
                                     "gallery: [" + ", ".join(["images/x.png"] * 11) + "]"))
    assert lines(problems) == ["content/products/lagos-grotesk.md:11: gallery: at most 10 images, got 11"]
    no_files = GOOD.split("files:")[0] + "files: []\n" + "license:" + GOOD.split("license:")[1]
    _, problems = parse(no_files)
    assert "files: must be a list of at least one file" in lines(problems)[0]
    twice = GOOD.replace("    key: sha256/ab/" + "ab" * 32,
                         "    key: sha256/ab/" + "ab" * 32 + "\n  - name: LagosGrotesk.ttf\n    size: 1\n"
                         "    sha256: " + "cd" * 32 + "\n    key: k\n    colour: red")
    _, problems = parse(twice)
    assert [p.split(": ", 1)[1] for p in lines(problems)] == [
        "files[1].name: 'LagosGrotesk.ttf' is listed twice",
        "files[1].colour: unknown field",
    ]


def test_seller_parse():
    seller, problems = parse_seller("content/sellers/adire.md",
                                    "---\nname: Adire\navatar: images/a.png\npayout_currency: NGN\n"
                                    "website: https://adire.example\n---\nA Lagos type foundry.\n")
    assert problems == [] and seller.payout_currency == "NGN"
    _, problems = parse_seller("content/sellers/adire.md",
                               "---\nname: A\navatar: a.png\npayout_currency: EUR\nwebsite: http://x\n---\nshort\n")
    assert [p.field for p in problems] == ["name", "avatar", "payout_currency", "website", "bio"]


def legal_text(slug, version="1.0", drop=None):
    heads = [h for h in LEGAL_DOCUMENTS[slug] if h != drop]
    body = "\n\n".join(f"## {h}\n\nText." for h in heads)
    return f"---\ntitle: The Document\nversion: \"{version}\"\neffective: 2026-11-01\nsummary: Plain words here.\n---\n{body}\n"


def test_legal_documents_need_their_sections():
    doc, problems = parse_legal("content/legal/privacy.md", legal_text("privacy"))
    assert problems == [] and doc.version_tuple == (1, 0)
    _, problems = parse_legal("content/legal/privacy.md", legal_text("privacy", drop="Cookies"))
    assert lines(problems) == ["content/legal/privacy.md:7: body: missing required section '## Cookies'"]
    _, problems = parse_legal("content/legal/privcy.md", legal_text("privacy"))
    assert lines(problems) == ["content/legal/privcy.md:1: slug: 'privcy' is not a legal document; "
                               "did you mean 'privacy'?"]


def test_categories_file():
    cats, problems = parse_categories("c.yml", "- slug: a\n  name: A\n- slug: a\n  name: B\n- 3\n")
    assert [c.slug for c in cats] == ["a", "a"]
    assert [p.message for p in problems] == ["'a' is listed twice", "needs a slug and a name"]
    _, problems = parse_categories("c.yml", "a: [\n")
    assert "invalid YAML" in problems[0].message
    _, problems = parse_categories("c.yml", "a: b\n")
    assert problems[0].message.startswith("must be a list")


def test_load_catalog_collects_problems_across_files(tmp_path: Path):
    content = tmp_path / "content"
    (content / "products" / "sub").mkdir(parents=True)
    (content / "sellers").mkdir()
    (content / "legal").mkdir()
    (content / "products" / "dup-slug.md").write_text(GOOD, encoding="utf-8")
    (content / "products" / "sub" / "dup-slug.md").write_text(GOOD, encoding="utf-8")
    (content / "products" / "latin1.md").write_bytes("---\ntitle: caf\xe9\n".encode("latin-1"))
    with pytest.raises(ContentError) as exc:
        load_catalog(content)
    text = str(exc.value)
    assert "content/categories.yml:1: categories: file is missing" in text
    assert "content/products/sub/dup-slug.md:1: slug: 'dup-slug' is already used by content/products/dup-slug.md" in text
    assert "content/products/latin1.md:2: file: is not UTF-8 text (byte 0xE9 on line 2); save it as UTF-8" in text
    assert "content/legal/terms.md:1: file: legal document is missing" in text
    assert "content/products/dup-slug.md:3: seller: unknown seller 'adire'" in text
    catalog, problems = load_catalog(content, strict=False)
    assert len(problems) >= 4 and catalog.products == {}


def test_the_repository_content_is_valid(repo_root):
    catalog, problems = load_catalog(repo_root / "content", strict=False)
    assert problems == []
    assert len(catalog.public_products) >= 14
    assert len({p.category for p in catalog.public_products}) >= 6
    assert len(catalog.sellers) >= 4
    assert sorted(catalog.legal) == sorted(LEGAL_DOCUMENTS)


# --- file names (issue #22): the rule uploads and `validate` share ------------------------------

@pytest.mark.parametrize("name, message", [
    ("guide\x00.pdf", "must not contain control characters"),
    ("guide\n.pdf", "must not contain control characters"),
    ("guide\u2028.pdf", "must not contain control characters"),
    ("a\\b.pdf", "must be a plain file name, not a path"),
    ("C:guide.pdf", "without a drive such as C:"),
    ("..", "must be a plain file name, not a path"),
    ("<script>.pdf", "must not contain < >"),
    ('say "hi".pdf', 'must not contain "'),
    ("guide\u202efdp.exe", "override characters"),
])
def test_file_names_with_control_characters_paths_drives_or_markup_are_refused(name, message):
    from digitaldock.schema import check_file_name

    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        check_file_name(name)


def test_validate_refuses_the_same_names_as_uploads():
    _, problems = parse(GOOD.replace("name: LagosGrotesk.ttf", 'name: "C:\\\\fonts\\\\LagosGrotesk.ttf"'))
    assert [p.field for p in problems] == ["files[0].name"] and "not a path" in problems[0].message
    _, problems = parse(GOOD.replace("name: LagosGrotesk.ttf", 'name: "<img src=x onerror=alert(1)>.ttf"'))
    assert [p.field for p in problems] == ["files[0].name"] and "must not contain < >" in problems[0].message


def test_a_decomposed_name_becomes_composed_and_counts_as_the_same_name():
    import unicodedata

    nfd = unicodedata.normalize("NFD", "Café.ttf")
    product, problems = parse(GOOD.replace("name: LagosGrotesk.ttf", f"name: {nfd}"))
    assert problems == [] and product.files[0].name == "Café.ttf" and product.files[0].name != nfd


from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@given(st.text(max_size=80))
def test_an_accepted_name_is_composed_plain_and_stays_accepted(name):
    import unicodedata

    from digitaldock.schema import check_file_name

    try:
        clean = check_file_name(name)
    except ValueError as exc:
        assert str(exc)  # refused with a reason
        return
    assert clean == unicodedata.normalize("NFC", name) and check_file_name(clean) == clean
    assert not set(clean) & set('/\\<>:"|?*') and not clean.startswith(".")
    assert all(unicodedata.category(c) not in ("Cc", "Cs", "Zl", "Zp") for c in clean)
