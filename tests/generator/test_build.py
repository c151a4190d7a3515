"""The built site: every page, link, data file and guarantee a visitor or the edge relies on."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest

from checkout.cli.main import main
from digitaldock.schema import LEGAL_DOCUMENTS, ContentError


class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.refs: list[str] = []
        self.jsonld: list[str] = []
        self.meta: dict[str, str] = {}
        self.imgs: list[dict] = []
        self.forms: list[dict] = []
        self._in_ld = False
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for k in ("href", "src"):
            if a.get(k):
                self.refs.append(a[k])
        if tag == "script" and a.get("type") == "application/ld+json":
            self._in_ld = True
        if tag == "meta" and (a.get("property") or a.get("name")):
            self.meta[a.get("property") or a.get("name")] = a.get("content", "")
        if tag == "img":
            self.imgs.append(a)
        if tag == "form":
            self.forms.append(a)

    def handle_endtag(self, tag):
        self._in_ld = False

    def handle_data(self, data):
        if self._in_ld:
            self.jsonld.append(data)
        self.text.append(data)


def parse(path: Path) -> _Page:
    p = _Page()
    p.feed(path.read_text("utf-8"))
    return p


def tree(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_pages_exist_for_public_products_only(built: Path):
    assert (built / "products/first-guide/index.html").exists()
    assert (built / "products/naira-pack/index.html").exists()
    assert not (built / "products/draft-thing").exists()
    assert not (built / "products/old-thing").exists()
    for path in ("index.html", "products/index.html", "products/sort/price-low/index.html",
                 "category/fonts/index.html", "category/fonts/sort/price-low/index.html", "category/index.html",
                 "tag/design/index.html", "sellers/index.html", "sellers/test-seller/index.html",
                 "legal/index.html", "search/index.html", "404.html", "catalog.json",
                 "sitemap.xml", "robots.txt", "feeds/all.atom.xml", "feeds/category/fonts.atom.xml",
                 "images/cover.png"):
        assert (built / path).is_file(), path
    listing = (built / "products/index.html").read_text()
    assert "draft-thing" not in listing and "Old Thing" not in listing
    catalog = json.loads((built / "catalog.json").read_text())
    assert sorted(catalog["products"]) == ["first-guide", "naira-pack", "second-font"]


def test_theme_assets_are_fingerprinted_and_cached_for_a_year(built: Path):
    from pipelines.publish import cache_control

    [css] = (built / "theme/css").glob("main.*.css")
    assert css.read_bytes() == (Path(__file__).resolve().parents[2] / "digitaldock/theme/static/css/main.css").read_bytes()
    assert f'href="/theme/css/{css.name}"' in (built / "index.html").read_text()
    assert not (built / "theme/css/main.css").exists()
    assert cache_control(f"theme/css/{css.name}") == "public, max-age=31536000, immutable"
    assert cache_control("index.html") == "public, max-age=300"


def test_every_internal_link_and_asset_exists(built: Path):
    missing = []
    for page in built.rglob("*.html"):
        for ref in parse(page).refs:
            if not ref.startswith("/") or ref.startswith("//"):
                continue
            path = ref.split("#")[0].split("?")[0]
            target = built / path.lstrip("/")
            if path.endswith("/"):
                target = target / "index.html"
            if not target.exists():
                missing.append(f"{page.relative_to(built)} → {ref}")
    assert missing == []


def test_product_page_shows_price_files_and_buy_form(built: Path):
    page = parse(built / "products/naira-pack/index.html")
    text = "".join(page.text)
    assert "₦15,000" in text and "at least ₦5,000" in text
    assert "guide.pdf" in text and "1.2 KB" in text
    buy = [f for f in page.forms if f["action"].endswith("/checkout")]
    assert buy == [{"class": "buy", "method": "post", "action": "http://127.0.0.1:8001/checkout"}]
    html = (built / "products/naira-pack/index.html").read_text()
    assert '<input type="hidden" name="product" value="naira-pack">' in html
    assert 'name="amount" type="number"' in html and 'min="5000.00"' in html
    fixed = (built / "products/first-guide/index.html").read_text()
    assert 'name="amount"' not in fixed
    assert "4.5" in fixed and "2 ratings" in fixed
    assert 'rel="canonical" href="http://127.0.0.1:8000/products/first-guide/"' in fixed
    for img in page.imgs:
        assert img.get("width") and img.get("height"), img


def test_jsonld_is_a_valid_product_offer(built: Path):
    page = parse(built / "products/first-guide/index.html")
    data = json.loads("".join(page.jsonld))
    assert data["@context"] == "https://schema.org" and data["@type"] == "Product"
    assert data["name"] == "First Guide"
    assert data["image"] == ["http://127.0.0.1:8000/images/cover.png"]
    offer = data["offers"]
    assert offer["@type"] == "Offer" and offer["price"] == "12.50" and offer["priceCurrency"] == "USD"
    assert offer["availability"] == "https://schema.org/InStock"
    assert data["aggregateRating"]["ratingValue"] == "4.5" and data["aggregateRating"]["reviewCount"] == 2
    assert page.meta["og:title"] == "First Guide"
    assert page.meta["og:image"] == "http://127.0.0.1:8000/images/cover.png"
    assert page.meta["twitter:card"] == "summary_large_image"
    unrated = json.loads("".join(parse(built / "products/second-font/index.html").jsonld))
    assert "aggregateRating" not in unrated


def test_catalog_json_is_the_edge_price_list(built: Path):
    catalog = json.loads((built / "catalog.json").read_text())
    assert catalog["schema_version"] == 1
    naira = catalog["products"]["naira-pack"]
    assert naira["price"] == 1_500_000 and naira["currency"] == "NGN" and naira["pwyw_minimum"] == 500_000
    assert catalog["products"]["first-guide"]["price"] == 1250
    assert naira["files"][0] == {"name": "guide.pdf", "size": 1234, "sha256": "a" * 64,
                                 "key": "sha256/aa/" + "a" * 64}
    assert catalog["legal"]["privacy"]["version"] == "1.0"
    assert catalog["sellers"]["test-seller"]["payout_currency"] == "USD"
    body = {k: v for k, v in catalog.items() if k != "build_hash"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert catalog["build_hash"] == hashlib.sha256(canonical.encode()).hexdigest()
    # one canonical form: sorted keys, compact, UTF-8, one line
    assert (built / "catalog.json").read_text() == json.dumps(
        catalog, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"


def test_sitemap_index_lists_every_indexable_page(built: Path):
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    index = ET.fromstring((built / "sitemap.xml").read_bytes())
    assert index.tag == "{http://www.sitemaps.org/schemas/sitemap/0.9}sitemapindex"
    parts = [e.text for e in index.findall("s:sitemap/s:loc", ns)]
    assert parts == ["http://127.0.0.1:8000/sitemaps/sitemap-1.xml"]
    locs = {e.text for e in ET.fromstring((built / "sitemaps/sitemap-1.xml").read_bytes()).findall("s:url/s:loc", ns)}
    pages = {"http://127.0.0.1:8000/" + p.relative_to(built).as_posix().removesuffix("index.html")
             for p in built.rglob("index.html") if 'name="robots" content="noindex' not in p.read_text()}
    assert locs == pages
    assert "http://127.0.0.1:8000/products/first-guide/" in locs
    assert "http://127.0.0.1:8000/products/" in locs
    # the search page and listings in another order than their own are noindex, so not listed
    assert "http://127.0.0.1:8000/search/" not in locs
    assert "http://127.0.0.1:8000/products/sort/price-low/" not in locs
    assert 'content="noindex, follow"' in (built / "products/sort/price-low/index.html").read_text()
    assert "Sitemap: http://127.0.0.1:8000/sitemap.xml" in (built / "robots.txt").read_text()


def test_sitemap_files_hold_at_most_the_limit(content: Path, tmp_path: Path, kit, monkeypatch):
    import generator.site

    monkeypatch.setattr(generator.site, "SITEMAP_URLS", 5)
    out = kit.build_to(content, tmp_path / "small")
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    parts = [e.text for e in ET.fromstring((out / "sitemap.xml").read_bytes()).findall("s:sitemap/s:loc", ns)]
    assert len(parts) >= 3
    counts = [len(ET.fromstring((out / "sitemaps" / Path(u).name).read_bytes()).findall("s:url", ns)) for u in parts]
    assert max(counts) == 5 and all(c >= 1 for c in counts)
    monkeypatch.undo()
    assert sum(counts) == len(ET.fromstring((kit.build_to(content, tmp_path / "one") / "sitemaps/sitemap-1.xml")
                                            .read_bytes()).findall("s:url", ns))


def test_feeds_are_atom(built: Path):
    ns = {"a": "http://www.w3.org/2005/Atom"}
    feed = ET.fromstring((built / "feeds/all.atom.xml").read_bytes())
    titles = [e.text for e in feed.findall("a:entry/a:title", ns)]
    assert titles == ["Second Font", "First Guide", "Naira Pack"]
    assert feed.find("a:updated", ns).text == "2026-04-01T00:00:00Z"
    fonts = ET.fromstring((built / "feeds/category/fonts.atom.xml").read_bytes())
    assert [e.text for e in fonts.findall("a:entry/a:title", ns)] == ["Second Font", "Naira Pack"]


def test_legal_pages_and_every_footer(built: Path):
    for slug, headings in LEGAL_DOCUMENTS.items():
        html = (built / f"legal/{slug}/index.html").read_text()
        for h in headings:
            assert f">{h}</h2>" in html, (slug, h)
    for page in built.rglob("*.html"):
        refs = parse(page).refs
        for slug in LEGAL_DOCUMENTS:
            assert f"/legal/{slug}/" in refs, (page, slug)


def test_sorted_listings_and_pagination(content: Path, tmp_path: Path, kit):
    ROOT, build_to, write_product = kit.ROOT, kit.build_to, kit.write_product
    for i in range(5):
        write_product(content, f"extra-{i}", price=f'"{30 + i}.00"', published=f"2026-01-0{i + 1}")
    out = build_to(content, tmp_path / "out")
    low = (out / "products/sort/price-low/index.html").read_text()
    assert low.index("First Guide") < low.index("Second Font") < low.index("Extra 0")
    high = (out / "products/sort/price-high/index.html").read_text()
    assert high.index("Extra 4") < high.index("Second Font")
    rating = (out / "products/sort/rating/index.html").read_text()
    assert rating.index("First Guide") < rating.index("Second Font")
    from pelican.settings import read_settings  # noqa: F401 - pagination uses the settings below

    from generator.build import build

    paged = build(tmp_path / "paged", ROOT / "pelicanconf.py",
                  overrides={"PATH": str(content), "THEME": str(ROOT / "digitaldock/theme"),
                             "PRODUCTS_PER_PAGE": 3})
    second = (paged / "products/page/2/index.html").read_text()
    assert "Page 2 of 3" in second and 'rel="prev" href="/products/"' in second
    assert 'rel="next" href="/products/page/3/"' in second


XSS = [
    "<script>alert('x')</script>",
    '<img src=x onerror="alert(1)">',
    "[click](javascript:alert(1))",
    '<a href="javascript:alert(1)">click</a>',
    '<a href="JaVaScRiPt:alert(1)">click</a>',
    "<iframe src=https://evil.example></iframe>",
    '<svg onload="alert(1)"><circle/></svg>',
    '<div style="background:url(javascript:alert(1))">styled</div>',
    '<object data="x.swf"></object>',
    '<p onclick="alert(1)">clicky</p>',
    '<form action="https://evil.example"><input name="card"></form>',
    "<math><mi xlink:href=\"javascript:alert(1)\">x</mi></math>",
]


def test_xss_in_a_description_never_reaches_the_page(content: Path, tmp_path: Path, kit):
    ROOT, build_to, write_product = kit.ROOT, kit.build_to, kit.write_product
    write_product(content, "evil-product", body="Harmless intro text here.\n\n" + "\n\n".join(XSS) + "\n")
    out = build_to(content, tmp_path / "out")
    html = (out / "products/evil-product/index.html").read_text().lower()
    article = html.split('<section class="description prose"', 1)[1].split("</section>", 1)[0]
    for needle in ("<script", "onerror", "=\"javascript:", "<iframe", "onload", "<object", "onclick",
                   "<form", "style=", "<svg"):
        assert needle not in article, needle
    assert "harmless intro text here." in article
    assert "alert" not in html.split("<script type=\"application/ld+json\">")[0]


def test_builds_are_deterministic(content: Path, tmp_path: Path, kit):
    ROOT, build_to, write_product = kit.ROOT, kit.build_to, kit.write_product
    a = build_to(content, tmp_path / "a")
    b = build_to(content, tmp_path / "b")
    assert tree(a) == tree(b)
    again = build_to(content, tmp_path / "a")
    assert tree(again) == tree(b)


def test_search_index_finds_filters_and_sorts(built: Path):
    from digitaldock.search import Index

    index = Index(lambda name: (built / "search" / name).read_bytes())
    titles = lambda r: [c["t"] for c in index.cards(r.ids)]  # noqa: E731
    assert titles(index.search("")) == ["Second Font", "First Guide", "Naira Pack"]  # newest first
    assert titles(index.search("careful")) == []  # the seller's bio is not the product
    assert titles(index.search("test seller")) == ["Second Font", "First Guide", "Naira Pack"]
    assert titles(index.search("schema's limits")) == ["Second Font", "First Guide", "Naira Pack"]  # description
    assert titles(index.search("first gide")) == ["First Guide"]  # a typo
    # prices are banded per currency: the naira pack (from ₦5,000) is never in a dollar band
    result = index.search("", {"price": ["NGN:1"]})
    assert titles(result) == ["Naira Pack"]
    assert result.facets["price"] == {"USD:1": 2, "NGN:1": 1}
    assert result.facets["category"] == {"Fonts": 1}  # narrowed by the price chosen
    result = index.search("", {"rating": ["4"]}, sort="price-high")
    assert titles(result) == ["First Guide"]
    assert titles(index.search("", sort="price-low")) == ["Naira Pack", "First Guide", "Second Font"]  # ₦15,000 ≈ $10
    entry = json.loads((built / "search/index.json").read_text())
    assert entry["facets"]["category"] == ["Ebooks", "Fonts"]
    assert entry["price_shown"] == ["USD:1", "NGN:1"]
    assert [c["p"] for c in index.cards([2])] == ["from ₦5,000"]


def test_broken_content_reports_every_problem_and_keeps_the_good_site(built: Path, content: Path, kit):
    ROOT, build_to, write_product = kit.ROOT, kit.build_to, kit.write_product
    before = tree(built)
    write_product(content, "bad-one", category="nope", price='"abc"')
    write_product(content, "second-font", seller="ghost")  # overwrites a good one
    (content / "products" / "bad-yaml.md").write_text("---\ntitle: [oops\n---\nbody\n")
    with pytest.raises(ContentError) as exc:
        build_to(content, built)
    lines = [str(p) for p in exc.value.problems]
    assert any(line.endswith("bad-one.md:4: category: unknown category 'nope'") for line in lines)
    assert any("bad-one.md:6: price: 'abc' is not a decimal amount" in line for line in lines)
    assert any("second-font.md:3: seller: unknown seller 'ghost'" in line for line in lines)
    assert any("bad-yaml.md:" in line and "front matter: invalid YAML" in line for line in lines)
    assert tree(built) == before
    assert not list(built.parent.glob(".output.staging-*"))


def test_cli_build_prints_problems_and_exits_1(content: Path, tmp_path: Path, kit):
    ROOT, build_to, write_product = kit.ROOT, kit.build_to, kit.write_product
    from click.testing import CliRunner


    write_product(content, "bad-one", currency="EUR")
    settings = tmp_path / "conf.py"
    settings.write_text(f"from pelicanconf import *\nPATH = {str(content)!r}\n"
                        f"THEME = {str(ROOT / 'digitaldock/theme')!r}\n"
                        f"PLUGIN_PATHS = [{str(ROOT)!r}]\n")
    sys.path.insert(0, str(ROOT))
    try:
        result = CliRunner().invoke(main, ["build", "-o", str(tmp_path / "o"), "-s", str(settings)])
    finally:
        sys.path.remove(str(ROOT))
    assert result.exit_code == 1
    assert "bad-one.md:7: currency: 'EUR' is not an accepted currency" in result.output
    assert "the previous site is unchanged" in result.output
    assert not (tmp_path / "o").exists()


def test_plain_pelican_gives_the_same_site_as_digitaldock_build(tmp_path: Path, kit):
    ROOT, build_to, write_product = kit.ROOT, kit.build_to, kit.write_product
    env = {"PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin"}
    ours = tmp_path / "ours"
    subprocess.run([sys.executable, "-m", "checkout.cli.main", "build", "-o", str(ours)], cwd=ROOT,
                   check=True, capture_output=True, env=env)
    plain = tmp_path / "plain"
    subprocess.run([str(Path(sys.executable).parent / "pelican"), "-s", "pelicanconf.py", "-o", str(plain)],
                   cwd=ROOT, check=True, capture_output=True, env=env)
    assert tree(ours) == tree(plain)
    assert len([p for p in tree(ours) if p.startswith("products/") and p.count("/") == 2]) >= 14


def test_incremental_builds_render_only_what_changed(content: Path, tmp_path: Path, kit):
    from generator.build import last_build

    out = tmp_path / "out"
    kit.build_to(content, out)
    first = last_build(out)
    assert len(first.rendered) == first.total
    from generator.build import default_cache_dir

    caches = [default_cache_dir(out.resolve()) / name for name in ("parse.pickle", "render.json")]
    stamps = [p.stat().st_mtime_ns for p in caches]
    kit.build_to(content, out)
    assert last_build(out).rendered == []
    assert [p.stat().st_mtime_ns for p in caches] == stamps, caches  # nothing new: the caches are not rewritten
    # one product changes its price: its page, the listings and data files showing it
    kit.write_product(content, "second-font", category="fonts", price='"21.00"', published="2026-04-01",
                      tags=["type"])
    kit.build_to(content, out)
    rendered = set(last_build(out).rendered)
    assert "products/second-font/index.html" in rendered
    assert {"catalog.json", "search/index.json", "sitemap.xml", "feeds/all.atom.xml", "index.html",
            "products/index.html", "category/fonts/index.html", "tag/type/index.html",
            "sellers/test-seller/index.html"} <= rendered
    assert "legal/terms/index.html" not in rendered
    assert "category/ebooks/index.html" not in rendered
    assert "tag/design/index.html" not in rendered
    assert "products/first-guide/index.html" not in rendered  # not related: another category
    cold = kit.build_to(content, tmp_path / "cold")
    assert tree(out) == tree(cold)
    assert json.loads((out / "catalog.json").read_text())["products"]["second-font"]["price"] == 2100


def test_incremental_build_follows_template_changes_and_removals(content: Path, tmp_path: Path, kit):
    from generator.build import last_build

    out = tmp_path / "out"
    kit.build_to(content, out)
    (content / "products" / "naira-pack.md").unlink()
    kit.build_to(content, out)
    assert not (out / "products/naira-pack").exists()
    assert "naira-pack" not in json.loads((out / "catalog.json").read_text())["products"]
    assert tree(out) == tree(kit.build_to(content, tmp_path / "cold"))
    assert last_build(out).rendered  # the listings that showed it


def test_parallel_parsing_and_rendering_give_the_same_bytes(content: Path, tmp_path: Path, kit,
                                                           monkeypatch):
    from digitaldock import schema
    from generator import build as build_mod
    from generator.build import default_cache_dir, last_build

    for i in range(12):
        kit.write_product(content, f"bulk-{i:02d}", tags=[f"t{i}", "bulk"], published=f"2026-01-{i + 1:02d}")
    settings = {"PATH": str(content), "THEME": str(kit.ROOT / "digitaldock/theme")}
    serial = build_mod.build(tmp_path / "serial", kit.ROOT / "pelicanconf.py", overrides={**settings, "BUILD_JOBS": 1})
    # below the real thresholds forking costs more than it saves; lower them to use the workers
    monkeypatch.setattr(build_mod, "PARALLEL_THRESHOLD", 1)
    monkeypatch.setattr(schema, "PARALLEL_PARSE_THRESHOLD", 1)
    (content / "products" / "not-text.md").write_bytes(b"---\ntitle: \xff\n---\n")
    with pytest.raises(ContentError, match="not-text.md:2: file: is not UTF-8 text"):  # found by a worker
        build_mod.build(tmp_path / "parallel", kit.ROOT / "pelicanconf.py", overrides={**settings, "BUILD_JOBS": 2})
    (content / "products" / "not-text.md").unlink()
    parallel = build_mod.build(tmp_path / "parallel", kit.ROOT / "pelicanconf.py", overrides={**settings, "BUILD_JOBS": 2})
    assert tree(serial) == tree(parallel)
    # the parse cache the workers filled serves the next build: nothing is parsed or rendered again
    cached = (default_cache_dir(parallel) / "parse.pickle").stat().st_mtime_ns
    build_mod.build(tmp_path / "parallel", kit.ROOT / "pelicanconf.py", overrides={**settings, "BUILD_JOBS": 2})
    assert last_build(parallel).rendered == []
    assert (default_cache_dir(parallel) / "parse.pickle").stat().st_mtime_ns == cached


def test_a_new_category_in_the_navigation_reaches_every_page(content: Path, tmp_path: Path, kit):
    out = tmp_path / "out"
    kit.build_to(content, out)
    assert "/category/audio/" not in (out / "legal/terms/index.html").read_text()
    kit.write_product(content, "first-loop", category="audio")
    kit.build_to(content, out)
    assert "/category/audio/" in (out / "legal/terms/index.html").read_text()
    assert tree(out) == tree(kit.build_to(content, tmp_path / "cold"))


def test_the_real_catalogue_builds_with_every_link_and_price_right(tmp_path: Path, repo_root: Path):
    from digitaldock.schema import load_catalog
    from generator.build import build

    out = build(tmp_path / "site", repo_root / "pelicanconf.py",
                overrides={"PATH": str(repo_root / "content"), "THEME": str(repo_root / "digitaldock/theme"),
                           "PLUGIN_PATHS": [str(repo_root)]})
    catalog, _ = load_catalog(repo_root / "content")
    prices = json.loads((out / "catalog.json").read_text())["products"]
    assert sorted(prices) == sorted(p.slug for p in catalog.public_products)
    for product in catalog.public_products:
        assert prices[product.slug]["price"] == product.price.minor
        page = parse(out / "products" / product.slug / "index.html")
        offer = json.loads("".join(page.jsonld))["offers"]
        assert offer["priceCurrency"] == product.price.currency
        assert offer["price"] == product.price.decimal
    for page_path in out.rglob("*.html"):
        for ref in parse(page_path).refs:
            if ref.startswith("/") and not ref.startswith("//"):
                path = ref.split("#")[0].split("?")[0]
                target = out / path.lstrip("/")
                assert (target / "index.html" if path.endswith("/") else target).exists(), (page_path, ref)
    html = "".join(p.read_text() for p in out.rglob("*.html")).lower()
    assert "lorem" not in html and "ipsum" not in html


def test_reviews_from_the_edge_export_show_with_histogram_and_jsonld(built: Path):
    html = (built / "products/first-guide/index.html").read_text()
    assert "4.5 out of 5" in html and "from 2 verified buyers" in html
    assert 'id="review-7"' in html and "Saved my month" in html and "Reply from" in html
    assert "<script>alert(1)</script>" not in html and "<em>and</em>" in html  # sanitised as descriptions are
    assert 'href="http://127.0.0.1:8001/reviews/first-guide"' in html
    data = json.loads("".join(parse(built / "products/first-guide/index.html").jsonld))
    assert [r["reviewRating"]["ratingValue"] for r in data["review"]] == ["5", "4"]
    assert data["review"][0]["author"] == {"@type": "Person", "name": "Ada"}
    assert data["aggregateRating"]["ratingCount"] == 2
    plain = (built / "products/second-font/index.html").read_text()
    assert "No reviews yet." in plain and 'class="rating"' not in plain and 'class="stars"' not in plain


def test_popularity_sort_follows_units_sold(built: Path):
    popular = (built / "products/sort/popular/index.html").read_text()
    assert popular.index("Second Font") < popular.index("First Guide") < popular.index("Naira Pack")
    from digitaldock.search import Index

    index = Index(lambda name: (built / "search" / name).read_bytes())
    # the search page's "Most popular" follows the same export (Second Font 9, First Guide 3, Naira Pack 0)
    titles = [c["t"] for c in index.cards(index.search("", sort="popular").ids)]
    assert titles == ["Second Font", "First Guide", "Naira Pack"]


def test_no_stats_file_means_no_stars_anywhere(content: Path, tmp_path: Path, kit):
    (content / "stats.json").unlink()
    out = kit.build_to(content, tmp_path / "out")
    for page in out.rglob("*.html"):
        assert 'class="rating"' not in page.read_text(), page
    assert "aggregateRating" not in (out / "products/first-guide/index.html").read_text()


def test_save_button_posts_to_the_edge_from_product_pages_and_cards(built: Path):
    page = (built / "products/naira-pack/index.html").read_text()
    assert 'action="http://127.0.0.1:8001/wishlist/save" data-save="naira-pack"' in page
    home = (built / "index.html").read_text()
    assert 'data-save="first-guide"' in home


def test_a_new_review_rerenders_only_what_shows_it(content: Path, tmp_path: Path, kit):
    build_to = kit.build_to
    from digitaldock.stats import ProductStats, Stats, load_stats, write_stats
    from generator.build import last_build

    out = build_to(content, tmp_path / "out")
    stats = load_stats(content / "stats.json")
    write_stats(Stats({**stats.products, "naira-pack": ProductStats(count=1, sum=3, histogram=(0, 0, 1, 0, 0))}),
                content / "stats.json")
    build_to(content, out)
    rendered = last_build(out).rendered
    assert "products/naira-pack/index.html" in rendered and "products/first-guide/index.html" not in rendered
    assert "3.0 out of 5" in (out / "products/naira-pack/index.html").read_text()


def test_a_broken_stats_file_stops_the_build_naming_it(content: Path, tmp_path: Path, kit):
    (content / "stats.json").write_text('{"version": 1, "products": {"first-guide": {"histogram": [1]}}}')
    with pytest.raises(ContentError) as err:
        kit.build_to(content, tmp_path / "out")
    assert "stats.json:1: stats:" in str(err.value) and "products.first-guide.histogram" in str(err.value)
