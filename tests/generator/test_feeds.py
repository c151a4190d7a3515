"""The hand-written Atom feeds (generator/feeds.py) against feedgenerator as the oracle.

feedgenerator is what Pelican writes feeds with; ours is kept for build time (the module says
how much). For the same products both must say the same thing, element by element, hostile
text included; only the summary differs in form: feedgenerator marks every summary as HTML,
ours is plain text.
"""

from __future__ import annotations

import datetime as dt
import html
import xml.etree.ElementTree as ET
from pathlib import Path

import feedgenerator
from digitaldock.schema import load_catalog
from generator.feeds import ENTRIES, atom_feed
from generator.site import Settings, SiteModel

A = "{http://www.w3.org/2005/Atom}"


def oracle(m: SiteModel, products, title: str, self_url: str) -> bytes:
    base = m.settings.site_url

    class Fixed(feedgenerator.Atom1Feed):
        def latest_post_date(self):
            return dt.datetime.combine(max((p.published for p in products), default=dt.date(2000, 1, 1)), dt.time())

    feed = Fixed(title=f"{m.settings.site_name}: {title}", link=base + "/", description="",
                 feed_url=base + self_url, feed_guid=base + self_url)
    for p in products[:ENTRIES]:
        when = dt.datetime.combine(p.published, dt.time())
        feed.add_item(title=p.title, link=base + p.url, unique_id=base + p.url, pubdate=when, updateddate=when,
                      author_name=p.seller_obj.name, categories=[p.category],
                      description=html.escape(f"{p.summary} — {p.price_display}"))
    return feed.writeString("utf-8").encode()


def meaning(xml: bytes) -> list:
    """Every element as (path, attributes, text), in order; HTML summaries as their text."""
    out = []

    def walk(el: ET.Element, path: str) -> None:
        path = f"{path}/{el.tag.removeprefix(A)}"
        attrs = dict(el.attrib)
        text = el.text
        if el.tag == A + "summary":
            text = html.unescape(text) if attrs.pop("type") == "html" else text
        out.append((path, sorted(attrs.items()), text))
        for child in sorted(el, key=lambda c: c.tag):  # the two writers order siblings differently
            walk(child, path)

    walk(ET.fromstring(xml), "")
    return out


def make_model(content: Path, kit, site_url: str) -> SiteModel:
    kit.write_product(content, "sharp-edges", title="'''Quotes'' & \"<b>tags</b>\" > 5'",
                      summary="'<script>alert(1)</script> & friends, \"quoted\" ]]>'", published="2026-05-01")
    catalog, _ = load_catalog(content)
    return SiteModel(catalog, Settings(theme=kit.ROOT / "digitaldock" / "theme", content=content, site_url=site_url))


def test_feeds_say_what_feedgenerator_says(content: Path, kit):
    # feedgenerator turns link IRIs into URIs (a quote becomes %22); an ampersand stays
    model = make_model(content, kit, "https://shop.example/a&b")
    feeds = [(model.products, "All products", "/feeds/all.atom.xml")]
    feeds += [(model.by_category(c.slug), c.name, f"/feeds/category/{c.slug}.atom.xml") for c in model.site.categories]
    feeds.append(([], "Nothing yet", "/feeds/category/empty.atom.xml"))
    for products, title, url in feeds:
        ours = atom_feed(model, products, title, url)
        assert meaning(ours) == meaning(oracle(model, products, title, url)), url
        assert ours == atom_feed(model, products, title, url)  # deterministic


def test_hostile_text_stays_text(content: Path, kit):
    model = make_model(content, kit, 'https://shop.example/a&b"c')
    feed = ET.fromstring(atom_feed(model, model.products, "All products", "/feeds/all.atom.xml"))
    first = feed.find(f"{A}entry")
    assert first.find(f"{A}title").text == "'Quotes' & \"<b>tags</b>\" > 5"
    assert first.find(f"{A}summary").text.startswith("<script>alert(1)</script> & friends, \"quoted\" ]]> — $")
    assert first.find(f"{A}link").get("href") == 'https://shop.example/a&b"c/products/sharp-edges/'
