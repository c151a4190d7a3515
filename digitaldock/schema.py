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

from . import frontmatter
from .errors import DigitalDockError
from .money import CURRENCIES, Money, MoneyError, format_money, parse_amount

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SHA256 = re.compile(r"^[0-9a-f]{64}$")
STATUSES = ("draft", "published", "withdrawn")
# /products/page/2/ and /products/sort/... are listing pages, so no product may take these slugs
RESERVED_SLUGS = frozenset({"page", "sort", "feeds", "index"})
MAX_IMAGES = 10
MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_FILE_BYTES = 500 * 1024 * 1024
MAX_FILES = 20
MAX_TAGS = 10
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
        return f"{self.path}:{self.line}: {self.field}: {self.message}"


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
class Rating:
    average: str  # a decimal string such as "4.6": ratings are not money but stay exact too
    count: int

    @property
    def stars_x10(self) -> int:
        whole, _, frac = self.average.partition(".")
        return int(whole) * 10 + int((frac or "0")[0])


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
    source: str = ""
    digest: str = ""  # sha256 of the source file: a cheap fingerprint for build caches

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

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f]")  # tab and newline are text
_CONTROL_OR_DEL = re.compile(r"[\x00-\x1f\x7f]")


def _text(lo: int, hi: int) -> Callable[[Any], str]:
    def check(v: Any) -> str:
        if not isinstance(v, str):
            raise ValueError(f"must be text, got {_kind(v)}")
        v = v.strip()
        if not lo <= len(v) <= hi:
            raise ValueError(f"must be {lo} to {hi} characters, got {len(v)}")
        if _CONTROL.search(v):
            raise ValueError("must not contain control characters")
        return v
    return check


def _slug(v: Any) -> str:
    if not isinstance(v, str) or not SLUG.match(v):
        raise ValueError(f"{v!r} is not a slug (lowercase letters, digits and single hyphens)")
    return v


def _bool(v: Any) -> bool:
    if not isinstance(v, bool):
        raise ValueError(f"must be true or false, got {_kind(v)}")
    return v


def _date(v: Any) -> dt.date:
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    if isinstance(v, str):
        try:
            return dt.date.fromisoformat(v)
        except ValueError:
            pass
    raise ValueError(f"{v!r} is not a date in the form YYYY-MM-DD")


def _status(v: Any) -> str:
    if v not in STATUSES:
        raise ValueError(f"{v!r} is not one of {', '.join(STATUSES)}")
    return v


def _currency(v: Any) -> str:
    if v not in CURRENCIES:
        hint = _hint(str(v).upper(), CURRENCIES)
        raise ValueError(f"{v!r} is not an accepted currency ({', '.join(CURRENCIES)}){hint}")
    return v


def _version(v: Any) -> str:
    if isinstance(v, int) and not isinstance(v, bool):
        v = str(v)
    if not isinstance(v, str) or not re.match(r"^\d+(\.\d+){0,2}$", v.strip()):
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


def check_image_path(v: Any) -> str:
    if not isinstance(v, str) or not v.startswith("images/"):
        raise ValueError(f"{v!r} must be a path under images/, such as images/my-cover.png")
    if ".." in v.split("/") or "\\" in v:
        raise ValueError(f"{v!r} must not leave the images/ folder")
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
    "license": (True, "the license the buyer receives"),
    "version": (True, "the product's version, such as 1.0"),
    "published": (True, "the publication date, YYYY-MM-DD"),
    "status": (True, f"one of {', '.join(STATUSES)}"),
    "featured": (False, "true to feature the product on the home page"),
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
            c.add(f"{prefix}{key}", f"unknown field{_hint(str(key), known)}")


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
    license_ = c.take(meta, "license", _text(2, 200))
    version = c.take(meta, "version", _version)
    published = c.take(meta, "published", _date)
    status = c.take(meta, "status", _status)
    featured = c.take(meta, "featured", _bool, required=False) or False
    description = doc.body.strip()
    if not DESCRIPTION_LEN[0] <= len(description) <= DESCRIPTION_LEN[1]:
        c.add("description", f"body must be {DESCRIPTION_LEN[0]} to {DESCRIPTION_LEN[1]} characters, "
                             f"got {len(description)}", doc.body_line)
    if c.problems:
        return None, c.sorted()
    return Product(slug=slug, title=title, seller=seller, category=category, tags=tuple(tags),
                   price=price, pwyw_minimum=pwyw, summary=summary, description=description,
                   cover=cover, gallery=tuple(gallery), files=tuple(files), license=license_,
                   version=version, published=published, status=status, featured=featured,
                   source=path, digest=digest or hashlib.sha256(text.encode()).hexdigest()), []


def _price(v: Any, code: str) -> Money:
    minor = parse_amount(v if isinstance(v, (str, int)) else str(v), code)
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
    if not isinstance(v, str) or not re.match(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,511}$", v) or ".." in v:
        raise ValueError(f"{v!r} is not a storage key (letters, digits, . _ / -)")
    return v


def storage_key(sha256: str) -> str:
    """Product files live in storage under their content hash, so a key never goes stale."""
    return f"sha256/{sha256[:2]}/{sha256}"


# --- sellers, categories, ratings, legal ----------------------------------------------------

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
    if c.problems:
        return None, c.sorted()
    return Seller(slug, name, bio, avatar, payout, location, website, path, links, verified, suspended), []


def _links(v: Any) -> tuple[str, ...]:
    if not isinstance(v, list) or len(v) > MAX_SELLER_LINKS:
        raise ValueError(f"must be a list of at most {MAX_SELLER_LINKS} https:// addresses")
    return tuple(_website(x) for x in v)


def _website(v: Any) -> str:
    if not isinstance(v, str) or not re.match(r"^https://[^\s<>\"']+$", v):
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
    headings = tuple(re.findall(r"^##[ \t]+(.+?)[ \t#]*$", doc.body, re.M))
    have = {h.strip().lower() for h in headings}
    for required in LEGAL_DOCUMENTS.get(slug, ()):
        if required.lower() not in have:
            c.add("body", f"missing required section '## {required}'", doc.body_line)
    if c.problems:
        return None, c.sorted()
    return LegalDocument(slug, title, version, effective, summary, doc.body.strip(), headings, path), []


def parse_categories(path: str | Path, text: str) -> tuple[list[Category], list[Problem]]:
    """content/categories.yml: a list of {slug, name, description}, in display order."""
    import yaml

    path = str(path)
    try:
        data = yaml.load(text, Loader=frontmatter.LineLoader)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else 1
        return [], [Problem(path, line, "categories", f"invalid YAML: {exc.problem}")]
    if not isinstance(data, list):
        return [], [Problem(path, 1, "categories", "must be a list of {slug, name, description}")]
    out, problems, seen = [], [], set()
    for i, item in enumerate(data):
        if (not isinstance(item, dict) or not SLUG.match(str(item.get("slug", "")))
                or not isinstance(item.get("name"), str)):
            problems.append(Problem(path, 1, f"categories[{i}]", "needs a slug and a name"))
            continue
        if item["slug"] in seen:
            problems.append(Problem(path, 1, f"categories[{i}]", f"{item['slug']!r} is listed twice"))
        seen.add(item["slug"])
        out.append(Category(item["slug"], item["name"], str(item.get("description", ""))))
    return out, problems


def parse_ratings(path: str | Path, text: str) -> tuple[dict[str, Rating], list[Problem]]:
    """content/ratings.yml: slug → {average, count}, exported from verified-buyer reviews."""
    import yaml

    path = str(path)
    try:
        data = yaml.load(text, Loader=frontmatter.FastLoader) or {}
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else 1
        return {}, [Problem(path, line, "ratings", f"invalid YAML: {exc.problem}")]
    if not isinstance(data, dict):
        return {}, [Problem(path, 1, "ratings", "must be a mapping of product slug to {average, count}")]
    out, problems = {}, []
    lines: dict[str, int] | None = None
    for slug, item in data.items():
        avg = str(item.get("average", "")) if isinstance(item, dict) else ""
        count = item.get("count") if isinstance(item, dict) else None
        valid_avg = re.match(r"^([0-4](\.\d)?|5(\.0)?)$", avg)
        if not valid_avg or not isinstance(count, int) or isinstance(count, bool) or count < 1:
            if lines is None:
                lines = {k: v - 1 for k, v in frontmatter.key_lines(text).items()}
            problems.append(Problem(path, lines.get(str(slug), 1), str(slug),
                                    "needs average 0.0–5.0 and a count ≥ 1"))
            continue
        out[str(slug)] = Rating(avg, count)
    return out, problems


# --- the whole catalogue ---------------------------------------------------------------------

@dataclass
class Catalog:
    """Everything under content/, parsed. `products` holds drafts and withdrawn ones too."""

    root: Path
    categories: list[Category] = field(default_factory=list)
    sellers: dict[str, Seller] = field(default_factory=dict)
    products: dict[str, Product] = field(default_factory=dict)
    legal: dict[str, LegalDocument] = field(default_factory=dict)
    ratings: dict[str, Rating] = field(default_factory=dict)

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


def _markdown_paths(folder: Path) -> list[str]:
    """Every .md file under `folder`, sorted by path (os.walk and strings: fast for 10,000s)."""
    found = []
    for dirpath, _, names in os.walk(folder):
        found += [os.path.join(dirpath, n) for n in names if n.endswith(".md")]
    return sorted(found)


def relative_path(root: Path, p: Path) -> str:
    try:
        return str(p.relative_to(root.parent)) if root.parent != Path(".") else str(p)
    except ValueError:
        return str(p)


PARALLEL_PARSE_THRESHOLD = 1000  # below this many product files, forking costs more than it saves
_PARSE_JOB: tuple = ()


def _read(path: str) -> bytes:
    """A whole small file in four system calls (Python's open() adds a tty check and seeks)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    try:
        size = os.fstat(fd).st_size
        chunks = [os.read(fd, size + 1)]
        while chunks[-1]:  # the file grew since fstat, or reads come back short
            chunks.append(os.read(fd, 1 << 16))
        return b"".join(chunks)
    finally:
        os.close(fd)


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
            raw = _read(path)
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            out.append((rel, None, (None, [Problem(rel, 1, "file", "is not UTF-8 text")])))
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


def load_catalog(root: str | Path, *, strict: bool = True, cache: dict | None = None,
                 jobs: int = 1) -> tuple[Catalog, list[Problem]]:
    """Read and check all content under `root` (the content/ folder).

    Returns the catalogue and every problem; with `strict` (the default) any problem raises
    ContentError instead, so a build never renders half a catalogue. `cache`, when given,
    maps a product file's path, text hash and the known categories and sellers to its pickled
    parse result, so an incremental build parses only the files that changed; `jobs` > 1
    reads and parses large batches on that many processes.
    """
    root = Path(root)
    cat = Catalog(root)
    problems: list[Problem] = []

    prefix = str(root.parent) + os.sep if root.parent != Path(".") else ""

    def rel(p: Path) -> str:
        text = str(p)
        return text[len(prefix):] if prefix and text.startswith(prefix) else relative_path(root, p)

    cats_file = root / "categories.yml"
    if cats_file.exists():
        cat.categories, found = parse_categories(rel(cats_file), cats_file.read_text("utf-8"))
        problems += found
    else:
        problems.append(Problem(rel(cats_file), 1, "categories", "file is missing"))
    ratings_file = root / "ratings.yml"
    if ratings_file.exists():
        cat.ratings, found = parse_ratings(rel(ratings_file), ratings_file.read_text("utf-8"))
        problems += found
    for p in sorted((root / "sellers").glob("*.md")):
        seller, found = parse_seller(rel(p), p.read_text("utf-8"))
        problems += found
        if seller:
            cat.sellers[seller.slug] = seller
    seller_slugs = {p.stem for p in (root / "sellers").glob("*.md")}
    category_slugs = [c.slug for c in cat.categories]
    seen: dict[str, str] = {}
    names_key = hashlib.sha256(repr((category_slugs, sorted(seller_slugs))).encode()).hexdigest()
    files: list[tuple[str, str]] = []  # (path to open, path to report)
    for path in _markdown_paths(root / "products"):  # strings, not Path objects: 10,000s of them
        shown = path[len(prefix):] if prefix and path.startswith(prefix) else relative_path(root, Path(path))
        stem = os.path.splitext(os.path.basename(path))[0]
        if stem in seen:
            problems.append(Problem(shown, 1, "slug", f"{stem!r} is already used by {seen[stem]}"))
            continue
        seen[stem] = shown
        files.append((path, shown))
    for path, key, outcome in _load_all_products(files, names_key, category_slugs, seller_slugs,
                                                 cache, jobs):
        if key is not None:
            if key not in cache:  # `in` also tells a tracking cache that this build used the entry
                cache[key] = outcome
            product, found = pickle.loads(cache[key])
        else:
            product, found = outcome
        problems += found
        if product:
            cat.products[product.slug] = product
    for slug in sorted(set(cat.ratings) - set(cat.products)):
        problems.append(Problem(rel(ratings_file), 1, slug, "rated product does not exist"))
    for p in sorted((root / "legal").glob("*.md")):
        doc, found = parse_legal(rel(p), p.read_text("utf-8"))
        problems += found
        if doc:
            cat.legal[doc.slug] = doc
    for slug in LEGAL_DOCUMENTS:
        if not (root / "legal" / f"{slug}.md").exists():
            problems.append(Problem(rel(root / "legal" / f"{slug}.md"), 1, "file", "legal document is missing"))
    if strict and problems:
        raise ContentError(problems)
    return cat, problems
