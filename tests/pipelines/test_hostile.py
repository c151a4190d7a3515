"""Hostile content (issue #20, and #22's SVG): each class of the corpus as a fixture.

Every case changes the valid tree of conftest.py in one hostile way, then runs both
`digitaldock validate` and `digitaldock build` in-process (a traceback fails the test, since
CliRunner re-raises). Each case lists the exact problems; validate must print exactly those
and the build must refuse with exactly those (the same checks, the same words), except the
few that need storage, which only validate has. A case with no problems must build.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from .conftest import PRODUCT, SELLER, legal_text, png

P = "content/products/budget-planner.md"
LINK = "is a symbolic link; commit the file itself, not a link (a link can point anywhere)"
SVG = "SVG images are not accepted (an SVG can carry scripts); use PNG, JPEG, GIF or WebP"
TODAY = dt.datetime.now(dt.timezone.utc).date()


def png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims `width`×`height` pixels: a decompression bomb's first bytes."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))


def corrupt(data: bytes) -> bytes:
    """A PNG with one byte of its pixel data changed: the header reads, the CRC fails."""
    at = data.index(b"IDAT") + 6
    return data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1:]


@dataclass
class Case:
    id: str
    change: Callable  # (tree, outside folder) -> None
    problems: list[str] = field(default_factory=list)  # exact lines, validate and build alike
    validate_only: list[str] = field(default_factory=list)  # storage: validate's alone


def edit(old: str, new: str) -> Callable:
    def change(tree, outside):
        text = (tree.root / "products" / "budget-planner.md").read_text()
        assert old in text, old
        tree.product("budget-planner", text.replace(old, new))
    return change


def write(rel: str, data: bytes | str) -> Callable:
    def change(tree, outside):
        p = tree.root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data.encode() if isinstance(data, str) else data)
    return change


def link(rel: str, target: str | Callable) -> Callable:
    def change(tree, outside):
        p = tree.root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if p.exists() or p.is_symlink():
            p.unlink()
        p.symlink_to(target(tree, outside) if callable(target) else target)
    return change


def both(*changes: Callable) -> Callable:
    def change(tree, outside):
        for c in changes:
            c(tree, outside)
    return change


def secret(tree, outside: Path) -> str:
    """A file outside the repository, with content nobody may publish."""
    p = outside / "secret.png"
    p.write_bytes(png())
    return str(p)


def mkdir(rel: str) -> Callable:
    def change(tree, outside):
        (tree.root / rel).mkdir(parents=True)
    return change


def mkfifo(rel: str) -> Callable:
    def change(tree, outside):
        os.mkfifo(tree.root / rel)
    return change


def remove(rel: str) -> Callable:
    def change(tree, outside):
        (tree.root / rel).unlink()
    return change


LAUGHS = "".join(f"  l{i}: &l{i} [{', '.join(['*l' + str(i - 1)] * 9)}]\n" for i in range(1, 9))

CASES = [
    # --- tracebacks instead of messages ------------------------------------------------------
    Case("seller-not-utf8", write("sellers/ada.md", SELLER.encode().replace(b"Ada Obi", b"Ad\xe9 Obi")),
         ["content/sellers/ada.md:2: file: is not UTF-8 text (byte 0xE9 on line 2); save it as UTF-8"]),
    Case("legal-not-utf8", write("legal/terms.md", legal_text("terms").encode().replace(b"Terms", b"T\xffrms", 1)),
         ["content/legal/terms.md:2: file: is not UTF-8 text (byte 0xFF on line 2); save it as UTF-8"]),
    Case("categories-not-utf8", write("categories.yml", b"- slug: templates\n  name: Templ\xe4tes\n"),
         ["content/categories.yml:2: categories: is not UTF-8 text (byte 0xE4 on line 2); save it as UTF-8"]),
    Case("lists-and-mappings-for-scalars", edit(
        'title: Budget Planner\nseller: ada\ncategory: templates', 'title: {a: b}\nseller: [ada]\ncategory: {x: 1}'
    ), [f"{P}:2: title: must be text, got a mapping",
        f"{P}:3: seller: ['ada'] is not a slug (lowercase letters, digits and single hyphens)",
        f"{P}:4: category: {{'x': 1}} is not a slug (lowercase letters, digits and single hyphens)"]),
    Case("lists-for-money-and-dates", edit(
        'price: "12.50"\ncurrency: USD', 'price: ["12.50"]\ncurrency: [USD]'
    ), [f"{P}:7: currency: ['USD'] is not an accepted currency (NGN, GHS, ZAR, KES, USD); did you mean 'USD'?"]),
    Case("mappings-in-files-and-status", both(
        edit("status: published", "status: {live: true}"), edit("  - name: planner.pdf", "  - name: [planner.pdf]"),
        edit('version: "1.0"', "version: [1]"), edit("published: 2025-03-01", "published: [2025-03-01]")),
        [f"{P}:13: files[0].name: must be a file name such as guide.pdf",
         f"{P}:18: version: [1] is not a version such as 1.0 or 2.1.3",
         f"{P}:19: published: ['2025-03-01'] is not a date in the form YYYY-MM-DD",
         f"{P}:20: status: {{'live': True}} is not one of draft, published, withdrawn"]),
    Case("seller-fields-as-lists", write("sellers/ada.md", SELLER.replace("payout_currency: NGN", "payout_currency: [NGN]")
                                         .replace("name: Ada Obi", "name: {first: Ada}")),
         ["content/sellers/ada.md:2: name: must be text, got a mapping",
          "content/sellers/ada.md:4: payout_currency: ['NGN'] is not an accepted currency (NGN, GHS, ZAR, KES, USD); "
          "did you mean 'NGN'?"]),
    Case("category-slug-as-list", write("categories.yml", "- slug: [templates]\n  name: Templates\n"),
         ["content/categories.yml:1: categories[0]: needs a slug and a name"]),
    Case("folder-named-like-a-product", mkdir("products/ghost.md"),
         ["content/products/ghost.md:1: file: is a folder named like a content file; rename it"]),
    Case("folder-named-like-a-seller", mkdir("sellers/bob.md"),
         ["content/sellers/bob.md:1: file: is a folder named like a content file; rename it"]),
    Case("categories-is-a-folder", both(remove("categories.yml"), mkdir("categories.yml")),
         ["content/categories.yml:1: categories: is a folder, not a file"]),
    Case("dangling-product-link", link("products/ghost.md", "/nonexistent/ghost.md"),
         [f"content/products/ghost.md:1: file: {LINK}"]),
    Case("dangling-image-link", link("images/ghost.png", "nowhere.png"),
         [f"content/images/ghost.png:1: image: {LINK}"]),
    Case("dangling-cover-link", link("images/cover.png", "nowhere.png"),
         [f"{P}:9: cover: images/cover.png {LINK}"]),
    Case("decompression-bomb", write("images/cover.png", png_claiming(30_000, 30_000)),
         [f"{P}:9: cover: images/cover.png is not a usable image: too many pixels (at most 40,000,000)"]),
    Case("over-our-pixel-limit", write("images/cover.png", png_claiming(8_000, 6_000)),
         [f"{P}:9: cover: images/cover.png is not a usable image: 8000×6000 is too many pixels "
          "(at most 40,000,000)"]),
    # --- hangs and memory blow-ups ---------------------------------------------------------
    Case("billion-laughs", edit("license: Personal and commercial use",
                                "license: Personal and commercial use\nlol:\n  l0: &l0 [x, x, x, x, x, x, x, x, x]\n"
                                + LAUGHS.rstrip("\n")),
         [f"{P}:20: front matter: YAML aliases (*name) are not allowed; write the value again"]),
    Case("product-link-to-a-device", link("products/zero.md", "/dev/zero"),
         [f"content/products/zero.md:1: file: {LINK}"]),
    Case("cover-link-to-a-device", link("images/cover.png", "/dev/zero"),
         [f"{P}:9: cover: images/cover.png {LINK}"]),
    Case("a-pipe-among-products", mkfifo("products/pipe.md"),
         ["content/products/pipe.md:1: file: is not a regular file (a device, pipe or socket); remove it"]),
    Case("product-over-the-size-limit", write("products/huge.md", "---\ntitle: x\n---\n" + "x" * 300_000),
         ["content/products/huge.md:1: file: is 300,017 bytes, over the 256 KB limit for this file"]),
    Case("nested-too-deep", edit("license: Personal and commercial use",
                                 "license: Personal and commercial use\nx: " + "[" * 11 + "]" * 11),
         [f"{P}:18: front matter: nested more than 10 levels deep"]),
    # --- wrong values accepted ---------------------------------------------------------------
    Case("price-octal-form", edit('price: "12.50"', "price: 017"),
         [f"{P}:6: price: '017' starts with a zero; write the amount without it, such as \"17.00\""]),
    Case("price-sexagesimal", edit('price: "12.50"', "price: 1:30"),
         [f"{P}:6: price: '1:30' is not a decimal amount such as \"12.50\""]),
    Case("price-hex", edit('price: "12.50"', "price: 0x1F"),
         [f"{P}:6: price: '0x1F' is not a decimal amount such as \"12.50\""]),
    Case("price-full-width-digits", edit('price: "12.50"', 'price: "１２.５０"'),
         [f"{P}:6: price: '１２.５０' is not a decimal amount such as \"12.50\""]),
    Case("size-hex", edit("    size: 45", "    size: 0x2D"),
         [f"{P}:14: files[0].size: must be a positive number of bytes, got '0x2D'"]),
    Case("featured-yes", edit("status: published", "status: published\nfeatured: yes"),
         [f"{P}:21: featured: must be true or false, got text"]),
    Case("key-given-twice", edit('currency: USD', 'currency: USD\nprice: "1200.00"'),
         [f"{P}:8: front matter: 'price' is given twice (first on line 6); keep one"]),
    # --- unsafe output -----------------------------------------------------------------------
    Case("bell-in-title", edit("title: Budget Planner", 'title: "Budget\\aPlanner"'),
         [f"{P}:2: title: must not contain control characters"]),
    Case("raw-control-character-in-yaml", edit("title: Budget Planner", "title: Budget\x07Planner"),
         [f"{P}:2: front matter: invalid YAML: the character U+0007 is not allowed"]),
    Case("raw-control-character-in-categories", write("categories.yml", "- slug: templates\n  name: T\x1b[2Jx\n"),
         ["content/categories.yml:2: categories: invalid YAML: the character U+001B is not allowed"]),
    Case("c1-control-in-summary", edit("summary: A monthly budget planner for freelancers and small shops.",
                                       'summary: "A monthly\\u0085budget planner for freelancers and small shops."'),
         [f"{P}:8: summary: must not contain control characters"]),
    Case("escape-in-description", edit("Plan every month", "Plan \x1b[31mevery month"),
         [f"{P}:22: description: must not contain control characters (U+001B on line 22)"]),
    Case("trailing-newline-in-a-slug", both(edit("tags: [budget, finance]", 'tags: ["budget\\n", finance]'),
                                            edit("seller: ada", 'seller: "ada\\n"')),
         [f"{P}:3: seller: 'ada\\n' is not a slug (lowercase letters, digits and single hyphens)",
          f"{P}:5: tags[0]: 'budget\\n' is not a tag (lowercase letters, digits, hyphens, ≤ 30)"]),
    Case("image-link-out-of-the-repository", link("images/shot-1.png", secret),
         [f"{P}:11: gallery[0]: images/shot-1.png {LINK}"]),
    Case("unreferenced-link-out-of-the-repository", link("images/leak.png", secret),
         [f"content/images/leak.png:1: image: {LINK}"]),
    Case("folder-link-out-of-the-repository", both(
        lambda tree, outside: (outside / "pics").mkdir() or (outside / "pics" / "x.png").write_bytes(png()),
        link("images/pics", lambda tree, outside: str(outside / "pics")), edit("images/cover.png", "images/pics/x.png")),
        [f"{P}:9: cover: images/pics/x.png is not a usable image: images/pics {LINK}"]),
    Case("images-folder-is-a-link", both(
        lambda tree, outside: os.rename(tree.root / "images", outside / "images"),
        link("images", lambda tree, outside: str(outside / "images"))),
        [f"{P}:11: gallery[0]: images/shot-1.png does not exist in content/",
         f"{P}:9: cover: images/cover.png does not exist in content/",
         "content/sellers/ada.md:3: avatar: images/ada.png does not exist in content/",
         f"content/images:1: file: {LINK}"]),
    Case("storage-key-link-out-of-the-repository", lambda tree, outside: _link_storage(tree, outside), [],
         validate_only=[f"{P}:16: files[0].key: {{key}} in content/storage goes through a symbolic link; "
                        "storage holds regular files only"]),
    Case("svg-cover", both(write("images/evil.svg", b"<svg xmlns='http://www.w3.org/2000/svg'><script>x</script></svg>"),
                           edit("images/cover.png", "images/evil.svg")),
         [f"{P}:9: cover: 'images/evil.svg': {SVG}", f"content/images/evil.svg:1: image: is not a usable image: {SVG}"]),
    Case("svg-namespaced-script", write("images/s.svg", b"<svg xmlns:s='http://www.w3.org/2000/svg'><s:script>x</s:script></svg>"),
         [f"content/images/s.svg:1: image: is not a usable image: {SVG}"]),
    Case("svg-entity-javascript", write("images/j.svg", b"<svg><a href='&#106;avascript:alert(1)'><rect/></a></svg>"),
         [f"content/images/j.svg:1: image: is not a usable image: {SVG}"]),
    Case("svg-foreign-object-iframe", write("images/f.svg", b"<svg><foreignObject><iframe srcdoc='&lt;script&gt;'/>"
                                                            b"</foreignObject></svg>"),
         [f"content/images/f.svg:1: image: is not a usable image: {SVG}"]),
    Case("svg-named-png", write("images/cover.png", b"<svg xmlns='http://www.w3.org/2000/svg'><script>x</script></svg>"),
         [f"{P}:9: cover: images/cover.png is not a usable image: the file cannot be decoded as PNG, JPEG, GIF or WebP"]),
    Case("png-named-html", write("images/page.html", png()),
         ["content/images/page.html:1: image: is not a usable image: '.html' is not an image extension; "
          "use .png, .jpg, .jpeg, .gif or .webp"]),
    # --- inconsistency: what validate refuses, the build refuses ----------------------------
    Case("broken-pixel-data", write("images/cover.png", corrupt(png())),
         [f"{P}:9: cover: images/cover.png is not a usable image: the file cannot be decoded as PNG, JPEG, GIF or WebP"]),
    Case("gif-named-png", write("images/cover.png", png(fmt="GIF")),
         [f"{P}:9: cover: images/cover.png is not a usable image: it is a GIF image named .png; name it .gif"]),
    # --- undecided, now decided --------------------------------------------------------------
    Case("zero-width-space-in-title", edit("title: Budget Planner", "title: Budget\u200bPlanner"),
         [f"{P}:2: title: must not contain the invisible or direction-changing character U+200B"]),
    Case("bidi-override-in-title", edit("title: Budget Planner", "title: Budget \u202eremalP"),
         [f"{P}:2: title: must not contain the invisible or direction-changing character U+202E"]),
    Case("bidi-override-in-file-name", write("products/budget\u202egnp.md", "x"),
         ["content/products/budget\\u202egnp.md:1: file: the file name contains the invisible or control "
          "character U+202E; rename it"]),
    Case("bidi-override-in-a-download-name", edit("  - name: planner.pdf", "  - name: planner\u202efdp.exe"),
         [f"{P}:13: files[0].name: must not contain right-to-left or left-to-right override characters"]),
    Case("zero-width-joiner-in-title-is-text", edit("title: Budget Planner", "title: Family 👨\u200d👩\u200d👧 Planner")),
    Case("published-in-2099", edit("published: 2025-03-01", "published: 2099-01-01"),
         [f"{P}:19: published: 2099-01-01 is in the future (today is {TODAY.isoformat()}); "
          "date the product on the day it is published"]),
    Case("uppercase-extension", write("products/other.MD", "x"),
         ["content/products/other.MD:1: file: content files end in lowercase .md; rename it other.md"]),
    Case("stray-file-among-products", write("products/notes.txt", "x"),
         ["content/products/notes.txt:1: file: is not a content file: products/ holds only <slug>.md files"]),
    Case("hidden-files-are-not-content", both(write("products/.gitkeep", ""), write("images/.DS_Store", b"\0"))),
    Case("empty-catalogue", remove("products/budget-planner.md"),
         ["content/products:1: products: no published products: the storefront would be empty (drafts and "
          "withdrawn products are not shown); is this the right content folder?"]),
    Case("only-drafts", edit("status: published", "status: draft"),
         ["content/products:1: products: no published products: the storefront would be empty (drafts and "
          "withdrawn products are not shown); is this the right content folder?"]),
]


def _link_storage(tree, outside: Path) -> None:
    """The product's storage key becomes a link to a file outside the repository."""
    target = outside / "private.key"
    target.write_bytes(b"PRIVATE " * 1000)
    stored = tree.storage / tree.pdf["key"]
    stored.unlink()
    stored.symlink_to(target)


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    p = tmp_path / "outside-the-repository"
    p.mkdir()
    return p


@pytest.fixture
def hostile_tree(tmp_path: Path, make_tree):
    return make_tree(tmp_path / "repo")


def validate_and_build(tree) -> tuple[int, list[str], int, list[str]]:
    v = tree.invoke("validate", "--base-ref", "")
    b = tree.invoke("build", "-o", "output")
    built = [line for line in b.stderr.splitlines() if not line.startswith("build failed:")]
    return v.exit_code, v.stdout.splitlines(), b.exit_code, built


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_content_gets_the_same_clear_messages_from_validate_and_build(hostile_tree, outside, case):
    tree = hostile_tree
    case.change(tree, outside)
    v_code, v_lines, b_code, b_lines = validate_and_build(tree)
    only = [line.format(key=tree.pdf["key"]) for line in case.validate_only]
    assert sorted(v_lines) == sorted(case.problems + only) if (case.problems or only) else v_code == 0, v_lines
    assert sorted(b_lines) == sorted(case.problems)
    assert (v_code, b_code) == (1 if case.problems or only else 0, 1 if case.problems else 0)
    if b_code == 0:
        assert (tree.base / "output" / "index.html").is_file()
    else:
        assert not (tree.base / "output").exists() or not any((tree.base / "output").rglob("*.html"))


def test_a_linked_file_is_never_published_nor_its_hash_printed(hostile_tree, outside):
    tree = hostile_tree
    _link_storage(tree, outside)
    link("images/leak.png", secret)(tree, outside)
    v = tree.invoke("validate", "--base-ref", "")
    private = hashlib.sha256((outside / "private.key").read_bytes()).hexdigest()
    assert private not in v.stdout and "8000" not in v.stdout  # neither its hash nor its size
    (tree.root / "images" / "leak.png").unlink()
    assert tree.invoke("build", "-o", "output").exit_code == 0  # storage is validate's: the build has none
    built = tree.base / "output"
    assert not (built / "images" / "leak.png").exists()
    assert all(not p.is_symlink() for p in built.rglob("*"))


def test_file_names_cannot_forge_github_annotations(hostile_tree):
    tree = hostile_tree
    (tree.root / "products" / "evil\n::warning file=x.md::pwned,x.md").write_text("x")
    result = tree.invoke("validate", "--base-ref", "", "--format", "github")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines == ["::error file=content/products/evil%0A%3A%3Awarning file=x.md%3A%3Apwned%2Cx.md,line=1,"
                     "title=file::the file name contains the invisible or control character U+000A; rename it"]
    text = tree.invoke("validate", "--base-ref", "").stdout
    assert text == ("content/products/evil\\x0a::warning file=x.md::pwned,x.md:1: file: the file name contains "
                    "the invisible or control character U+000A; rename it\n")


def test_image_urls_are_percent_encoded_once(hostile_tree):
    tree = hostile_tree
    (tree.root / "images" / "my cover é.png").write_bytes(png())
    (tree.root / "images" / "cover.png").unlink()
    tree.product("budget-planner", tree.product_text().replace("images/cover.png", "images/my cover é.png"))
    assert tree.invoke("validate", "--base-ref", "").exit_code == 0
    assert tree.invoke("build", "-o", "output").exit_code == 0
    out = tree.base / "output"
    page = (out / "products" / "budget-planner" / "index.html").read_text()
    url = "/images/my%20cover%20%C3%A9.png"
    assert f'<meta property="og:image" content="http://127.0.0.1:8000{url}">' in page
    assert f'src="{url}"' in page and "my cover" not in page and "%25" not in page
    ld = json.loads(page.split('<script type="application/ld+json">', 1)[1].split("</script>", 1)[0])
    assert ld["image"][0] == "http://127.0.0.1:8000" + url
    assert json.loads((out / "catalog.json").read_text())["products"]["budget-planner"]["cover"] == url
    assert (out / "images" / "my cover é.png").read_bytes() == (tree.root / "images" / "my cover é.png").read_bytes()


def test_a_pipe_is_never_waited_on(tmp_path):
    """Reading a FIFO without a writer would block for ever; the reader refuses it at once."""
    from digitaldock import tree

    fifo = tmp_path / "x.md"
    os.mkfifo(fifo)
    with pytest.raises(tree.Unreadable, match="not a regular file"):
        tree.read_bytes(str(fifo), 1024)


def test_every_class_of_the_issue_has_a_case():
    ids = {c.id for c in CASES}
    assert len(CASES) >= 58 - 27  # the corpus' failures, at least one fixture each
    for needed in ("seller-not-utf8", "legal-not-utf8", "categories-not-utf8", "lists-and-mappings-for-scalars",
                   "folder-named-like-a-product", "dangling-product-link", "decompression-bomb", "billion-laughs",
                   "product-link-to-a-device", "price-octal-form", "price-sexagesimal", "price-hex",
                   "key-given-twice", "price-full-width-digits", "bell-in-title", "image-link-out-of-the-repository",
                   "storage-key-link-out-of-the-repository", "svg-cover", "broken-pixel-data",
                   "zero-width-space-in-title", "bidi-override-in-file-name", "published-in-2099",
                   "uppercase-extension", "empty-catalogue"):
        assert needed in ids
