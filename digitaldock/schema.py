"""The one product schema: what a product, a seller and a legal document are.

The generator, the validator and the checkout edge all import this module; nothing else
declares a field, a limit or a slug rule. Parsing never stops at the first mistake: each
function returns every `Problem` it finds, with the file, the line of the offending key and
the field, so one run tells an author everything to fix.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import os
import pickle
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import frontmatter, images, taxrates, tree
from .errors import DigitalDockError
from .images import ImageInfo, ImageRefused
from .money import CURRENCIES, Money, MoneyError, format_money, parse_amount
from .stats import Stats

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*\Z")
SHA256 = re.compile(r"^[0-9a-f]{64}\Z")
STATUSES = ("draft", "published", "withdrawn")
# /products/page/2/ and /products/sort/... are listing pages, so no product may take these slugs
RESERVED_SLUGS = frozenset({"page", "sort", "feeds", "index"})
MAX_IMAGES = 10
MAX_FILE_BYTES = 500 * 1024 * 1024
MAX_FILES = 20
MAX_PREVIEW_BYTES = 50 * 1024 * 1024
# a preview is shown or played on the product page, so only what a browser shows by itself
PREVIEW_KINDS = {"pdf": "pdf", "mp3": "audio", "ogg": "audio", "oga": "audio", "wav": "audio", "m4a": "audio",
                 "mp4": "video", "webm": "video", "png": "image", "jpg": "image", "jpeg": "image",
                 "webp": "image", "gif": "image"}
MAX_TAGS = 10
MIN_BUNDLE, MAX_BUNDLE = 2, 20  # products in a bundle (issue #17)
MAX_TOGETHER = 8  # products "often bought together" kept per product (issue #17)
TITLE_LEN = (3, 120)
SUMMARY_LEN = (10, 280)
DESCRIPTION_LEN = (20, 20_000)
BIO_LEN = (10, 5_000)

# Each legal document and the headings (level 2) it must contain, so a check can prove the
# policy is complete. The texts themselves live in content/legal/<slug>.md.
LEGAL_DOCUMENTS: dict[str, tuple[str, ...]] = {
    "terms": (
        "Who we are", "Accounts", "Buying on DigitalDock", "Licenses", "Refunds",
        "Selling on DigitalDock", "Prohibited conduct", "Termination", "Disclaimers",
        "Limitation of liability", "Governing law", "Changes to these terms", "Contact",
    ),
    "privacy": (
        "Data we collect", "How we use your data", "Third parties", "Your rights", "Cookies",
        "Data retention", "Contact for privacy requests",
    ),
    "refunds": (
        "Refund window", "Conditions", "How to request a refund", "Timeline", "Seller obligations",
    ),
    "seller-agreement": (
        "Listing requirements", "Licensing", "Prohibited products", "Platform fee",
        "Payout schedule and methods", "Tax responsibilities", "Suspension", "Indemnification",
    ),
    "content-guidelines": (
        "Acceptable content types", "Quality standards", "Copyright and trademark",
        "DMCA notice process", "Prohibited content", "Review process", "Enforcement",
    ),
}
# The documents a buyer must accept at registration; sellers accept all of LEGAL_DOCUMENTS.
BUYER_DOCUMENTS = ("terms", "privacy")


@dataclass(frozen=True)
class Problem:
    path: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        """One line, always: control and invisible characters (a newline in a file name, a
        bidi override) are written as escapes, so no file can forge a line of the report."""
        return f"{tree.shown(self.path)}:{self.line}: {tree.shown(self.field)}: {tree.shown(self.message)}"


class ContentError(DigitalDockError):
    """Raised when content does not parse; carries every problem found, sorted by file and line."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = sorted(set(problems), key=lambda p: (p.path, p.line, p.field, p.message))
        super().__init__("\n".join(map(str, self.problems)))


@dataclass(frozen=True)
class Category:
    slug: str
    name: str
    description: str


@dataclass(frozen=True)
class ProductFile:
    name: str
    size: int
    sha256: str
    key: str


@dataclass(frozen=True)
class Product:
    slug: str
    title: str
    seller: str
    category: str
    tags: tuple[str, ...]
    price: Money
    pwyw_minimum: Money | None
    summary: str
    description: str  # Markdown, sanitised when rendered
    cover: str
    gallery: tuple[str, ...]
    files: tuple[ProductFile, ...]
    license: str
    version: str
    published: dt.date
    status: str
    featured: bool = False
    license_keys: bool = False  # one activation key per purchase (issue #18)
    license_activations: int | None = None  # how many machines a key may activate; None: no limit
    stamp_pdfs: bool = False  # PDFs carry the buyer's email and order on every page
    bundle: tuple[str, ...] = ()  # a bundle's member products (slugs); () for a plain product
    source: str = ""
    digest: str = ""  # sha256 of the source file: a cheap fingerprint for build caches
    preview: ProductFile | None = None  # public sample: PDF pages, an audio clip, a video or image specimen

    @property
    def is_public(self) -> bool:
        return self.status == "published"

    @property
    def price_display(self) -> str:
        return format_money(self.price.minor, self.price.currency)

    @property
    def total_size(self) -> int:
        return sum(f.size for f in self.files)


@dataclass(frozen=True)
class Seller:
    slug: str
    name: str
    bio: str
    avatar: str
    payout_currency: str
    location: str = ""
    website: str = ""
    source: str = ""
    links: tuple[str, ...] = ()  # more https addresses than the website (a portfolio, a shop)
    verified: bool = False  # an administrator verified the seller: the storefront shows a badge
    suspended: bool = False  # the seller's account is banned: its products and page are unlisted


@dataclass(frozen=True)
class LegalDocument:
    slug: str
    title: str
    version: str
    effective: dt.date
    summary: str
    body: str
    headings: tuple[str, ...]
    source: str = ""

    @property
    def version_tuple(self) -> tuple[int, ...]:
        return version_tuple(self.version)


# --- field checkers -------------------------------------------------------------------------
# Each takes the raw YAML value and returns the clean value or raises ValueError(message).

# C0 controls but tab and newline, DEL, and the C1 controls: never text a person wrote
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_CONTROL_OR_DEL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# invisible characters with no part in any script (zero-width space, word joiner and the
# invisible operators, byte-order mark, Mongolian vowel separator) and the bidi embeddings,
# overrides and isolates, which make a title show as something else. Zero-width joiners and
# non-joiners and the left-to-right / right-to-left marks stay: scripts and emoji need them.
_INVISIBLE = re.compile("[\u180e\u200b\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")


def _clean_text(v: str) -> None:
    if _CONTROL.search(v):
        raise ValueError("must not contain control characters")
    bad = _INVISIBLE.search(v)
    if bad:
        raise ValueError(f"must not contain the invisible or direction-changing character "
                         f"U+{ord(bad.group()):04X}")


def _text(lo: int, hi: int) -> Callable[[Any], str]:
    def check(v: Any) -> str:
        if not isinstance(v, str):
            raise ValueError(f"must be text, got {_kind(v)}")
        v = v.strip()
        if not lo <= len(v) <= hi:
            raise ValueError(f"must be {lo} to {hi} characters, got {len(v)}")
        _clean_text(v)
        return v
    return check


# Bodies (descriptions, bios, legal texts) may hold any text but control characters (tab and
# line breaks aside). Checked on the encoded bytes first: deleting the few suspect bytes is
# a fiftieth of the cost of a regular expression over the text, and finds nothing in almost
# every file; only then is the exact character looked for.
_BODY_SUSPECT = bytes(b for b in range(0x20) if b not in b"\t\n\r") + b"\x7f\xc2"
_BODY_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def body_problem(body: str, first_line: int) -> tuple[int, str] | None:
    """(line, message) for the first control character in a body that starts on `first_line`."""
    raw = body.encode("utf-8", "surrogatepass")
    if len(raw.translate(None, _BODY_SUSPECT)) == len(raw):
        return None
    bad = _BODY_CONTROL.search(body)
    if bad is None:
        return None
    line = first_line + body.count("\n", 0, bad.start())
    return line, f"must not contain control characters (U+{ord(bad.group()):04X} on line {line})"


def _slug(v: Any) -> str:
    if not isinstance(v, str) or not SLUG.match(v) or len(v) > 80:
        raise ValueError(f"{v!r} is not a slug (lowercase letters, digits and single hyphens)")
    return v


MAX_ACTIVATIONS = 1000


def _activations(v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= MAX_ACTIVATIONS:
        raise ValueError(f"must be a whole number from 1 to {MAX_ACTIVATIONS}, got {v!r}")
    return v


def _bool(v: Any) -> bool:
    if not isinstance(v, bool):
        raise ValueError(f"must be true or false, got {_kind(v)}")
    return v


_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")


def _date(v: Any) -> dt.date:
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    # exactly YYYY-MM-DD: fromisoformat alone also takes 20250301 and 2025-W10-1
    if isinstance(v, str) and _DATE.match(v.strip()):
        try:
            return dt.date.fromisoformat(v.strip())
        except ValueError:
            pass
    raise ValueError(f"{v!r} is not a date in the form YYYY-MM-DD")


def _status(v: Any) -> str:
    if not isinstance(v, str) or v not in STATUSES:
        raise ValueError(f"{v!r} is not one of {', '.join(STATUSES)}")
    return v


def _currency(v: Any) -> str:
    if not isinstance(v, str) or v not in CURRENCIES:
        hint = _hint(str(v).upper(), CURRENCIES)
        raise ValueError(f"{v!r} is not an accepted currency ({', '.join(CURRENCIES)}){hint}")
    return v


def _version(v: Any) -> str:
    if isinstance(v, int) and not isinstance(v, bool):
        v = str(v)
    if not isinstance(v, str) or not re.match(r"^[0-9]{1,9}(\.[0-9]{1,9}){0,2}\Z", v.strip()):
        raise ValueError(f"{v!r} is not a version such as 1.0 or 2.1.3")
    return v.strip()


def version_tuple(v: str) -> tuple[int, ...]:
    return tuple(int(p) for p in v.split("."))


def _kind(v: Any) -> str:
    return {dict: "a mapping", list: "a list", bool: "true/false", int: "a number",
            str: "text", type(None): "nothing"}.get(type(v), type(v).__name__)


def _hint(value: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(value, list(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


# the usual image path, accepted at once; anything else goes through every rule below
_PLAIN_IMAGE_PATH = re.compile(r"^images(?:/[A-Za-z0-9_-][A-Za-z0-9._-]{0,99})+\.(?:png|jpe?g|gif|webp)\Z")


def check_image_path(v: Any) -> str:
    """A path under images/ naming a raster image (see `digitaldock.images`), judged by its
    text alone; whether the file exists and is what it says is `load_catalog`'s to check."""
    if v.__class__ is str and len(v) <= 300 and _PLAIN_IMAGE_PATH.match(v):
        return v
    if not isinstance(v, str) or not v.startswith("images/"):
        raise ValueError(f"{v!r} must be a path under images/, such as images/my-cover.png")
    parts = v.split("/")
    if ".." in parts or "\\" in v:
        raise ValueError(f"{v!r} must not leave the images/ folder")
    if len(v) > 300 or any(p in ("", ".") or p.startswith(".") for p in parts):
        raise ValueError(f"{v!r} is not a plain path of file names under images/")
    for part in parts:
        reason = tree.name_problem(part)
        if reason:
            raise ValueError(f"{v!r}: {reason.replace('the file name', 'the path')}")
    reason = images.extension_problem(v)
    if reason:
        raise ValueError(f"{v!r}: {reason}")
    return v


# --- product --------------------------------------------------------------------------------

PRODUCT_FIELDS: dict[str, tuple[bool, str]] = {
    # name: (required, one line of help shown in docs)
    "title": (True, "the product's name, 3–120 characters"),
    "seller": (True, "the seller's slug, a file in content/sellers/"),
    "category": (True, "a slug from content/categories.yml"),
    "tags": (False, f"up to {MAX_TAGS} lowercase tags"),
    "price": (True, 'a decimal string such as "12.50"'),
    "currency": (True, f"one of {', '.join(CURRENCIES)}"),
    "pwyw_minimum": (False, "pay-what-you-want: the least a buyer may pay; price is the suggestion"),
    "summary": (True, "one or two sentences, 10–280 characters"),
    "cover": (True, "cover image path under images/"),
    "gallery": (False, f"up to {MAX_IMAGES} image paths under images/"),
    "files": (True, "the files a buyer downloads: name, size, sha256, key"),
    "preview": (False, "a public sample shown on the product page (PDF pages, an audio clip, a video or image "
                       "specimen): name, size, sha256, key; never one of the files"),
    "license": (True, "the license the buyer receives"),
    "version": (True, "the product's version, such as 1.0"),
    "published": (True, "the publication date, YYYY-MM-DD"),
    "status": (True, f"one of {', '.join(STATUSES)}"),
    "featured": (False, "true to feature the product on the home page"),
    "license_keys": (False, "true to give every buyer a license key (see docs/licensing.md)"),
    "license_activations": (False, f"how many activations one key allows, 1–{MAX_ACTIVATIONS}; no limit if absent"),
    "stamp_pdfs": (False, "true to stamp each PDF with the buyer's email and order number"),
    "bundle": (False, f"a bundle: {MIN_BUNDLE}–{MAX_BUNDLE} product slugs of the same seller and currency, "
                      "whose files the bundle lists too"),
}
FILE_FIELDS = ("name", "size", "sha256", "key")


class _Collector:
    """Gathers problems for one file, looking up key lines only when a problem exists."""

    def __init__(self, path: str, raw_meta: str = ""):
        self.path = path
        self.raw_meta = raw_meta
        self.problems: list[Problem] = []
        self._lines: dict[str, int] | None = None

    def add(self, field_: str, message: str, line: int | None = None) -> None:
        if line is None:
            if self._lines is None:
                self._lines = frontmatter.key_lines(self.raw_meta)
            line = frontmatter.line_of(self._lines, field_)
        self.problems.append(Problem(self.path, line, field_, message))

    def take(self, meta: dict, name: str, check: Callable[[Any], Any], required: bool = True,
             prefix: str = "") -> Any:
        field_ = prefix + name
        if name not in meta or meta[name] is None:
            if required:
                # a missing key has no line of its own: point at its parent, or the file's top
                self.add(field_, "is required", None if prefix or name in meta else 1)
            return None
        try:
            return check(meta[name])
        except (ValueError, MoneyError) as exc:
            self.add(field_, str(exc))
            return None

    def sorted(self) -> list[Problem]:
        return sorted(self.problems, key=lambda p: (p.line, p.field))


def _as_set(names: Iterable[str]) -> set[str] | frozenset[str]:
    return names if isinstance(names, (set, frozenset)) else set(names)


def _unknown_fields(c: _Collector, meta: dict, known: Iterable[str], prefix: str = "") -> None:
    known = list(known)
    for key in meta:
        if key not in known:
            # a blank key (`"": x`, `" ": x`) is written quoted, so the report still names it
            name = str(key) if str(key).strip() else repr(str(key))
            c.add(f"{prefix}{name}", f"unknown field{_hint(str(key), known)}")


def parse_product(path: str | Path, text: str, categories: Iterable[str] | None = None,
                  sellers: Iterable[str] | None = None,
                  digest: str | None = None) -> tuple[Product | None, list[Problem]]:
    """Parse one product file. Returns the product (None when any problem) and the problems.

    `categories` and `sellers` are the known slugs; pass None to skip those cross-checks.
    `digest`, the SHA-256 of the file's bytes, is computed here unless the caller has it.
    """
    path = str(path)
    try:
        doc = frontmatter.split(text)
    except frontmatter.FrontMatterError as exc:
        return None, [Problem(path, exc.line, "front matter", exc.message)]
    meta, c = doc.meta, _Collector(path, doc.raw_meta)
    slug = os.path.splitext(os.path.basename(path))[0]
    if not SLUG.match(slug) or not 3 <= len(slug) <= 80:
        c.add("slug", f"file name {slug!r} must be a slug of 3–80 characters "
                      "(lowercase letters, digits and single hyphens)", 1)
    elif slug in RESERVED_SLUGS:
        c.add("slug", f"{slug!r} is reserved for listing pages; rename the file", 1)
    _unknown_fields(c, meta, PRODUCT_FIELDS)

    title = c.take(meta, "title", _text(*TITLE_LEN))
    seller = c.take(meta, "seller", _slug)
    if seller and sellers is not None and seller not in _as_set(sellers):
        c.add("seller", f"unknown seller {seller!r}{_hint(seller, sellers)}")
    category = c.take(meta, "category", _slug)
    if category and categories is not None and category not in _as_set(categories):
        c.add("category", f"unknown category {category!r}{_hint(category, categories)}")
    tags = c.take(meta, "tags", lambda v: _tags(c, v), required=False) or ()
    code = c.take(meta, "currency", _currency)
    price = pwyw = None
    if code:
        price = c.take(meta, "price", lambda v: _price(v, code))
        pwyw = c.take(meta, "pwyw_minimum", lambda v: _price(v, code), required=False)
        if price and pwyw and pwyw.minor > price.minor:
            c.add("pwyw_minimum", f"{pwyw.decimal} must not exceed the suggested price {price.decimal}")
    elif "price" not in meta:
        c.add("price", "is required", 1)
    summary = c.take(meta, "summary", _text(*SUMMARY_LEN))
    cover = c.take(meta, "cover", check_image_path)
    gallery = c.take(meta, "gallery", lambda v: _gallery(c, v), required=False) or ()
    files = c.take(meta, "files", lambda v: _files(c, v))
    preview = c.take(meta, "preview", lambda v: _preview(c, v, files or ()), required=False)
    license_ = c.take(meta, "license", _text(2, 200))
    version = c.take(meta, "version", _version)
    published = c.take(meta, "published", _date)
    status = c.take(meta, "status", _status)
    featured = c.take(meta, "featured", _bool, required=False) or False
    license_keys = c.take(meta, "license_keys", _bool, required=False) or False
    activations = c.take(meta, "license_activations", _activations, required=False)
    if activations is not None and not license_keys:
        c.add("license_activations", "needs license_keys: true")
    stamp_pdfs = c.take(meta, "stamp_pdfs", _bool, required=False) or False
    bundle = c.take(meta, "bundle", lambda v: _bundle(c, v, slug), required=False) or ()
    description = doc.body.strip()
    if not DESCRIPTION_LEN[0] <= len(description) <= DESCRIPTION_LEN[1]:
        c.add("description", f"body must be {DESCRIPTION_LEN[0]} to {DESCRIPTION_LEN[1]} characters, "
                             f"got {len(description)}", doc.body_line)
    _check_body(c, "description", doc)
    if c.problems:
        return None, c.sorted()
    return Product(slug=slug, title=title, seller=seller, category=category, tags=tuple(tags),
                   price=price, pwyw_minimum=pwyw, summary=summary, description=description,
                   cover=cover, gallery=tuple(gallery), files=tuple(files), license=license_,
                   version=version, published=published, status=status, featured=featured,
                   license_keys=license_keys, license_activations=activations, stamp_pdfs=stamp_pdfs,
                   bundle=tuple(bundle), preview=preview,
                   source=path, digest=digest or hashlib.sha256(text.encode()).hexdigest()), []


def _check_body(c: _Collector, name: str, doc: frontmatter.Document) -> None:
    found = body_problem(doc.body, doc.body_line)
    if found:
        c.add(name, found[1], found[0])


def _price(v: Any, code: str) -> Money:
    if isinstance(v, str) and re.match(r"^\s*0[0-9]", v):
        # YAML 1.1 read 017 as octal 15; ours keeps it as text, and it is refused rather than
        # guessed at either way
        raise ValueError(f"{v!r} starts with a zero; write the amount without it, such as \"17.00\"")
    if not isinstance(v, (str, int)) or isinstance(v, bool):
        raise ValueError(f'must be a decimal string such as "12.50", got {_kind(v)}')
    minor = parse_amount(v, code)
    cur = CURRENCIES[code]
    if not cur.minimum <= minor <= cur.maximum:
        raise ValueError(f"{code} prices must be between {format_money(cur.minimum, code)} and "
                         f"{format_money(cur.maximum, code)}")
    return Money(code, minor)


def _tags(c: _Collector, v: Any) -> tuple[str, ...]:
    if not isinstance(v, list):
        raise ValueError(f"must be a list of tags, got {_kind(v)}")
    if len(v) > MAX_TAGS:
        raise ValueError(f"at most {MAX_TAGS} tags, got {len(v)}")
    out: list[str] = []
    for i, t in enumerate(v):
        if not isinstance(t, str) or not SLUG.match(t) or len(t) > 30:
            c.add(f"tags[{i}]", f"{t!r} is not a tag (lowercase letters, digits, hyphens, ≤ 30)")
        elif t in out:
            c.add(f"tags[{i}]", f"{t!r} is listed twice")
        else:
            out.append(t)
    return tuple(out)


def _bundle(c: _Collector, v: Any, own: str) -> tuple[str, ...]:
    if not isinstance(v, list):
        raise ValueError(f"must be a list of product slugs, got {_kind(v)}")
    if not MIN_BUNDLE <= len(v) <= MAX_BUNDLE:
        raise ValueError(f"a bundle holds {MIN_BUNDLE} to {MAX_BUNDLE} products, got {len(v)}")
    out: list[str] = []
    for i, member in enumerate(v):
        if not isinstance(member, str) or not SLUG.match(member) or len(member) > 80:
            c.add(f"bundle[{i}]", f"{member!r} is not a product slug")
        elif member == own:
            c.add(f"bundle[{i}]", "a bundle cannot contain itself")
        elif member in out:
            c.add(f"bundle[{i}]", f"{member!r} is listed twice")
        else:
            out.append(member)
    return tuple(out)


def bundle_problems(products: dict[str, Product]) -> list[tuple[str, str, str]]:
    """(bundle's source, field, message) for every bundle whose members are not products of
    the same seller and currency, are bundles themselves, or whose files the bundle lacks (a
    buyer of the bundle downloads every member's files from it)."""
    out = []
    for p in sorted(products.values(), key=lambda p: p.slug):
        have = {f.sha256 for f in p.files}
        for i, slug in enumerate(p.bundle):
            member = products.get(slug)
            where = f"bundle[{i}]"
            if member is None:
                out.append((p.source, where, f"unknown product {slug!r}"))
            elif member.bundle:
                out.append((p.source, where, f"{slug!r} is a bundle itself; list its products instead"))
            elif member.seller != p.seller:
                out.append((p.source, where, f"{slug!r} is {member.seller}'s, not {p.seller}'s"))
            elif member.price.currency != p.price.currency:
                out.append((p.source, where, f"{slug!r} is priced in {member.price.currency}, the bundle in "
                                             f"{p.price.currency}"))
            else:
                missing = [f.name for f in member.files if f.sha256 not in have]
                if missing:
                    out.append((p.source, "files", f"lacks {', '.join(missing)} of {slug!r}: a bundle lists "
                                                   "every file of its products"))
    return out


def _gallery(c: _Collector, v: Any) -> tuple[str, ...]:
    if not isinstance(v, list):
        raise ValueError(f"must be a list of image paths, got {_kind(v)}")
    if len(v) > MAX_IMAGES:
        raise ValueError(f"at most {MAX_IMAGES} images, got {len(v)}")
    out = []
    for i, item in enumerate(v):
        try:
            out.append(check_image_path(item))
        except ValueError as exc:
            c.add(f"gallery[{i}]", str(exc))
    return tuple(out)


def _files(c: _Collector, v: Any) -> tuple[ProductFile, ...]:
    if not isinstance(v, list) or not v:
        raise ValueError("must be a list of at least one file (name, size, sha256, key)")
    if len(v) > MAX_FILES:
        raise ValueError(f"at most {MAX_FILES} files, got {len(v)}")
    out, names = [], set()
    for i, item in enumerate(v):
        p = f"files[{i}]"
        if not isinstance(item, dict):
            c.add(p, f"must be a mapping with {', '.join(FILE_FIELDS)}")
            continue
        _unknown_fields(c, item, FILE_FIELDS, prefix=f"{p}.")
        before = len(c.problems)
        name = c.take(item, "name", check_file_name, prefix=f"{p}.")
        size = c.take(item, "size", check_file_size, prefix=f"{p}.")
        digest = c.take(item, "sha256", check_sha256, prefix=f"{p}.")
        key = c.take(item, "key", check_storage_key, prefix=f"{p}.")
        if name is not None and name in names:
            c.add(f"{p}.name", f"{name!r} is listed twice")
        names.add(name)
        if len(c.problems) == before:
            out.append(ProductFile(name, size, digest, key))
    return tuple(out)


def preview_kind(name: str) -> str | None:
    """How the product page shows a preview of this name: pdf, audio, video or image."""
    return PREVIEW_KINDS.get(name.rsplit(".", 1)[-1].lower()) if "." in name else None


def _preview(c: _Collector, v: Any, files: tuple[ProductFile, ...]) -> ProductFile | None:
    """The product's public preview: one stored file of a kind a browser shows, at most
    MAX_PREVIEW_BYTES, and never one of the files a buyer pays for (a preview is public)."""
    if not isinstance(v, dict):
        raise ValueError(f"must be a mapping with {', '.join(FILE_FIELDS)}")
    _unknown_fields(c, v, FILE_FIELDS, prefix="preview.")
    before = len(c.problems)
    name = c.take(v, "name", check_file_name, prefix="preview.")
    size = c.take(v, "size", check_file_size, prefix="preview.")
    digest = c.take(v, "sha256", check_sha256, prefix="preview.")
    key = c.take(v, "key", check_storage_key, prefix="preview.")
    if len(c.problems) != before:
        return None
    if preview_kind(name) is None:
        kinds = ", ".join(sorted(PREVIEW_KINDS))
        c.add("preview.name", f"{name!r} is not a kind the product page can show: one of {kinds}")
    if size > MAX_PREVIEW_BYTES:
        c.add("preview.size", f"a preview must be at most {MAX_PREVIEW_BYTES // (1024 * 1024)} MB, got {size} bytes")
    if any(f.sha256 == digest for f in files):
        c.add("preview.sha256", "is one of the product's files: a preview is public, so it must be a sample, "
                                "never the paid file itself")
    return ProductFile(name, size, digest, key) if len(c.problems) == before else None


# characters no file name may hold: bidirectional overrides and isolates (they make
# "invoice\u202efdp.exe" show as "invoiceexe.pdf") and the characters Windows refuses in names,
# which also keeps HTML markup and quoting out of every page and header a name appears in
_BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_RESERVED_IN_NAMES = '<>:"|?*'
_DRIVE = re.compile(r"^[A-Za-z]:")
_BREAKING = frozenset({"Cc", "Cs", "Zl", "Zp"})  # controls (NUL, newline, DEL), lone surrogates, line breaks


def check_file_name(v: Any) -> str:
    """A download file name, in Unicode NFC: no folders or drive, no control characters, nothing
    a shell, an OS or a page trips on. Returns the NFC form, so an upload and `validate` agree on
    a name typed on macOS (decomposed) and elsewhere (composed)."""
    if not isinstance(v, str) or not v.strip():
        raise ValueError("must be a file name such as guide.pdf")
    v = unicodedata.normalize("NFC", v)
    if len(v) > 255:
        raise ValueError("must be at most 255 characters")
    if any(unicodedata.category(ch) in _BREAKING for ch in v):
        raise ValueError("must not contain control characters (such as a line break or NUL)")
    if "/" in v or "\\" in v or v in (".", "..") or v.startswith("."):
        raise ValueError(f"{v!r} must be a plain file name, not a path")
    if _DRIVE.match(v):
        raise ValueError(f"{v!r} must be a plain file name, without a drive such as C:")
    if _BIDI.search(v):
        raise ValueError("must not contain right-to-left or left-to-right override characters")
    reserved = sorted({ch for ch in v if ch in _RESERVED_IN_NAMES}, key=_RESERVED_IN_NAMES.index)
    if reserved:
        raise ValueError(f"must not contain {' '.join(reserved)} (not allowed in file names)")
    reason = tree.name_problem(v)  # zero-width and other invisible characters: a name that shows as another
    if reason:
        raise ValueError(reason.replace("the file name contains", "must not contain").replace("; rename it", ""))
    return v


def check_file_size(v: Any) -> int:
    if not isinstance(v, int) or isinstance(v, bool) or v <= 0:
        raise ValueError(f"must be a positive number of bytes, got {v!r}")
    if v > MAX_FILE_BYTES:
        raise ValueError(f"{v} bytes is over the {MAX_FILE_BYTES // (1024 * 1024)} MB limit")
    return v


def check_sha256(v: Any) -> str:
    if not isinstance(v, str) or not SHA256.match(v):
        raise ValueError("must be 64 lowercase hexadecimal characters")
    return v


def check_storage_key(v: Any) -> str:
    if not isinstance(v, str) or not re.match(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,511}\Z", v) or ".." in v:
        raise ValueError(f"{v!r} is not a storage key (letters, digits, . _ / -)")
    return v


def storage_key(sha256: str) -> str:
    """Product files live in storage under their content hash, so a key never goes stale."""
    return f"sha256/{sha256[:2]}/{sha256}"


# --- sellers, categories, legal -----------------------------------------------------------

SELLER_FIELDS = ("name", "avatar", "payout_currency", "location", "website", "links", "verified", "suspended")
MAX_SELLER_LINKS = 5


def parse_seller(path: str | Path, text: str) -> tuple[Seller | None, list[Problem]]:
    path = str(path)
    try:
        doc = frontmatter.split(text)
    except frontmatter.FrontMatterError as exc:
        return None, [Problem(path, exc.line, "front matter", exc.message)]
    c = _Collector(path, doc.raw_meta)
    slug = Path(path).stem
    if not SLUG.match(slug):
        c.add("slug", f"file name {slug!r} is not a slug", 1)
    _unknown_fields(c, doc.meta, SELLER_FIELDS)
    name = c.take(doc.meta, "name", _text(2, 80))
    avatar = c.take(doc.meta, "avatar", check_image_path)
    payout = c.take(doc.meta, "payout_currency", _currency)
    location = c.take(doc.meta, "location", _text(2, 80), required=False) or ""
    website = c.take(doc.meta, "website", _website, required=False) or ""
    links = c.take(doc.meta, "links", _links, required=False) or ()
    verified = c.take(doc.meta, "verified", _bool, required=False) or False
    suspended = c.take(doc.meta, "suspended", _bool, required=False) or False
    bio = doc.body.strip()
    if not BIO_LEN[0] <= len(bio) <= BIO_LEN[1]:
        c.add("bio", f"body must be {BIO_LEN[0]} to {BIO_LEN[1]} characters", doc.body_line)
    _check_body(c, "bio", doc)
    if c.problems:
        return None, c.sorted()
    return Seller(slug, name, bio, avatar, payout, location, website, path, links, verified, suspended), []


def _links(v: Any) -> tuple[str, ...]:
    if not isinstance(v, list) or len(v) > MAX_SELLER_LINKS:
        raise ValueError(f"must be a list of at most {MAX_SELLER_LINKS} https:// addresses")
    return tuple(_website(x) for x in v)


def _website(v: Any) -> str:
    # printable ASCII only (an international domain in its xn-- form): no space, quote,
    # angle bracket, backslash or control character reaches an href
    if not isinstance(v, str) or len(v) > 300 or not re.match(r"^https://[A-Za-z0-9.-]+(?:[:/?#][!#-&(-;=?-\[\]_a-z~]*)?\Z", v):
        raise ValueError(f"{v!r} must be an https:// address")
    return v


LEGAL_FIELDS = ("title", "version", "effective", "summary")


def parse_legal(path: str | Path, text: str) -> tuple[LegalDocument | None, list[Problem]]:
    path = str(path)
    try:
        doc = frontmatter.split(text)
    except frontmatter.FrontMatterError as exc:
        return None, [Problem(path, exc.line, "front matter", exc.message)]
    c = _Collector(path, doc.raw_meta)
    slug = Path(path).stem
    if slug not in LEGAL_DOCUMENTS:
        c.add("slug", f"{slug!r} is not a legal document{_hint(slug, LEGAL_DOCUMENTS)}", 1)
    _unknown_fields(c, doc.meta, LEGAL_FIELDS)
    title = c.take(doc.meta, "title", _text(3, 120))
    version = c.take(doc.meta, "version", _version)
    effective = c.take(doc.meta, "effective", _date)
    summary = c.take(doc.meta, "summary", _text(10, 400))
    _check_body(c, "body", doc)
    headings = tuple(re.findall(r"^##[ \t]+(.+?)[ \t#]*$", doc.body, re.M))
    have = {h.strip().lower() for h in headings}
    for required in LEGAL_DOCUMENTS.get(slug, ()):
        if required.lower() not in have:
            c.add("body", f"missing required section '## {required}'", doc.body_line)
    if c.problems:
        return None, c.sorted()
    return LegalDocument(slug, title, version, effective, summary, doc.body.strip(), headings, path), []


def _load_yaml_file(path: str, text: str, what: str) -> tuple[Any, list[Problem]]:
    try:
        return frontmatter.load_yaml(text, first_line=1), []
    except frontmatter.FrontMatterError as exc:
        return None, [Problem(path, exc.line, what, exc.message)]


def parse_categories(path: str | Path, text: str) -> tuple[list[Category], list[Problem]]:
    """content/categories.yml: a list of {slug, name, description}, in display order."""
    path = str(path)
    data, problems = _load_yaml_file(path, text, "categories")
    if problems:
        return [], problems
    if not isinstance(data, list):
        return [], [Problem(path, 1, "categories", "must be a list of {slug, name, description}")]
    out, seen = [], set()
    lines: dict[str, int] | None = None

    def line(field_: str) -> int:
        nonlocal lines
        if lines is None:
            lines = {k: v - 1 for k, v in frontmatter.key_lines(text).items()}
        return frontmatter.line_of(lines, field_)

    for i, item in enumerate(data):
        where = f"[{i}]"
        if (not isinstance(item, dict) or not isinstance(item.get("slug"), str)
                or not SLUG.match(item["slug"]) or not isinstance(item.get("name"), str)):
            problems.append(Problem(path, line(where), f"categories[{i}]", "needs a slug and a name"))
            continue
        unknown = sorted(set(item) - {"slug", "name", "description"})
        if unknown:
            problems.append(Problem(path, line(f"{where}.{unknown[0]}"), f"categories[{i}].{unknown[0]}",
                                    f"unknown field{_hint(unknown[0], ('slug', 'name', 'description'))}"))
            continue
        if item["slug"] in seen:
            problems.append(Problem(path, line(where), f"categories[{i}]", f"{item['slug']!r} is listed twice"))
        seen.add(item["slug"])
        try:
            name = _text(1, 80)(item["name"])
            description = _text(0, 500)(item.get("description") or "")
        except ValueError as exc:
            problems.append(Problem(path, line(where), f"categories[{i}]", str(exc)))
            continue
        out.append(Category(item["slug"], name, description))
    return out, problems


def parse_together(path: str | Path, text: str) -> tuple[dict[str, tuple[str, ...]], list[Problem]]:
    """content/together.yml: slug → the products most often bought by the same buyers, most
    often first; exported from the edge's purchases (`digitaldock upsell together`, issue #17)."""
    path = str(path)
    data, problems = _load_yaml_file(path, text, "together")
    if problems:
        return {}, problems
    if data is None:
        data = {}
    if not isinstance(data, dict):
        return {}, [Problem(path, 1, "together", "must be a mapping of product slug to a list of product slugs")]
    out: dict[str, tuple[str, ...]] = {}
    lines: dict[str, int] | None = None
    for slug, items in data.items():
        ok = (isinstance(slug, str) and isinstance(items, list) and len(items) <= MAX_TOGETHER
              and all(isinstance(i, str) and SLUG.match(i) and i != slug for i in items))
        if not ok:
            if lines is None:
                lines = {k: v - 1 for k, v in frontmatter.key_lines(text).items()}
            problems.append(Problem(path, lines.get(str(slug), 1), str(slug),
                                    f"needs a list of at most {MAX_TOGETHER} other product slugs"))
            continue
        out[slug] = tuple(items)
    return out, problems


# --- the whole catalogue ---------------------------------------------------------------------

@dataclass
class Catalog:
    """Everything under content/, parsed. `products` holds drafts and withdrawn ones too.

    `images` holds every usable image under images/ (by its path, "images/…") with its size,
    and `image_files` the file each is copied from: the build publishes exactly these.
    """

    root: Path
    categories: list[Category] = field(default_factory=list)
    sellers: dict[str, Seller] = field(default_factory=dict)
    products: dict[str, Product] = field(default_factory=dict)
    legal: dict[str, LegalDocument] = field(default_factory=dict)
    stats: Stats = field(default_factory=Stats)  # ratings and sales: the build sets them (digitaldock.stats)
    together: dict[str, tuple[str, ...]] = field(default_factory=dict)  # often bought together (together.yml)
    images: dict[str, ImageInfo] = field(default_factory=dict)
    image_files: dict[str, str] = field(default_factory=dict)

    @property
    def public_products(self) -> list[Product]:
        """Published products of sellers in good standing (a suspended seller's are unlisted),
        newest first, then by slug so the order is deterministic."""
        suspended = {s.slug for s in self.sellers.values() if s.suspended}
        return sorted((p for p in self.products.values() if p.is_public and p.seller not in suspended),
                      key=lambda p: (-p.published.toordinal(), p.slug))

    @property
    def public_sellers(self) -> list[Seller]:
        """Sellers whose page the storefront shows: every one but the suspended."""
        return [s for s in self.sellers.values() if not s.suspended]


def relative_path(root: Path, p: Path) -> str:
    try:
        return str(p.relative_to(root.parent)) if root.parent != Path(".") else str(p)
    except ValueError:
        return str(p)


PARALLEL_PARSE_THRESHOLD = 1000  # below this many product files, forking costs more than it saves
_PARSE_JOB: tuple = ()


def _load_products(indices: range) -> list[tuple[str, tuple | None, Any]]:
    """Read, hash and (unless cached) parse some product files: one worker's share.

    Each result is (path, cache key, outcome). The outcome is None for a cache hit, else the
    `(product, problems)` pair, pickled when a cache will keep it: the bytes travel back from a
    worker once and are saved as they are, instead of being pickled again for the cache file.
    """
    files, names_key, categories, sellers, cache = _PARSE_JOB
    out: list[tuple[str, tuple | None, Any]] = []
    for i in indices:
        path, rel = files[i]
        try:
            raw = tree.read_bytes(path, tree.MAX_MARKDOWN_BYTES)
            text = tree.decode(raw)
        except tree.Unreadable as exc:
            out.append((rel, None, (None, [Problem(rel, exc.line, "file", exc.message)])))
            continue
        digest = hashlib.sha256(raw).hexdigest()
        if cache is None:
            out.append((rel, None, parse_product(rel, text, categories, sellers, digest=digest)))
            continue
        key = (rel, digest, names_key)
        hit = dict.__contains__(cache, key)  # the caller records which entries it used
        out.append((rel, key, None if hit else pickle.dumps(
            parse_product(rel, text, categories, sellers, digest=digest), pickle.HIGHEST_PROTOCOL)))
    return out


def _load_all_products(files: list[tuple[str, str]], names_key: str, categories: list[str],
                       sellers: set[str], cache: dict | None,
                       jobs: int) -> Iterator[tuple[str, tuple | None, Any]]:
    """`_load_products` over every file, in order, on `jobs` forked workers when there are
    enough files. Results stream back in batches, so the caller unpickles one batch while
    the workers parse the next. Workers inherit the file list and the cache by fork, so
    nothing but results is pickled.
    """
    global _PARSE_JOB
    _PARSE_JOB = (files, names_key, categories, sellers, cache)
    try:
        import multiprocessing

        n = len(files)
        if jobs > 1 and n >= PARALLEL_PARSE_THRESHOLD and "fork" in multiprocessing.get_all_start_methods():
            size = -(-n // (jobs * 8))
            chunks = [range(i, min(i + size, n)) for i in range(0, n, size)]
            with multiprocessing.get_context("fork").Pool(jobs) as pool:
                for part in pool.imap(_load_products, chunks):
                    yield from part
        else:
            yield from _load_products(range(n))
    finally:
        _PARSE_JOB = ()


# A publication date may be at most this far past today's date in UTC: a seller east of
# Greenwich is already in tomorrow.
FUTURE_SLACK = dt.timedelta(days=1)


def _image_verdicts(found: tree.Tree, cache: dict | None) -> dict[str, ImageInfo | str]:
    """Every file under images/: its size, or why it is not a usable image.

    With a build's `cache`, a verdict is kept under the file's size, times and inode, so an
    incremental build opens only images that changed (the same rule the build's own copy of
    images/ has always used to skip unchanged files).
    """
    out: dict[str, ImageInfo | str] = {}
    for name, path in found.images.items():
        key = None
        if cache is not None:
            try:
                st = os.lstat(path)
                key = ("image", name, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
            except OSError:
                pass
            if key is not None and key in cache:
                out[name] = cache[key]
                continue
        try:
            verdict: ImageInfo | str = images.inspect(path)
        except ImageRefused as exc:
            verdict = str(exc)
        if key is not None:
            cache[key] = verdict
        out[name] = verdict
    return out


def _image_message(value: str, reason: str) -> str:
    """`value` and why it is refused: "images/x.png is a symbolic link…", or "images/x.png is
    not a usable image: <reason>" for a reason that is not a whole predicate."""
    if reason.startswith(("is ", "does ")):
        return f"{value} {reason}"
    return f"{value} is not a usable image: {reason}"


class _Context:
    """The checks that need more than a file's text: the images it names exist and are
    usable, and its publication date has come. They run outside the cached parse (an image
    or the date can change while the text does not) on every product and seller file,
    including those with other problems, so one run reports everything."""

    def __init__(self, root: Path, found: tree.Tree, verdicts: dict[str, ImageInfo | str],
                 today: dt.date):
        self.root, self.found, self.verdicts = root, found, verdicts
        self.latest = today + FUTURE_SLACK
        self.referenced: set[str] = set()

    def image_problem(self, value: str) -> str | None:
        self.referenced.add(value)
        verdict = self.verdicts.get(value)
        if isinstance(verdict, ImageInfo):
            return None
        if verdict is None:
            refused = self.found.refused_images.get(value)
            if refused:
                return _image_message(value, refused)
            for folder, reason in self.found.refused_images.items():  # a linked folder on the way
                if value.startswith(folder + "/"):
                    self.referenced.add(folder)
                    return f"{value} is not a usable image: {folder} {reason}"
            return f"{value} does not exist in {self.root.name}/"
        return _image_message(value, verdict)

    def check(self, path: str, shown: str, refs: list[tuple[str, Any]] | None,
              published: Any = None, kind: str = "product") -> list[Problem]:
        """Problems of the `kind` file ("product" or "seller") at `path` for the image
        references `refs` ((field, value); None: read them from the file, whose parse failed)
        and the date `published`."""
        doc = None
        if refs is None:
            doc = self._document(path)
            if doc is None:
                return []  # the front matter does not parse: already reported
            refs, published = _raw_refs(doc.meta, kind)
        found = [(name, message) for name, value in refs
                 if (message := self.image_problem(value)) is not None]
        if isinstance(published, dt.date) and published > self.latest:
            found.append(("published", f"{published.isoformat()} is in the future (today is "
                                       f"{(self.latest - FUTURE_SLACK).isoformat()}); date the product "
                                       "on the day it is published"))
        if not found:
            return []
        doc = doc or self._document(path)
        lines = frontmatter.key_lines(doc.raw_meta) if doc else {}
        return [Problem(shown, frontmatter.line_of(lines, name), name, message) for name, message in found]

    @staticmethod
    def _document(path: str) -> frontmatter.Document | None:
        try:
            return frontmatter.split(tree.read_text(path, tree.MAX_MARKDOWN_BYTES))
        except (tree.Unreadable, frontmatter.FrontMatterError):
            return None

    def unreferenced(self, shown: Callable[[str], str]) -> list[Problem]:
        """Unusable files under images/ that nothing names: still refused, since the build
        would publish them."""
        bad = {name: v for name, v in self.verdicts.items() if not isinstance(v, ImageInfo)}
        bad.update(self.found.refused_images)
        return [Problem(shown(name), 1, "image", _image_message(name, reason).removeprefix(name + " "))
                for name, reason in sorted(bad.items()) if name not in self.referenced]


def _raw_refs(meta: dict, kind: str) -> tuple[list[tuple[str, str]], dt.date | None]:
    """The image references and date a failed file's front matter gives, where valid."""
    if kind == "seller":
        return ([("avatar", meta["avatar"])] if _valid(check_image_path, meta.get("avatar")) else []), None
    refs: list[tuple[str, str]] = []
    if _valid(check_image_path, meta.get("cover")):
        refs.append(("cover", meta["cover"]))
    gallery = meta.get("gallery")
    if isinstance(gallery, list) and len(gallery) <= MAX_IMAGES:
        refs += [(f"gallery[{i}]", g) for i, g in enumerate(gallery) if _valid(check_image_path, g)]
    published = meta.get("published")
    return refs, _date(published) if _valid(_date, published) else None


def _valid(check: Callable[[Any], Any], value: Any) -> bool:
    try:
        check(value)
    except ValueError:
        return False
    return True


def load_catalog(root: str | Path, *, strict: bool = True, cache: dict | None = None,
                 jobs: int = 1, today: dt.date | None = None) -> tuple[Catalog, list[Problem]]:
    """Read and check all content under `root` (the content/ folder).

    Every file goes the same way: the tree is listed without following links
    (`digitaldock.tree`), each file read as bytes with a size limit, checked to be UTF-8, its
    YAML loaded strictly (`digitaldock.frontmatter`), then checked by this schema; every image
    under images/ is inspected (`digitaldock.images`). `validate` and the build both call this,
    so they accept and refuse the same content.

    Returns the catalogue and every problem; with `strict` (the default) any problem raises
    ContentError instead, so a build never renders half a catalogue. `cache`, when given,
    maps a product file's path, text hash and the known categories and sellers to its pickled
    parse result (and an image's size and times to its verdict), so an incremental build
    parses only the files that changed; `jobs` > 1 reads and parses large batches on that
    many processes. `today` (UTC's date by default) is the latest publication date accepted,
    give or take `FUTURE_SLACK`.
    """
    root = Path(root)
    cat = Catalog(root)
    base = str(root) if root.parent == Path(".") else root.name
    base = "" if base in ("", ".") else base + "/"

    def shown(under: str) -> str:
        """A path under content/ as messages show it: content/products/x.md."""
        return base + under

    found = tree.walk(str(root))
    problems = [Problem(shown(under), 1, field_, message) for under, field_, message in found.problems]
    verdicts = _image_verdicts(found, cache)
    cat.images = {name: v for name, v in verdicts.items() if isinstance(v, ImageInfo)}
    cat.image_files = {name: found.images[name] for name in cat.images}
    context = _Context(root, found, verdicts,
                       today or dt.datetime.now(dt.timezone.utc).date())

    def read(under: str, limit: int, field_: str) -> str | None:
        try:
            return tree.read_text(str(root / under), limit)
        except tree.Unreadable as exc:
            problems.append(Problem(shown(under), exc.line, field_, exc.message))
            return None

    categories_read = False
    if not os.path.lexists(root / "categories.yml"):
        problems.append(Problem(shown("categories.yml"), 1, "categories", "file is missing"))
    elif (text := read("categories.yml", tree.MAX_YAML_BYTES, "categories")) is not None:
        cat.categories, more = parse_categories(shown("categories.yml"), text)
        problems += more
        categories_read = not more or bool(cat.categories)
    if os.path.lexists(root / "tax_rates.yml"):  # issue #18: read by the edge, checked here
        if (text := read("tax_rates.yml", tree.MAX_YAML_BYTES, "tax_rates")) is not None:
            try:
                taxrates.parse(text)
            except taxrates.TaxRatesError as exc:
                line = re.match(r"line (\d+): ", str(exc))
                problems.append(Problem(shown("tax_rates.yml"), int(line.group(1)) if line else 1, "tax_rates",
                                        str(exc)[line.end():] if line else str(exc)))
    if os.path.lexists(root / "together.yml"):
        if (text := read("together.yml", tree.MAX_YAML_BYTES, "together")) is not None:
            cat.together, more = parse_together(shown("together.yml"), text)
            problems += more
    for path, under in found.sellers:
        try:
            seller, more = parse_seller(shown(under), tree.read_text(path, tree.MAX_MARKDOWN_BYTES))
        except tree.Unreadable as exc:
            problems.append(Problem(shown(under), exc.line, "file", exc.message))
            continue
        problems += more
        problems += context.check(path, shown(under), [("avatar", seller.avatar)] if seller else None,
                                  kind="seller")
        if seller:
            cat.sellers[seller.slug] = seller
    seller_slugs = {os.path.splitext(os.path.basename(under))[0] for _, under in found.sellers}
    # an unreadable categories.yml is reported once, not again as every product's category
    category_slugs = [c.slug for c in cat.categories] if categories_read else None
    seen: dict[str, str] = {}
    names_key = hashlib.sha256(repr((category_slugs, sorted(seller_slugs))).encode()).hexdigest()
    files: list[tuple[str, str]] = []  # (path to open, path to report)
    opened: dict[str, str] = {}
    for path, under in sorted(found.products, key=lambda f: f[1]):
        stem = os.path.splitext(os.path.basename(under))[0]
        if stem in seen:
            problems.append(Problem(shown(under), 1, "slug", f"{stem!r} is already used by {seen[stem]}"))
            continue
        seen[stem] = shown(under)
        files.append((path, shown(under)))
        opened[shown(under)] = path
    parsed = 0
    for rel, key, outcome in _load_all_products(files, names_key, category_slugs, seller_slugs,
                                                cache, jobs):
        if key is not None:
            if key not in cache:  # `in` also tells a tracking cache that this build used the entry
                cache[key] = outcome
            product, more = pickle.loads(cache[key])
        else:
            product, more = outcome
        problems += more
        refs = None
        if product:
            refs = [("cover", product.cover)] + [(f"gallery[{i}]", g) for i, g in enumerate(product.gallery)]
        elif any(p.field == "file" for p in more):
            continue  # not read at all (not UTF-8, too big): nothing more to find
        extra = context.check(opened[rel], rel, refs, product.published if product else None)
        problems += extra
        if product and not extra:
            cat.products[product.slug] = product
            parsed += 1
    problems += context.unreferenced(shown)
    if parsed == len(found.products) and not cat.public_products:
        problems.append(Problem(shown("products"), 1, "products",
                                "no published products: the storefront would be empty (drafts and "
                                "withdrawn products are not shown); is this the right content folder?"))
    for source, field_, message in bundle_problems(cat.products):
        problems.append(Problem(source, 1, field_, message))
    for slug, items in sorted(cat.together.items()):
        for gone in [slug, *items]:
            if gone not in seen:
                problems.append(Problem(shown("together.yml"), 1, slug, f"product {gone!r} does not exist"))
                break
    for path, under in found.legal:
        text = None
        try:
            text = tree.read_text(path, tree.MAX_MARKDOWN_BYTES)
        except tree.Unreadable as exc:
            problems.append(Problem(shown(under), exc.line, "file", exc.message))
        if text is not None:
            doc, more = parse_legal(shown(under), text)
            problems += more
            if doc:
                cat.legal[doc.slug] = doc
    present = {under for _, under in found.legal} | {under for under, _, _ in found.problems}
    for slug in LEGAL_DOCUMENTS:
        if f"legal/{slug}.md" not in present:
            problems.append(Problem(shown(f"legal/{slug}.md"), 1, "file", "legal document is missing"))
    if strict and problems:
        raise ContentError(problems)
    return cat, problems
