"""A small, complete content tree built in a temp folder, and a helper to build it."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest
from PIL import Image

from digitaldock.schema import LEGAL_DOCUMENTS
from digitaldock.stats import ProductStats, ReviewExcerpt, Stats, write_stats

ROOT = Path(__file__).resolve().parents[2]


def write_product(content: Path, slug: str, **overrides) -> Path:
    meta = {
        "title": f"{slug.replace('-', ' ').title()}",
        "seller": "test-seller",
        "category": "ebooks",
        "tags": ["design", "guide"],
        "price": '"12.50"',
        "currency": "USD",
        "summary": "A short, useful summary of this product.",
        "cover": "images/cover.png",
        "license": "Personal use",
        "version": '"1.0"',
        "published": "2026-03-01",
        "status": "published",
    }
    body = overrides.pop("body", "A description long enough to pass the schema's limits.\n")
    files = overrides.pop("files", None)
    meta.update(overrides)
    lines = ["---"]
    for k, v in meta.items():
        if v is None:
            continue
        if isinstance(v, list):
            lines.append(f"{k}: [{', '.join(v)}]")
        else:
            lines.append(f"{k}: {v}")
    lines += files or [
        "files:",
        "  - name: guide.pdf",
        "    size: 1234",
        "    sha256: " + "a" * 64,
        "    key: sha256/aa/" + "a" * 64,
    ]
    lines.append("---")
    path = content / "products" / f"{slug}.md"
    path.write_text("\n".join(lines) + "\n" + body, encoding="utf-8")
    return path


def make_content(root: Path) -> Path:
    content = root / "content"
    for d in ("products", "sellers", "legal", "images"):
        (content / d).mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "content" / "categories.yml", content / "categories.yml")
    Image.new("RGB", (120, 80), (200, 120, 40)).save(content / "images" / "cover.png")
    Image.new("RGB", (64, 64), (20, 120, 140)).save(content / "images" / "avatar.png")
    (content / "sellers" / "test-seller.md").write_text(textwrap.dedent("""\
        ---
        name: Test Seller
        avatar: images/avatar.png
        payout_currency: USD
        location: Lagos, Nigeria
        ---
        Makes careful things for careful people.
        """), encoding="utf-8")
    for slug, headings in LEGAL_DOCUMENTS.items():
        body = "\n\n".join(f"## {h}\n\nWhat we promise about {h.lower()}." for h in headings)
        (content / "legal" / f"{slug}.md").write_text(
            f"---\ntitle: {slug.replace('-', ' ').title()}\nversion: \"1.0\"\n"
            f"effective: 2026-11-01\nsummary: The {slug} document in plain words.\n---\n{body}\n",
            encoding="utf-8")
    write_product(content, "first-guide", featured="true")
    write_product(content, "second-font", category="fonts", price='"20.00"', published="2026-04-01",
                  tags=["type"])
    write_product(content, "naira-pack", category="fonts", price='"15000"', currency="NGN",
                  pwyw_minimum='"5000"', published="2026-02-01")
    write_product(content, "draft-thing", status="draft")
    write_product(content, "old-thing", status="withdrawn")
    # what the edge exports (`digitaldock reviews export`): two approved reviews, 4 and 5 stars
    write_stats(Stats({"first-guide": ProductStats(count=2, sum=9, histogram=(0, 0, 0, 1, 1), sold_30d=3, recent=(
        ReviewExcerpt(7, 5, "Saved my month", "Clear *and* short <script>alert(1)</script>", "Ada", "2026-11-20",
                      "Thank you!"),
        ReviewExcerpt(6, 4, "", "Good.", "Bo", "2026-11-19"))),
        "second-font": ProductStats(sold_30d=9)}), content / "stats.json")
    return content


@pytest.fixture
def content(tmp_path: Path) -> Path:
    return make_content(tmp_path)


def build_to(content: Path, output: Path) -> Path:
    from generator.build import build

    return build(output, ROOT / "pelicanconf.py",
                 overrides={"PATH": str(content), "THEME": str(ROOT / "digitaldock" / "theme"),
                            "PLUGIN_PATHS": [str(ROOT)]})


@pytest.fixture
def built(content: Path, tmp_path: Path) -> Path:
    return build_to(content, tmp_path / "output")


@pytest.fixture
def kit():
    """The helpers above, for tests (conftest modules are not importable under importlib mode)."""
    from types import SimpleNamespace

    return SimpleNamespace(ROOT=ROOT, build_to=build_to, write_product=write_product)
