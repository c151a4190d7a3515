"""Search rules shared by the storefront build and the edge: one way to normalise, index,
match and rank, so the browser (reading the static shards) and the edge (the no-JS results page
and `GET /api/products/search`, reading the same shards from disk) answer a query alike.

The index is a folder of JSON files written by the build (`build_index`):

- `index.json`, small and loaded first: the facet labels, the first key of every term shard
  and the names of the other files;
- term shards (`t/N.HASH.json`): sorted keys and, for each, the ids of the products that have
  it in their title and elsewhere. A key is a word, two neighbouring words joined ("lo fi" is
  also "lofi"), a hyphenated word joined ("lo-fi" is also "lofi"), or "^" and the whole title
  joined (exact and prefix title matches). Shards are cut from the sorted keys by size, so a
  query loads only the shards its words fall in;
- `facets.HASH.json`: each product's category, price band and rating as small integers, for
  filters and facet counts that follow the query;
- `sort.HASH.json`: each product's rank by price, by rating and by units sold in 30 days, loaded only to sort by them;
- document chunks (`d/N.HASH.json`): what a result card shows, `CHUNK` products a file,
  loaded only for the results on screen.

Product ids are positions in the catalogue's own order (newest first), so "newest" needs no
data at all. Files are named by content hash: a CDN may cache them for good, and two builds of
the same catalogue write the same bytes (Pagefind was dropped because it did not).

`digitaldock/theme/static/js/search.js` implements `Query` below for the browser; the
Chromium tests hold the two to the same answers.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import re
import unicodedata
from array import array
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from .money import CURRENCIES

INDEX_VERSION = 2
CHUNK = 32  # products per document chunk
SHARD_BYTES = 24_000  # a term shard is cut when its JSON passes this (one key may pass it alone)
MAX_TERMS = 8  # words of a query that count; the rest are ignored
MAX_QUERY = 200  # characters of a query that count
PREFIX_MIN = 3  # a word this long also matches the words it begins
PREFIX_SHARDS = 4  # at most this many shards are read for one word's prefix matches
TYPO_1 = 4  # a word this long tolerates one typo (a letter wrong, missing, extra or swapped)
TYPO_2 = 8  # and this long, two
TITLE = "^"  # the key prefix of whole-title keys

# Exact word 3, prefix 2, typo 1; a word in the title counts double.
EXACT, PREFIX, TYPO = 3, 2, 1

_WORD = re.compile(r"[^\W_]+")
_JOINERS = re.compile(r"['’-]+")

# Price bands per currency, in whole units: a filter never mixes currencies.
BANDS: dict[str, tuple[int, ...]] = {
    "USD": (10, 25, 50),
    "NGN": (5_000, 15_000, 50_000),
    "GHS": (100, 300, 750),
    "ZAR": (200, 500, 1_000),
    "KES": (1_000, 3_000, 7_500),
}
RATINGS = (4, 3, 2, 1)  # "4 stars and up" ...
SORTS = {"": "Best match", "newest": "Newest", "price-low": "Price: low to high",
         "price-high": "Price: high to low", "rating": "Top rated", "popular": "Most popular"}
RANKED_SORTS = {"price-low": "price", "price-high": "price", "rating": "rating", "popular": "popular"}


# --- normalisation ------------------------------------------------------------------------------

def fold(text: str) -> str:
    """Lower case without accents, so "Café" is found by "cafe" (search.js does the same)."""
    if text.isascii():  # NFKD leaves ASCII as it is, and it has no accents to drop
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.lower())
    # nonspacing marks (accents) go; search.js drops \p{Mn} alike
    return "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")


def words(text: str) -> list[str]:
    """The folded words of `text`: letters and digits, everything else separates."""
    return _WORD.findall(fold(text))


def query_words(q: str) -> list[str]:
    return words(q[:MAX_QUERY])[:MAX_TERMS]


def band_label(code: str, i: int) -> str:
    """"Under $10", "₦5,000 to ₦15,000", "GH₵750 and over": whole units, the currency's symbol."""
    edges, sym = BANDS[code], CURRENCIES[code].symbol
    if i == 0:
        return f"Under {sym}{edges[0]:,}"
    if i == len(edges):
        return f"{sym}{edges[-1]:,} and over"
    return f"{sym}{edges[i - 1]:,} to {sym}{edges[i]:,}"


def price_values() -> list[tuple[str, str]]:
    """Every price band as (value, label): value "USD:0" is the first US-dollar band."""
    return [(f"{code}:{i}", band_label(code, i)) for code in BANDS for i in range(len(BANDS[code]) + 1)]


def price_band(minor: int, code: str) -> str:
    whole = minor // 10 ** CURRENCIES[code].exponent
    return f"{code}:{bisect.bisect_right(BANDS[code], whole)}"


def rating_label(stars: int) -> str:
    return f"{stars} star{'' if stars == 1 else 's'} and up"


# --- building ---------------------------------------------------------------------------------

@dataclass
class Doc:
    """One product as the index sees it; `build_index` numbers them in the order given."""

    url: str
    title: str
    seller: str
    category: str
    tags: tuple[str, ...]
    text: str  # summary and description, plain text
    price: str  # as shown
    price_minor: int
    currency: str
    price_sort: int  # comparable across currencies (US-cent equivalent)
    rating: str | None  # "4.6"
    rating_sort: int  # stars x 10, 0 without ratings
    rating_count: int
    cover: tuple[str, int, int]
    sold_30d: int = 0  # units sold in the last 30 days, from the edge's export (popularity)


def doc_keys(d: Doc) -> tuple[frozenset[str], frozenset[str]]:
    """(keys found in the title, keys found elsewhere) of a product."""
    title_words = words(d.title)
    title = set(title_words) | _pairs(title_words)
    if title_words:
        title.add(TITLE + "".join(title_words))
    other: set[str] = set()
    for field_text in (d.seller, d.category, *d.tags):
        ws = words(field_text)
        other.update(ws)
        other.update(_pairs(ws))
    for token in set(_tokens(d.text)):
        if "-" in token or "'" in token or "’" in token:
            parts = [w for w in _JOINERS.split(token) if w]
            other.update(parts)
            if len(parts) > 1:
                other.add("".join(parts))
                other.update(_pairs(parts))
        else:
            other.add(token)
    return frozenset(title), frozenset(other - title)


# everything but letters, digits, hyphens and apostrophes separates words of a description
_ASCII_SEPARATORS = str.maketrans({chr(c): " " for c in range(128) if not chr(c).isalnum() and chr(c) not in "-'"})
_SEPARATORS = re.compile(r"[^\w'’-]|_")


def _tokens(text: str) -> list[str]:
    """A description's words, hyphenated and apostrophe'd ones whole ("lo-fi", "maker's")."""
    folded = fold(text)
    if folded.isascii():
        return folded.translate(_ASCII_SEPARATORS).split()
    return _SEPARATORS.sub(" ", folded).split()


def _pairs(ws: list[str]) -> set[str]:
    return {a + b for a, b in zip(ws, ws[1:], strict=False)}


def _dump(value: Any) -> bytes:
    return (json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n").encode()


def _deltas(ids: Iterable[int]) -> list[int]:
    out, last = [], 0
    for i in ids:
        out.append(i - last)
        last = i
    return out


def _named(folder: str, stem: str, data: bytes) -> str:
    return f"{folder}{stem}.{hashlib.sha256(data).hexdigest()[:10]}.json"


def build_index(docs: Iterable[Doc], categories: list[str],
                keys_of: Callable[[int, Doc], tuple[Iterable[str], Iterable[str]]] | None = None) -> dict[str, bytes]:
    """Every file of the index, by path relative to the index folder; same input, same bytes.

    One pass over `docs` (a generator is fine: a doc's text is dropped once its words are
    counted, so 100,000 descriptions are never in memory at once). `keys_of(i, doc)` gives a
    doc's `doc_keys` when the caller kept them from an earlier build."""
    postings: dict[str, tuple[array, array]] = {}
    files: dict[str, bytes] = {}
    chunks: list[str] = []
    chunk: list[dict[str, Any]] = []
    cat_index = {c: n for n, c in enumerate(categories)}
    prices = [v for v, _ in price_values()]
    price_index = {v: n for n, v in enumerate(prices)}
    facets: dict[str, list[int]] = {"category": [], "price": [], "rating": []}
    price_sort: list[int] = []
    rating_sort: list[tuple[int, int]] = []
    sold: list[int] = []

    def flush_chunk() -> None:
        data = _dump(chunk)
        name = _named("d/", str(len(chunks)), data)
        files[name] = data
        chunks.append(name)
        chunk.clear()

    count = 0
    for i, d in enumerate(docs):
        title, other = keys_of(i, d) if keys_of is not None else doc_keys(d)
        for k in title:
            entry = postings.get(k)
            if entry is None:
                entry = postings[k] = (array("i"), array("i"))
            entry[0].append(i)
        for k in other:
            entry = postings.get(k)
            if entry is None:
                entry = postings[k] = (array("i"), array("i"))
            entry[1].append(i)
        chunk.append({"u": d.url, "t": d.title, "s": d.seller, "c": d.category, "p": d.price,
                      "r": d.rating, "i": list(d.cover)})
        if len(chunk) == CHUNK:
            flush_chunk()
        facets["category"].append(cat_index[d.category])
        facets["price"].append(price_index[price_band(d.price_minor, d.currency)])
        facets["rating"].append(d.rating_sort // 10)
        price_sort.append(d.price_sort)
        rating_sort.append((d.rating_sort, d.rating_count))
        sold.append(d.sold_30d)
        count += 1
    if chunk:
        flush_chunk()

    shards: list[list[str]] = []  # [first key, file]
    batch: dict[str, list[list[int]]] = {}
    size = 0

    def flush() -> None:
        nonlocal batch, size
        data = _dump(batch)
        name = _named("t/", str(len(shards)), data)
        files[name] = data
        shards.append([min(batch), name])
        batch, size = {}, 0

    for k in sorted(postings):
        t, o = postings.pop(k)
        cost = len(k) + 8 + 2 * (len(t) + len(o))
        if batch and size + cost > SHARD_BYTES:
            flush()
        batch[k] = [_deltas(t), _deltas(o)]
        size += cost
    if batch:
        flush()

    facets_data = _dump(facets)
    by_price = sorted(range(count), key=lambda i: (price_sort[i], i))
    by_rating = sorted(range(count), key=lambda i: (-rating_sort[i][0], -rating_sort[i][1], i))
    by_sold = sorted(range(count), key=lambda i: (-sold[i], i))
    sort_data = _dump({"price": _ranks(by_price), "rating": _ranks(by_rating), "popular": _ranks(by_sold)})
    files[facets_name := _named("", "facets", facets_data)] = facets_data
    files[sort_name := _named("", "sort", sort_data)] = sort_data
    used_prices = sorted(set(facets["price"]))
    entry_doc = {
        "version": INDEX_VERSION, "count": count, "chunk": CHUNK,
        "shards": shards, "docs": chunks, "facets_file": facets_name, "sort_file": sort_name,
        "facets": {
            "category": categories,
            "price": [[v, label] for v, label in price_values()],
            "rating": [[str(n), rating_label(n)] for n in RATINGS],
        },
        "price_shown": [prices[p] for p in used_prices],
        "rules": {"max_terms": MAX_TERMS, "max_query": MAX_QUERY, "prefix_min": PREFIX_MIN,
                  "prefix_shards": PREFIX_SHARDS, "typo_1": TYPO_1, "typo_2": TYPO_2},
    }
    files["index.json"] = _dump(entry_doc)
    return files


def _ranks(order: list[int]) -> list[int]:
    ranks = [0] * len(order)
    for r, i in enumerate(order):
        ranks[i] = r
    return ranks


# --- querying ---------------------------------------------------------------------------------

def distance(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance (a swap of neighbours is one edit), or limit + 1 when
    it is larger than `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1] if prev[-1] <= limit else limit + 1


def typo_limit(word: str) -> int:
    """Edits a query word tolerates; none in numbers ("4242" is not "4241")."""
    if any(ch.isnumeric() for ch in word):
        return 0
    return 2 if len(word) >= TYPO_2 else 1 if len(word) >= TYPO_1 else 0


@dataclass
class Result:
    total: int
    ids: list[int]  # every match, in order
    facets: dict[str, dict[str, int]]  # facet → value → count among the query's matches
    suggestions: list[str] = field(default_factory=list)
    words: list[str] = field(default_factory=list)


class Index:
    """A built index read through `read(path) -> bytes` (a file, or a URL in the browser)."""

    def __init__(self, read: Callable[[str], bytes]):
        self._read = read
        self._cache: dict[str, Any] = {}
        self.entry = self.load("index.json")
        if self.entry.get("version") != INDEX_VERSION:
            raise ValueError(f"search index version {self.entry.get('version')!r}, expected {INDEX_VERSION}")
        self.firsts = [s[0] for s in self.entry["shards"]]

    def load(self, name: str) -> Any:
        if name not in self._cache:
            self._cache[name] = json.loads(self._read(name))
        return self._cache[name]

    # which shards a key needs
    def shards_for(self, word: str, prefix: bool) -> list[int]:
        if not self.firsts:
            return []
        first = max(0, bisect.bisect_right(self.firsts, word) - 1)
        out = [first]
        if prefix:
            n = first + 1
            while n < len(self.firsts) and self.firsts[n].startswith(word) and len(out) < PREFIX_SHARDS:
                out.append(n)
                n += 1
        return out

    def _keys(self, shard: int) -> tuple[list[str], dict[str, Any]]:
        name = self.entry["shards"][shard][1]
        data = self.load(name)
        keys = self._cache.setdefault("keys:" + name, sorted(data))
        return keys, data

    def match(self, word: str, title_only: bool = False) -> dict[int, int]:
        """Product id → score for one query word (or two joined): exact, prefix, typo."""
        prefix = len(word) >= PREFIX_MIN
        limit = typo_limit(word)
        found: dict[int, int] = {}
        for shard in self.shards_for(word, prefix):
            keys, data = self._keys(shard)
            start = bisect.bisect_left(keys, word) if not limit else 0
            for k in keys[start:]:
                if k == word:
                    quality = EXACT
                elif prefix and k.startswith(word):
                    quality = PREFIX
                elif limit and not k.startswith(TITLE) and distance(word, k, limit) <= limit:
                    quality = TYPO
                elif not limit and not k.startswith(word):
                    break
                else:
                    continue
                t, o = data[k]
                _merge(found, t, quality * 2)
                if not title_only:
                    _merge(found, o, quality)
        return found

    def title_match(self, joined: str) -> dict[int, int]:
        """Product id → 2 when the whole title is the query, 1 when it begins with it."""
        key = TITLE + joined
        out: dict[int, int] = {}
        for shard in self.shards_for(key, True):
            keys, data = self._keys(shard)
            for k in keys[bisect.bisect_left(keys, key):]:
                if not k.startswith(key):
                    break
                _merge(out, data[k][0], 2 if k == key else 1)
        return out

    def search(self, q: str, filters: dict[str, list[str]] | None = None, sort: str = "") -> Result:
        ws = query_words(q)
        facets = self.load(self.entry["facets_file"])
        n = self.entry["count"]
        scores = self._terms(ws, 0, {}) if ws else None
        ids = list(range(n)) if scores is None else sorted(scores)
        chosen = _chosen(filters or {}, self.entry)
        counts = _facet_counts(ids, facets, chosen, self.entry)
        ids = [i for i in ids if _passes(i, facets, chosen)]
        if sort in RANKED_SORTS:
            ranks = self.load(self.entry["sort_file"])[RANKED_SORTS[sort]]
            ids.sort(key=lambda i: -ranks[i] if sort == "price-high" else ranks[i])
        elif scores is not None and sort != "newest":
            title = self.title_match("".join(ws))
            ids.sort(key=lambda i: (-title.get(i, 0), -scores[i], i))
        suggestions = self.suggest(ws) if ws and not ids else []
        return Result(len(ids), ids, counts, suggestions, ws)

    def _terms(self, ws: list[str], i: int, memo: dict[int, dict[int, int] | None]) -> dict[int, int] | None:
        """Products matching ws[i:], each word alone or joined with the next ("lo fi" = "lofi")."""
        if i == len(ws):
            return None  # every product
        if i in memo:
            return memo[i]
        out = _and(self.match(ws[i]), self._terms(ws, i + 1, memo))
        if i + 1 < len(ws):
            joined = _and(self.match(ws[i] + ws[i + 1]), self._terms(ws, i + 2, memo))
            for k, v in joined.items():
                if v > out.get(k, 0):
                    out[k] = v
        memo[i] = out
        return out

    def suggest(self, ws: list[str]) -> list[str]:
        """Queries that find something when this one found nothing: each word replaced by the
        nearest known word (up to two edits), then each word on its own."""
        out: list[str] = []
        fixed = []
        for w in ws:
            best = self._nearest(w)
            fixed.append(best or w)
        if fixed != ws and self._terms(fixed, 0, {}):
            out.append(" ".join(fixed))
        if len(ws) > 1:
            for w in dict.fromkeys(fixed):
                if self._terms([w], 0, {}) and w not in out:
                    out.append(w)
        return out[:3]

    def _nearest(self, w: str) -> str | None:
        if len(w) < 3:
            return None
        best: tuple[int, int, str] | None = None
        for shard in self.shards_for(w, False):
            keys, data = self._keys(shard)
            for k in keys:
                if k.startswith(TITLE):
                    continue
                d = distance(w, k, 2)
                if d <= 2:
                    t, o = data[k]
                    cand = (d, -(len(t) + len(o)), k)
                    if best is None or cand < best:
                        best = cand
        return best[2] if best and best[0] > 0 else None

    def cards(self, ids: list[int]) -> list[dict[str, Any]]:
        chunk = self.entry["chunk"]
        return [self.load(self.entry["docs"][i // chunk])[i % chunk] for i in ids]


def _merge(found: dict[int, int], deltas: list[int], score: int) -> None:
    i = 0
    for d in deltas:
        i += d
        if score > found.get(i, 0):
            found[i] = score


def _and(a: dict[int, int], b: dict[int, int] | None) -> dict[int, int]:
    if b is None:
        return dict(a)
    if len(a) > len(b):
        return {k: v + a[k] for k, v in b.items() if k in a}
    return {k: v + b[k] for k, v in a.items() if k in b}


def _chosen(filters: dict[str, list[str]], entry: dict[str, Any]) -> dict[str, set[int]]:
    """Filter values → facet integers; unknown values are ignored (an old bookmark)."""
    chosen: dict[str, set[int]] = {}
    cats = {c: n for n, c in enumerate(entry["facets"]["category"])}
    prices = {v: n for n, (v, _) in enumerate(entry["facets"]["price"])}
    for name, table in (("category", cats), ("price", prices)):
        picked = {table[v] for v in filters.get(name, []) if v in table}
        if picked:
            chosen[name] = picked
    stars = [int(v) for v in filters.get("rating", []) if v in {str(r) for r in RATINGS}]
    if stars:
        chosen["rating"] = set(range(min(stars), 6))
    return chosen


def _passes(i: int, facets: dict[str, list[int]], chosen: dict[str, set[int]], skip: str = "") -> bool:
    return all(facets[name][i] in values for name, values in chosen.items() if name != skip)


def _facet_counts(ids: list[int], facets: dict[str, list[int]], chosen: dict[str, set[int]],
                  entry: dict[str, Any]) -> dict[str, dict[str, int]]:
    """Per facet value, how many of the query's matches it would show, given the other facets'
    choices (a facet's own choice does not narrow its counts, so its other values stay useful)."""
    out: dict[str, dict[str, int]] = {}
    labels = {"category": entry["facets"]["category"], "price": [v for v, _ in entry["facets"]["price"]]}
    for name in ("category", "price", "rating"):
        counts: dict[int, int] = {}
        column = facets[name]
        for i in ids:
            if _passes(i, facets, chosen, skip=name):
                counts[column[i]] = counts.get(column[i], 0) + 1
        if name == "rating":
            out[name] = {str(r): sum(c for v, c in counts.items() if v >= r) for r in RATINGS}
        else:
            out[name] = {labels[name][v]: c for v, c in sorted(counts.items())}
    return out
