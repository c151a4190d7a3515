"""Fixtures for the pipeline tests: a small content tree, a bucket on the real S3 (moto) of tests/conftest.py."""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from PIL import Image

from checkout.cli.main import main
from digitaldock.schema import LEGAL_DOCUMENTS, storage_key

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

CATEGORIES = """\
- slug: templates
  name: Templates
- slug: ebooks
  name: Ebooks
- slug: fonts
  name: Fonts
"""

SELLER = """\
---
name: Ada Obi
avatar: images/ada.png
payout_currency: NGN
---
Ada makes spreadsheet templates for small shops.
"""

PRODUCT = """\
---
title: Budget Planner
seller: ada
category: templates
tags: [budget, finance]
price: "12.50"
currency: USD
summary: A monthly budget planner for freelancers and small shops.
cover: images/cover.png
gallery:
  - images/shot-1.png
files:
  - name: planner.pdf
    size: {size}
    sha256: {sha}
    key: {key}
license: Personal and commercial use
version: "1.0"
published: 2025-03-01
status: published
---
Plan every month in ten minutes, with categories that fit a freelancer's income.
"""


def png(size: tuple[int, int] = (4, 4), fmt: str = "PNG") -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (200, 40, 40)).save(buf, fmt)
    return buf.getvalue()


def legal_text(slug: str, version: str = "1.0", effective: str = "2025-01-01", extra: str = "") -> str:
    sections = "\n".join(f"## {h}\n\nText about {h.lower()}.\n" for h in LEGAL_DOCUMENTS[slug])
    return (f"---\ntitle: {slug.replace('-', ' ').title()}\nversion: \"{version}\"\n"
            f"effective: {effective}\nsummary: The {slug} of DigitalDock, in plain words.\n---\n"
            f"{sections}{extra}")


class ContentTree:
    """A valid content/ folder in a temp dir, with helpers to add or break things."""

    def __init__(self, base: Path):
        self.base = base
        self.root = base / "content"
        self.storage = self.root / "storage"
        for d in ("products", "sellers", "legal", "images"):
            (self.root / d).mkdir(parents=True)
        (self.root / "categories.yml").write_text(CATEGORIES)
        (self.root / "sellers" / "ada.md").write_text(SELLER)
        for slug in LEGAL_DOCUMENTS:
            (self.root / "legal" / f"{slug}.md").write_text(legal_text(slug))
        for name in ("ada.png", "cover.png", "shot-1.png"):
            self.image(name, png())
        self.pdf = self.add_file(PDF)
        self.product("budget-planner")

    def image(self, name: str, data: bytes) -> Path:
        p = self.root / "images" / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        return p

    def add_file(self, data: bytes) -> dict:
        sha = hashlib.sha256(data).hexdigest()
        p = self.storage / storage_key(sha)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        return {"size": len(data), "sha": sha, "key": storage_key(sha)}

    def product_text(self, file: dict | None = None) -> str:
        return PRODUCT.format(**(file or self.pdf))

    def product(self, slug: str, text: str | None = None, file: dict | None = None) -> Path:
        p = self.root / "products" / f"{slug}.md"
        p.write_text(text if text is not None else self.product_text(file))
        return p

    def invoke(self, *args: str, env: dict | None = None):
        """Run a `digitaldock` subcommand in-process (CliRunner) from the tree's folder."""
        from click.testing import CliRunner


        env = {"STORAGE_BACKEND": None, "STORAGE_DIR": None, "CLAMD_SOCKET": None,
               "CLAMD_HOST": None, **(env or {})}
        with contextlib.chdir(self.base):
            return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)

    def run(self, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
        """Run the real `digitaldock` console script in the tree's folder."""
        exe = Path(sys.executable).parent / "digitaldock"
        return subprocess.run([str(exe), *args], cwd=self.base, capture_output=True, text=True,
                              env={**os.environ, **(env or {})}, check=False)


@pytest.fixture(scope="session")
def make_tree():
    """The ContentTree class, for module-scoped fixtures (conftest is not importable)."""
    return ContentTree


@pytest.fixture
def tree(tmp_path: Path) -> ContentTree:
    return ContentTree(tmp_path)


@pytest.fixture
def chdir_tree(tree: ContentTree, monkeypatch: pytest.MonkeyPatch) -> ContentTree:
    monkeypatch.chdir(tree.base)
    monkeypatch.delenv("STORAGE_BACKEND", raising=False)
    monkeypatch.delenv("STORAGE_DIR", raising=False)
    return tree


# `clamd`, `moto_endpoint` and `aws_env` are shared with the edge's tests: see tests/conftest.py.


@pytest.fixture
def bucket(moto_endpoint: str, aws_env: dict) -> str:
    """A fresh, empty bucket on the moto server."""
    from digitaldock.storage import s3_client

    name = f"test-{uuid.uuid4().hex[:12]}"
    s3_client(moto_endpoint).create_bucket(Bucket=name)
    return name


@pytest.fixture
def s3(moto_endpoint: str, aws_env: dict):
    from digitaldock.storage import s3_client

    return s3_client(moto_endpoint)
