"""The storefront model and its templates (generator/site.py)."""

from __future__ import annotations

import json
from pathlib import Path

from markupsafe import Markup


def test_output_escaping_gives_exactly_markupsafes_bytes(content: Path, kit):
    """Templates escape through a leaner function than markupsafe.escape; every page must be
    byte-for-byte what plain Jinja with markupsafe writes, hostile text included."""
    from digitaldock.schema import load_catalog
    from generator.site import Settings, SiteModel, environment, plan, render, theme_assets

    # YAML single-quoted scalars, where '' is one quote
    kit.write_product(content, "sharp-edges", title="'''Quotes'' & \"<b>tags</b>\" > 5'",
                      summary="'<script>alert(1)</script> & friends, \"quoted\"'", tags=["x-y"])
    catalog, _ = load_catalog(content)
    settings = Settings(theme=kit.ROOT / "digitaldock" / "theme", content=content)
    pages = {}
    for fast in (True, False):
        model = SiteModel(catalog, settings)
        files = plan(model)
        model.assets = theme_assets(settings)
        env = model.env = environment(settings, model.assets, fast_escape=fast)
        model.site.header_html = Markup(env.get_template("_header.html").render(site=model.site))
        model.site.footer_html = Markup(env.get_template("_footer.html").render(site=model.site))
        pages[fast] = {f.path: render(env, f, model.site) for f in files}
    assert pages[True] == pages[False]
    page = pages[True]["products/sharp-edges/index.html"].decode()
    assert "<h1>&#39;Quotes&#39; &amp; &#34;&lt;b&gt;tags&lt;/b&gt;&#34; &gt; 5</h1>" in page
    assert "<script>alert" not in page


def test_search_text_is_folded_like_the_browser_folds_queries():
    from digitaldock.search import fold

    assert fold("Café Crème NAÏVE") == "cafe creme naive"
    assert fold("Plain ASCII Title") == "plain ascii title"
    assert fold("ﬁne Ｔype") == "fine type"  # compatibility forms: ligatures, full-width letters


def test_what_you_get_lists_each_files_sha256_with_a_way_to_check_it(built: Path):
    """A buyer can check a download against the product page (#15): each file's SHA-256 is under
    its name, and one line says how to compute it."""
    page = next(built.glob("products/*/index.html")).read_text(encoding="utf-8")
    section = page[page.index('id="files-heading"'):page.index("report-link")]
    assert "SHA-256 <code>" + "a" * 64 + "</code>" in section
    assert "sha256sum FILE" in section and "shasum -a 256 FILE" in section


def test_the_product_page_plays_its_preview_and_opens_the_gallery_in_a_lightbox(content: Path, tmp_path: Path, kit):
    """Before buying (#15): an audio preview gets a player fed by the edge, and a gallery image
    opens in a lightbox on the page instead of the raw PNG."""
    kit.write_product(content, "lofi-clip", gallery=["images/cover.png"], files=[
        "files:", "  - name: album.zip", "    size: 1234", "    sha256: " + "a" * 64, "    key: sha256/aa/" + "a" * 64,
        "preview:", "  name: clip.wav", "  size: 99", "  sha256: " + "b" * 64, "  key: sha256/bb/" + "b" * 64])
    built = kit.build_to(content, tmp_path / "out")
    page = (built / "products" / "lofi-clip" / "index.html").read_text(encoding="utf-8")
    assert f'<audio controls preload="metadata" src="http://127.0.0.1:8001/preview/{"b" * 64}">' in page
    assert 'href="#shot-1"' in page and 'id="shot-1"' in page and 'href="/images/cover' not in page
    entry = json.loads((built / "catalog.json").read_text())["products"]["lofi-clip"]
    assert entry["preview"]["sha256"] == "b" * 64 and entry["files"][0]["sha256"] == "a" * 64
