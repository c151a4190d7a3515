"""The edge's side of search: the storefront's static index (the `search/` folder next to
catalog.json), queried with the same rules as the browser (`digitaldock.search.Index`).

It answers the no-JS results page and `GET /api/products/search`. The index is re-opened when
its `index.json` changes (a new build); its files are named by content, so a file read before
the change is never mixed with one read after it.
"""

from __future__ import annotations

import threading
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog

from checkout.core.errors import ValidationFailed
from digitaldock.search import MAX_QUERY, RATINGS, SORTS, Index, Result, price_values

log = structlog.get_logger("checkout.search")
PER_PAGE = 24
MAX_PAGE = 1000
MAX_VALUES = 50  # values of one filter in a request
FILTERS = ("category", "price", "rating")


class SiteSearch:
    """The current index; `None` from `index()` while the storefront has not been built."""

    def __init__(self, folder: Path):
        self.folder = folder
        self._lock = threading.Lock()
        self._mtime: int | None = None
        self._index: Index | None = None

    def index(self) -> Index | None:
        try:
            mtime = (self.folder / "index.json").stat().st_mtime_ns
        except OSError:
            return None
        with self._lock:
            if mtime != self._mtime:
                try:
                    self._index = Index(self._read)
                except (OSError, ValueError, KeyError, TypeError) as exc:
                    log.warning("search_index_unreadable", folder=str(self.folder), error=str(exc))
                    self._index = None
                self._mtime = mtime
            return self._index

    def _read(self, name: str) -> bytes:
        path = (self.folder / name).resolve()
        if not path.is_relative_to(self.folder.resolve()):  # names come from index.json only
            raise ValueError(f"index file outside the index: {name!r}")
        return path.read_bytes()


def site_search(edge: Any) -> SiteSearch:
    return edge.service("search", lambda: SiteSearch(Path(edge.settings.CATALOG_PATH).parent / "search"))


@dataclass
class SearchQuery:
    q: str = ""
    filters: dict[str, list[str]] | None = None
    sort: str = ""
    page: int = 1


def _text(value: Any, name: str, limit: int) -> str:
    if not isinstance(value, str):
        raise ValidationFailed(fields={name: "must be text"})
    if len(value) > limit:
        raise ValidationFailed(fields={name: f"must be at most {limit} characters"})
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in value):
        raise ValidationFailed(fields={name: "must not contain control characters"})
    return value


def parse_query(index: Index | None, values: dict[str, list[Any]]) -> SearchQuery:
    """A search from query parameters or form fields (each a list of values), checked: a 422
    naming the field for anything the search page could not have sent."""
    def one(name: str) -> Any:
        got = values.get(name) or [""]
        if len(got) > 1:
            raise ValidationFailed(fields={name: "must be given once"})
        return got[0]

    q = _text(one("q"), "q", MAX_QUERY).strip()
    sort = _text(one("sort"), "sort", 20)
    if sort not in SORTS:
        raise ValidationFailed(fields={"sort": f"must be one of: {', '.join(s or '(best match)' for s in SORTS)}"})
    page_text = _text(one("page"), "page", 10) or "1"
    if not page_text.isascii() or not page_text.isdigit() or not 1 <= int(page_text) <= MAX_PAGE:
        raise ValidationFailed(fields={"page": f"must be a whole number from 1 to {MAX_PAGE}"})
    known = {"category": set(index.entry["facets"]["category"]) if index else set(),
             "price": {v for v, _ in index.entry["facets"]["price"]} if index else {v for v, _ in price_values()},
             "rating": {str(r) for r in RATINGS}}
    filters: dict[str, list[str]] = {}
    for name in FILTERS:
        got = values.get(name) or []
        if len(got) > MAX_VALUES:
            raise ValidationFailed(fields={name: f"must have at most {MAX_VALUES} values"})
        picked = []
        for v in got:
            text = _text(v, name, 200)
            if text and text not in known[name]:
                raise ValidationFailed(fields={name: f"has no value {text[:60]!r}"})
            if text and text not in picked:
                picked.append(text)
        if picked:
            filters[name] = picked
    return SearchQuery(q, filters, sort, int(page_text))


def run(index: Index, query: SearchQuery) -> tuple[Result, list[dict[str, Any]]]:
    """The result and the cards of the requested page."""
    result = index.search(query.q, query.filters, query.sort)
    start = (query.page - 1) * PER_PAGE
    return result, index.cards(result.ids[start:start + PER_PAGE])
