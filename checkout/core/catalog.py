"""The catalogue the edge sells from: the storefront's catalog.json, hot-reloaded on mtime.

Products arrive typed (`digitaldock.published.PublishedProduct`, prices as `Money`); an entry
without the published shape is left out and logged, never half-read. If catalog.json is
missing or unreadable, `content/legal/*.md` is parsed with the one schema
(`digitaldock.schema.parse_legal`), so the edge always knows the current legal versions. The
same file also gives the categories shown in the theme's navigation.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import structlog

from digitaldock.published import PublishedError, PublishedProduct
from digitaldock.schema import BUYER_DOCUMENTS, LEGAL_DOCUMENTS, parse_legal

log = structlog.get_logger("checkout.legal")
_UNSET = object()


@dataclass(frozen=True)
class LegalDoc:
    slug: str
    title: str
    version: str
    effective: str
    url: str


@dataclass(frozen=True)
class Category:
    slug: str
    name: str


@dataclass
class CatalogState:
    legal: dict[str, LegalDoc] = field(default_factory=dict)
    categories: list[Category] = field(default_factory=list)
    build_hash: str = ""
    source: str = ""
    products: dict[str, PublishedProduct] = field(default_factory=dict)
    sellers: dict = field(default_factory=dict)  # catalog.json `sellers[slug]`


def required_documents(role: str) -> tuple[str, ...]:
    """Buyers (and admins) accept the buyer documents; sellers accept every legal document."""
    return tuple(LEGAL_DOCUMENTS) if role == "seller" else BUYER_DOCUMENTS


class Catalog:
    """Reads catalog.json lazily; `current()` re-reads it when its mtime changed."""

    def __init__(self, catalog_path: str | Path, content_dir: str | Path):
        self.catalog_path = Path(catalog_path)
        self.content_dir = Path(content_dir)
        self._mtime: object = _UNSET
        self._state = CatalogState()
        self._lock = threading.Lock()
        self.listeners: list[Callable[[CatalogState], None]] = []  # called with each newly loaded state
        self._unheard: list[Callable[[CatalogState], None]] = []  # listeners still to hear the current state

    def current(self) -> CatalogState:
        try:
            mtime: int | None = self.catalog_path.stat().st_mtime_ns
        except OSError:
            mtime = None
        with self._lock:
            if mtime != self._mtime:
                state = self._load_json() if mtime is not None else None
                if state is None and mtime is not None and self._state.legal:
                    return self._state  # half-written file: keep the last good state, retry later
                self._state, self._mtime = state or self._load_content(), mtime
                self._unheard = list(self.listeners)
            state, unheard, self._unheard = self._state, self._unheard, []
        failed = []
        for listener in unheard:
            try:
                listener(state)
            except Exception as exc:  # noqa: BLE001 - a listener never fails the request; it is retried
                log.warning("catalog_listener_failed", listener=getattr(listener, "__name__", "?"),
                            error=f"{type(exc).__name__}: {exc}")
                failed.append(listener)
        if failed:
            with self._lock:
                if self._state is state:  # heard again on the next call (a busy database, an old schema)
                    self._unheard = failed + self._unheard
        return state

    @property
    def loaded(self) -> bool:
        return bool(self.current().legal)

    def _load_json(self) -> CatalogState | None:
        try:
            data = json.loads(self.catalog_path.read_text(encoding="utf-8"))
            legal = {}
            for slug, doc in (data.get("legal") or {}).items():
                legal[slug] = LegalDoc(slug, str(doc["title"]), str(doc["version"]),
                                       str(doc.get("effective", "")), str(doc.get("url", f"/legal/{slug}/")))
            cats = [Category(str(c["slug"]), str(c["name"])) for c in data.get("categories") or []
                    if isinstance(c, dict) and "slug" in c and "name" in c]
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            log.warning("catalog_unreadable", path=str(self.catalog_path), error=str(exc))
            return None
        log.info("catalog_loaded", path=str(self.catalog_path), documents=sorted(legal))
        products = {}
        listed = data.get("products") if isinstance(data.get("products"), dict) else {}
        for slug, entry in listed.items():
            try:
                products[slug] = PublishedProduct.from_json(slug, entry)
            except PublishedError as exc:
                log.error("catalog_product_unreadable", product=slug, error=str(exc))
        sellers = data.get("sellers") if isinstance(data.get("sellers"), dict) else {}
        return CatalogState(legal, cats, str(data.get("build_hash", "")), str(self.catalog_path),
                            products, sellers)

    def _load_content(self) -> CatalogState:
        legal = {}
        for path in sorted((self.content_dir / "legal").glob("*.md")):
            doc, problems = parse_legal(path, path.read_text(encoding="utf-8"))
            if doc is None:
                log.warning("legal_document_invalid", path=str(path), problems=[str(p) for p in problems])
                continue
            legal[doc.slug] = LegalDoc(doc.slug, doc.title, doc.version, doc.effective.isoformat(),
                                       f"/legal/{doc.slug}/")
        return CatalogState(legal, [], "", str(self.content_dir / "legal"))
