"""The storefront model and its templates (generator/site.py)."""

from __future__ import annotations

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
