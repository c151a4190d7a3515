"""Build benchmark: our storefront build against stock Pelican and a bare floor, in one run.

    .venv/bin/python benchmarks/build.py [--products 10000] [--keep DIR]

Generates N synthetic products (5 paragraphs, 3 images, 2 files each, ~40 categories, ~200
tags), then times, each in a fresh process:

1. our cold build (`digitaldock build`),
2. a no-change rebuild,
3. a rebuild after one product changed,
4. stock Pelican on the same number of plain Markdown articles,
5. a bare floor: read, parse front matter, render Markdown and one Jinja2 template per page,
   write; no framework, both cores.

It prints wall time, ms per product page and peak RSS for each, and the ratios. Nothing here
is a test: the numbers depend on the machine (see benchmarks/README.md for ours).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
WORDS = ("studio grid type font template invoice palette sample loop beat lesson course guide "
         "brand layout icon texture mockup vector print screen poster deck resume wedding menu "
         "chapter recipe habit budget planner journal sketch photo preset filter kit bundle pack "
         "module workshop lecture exercise project client pricing market launch audience").split()


def paragraph(rng: random.Random, n: int = 60) -> str:
    words = [rng.choice(WORDS) for _ in range(n)]
    words[0] = words[0].capitalize()
    return " ".join(words) + "."


def make_content(root: Path, n: int, seed: int = 7) -> Path:
    from PIL import Image

    rng = random.Random(seed)
    content = root / "content"
    for d in ("products", "sellers", "legal", "images"):
        (content / d).mkdir(parents=True, exist_ok=True)
    cats = [f"category-{i:02d}" for i in range(40)]
    (content / "categories.yml").write_text("".join(
        f"- slug: {c}\n  name: Category {i}\n  description: Things of kind {i}.\n" for i, c in enumerate(cats)))
    tags = [f"tag-{i:03d}" for i in range(200)]
    for i in range(60):
        Image.new("RGB", (1200, 800), (i * 4 % 256, 90, 160)).save(content / "images" / f"img-{i:02d}.png")
    for s in range(20):
        (content / "sellers" / f"seller-{s:02d}.md").write_text(
            f"---\nname: Seller {s}\navatar: images/img-{s:02d}.png\npayout_currency: USD\n---\n"
            "A seller of fine digital goods since 2020.\n")
    for slug, headings in _legal().items():
        body = "\n\n".join(f"## {h}\n\n{paragraph(rng, 40)}" for h in headings)
        (content / "legal" / f"{slug}.md").write_text(
            f"---\ntitle: {slug.title()}\nversion: \"1.0\"\neffective: 2026-11-01\n"
            f"summary: The {slug} document.\n---\n{body}\n")
    digest = "ab" * 32
    for i in range(n):
        imgs = [f"images/img-{(i + k) % 60:02d}.png" for k in range(3)]
        body = "\n\n".join(paragraph(rng) for _ in range(5))
        (content / "products" / f"product-{i:05d}.md").write_text(textwrap.dedent(f"""\
            ---
            title: Product number {i}
            seller: seller-{i % 20:02d}
            category: {cats[i % 40]}
            tags: [{tags[i % 200]}, {tags[(i * 7 + 1) % 200]}]
            price: "{5 + i % 95}.00"
            currency: USD
            summary: A synthetic product used to measure the build, number {i}.
            cover: {imgs[0]}
            gallery: [{imgs[1]}, {imgs[2]}]
            files:
              - name: file-a.pdf
                size: {1000 + i}
                sha256: {digest}
                key: sha256/ab/{digest}
              - name: file-b.zip
                size: {2000 + i}
                sha256: {digest}
                key: sha256/ab/{digest}
            license: Personal and commercial use
            version: "1.0"
            published: 2025-{1 + i % 12:02d}-{1 + i % 28:02d}
            status: published
            ---
            """) + body + "\n")
    return content


def _legal() -> dict[str, tuple[str, ...]]:
    sys.path.insert(0, str(ROOT))
    from digitaldock.schema import LEGAL_DOCUMENTS

    return LEGAL_DOCUMENTS


def make_articles(root: Path, content: Path) -> Path:
    """The same products as plain Pelican articles, for stock Pelican."""
    articles = root / "articles"
    articles.mkdir()
    for p in sorted((content / "products").glob("*.md")):
        meta, body = p.read_text().split("---\n", 2)[1:]
        title = next(line.split(": ", 1)[1] for line in meta.splitlines() if line.startswith("title:"))
        cat = next(line.split(": ", 1)[1] for line in meta.splitlines() if line.startswith("category:"))
        date = next(line.split(": ", 1)[1] for line in meta.splitlines() if line.startswith("published:"))
        (articles / p.name).write_text(f"Title: {title}\nDate: {date}\nCategory: {cat}\n\n{body}")
    conf = root / "stockconf.py"
    conf.write_text(f"PATH = {str(articles)!r}\nSITENAME = 'bench'\nSITEURL = ''\nTIMEZONE = 'UTC'\n"
                    "FEED_ALL_ATOM = None\nCATEGORY_FEED_ATOM = None\nTRANSLATION_FEED_ATOM = None\n"
                    "AUTHOR_FEED_ATOM = None\nAUTHOR_FEED_RSS = None\nDEFAULT_PAGINATION = 24\n"
                    "LOAD_CONTENT_CACHE = False\n")
    return conf


FLOOR = r'''
import os, sys, yaml
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from jinja2 import Template
from markdown_it import MarkdownIt

SRC, DST = Path(sys.argv[1]), Path(sys.argv[2])
TPL = Template("<!doctype html><title>{{ meta.title }}</title><h1>{{ meta.title }}</h1>{{ body }}")
md = MarkdownIt("commonmark")
Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

def one(paths):
    for p in paths:
        text = p.read_text()
        _, fm, body = text.split("---\n", 2)
        meta = yaml.load(fm, Loader=Loader)
        out = DST / p.stem / "index.html"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(TPL.render(meta=meta, body=md.render(body)))
    return len(paths)

files = sorted(SRC.glob("*.md"))
with ProcessPoolExecutor(2) as ex:
    print(sum(ex.map(one, [files[i::8] for i in range(8)])))
'''


def timed(argv: list[str], cwd: Path, env: dict | None = None) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB, the largest of the process and its children).

    Dirty pages are flushed first, so no step pays for writing back the files of the step
    (or the content generation) before it.
    """
    os.sync()
    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"{argv[:3]} failed: {proc.stderr.read().decode()[-2000:]}")
    return wall, usage.ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--products", type=int, default=10_000)
    ap.add_argument("--keep", type=Path, help="work in this folder and keep it")
    ap.add_argument("--skip-stock", action="store_true", help="skip stock Pelican (slow at 10k)")
    args = ap.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="dd-bench-"))
    if work.exists() and args.keep:
        shutil.rmtree(work)
    work.mkdir(parents=True, exist_ok=True)
    n = args.products
    print(f"generating {n} products in {work} ...", flush=True)
    content = make_content(work, n)
    conf = work / "benchconf.py"
    conf.write_text(f"import sys\nsys.path.insert(0, {str(ROOT)!r})\nfrom pelicanconf import *\n"
                    f"PATH = {str(content)!r}\nTHEME = {str(ROOT / 'digitaldock/theme')!r}\n"
                    f"PLUGIN_PATHS = [{str(ROOT)!r}]\n")
    ours = [PY, "-m", "checkout.cli.main", "build", "-s", str(conf), "-o", str(work / "output")]
    results: dict[str, tuple[float, float]] = {}
    print("our cold build ...", flush=True)
    results["cold build"] = timed(ours, ROOT)
    print("no-change rebuild ...", flush=True)
    results["no-change rebuild"] = timed(ours, ROOT)
    victim = content / "products" / "product-00042.md"
    victim.write_text(victim.read_text().replace('price: "', 'price: "1', 1))
    print("one-product rebuild ...", flush=True)
    results["one-product rebuild"] = timed(ours, ROOT)
    if not args.skip_stock:
        print("stock Pelican ...", flush=True)
        stock = make_articles(work, content)
        results["stock Pelican"] = timed([str(Path(PY).parent / "pelican"), "-s", str(stock), "-o",
                                          str(work / "stock-output")], work)
    print("bare floor ...", flush=True)
    floor = work / "floor.py"
    floor.write_text(FLOOR)
    results["bare floor"] = timed([PY, str(floor), str(content / "products"), str(work / "floor-output")], work)
    pages = sum(1 for _ in (work / "output").rglob("*.html"))
    print(f"\n{n} products; our build writes {pages} HTML pages ({n} product pages)\n")
    print(f"{'step':<22}{'wall s':>9}{'ms/product':>12}{'peak RSS MB':>13}")
    for name, (wall, rss) in results.items():
        print(f"{name:<22}{wall:>9.2f}{wall * 1000 / n:>12.3f}{rss:>13.0f}")
    cold = results["cold build"][0]
    if "stock Pelican" in results:
        print(f"\nstock Pelican / our cold build: {results['stock Pelican'][0] / cold:.1f}x")
    print(f"our cold build / bare floor:    {cold / results['bare floor'][0]:.2f}x")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
