"""The storefront: from a parsed catalogue to every page, feed and data file of the site.

Everything here is a pure function of the catalogue and the settings: the same input gives
byte-identical output (no clocks, no unordered iteration), which is what lets a build be
verified, cached and published by content hash.

`plan()` lists every output file with the template and context that make it (or the
function that produces it); `generator/build.py` renders the plan. The Pelican plugin
(`generator/__init__.py`) calls these, so plain `pelican -s pelicanconf.py` and
`digitaldock build` produce the same tree.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote
from xml.sax.saxutils import escape

from jinja2 import FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from digitaldock import SITE_NAME, TAGLINE, THEME_DIR
from digitaldock.money import format_money, to_decimal, usd_equivalent_cents
from digitaldock.schema import (
    Catalog,
    Category,
    ContentError,
    Problem,
    Product,
    Seller,
)
from digitaldock.schema import preview_kind as schema_preview_kind
from digitaldock.search import SORTS as SEARCH_SORTS
from digitaldock.stats import ProductStats

from . import formatting
from .fast_templates import StorefrontEnvironment
from .feeds import atom_feed
from .markup import heading_id, render_markdown
from .search import search_files

CATALOG_SCHEMA_VERSION = 1
SITEMAP_URLS = 50_000  # Google's limit of URLs in one sitemap file

SORTS: dict[str, tuple[str, str]] = {
    # slug: (label, path segment; "" for the default order)
    "newest": ("Newest", ""),
    "price-low": ("Price: low to high", "sort/price-low"),
    "price-high": ("Price: high to low", "sort/price-high"),
    "rating": ("Top rated", "sort/rating"),
    "popular": ("Most popular", "sort/popular"),
}

@dataclass
class Settings:
    """The subset of Pelican settings the storefront reads, with their defaults."""

    site_name: str = SITE_NAME
    tagline: str = TAGLINE
    site_url: str = "http://127.0.0.1:8000"  # absolute: canonical URLs, feeds, sitemap
    checkout_url: str = "http://127.0.0.1:8001"
    prices_include_tax: bool = False  # the edge's PRICES_INCLUDE_TAX: product pages say which (issue #18)
    per_page: int = 24
    theme: Path = THEME_DIR
    content: Path = Path("content")
    stats: Path | None = None  # the edge's exported ratings and sales (digitaldock.stats)

    @classmethod
    def from_pelican(cls, s: dict[str, Any]) -> Settings:
        return cls(
            site_name=s.get("SITENAME", cls.site_name),
            tagline=s.get("SITE_TAGLINE", cls.tagline),
            site_url=str(s.get("SITEURL") or cls.site_url).rstrip("/"),
            checkout_url=str(s.get("CHECKOUT_URL") or cls.checkout_url).rstrip("/"),
            prices_include_tax=str(s.get("PRICES_INCLUDE_TAX", "")).strip().lower() in ("1", "true", "yes", "on"),
            per_page=int(s.get("PRODUCTS_PER_PAGE", cls.per_page)),
            theme=Path(s["THEME"]),
            content=Path(s["PATH"]),
            stats=stats_path(s),
        )


def stats_path(s: dict[str, Any]) -> Path | None:
    """STATS_PATH, or stats.json in the content folder (where `digitaldock reviews export`
    writes by default); a missing file means no ratings and no sales."""
    given = s.get("STATS_PATH")
    return Path(given) if given else Path(s["PATH"]) / "stats.json"


def _date_display(iso: str) -> str:
    try:
        return formatting.long_date(dt.date.fromisoformat(iso[:10]))
    except ValueError:
        return iso


# --- view models ------------------------------------------------------------------------------

def content_url(rel: str) -> str:
    """The root-relative URL of a content file ("images/a b/é.png" → "/images/a%20b/%C3%A9.png").

    The one place a content path becomes a URL: every `src`, og:image, JSON-LD image and
    catalog.json cover is made here, so each is percent-encoded exactly once.
    """
    return "/" + quote(rel, safe="/")


@dataclass(frozen=True)
class ImageRef:
    src: str  # a root-relative URL, already encoded (`content_url`)
    width: int
    height: int


class ProductView:
    """A product as the templates see it: URLs, display prices, images with their sizes."""

    def __init__(self, product: Product, site: SiteModel):
        # the product's fields become plain attributes: templates read them thousands of times
        self.__dict__.update(product.__dict__)
        self.p = product
        self._site = site

    @cached_property
    def card_html(self) -> Markup:
        """The product's card, rendered once: listings show it on thousands of pages."""
        return Markup(self._site.env.get_template("_card.html").render(p=self, site=self._site.site))

    @cached_property
    def fp(self) -> str:
        """Everything about this product that any page shows, hashed once per build."""
        # the source file's digest stands for every field of the product itself
        site = self._site
        parts = [self.p.digest or repr(self.p), site.seller_fp(self.p.seller), site.repr_of(self.rating), str(self.sold_30d),
                 site.repr_of(self.category_obj), site.repr_of(self.cover_img)]
        parts += [site.repr_of(g) for g in self.gallery_imgs]
        parts += [repr(item) for item in self.bundle_items]  # a bundle's page shows its products' titles
        parts += [repr(item) for item in self.together_items]  # and "often bought together" theirs
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()

    @cached_property
    def url(self) -> str:
        return f"/products/{self.p.slug}/"

    @cached_property
    def together_items(self) -> list[tuple[str, str]]:
        """"Often bought together": the public products content/together.yml lists, as (url, title)."""
        catalog = self._site.catalog
        wanted = catalog.together.get(self.p.slug, ())
        if not wanted:
            return []
        shown = [catalog.products[s] for s in wanted if s in catalog.products]
        shown = [p for p in shown if p.is_public and not catalog.sellers[p.seller].suspended]
        return [(f"/products/{p.slug}/", p.title) for p in shown][:4]

    @cached_property
    def bundle_items(self) -> list[tuple[str, str]]:
        """A bundle's products as (url, title), in the order the bundle lists them."""
        products = self._site.catalog.products
        return [(f"/products/{s}/", products[s].title) for s in self.p.bundle if s in products]

    @cached_property
    def seller_obj(self) -> Seller:
        return self._site.catalog.sellers[self.p.seller]

    @cached_property
    def category_obj(self) -> Category:
        return self._site.categories[self.p.category]

    @cached_property
    def rating(self) -> ProductStats | None:
        """Approved reviews' aggregate, histogram and latest reviews; None: no stars at all."""
        return self._site.catalog.stats.rating(self.p.slug)

    @cached_property
    def sold_30d(self) -> int:
        """Units sold in the last 30 days (popularity), from the edge's export."""
        return self._site.catalog.stats.sold(self.p.slug)

    @cached_property
    def recent_reviews(self) -> list[SimpleNamespace]:
        """The latest approved reviews, their text sanitised as descriptions are (`render_markdown`)."""
        if not self.rating:
            return []
        return [SimpleNamespace(id=r.id, rating=r.rating, stars="★" * r.rating + "☆" * (5 - r.rating),
                                title=r.title, author=r.author, date=r.date,
                                date_display=_date_display(r.date), body_html=Markup(render_markdown(r.body)),
                                reply_html=Markup(render_markdown(r.reply)) if r.reply else None)
                for r in self.rating.recent]

    @cached_property
    def reviews_url(self) -> str:
        return f"{self._site.settings.checkout_url}/reviews/{self.p.slug}"

    @cached_property
    def price_display(self) -> str:
        return format_money(self.p.price.minor, self.p.price.currency)

    @cached_property
    def pwyw_display(self) -> str | None:
        m = self.p.pwyw_minimum
        return format_money(m.minor, m.currency) if m else None

    @cached_property
    def usd_cents(self) -> int:
        return usd_equivalent_cents(self.p.price.minor, self.p.price.currency)

    @cached_property
    def cover_img(self) -> ImageRef:
        return self._site.image(self.p.cover)

    @cached_property
    def gallery_imgs(self) -> list[ImageRef]:
        return [self._site.image(g) for g in self.p.gallery]

    @cached_property
    def gallery_numbered(self) -> list[tuple[int, ImageRef]]:
        return list(enumerate(self.gallery_imgs, 1))

    @cached_property
    def gallery_count(self) -> int:
        return len(self.gallery_imgs)

    @cached_property
    def preview_view(self) -> SimpleNamespace | None:
        """The public preview (issue #15): played or shown on the product page from the edge,
        which serves it by its SHA-256 (`/preview/<sha256>`), never a paid file."""
        f = self.p.preview
        if f is None:
            return None
        return SimpleNamespace(name=f.name, size=formatting.human_size(f.size), sha256=f.sha256,
                               kind=schema_preview_kind(f.name), path=f"/preview/{f.sha256}")

    @cached_property
    def description_html(self) -> str:
        return render_markdown(self.p.description)

    @cached_property
    def files_view(self) -> list[SimpleNamespace]:
        return [SimpleNamespace(name=f.name, size=formatting.human_size(f.size), sha256=f.sha256,
                                kind=f.name.rsplit(".", 1)[-1].upper() if "." in f.name else "FILE")
                for f in self.p.files]

    @cached_property
    def published_iso(self) -> str:
        return self.p.published.isoformat()

    @cached_property
    def published_display(self) -> str:
        return formatting.long_date(self.p.published)

    @cached_property
    def jsonld(self) -> Markup:
        """schema.org Product data for search engines, safe inside a <script> element."""
        s = self._site.settings
        data: dict[str, Any] = {
            "@context": "https://schema.org",
            "@type": "Product",
            "name": self.p.title,
            "description": self.p.summary,
            "sku": self.p.slug,
            "url": s.site_url + self.url,
            "image": [s.site_url + self.cover_img.src] + [s.site_url + g.src for g in self.gallery_imgs],
            "category": self.category_obj.name,
            "brand": {"@type": "Brand", "name": self.seller_obj.name},
            "offers": {
                "@type": "Offer",
                "url": s.site_url + self.url,
                "price": to_decimal(self.p.price.minor, self.p.price.currency),
                "priceCurrency": self.p.price.currency,
                "availability": "https://schema.org/InStock",
                "seller": {"@type": "Organization", "name": self.seller_obj.name},
            },
        }
        if self.rating:
            data["aggregateRating"] = {
                "@type": "AggregateRating",
                "ratingValue": self.rating.average,
                "ratingCount": self.rating.count,
                "reviewCount": self.rating.count,
                "bestRating": "5",
                "worstRating": "1",
            }
            data["review"] = [{
                "@type": "Review",
                "author": {"@type": "Person", "name": r.author},
                "datePublished": r.date,
                "name": r.title or f"{r.rating} out of 5",
                "reviewBody": r.body,
                "reviewRating": {"@type": "Rating", "ratingValue": str(r.rating), "bestRating": "5",
                                 "worstRating": "1"},
            } for r in self.rating.recent]
        # "</" inside a JSON string would end the script element early
        return Markup(json.dumps(data, ensure_ascii=False, sort_keys=True).replace("<", "\\u003c"))


def _sort(products: list[ProductView], order: str) -> list[ProductView]:
    """`products` in a listing order; they arrive newest first (the catalogue's own order)."""
    newest = list(products)
    if order == "price-low":
        return sorted(newest, key=lambda p: p.usd_cents)
    if order == "price-high":
        return sorted(newest, key=lambda p: -p.usd_cents)
    if order == "rating":
        return sorted(newest, key=lambda p: (-(p.rating.stars_x10 if p.rating else -1),
                                             -(p.rating.count if p.rating else 0)))
    if order == "popular":
        return sorted(newest, key=lambda p: -p.sold_30d)
    return newest


@dataclass
class OutputFile:
    """One file of the site: a template and its context, or a function producing its bytes."""

    path: str  # relative to the output folder, with forward slashes
    template: str | None = None
    context: dict[str, Any] = field(default_factory=dict)
    produce: Callable[[], bytes] | None = None
    # for produced files: a fingerprint of everything they are made from, or a function giving
    # it (the catalogue's fingerprint is computed only when a key is asked for: on a first
    # build, by the worker that writes the file)
    data_key: str | Callable[[], str] = ""

    def key(self, base: str) -> str:
        """A fingerprint of every input of this file: equal keys mean equal bytes.

        `base` covers the templates and settings. An incremental build re-renders a file only
        when its key changed, so the key must include everything the page shows.
        """
        h = hashlib.sha256(base.encode())
        h.update(self.path.encode())
        if self.produce is not None:
            h.update((self.data_key() if callable(self.data_key) else self.data_key).encode())
        else:
            h.update(str(self.template).encode())
            _feed(h, self.context)
        return h.hexdigest()


def _feed(h: Any, value: Any) -> None:
    """Hash a template context: view models by their fingerprint, plain values by repr."""
    kind = type(value)
    if kind is ProductView:
        h.update(b"P" + value.fp.encode())
    elif kind is dict:
        for k in sorted(value):
            h.update(b"K" + str(k).encode())
            _feed(h, value[k])
    elif kind is list or kind is tuple:
        if value and all(type(item) is ProductView for item in value):
            # listings: a page of products hashes as their fingerprints, joined
            h.update(("[P" + "P".join(item.fp for item in value) + "]").encode())
            return
        h.update(b"[")
        for item in value:
            _feed(h, item)
        h.update(b"]")
    elif callable(value) and not isinstance(value, type):
        h.update(b"F")  # page_url helpers: what they produce is fixed by canonical/page values
    else:
        h.update(repr(value).encode())


class SiteModel:
    """The catalogue plus the derived lookups every page needs."""

    def __init__(self, catalog: Catalog, settings: Settings):
        self.catalog = catalog
        self.settings = settings
        self.categories = {c.slug: c for c in catalog.categories}
        self.products = [ProductView(p, self) for p in catalog.public_products]
        self._images: dict[str, ImageRef] = {}
        self.assets: dict[str, str] = {}  # theme file → fingerprinted name, set by the build
        self.problems: list[Problem] = []
        legal = [catalog.legal[s] for s in sorted(catalog.legal, key=_legal_order)]
        self.site = SimpleNamespace(
            name=settings.site_name,
            tagline=settings.tagline,
            url="",  # links on the static site are root-relative
            assets="",
            canonical=settings.site_url,
            checkout_url=settings.checkout_url,
            prices_include_tax=settings.prices_include_tax,
            categories=[c for c in catalog.categories if self.by_category(c.slug)],
            legal=legal,
        )

    @cached_property
    def global_fp(self) -> str:
        """Fingerprint of the whole public catalogue: the key of catalog.json, feeds and sitemap."""
        h = hashlib.sha256()
        for p in sorted(self.products, key=lambda p: p.slug):
            h.update(p.fp.encode())
        h.update(repr((sorted(self.catalog.sellers.items()), self.catalog.categories,
                       self.site.legal, self.settings)).encode())
        return h.hexdigest()

    def repr_of(self, value: Any) -> str:
        """repr() of a shared value object (category, image, rating), computed once per object:
        dataclass reprs are slow, and every product's fingerprint needs several."""
        cache = self.__dict__.setdefault("_reprs", {})
        hit = cache.get(id(value))
        if hit is None:
            hit = cache[id(value)] = (repr(value), value)  # holding the value keeps its id unique
        return hit[0]

    def seller_fp(self, slug: str) -> str:
        cache = self.__dict__.setdefault("_seller_fps", {})
        if slug not in cache:
            cache[slug] = hashlib.sha256(repr(self.catalog.sellers.get(slug)).encode()).hexdigest()
        return cache[slug]

    def by_category(self, slug: str) -> list[ProductView]:
        return self._index("category").get(slug, [])

    def by_tag(self, tag: str) -> list[ProductView]:
        return self._index("tags").get(tag, [])

    def by_seller(self, slug: str) -> list[ProductView]:
        return self._index("seller").get(slug, [])

    def _index(self, attr: str) -> dict[str, list[ProductView]]:
        """Products grouped by an attribute, newest first, built once per build."""
        cache = self.__dict__.setdefault("_indexes", {})
        if attr not in cache:
            index: dict[str, list[ProductView]] = {}
            for p in self.products:
                values = getattr(p, attr)
                for v in (values if isinstance(values, tuple) else (values,)):
                    index.setdefault(v, []).append(p)
            cache[attr] = index
        return cache[attr]

    def image(self, rel: str) -> ImageRef:
        """The image `rel` as `load_catalog` inspected it: the build never opens an image
        itself, so it can only use what validate accepts."""
        if rel not in self._images:
            info = self.catalog.images.get(rel)
            if info is None:  # a catalogue not from load_catalog, or one with problems
                raise ContentError([Problem(rel, 1, "image", "is not a usable image in the catalogue")])
            self._images[rel] = ImageRef(content_url(rel), info.width, info.height)
        return self._images[rel]


def _legal_order(slug: str) -> int:
    from digitaldock.schema import LEGAL_DOCUMENTS

    return list(LEGAL_DOCUMENTS).index(slug)


# --- the plan -----------------------------------------------------------------------------------

def plan(m: SiteModel) -> list[OutputFile]:
    """Every file of the site, in a fixed order."""
    catalog, settings = m.catalog, m.settings
    files: list[OutputFile] = []
    add = files.append
    featured = [p for p in m.products if p.featured][:8]
    add(OutputFile("index.html", "home.html", {
        "featured": featured, "newest": m.products[:8],
        "categories": [(c, len(m.by_category(c.slug))) for c in m.site.categories],
        "canonical": "/",
    }))

    files += _listing(m, "All products", "products", m.products, settings.per_page,
                      intro="Everything on DigitalDock, from every seller.")
    add(OutputFile("category/index.html", "categories.html", {
        "categories": [(c, len(m.by_category(c.slug))) for c in m.site.categories],
        "canonical": "/category/",
    }))
    for c in m.site.categories:
        files += _listing(m, c.name, f"category/{c.slug}", m.by_category(c.slug), settings.per_page,
                          sorts=("newest", "price-low"),
                          intro=c.description, feed=f"/feeds/category/{c.slug}.atom.xml")
    for t in sorted(m._index("tags")):
        items = m.by_tag(t)
        files += _listing(m, f"Tagged “{t}”", f"tag/{t}", items, settings.per_page, sorts=("newest",))
    sellers = sorted(catalog.public_sellers, key=lambda s: s.name.lower())  # a suspended seller has no page
    add(OutputFile("sellers/index.html", "sellers.html", {
        "sellers": [(s, len(m.by_seller(s.slug))) for s in sellers],
        "canonical": "/sellers/",
        "avatars": {s.slug: m.image(s.avatar) for s in sellers},
    }))
    for s in sellers:
        items = m.by_seller(s.slug)
        files += _listing(m, s.name, f"sellers/{s.slug}", items, settings.per_page, sorts=("newest",),
                          seller=s, seller_bio=render_markdown(s.bio), avatar=m.image(s.avatar))
    for p in m.products:
        related = [q for q in m.by_category(p.category)[:5] if q.slug != p.slug][:4]
        add(OutputFile(f"products/{p.slug}/index.html", "product.html",
                       {"product": p, "related": related, "canonical": p.url}))
    add(OutputFile("legal/index.html", "legal_index.html",
                   {"documents": m.site.legal, "canonical": "/legal/"}))
    for doc in m.site.legal:
        add(OutputFile(f"legal/{doc.slug}/index.html", "legal.html", {
            "doc": doc, "body": render_markdown(doc.body, trusted_headings=True),
            "toc": [(heading_id(h), h) for h in doc.headings],
            "effective_display": formatting.long_date(doc.effective),
            "canonical": f"/legal/{doc.slug}/",
        }))
    add(OutputFile("search/index.html", "search.html", {
        "canonical": "/search/", "sorts": SORTS, "noindex": True, "checkout_url": settings.checkout_url,
        "search_sorts": SEARCH_SORTS,
    }))
    add(OutputFile("404.html", "404.html", {"canonical": None}))
    def key() -> str:
        return m.global_fp

    add(OutputFile("catalog.json", produce=lambda: catalog_json(m), data_key=key))
    for rel in search_files(m):
        # index.json and files named by their content: the catalogue's fingerprint keys them all
        add(OutputFile(f"search/{rel}", produce=lambda rel=rel: search_files(m)[rel], data_key=key))
    add(OutputFile("feeds/all.atom.xml", data_key=key,
                   produce=lambda: atom_feed(m, m.products, "All products", "/feeds/all.atom.xml")))
    for c in m.site.categories:
        add(OutputFile(f"feeds/category/{c.slug}.atom.xml", data_key=key,
                       produce=lambda c=c: atom_feed(m, m.by_category(c.slug), c.name,
                                                     f"/feeds/category/{c.slug}.atom.xml")))
    pages = [f.path for f in files if f.template and indexable(f)]
    sitemaps = [pages[n:n + SITEMAP_URLS] for n in range(0, len(pages), SITEMAP_URLS)] or [[]]
    for n, part in enumerate(sitemaps, 1):
        add(OutputFile(f"sitemaps/sitemap-{n}.xml", produce=lambda part=part: sitemap(m, part),
                       data_key=lambda part=part: m.global_fp + repr(part)))
    add(OutputFile("sitemap.xml", produce=lambda: sitemap_index(m, len(sitemaps)),
                   data_key=lambda: m.global_fp + repr(len(sitemaps))))
    add(OutputFile("robots.txt", produce=lambda: robots(settings), data_key=settings.site_url))
    return files


def _listing(m: SiteModel, title: str, base: str, products: list[ProductView], per_page: int,
             sorts: Iterable[str] = tuple(SORTS), **extra: Any) -> list[OutputFile]:
    """A listing in each sort order, paginated: base/, base/page/2/, base/price-low/, ..."""
    out = []
    sorts = tuple(sorts)
    pages = max(1, math.ceil(len(products) / per_page))
    for order in sorts:
        ordered = _sort(products, order)
        seg = SORTS[order][1]
        root = f"/{base}/" + (f"{seg}/" if seg else "")
        for n in range(1, pages + 1):
            url = root if n == 1 else f"{root}page/{n}/"
            out.append(OutputFile(url.lstrip("/") + "index.html", "listing.html", {
                "title": title, "products": ordered[(n - 1) * per_page: n * per_page],
                "page": n, "pages": pages, "total": len(products),
                "page_url": (lambda k, root=root: root if k == 1 else f"{root}page/{k}/"),
                "sort": order, "sorts": [(s, SORTS[s][0], f"/{base}/" + (f"{SORTS[s][1]}/" if SORTS[s][1] else ""))
                                         for s in sorts] if len(sorts) > 1 else [],
                "canonical": url, "noindex": order != sorts[0], **extra,
            }))
    return out


# --- data files ---------------------------------------------------------------------------------

def catalog_json(m: SiteModel) -> bytes:
    """The checkout edge's price list. `build_hash` is the hash of everything else in it."""
    body = {
        "schema_version": CATALOG_SCHEMA_VERSION,
        "site_url": m.settings.site_url,
        "categories": [{"slug": c.slug, "name": c.name} for c in m.site.categories],
        "sellers": {s.slug: {"name": s.name, "payout_currency": s.payout_currency,
                             "url": f"/sellers/{s.slug}/", **({"verified": True} if s.verified else {})}
                    for s in sorted(m.catalog.sellers.values(), key=lambda s: s.slug)},
        "products": {p.slug: {
            "title": p.title,
            "seller": p.seller,
            "category": p.category,
            "price": p.price.minor,
            "currency": p.price.currency,
            "pwyw_minimum": p.pwyw_minimum.minor if p.pwyw_minimum else None,
            "version": p.version,
            "license": p.license,
            "url": p.url,
            "cover": p.cover_img.src,
            "files": [{"name": f.name, "size": f.size, "sha256": f.sha256, "key": f.key}
                      for f in p.files],
            # issue #18: written only when set, so the catalogue of other products is unchanged
            **({"license_keys": True} if p.license_keys else {}),
            **({"license_activations": p.license_activations} if p.license_activations else {}),
            **({"stamp_pdfs": True} if p.stamp_pdfs else {}),
            **({"preview": {"name": p.p.preview.name, "size": p.p.preview.size, "sha256": p.p.preview.sha256,
                            "key": p.p.preview.key}} if p.p.preview else {}),
            **({"bundle": list(p.p.bundle)} if p.p.bundle else {}),
        } for p in sorted(m.products, key=lambda p: p.slug)},
        "legal": {d.slug: {"title": d.title, "version": d.version,
                           "effective": d.effective.isoformat(), "url": f"/legal/{d.slug}/"}
                  for d in m.site.legal},
    }
    # compact: the C encoder is ten times faster than the indenting one on large catalogues
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    build_hash = hashlib.sha256(canonical.encode()).hexdigest()
    # "build_hash" sorts before every other key, so the file is the canonical text with it in
    # front: the same bytes as encoding the body again with the hash, for half the work
    return ('{"build_hash":"' + build_hash + '",' + canonical[1:] + "\n").encode()


def indexable(f: OutputFile) -> bool:
    """A page search engines may list: not the 404, nothing marked noindex (the search page,
    listings in another order than their own)."""
    return f.path != "404.html" and not f.context.get("noindex")


def sitemap_index(m: SiteModel, parts: int) -> bytes:
    """sitemap.xml: the index of the sitemap files (each at most SITEMAP_URLS pages)."""
    base = m.settings.site_url
    rows = [f"<sitemap><loc>{escape(base)}/sitemaps/sitemap-{n}.xml</loc></sitemap>" for n in range(1, parts + 1)]
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
            + "\n".join(rows) + "\n</sitemapindex>\n").encode()


def sitemap(m: SiteModel, pages: list[str]) -> bytes:
    """One sitemap file: these indexable pages, with lastmod for product pages."""
    base = m.settings.site_url
    lastmod = m.__dict__.setdefault("_lastmod", {p.url: p.published.isoformat() for p in m.products})
    rows = []
    for path in pages:
        url = "/" + path.removesuffix("index.html")
        mod = f"<lastmod>{lastmod[url]}</lastmod>" if url in lastmod else ""
        rows.append(f"<url><loc>{escape(base + url)}</loc>{mod}</url>")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
            + "\n".join(rows) + "\n</urlset>\n").encode()


def robots(settings: Settings) -> bytes:
    return (f"User-agent: *\nAllow: /\nDisallow: /search/\n\nSitemap: {settings.site_url}/sitemap.xml\n").encode()


# --- rendering ----------------------------------------------------------------------------------

def theme_assets(settings: Settings) -> dict[str, str]:
    """Theme files and their fingerprinted names: css/main.css → css/main.1a2b3c4d.css.

    Pages link the fingerprinted names, so the CDN may cache them for a year: a changed file
    gets a new name, and the pages that use it are re-rendered with the new link.
    """
    static = settings.theme / "static"
    names = {}
    for path in sorted(static.rglob("*")) if static.is_dir() else ():
        if path.is_file() and not path.name.startswith("."):
            rel = path.relative_to(static).as_posix()
            digest = hashlib.sha256(path.read_bytes()).hexdigest()[:10]
            stem, dot, ext = rel.rpartition(".")
            names[rel] = f"{stem}.{digest}.{ext}" if dot else f"{rel}.{digest}"
    return names


def environment(settings: Settings, assets: dict[str, str] | None = None,
                fast_escape: bool = True) -> StorefrontEnvironment:
    """The build's Jinja environment; `fast_escape` False gives plain Jinja's output escaping
    (the same bytes, slower: see generator/fast_templates.py)."""
    env = StorefrontEnvironment(
        loader=FileSystemLoader(str(settings.theme / "templates")),
        autoescape=select_autoescape(["html", "xml"]),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,  # one environment per build: no need to stat templates per page
        fast_escape=fast_escape,
    )
    env.filters["human_size"] = formatting.human_size
    env.filters["long_date"] = formatting.long_date
    env.filters["stars"] = formatting.stars
    names = assets if assets is not None else theme_assets(settings)
    # a filter, `{{ "css/main.css" | asset }}`: Jinja calls filters directly, globals through
    # its context (which checked three times per page, was measurable at 14,000 pages)
    env.filters["asset"] = lambda path: "/theme/" + names.get(path, path)
    return env


def render(env: StorefrontEnvironment, f: OutputFile, site: SimpleNamespace) -> bytes:
    if f.produce is not None:
        return f.produce()
    return env.template(f.template).render(site=site, **f.context).encode()
