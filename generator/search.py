"""The static search index: shards loaded on demand, built by `digitaldock.search.build_index`.

This module only turns the site model into `digitaldock.search.Doc`s; the rules for words,
shards, matching and ranking live in `digitaldock/search.py`, which the edge uses too. We build
the shards ourselves rather than with Pagefind: Pagefind writes its filter index from hash maps
in a different order on every run, so two builds of the same catalogue were not byte-identical
(and the edge could not answer the same query from the same files).
"""

from __future__ import annotations

import pickle
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from digitaldock.search import Doc, build_index, doc_keys

_MARKUP = re.compile(r"\]\([^)]*\)|<[^>]*>|https?://\S+")


def plain(markdown: str) -> str:
    """The words of a Markdown description: link targets, tags and bare URLs left out."""
    return _MARKUP.sub(" ", markdown)


def search_docs(m: Any) -> Iterator[Doc]:
    """The products of a `generator.site.SiteModel` (typed loosely: the site module imports this
    one), in the catalogue's order: newest first, so a product's id is its place by date. One at
    a time: `build_index` drops each description once its words are counted."""
    for p in m.products:
        yield Doc(
            url=p.url, title=p.title, seller=p.seller_obj.name, category=p.category_obj.name, tags=tuple(p.tags),
            text=p.summary + "\n" + plain(p.description),
            price=p.pwyw_display and f"from {p.pwyw_display}" or p.price_display,
            price_minor=(p.pwyw_minimum or p.price).minor, currency=p.price.currency, price_sort=p.usd_cents,
            rating=p.rating.average if p.rating else None,
            rating_sort=p.rating.stars_x10 if p.rating else 0, rating_count=p.rating.count if p.rating else 0,
            cover=(p.cover_img.src, p.cover_img.width, p.cover_img.height), sold_30d=p.sold_30d,
        )


_SEP, _HALF = "\x1f", "\x1e"  # a product's keys kept between builds as one string: less memory than sets
CACHE_FORMAT = 3  # of search.pickle; another value is ignored (rebuilt)


def search_files(m: Any) -> dict[str, bytes]:
    """Every file of the index (paths under search/), built once per site model.

    With the build's cache folder (`m.cache_dir`), an unchanged catalogue reuses the last
    index as it is, and a changed one recomputes the words of the changed products only."""
    made = m.__dict__.setdefault("_search_files", {})
    if made:
        return made
    cache_dir: Path | None = getattr(m, "cache_dir", None)
    path = cache_dir / "search.pickle" if cache_dir else None
    saved: dict[str, Any] = {}
    if path is not None and path.exists():
        try:
            saved = pickle.loads(path.read_bytes())
        except Exception:  # noqa: BLE001 - a damaged or old cache is rebuilt
            saved = {}
    if not isinstance(saved, dict) or saved.get("format") != CACHE_FORMAT:
        saved = {}
    if saved.get("fp") == m.global_fp:
        made.update(saved["files"])
        return made
    old_keys: dict[str, str] = saved.get("keys", {})
    del saved
    keys: dict[str, str] = {}

    def keys_of(i: int, d: Doc) -> tuple[list[str], list[str]]:
        fp = m.products[i].fp
        packed = old_keys.get(fp)
        if packed is None:
            title, other = doc_keys(d)
            packed = _SEP.join(sorted(title)) + _HALF + _SEP.join(sorted(other))
        keys[fp] = packed
        title_part, other_part = packed.split(_HALF)
        return (title_part.split(_SEP) if title_part else []), (other_part.split(_SEP) if other_part else [])

    made.update(build_index(search_docs(m), [c.name for c in m.site.categories], keys_of))
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(pickle.dumps({"format": CACHE_FORMAT, "fp": m.global_fp, "files": made, "keys": keys},
                                     protocol=5))
        tmp.replace(path)
    return made
