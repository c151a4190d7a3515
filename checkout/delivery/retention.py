"""Retention of product files: removed PRODUCT_FILE_RETENTION_DAYS (90) after a product left
the catalogue, unless a buyer still has download rights (the Privacy Policy's "Data retention").

The edge learns when a product left from the catalogue itself: every time catalog.json is
(re)loaded, `record` notes each product slug and file key it lists (`catalog_products`,
`catalog_files`, migration 0005) and stamps `removed_at` on products no longer listed; a
product listed again loses its stamp. A catalogue that could not be read (the edge fell back to
content/legal) or lists no product at all is not taken as "everything was deleted".

`purge_removed_files`, a retention task run daily by `checkout.core.retention.run`, deletes from storage
every file of a product gone for more than the retention period, except a file that is still
- listed by a product in the current catalogue, or by a product gone for less than the period;
- owned by a buyer with download rights: an `active` purchase (not refunded or revoked) whose
  account is not anonymised. The buyer's right wins, as the policy says: the file stays until
  the last such buyer is refunded or deletes their account;
- part of a seller's draft or pending submission.
While a removed product's files are kept, its buyers still download them: `withdrawn_product`
gives delivery the files last listed. Counts join the retention run's report and audit entry.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog

from checkout.core.catalog import CatalogState
from checkout.core.clock import iso
from checkout.core.context import Edge
from checkout.core.db import atomic
from checkout.core.errors import ServiceUnavailable
from checkout.delivery import storage
from digitaldock.published import PublishedFile
from digitaldock.storage import ReadThroughStorage, StorageError

log = structlog.get_logger("checkout.product_retention")
TABLES = ("catalog_products", "catalog_files")


def _ready(edge: "Edge") -> bool:
    return set(TABLES) <= set(edge.db.table_names())


def _from_json(edge: "Edge", state: CatalogState) -> bool:
    return bool(state.source) and Path(state.source) == Path(edge.catalog.catalog_path)


@dataclass(frozen=True)
class WithdrawnProduct:
    """A product that left the catalogue, as it was last listed, while its files are kept."""

    slug: str
    title: str
    version: str
    files: tuple[PublishedFile, ...]
    url: str = ""
    withdrawn: bool = True


def record(edge: "Edge", state: CatalogState | None = None) -> dict[str, int]:
    """Note what the catalogue lists now; returns {"listed": n, "removed": n} (empty if skipped)."""
    state = state if state is not None else edge.catalog.current()
    if not _ready(edge) or not _from_json(edge, state):
        return {}
    if not state.products:
        log.warning("catalog_without_products", source=state.source)
        return {}
    now = edge.clock.iso()
    db = edge.db
    with atomic(db):
        for slug, prod in state.products.items():
            # the seller is the first one the slug was listed under: a slug stays its seller's
            # (checkout/delivery/slugs.py)
            db.execute("INSERT INTO catalog_products (product_slug, title, version, first_seen_at, last_seen_at,"
                       " seller) VALUES (?,?,?,?,?,?) ON CONFLICT(product_slug) DO UPDATE SET title = excluded.title,"
                       " version = excluded.version, last_seen_at = excluded.last_seen_at, removed_at = NULL,"
                       " seller = COALESCE(catalog_products.seller, excluded.seller)",
                       (slug, prod.title, prod.version, now, now, prod.seller or None))
            for f in prod.files:
                db.execute("INSERT INTO catalog_files (product_slug, file_key, name, size, sha256, first_seen_at,"
                           " last_seen_at) VALUES (?,?,?,?,?,?,?) ON CONFLICT(product_slug, file_key) DO UPDATE"
                           " SET name = excluded.name, size = excluded.size, sha256 = excluded.sha256,"
                           " last_seen_at = excluded.last_seen_at, purged_at = NULL",
                           (slug, f.key, f.name, f.size, f.sha256, now, now))
        gone = [r[0] for r in db.execute("SELECT product_slug FROM catalog_products WHERE removed_at IS NULL")
                if r[0] not in state.products]
        for slug in gone:
            db.execute("UPDATE catalog_products SET removed_at = ? WHERE product_slug = ?", (now, slug))
    for slug in gone:
        log.info("product_left_catalogue", product=slug)
    return {"listed": len(state.products), "removed": len(gone)}


def on_catalog_load(edge: "Edge", state: CatalogState) -> None:
    """Catalogue listener: record, never failing the request that triggered the reload."""
    try:
        record(edge, state)
    except sqlite3.Error as exc:  # e.g. the database is busy: the retention hook records again
        log.warning("catalog_record_failed", error=str(exc))


def withdrawn_product(edge: "Edge", slug: str) -> WithdrawnProduct | None:
    """A product no longer in the catalogue, as it was last listed, with the files still kept."""
    if not _ready(edge):
        return None
    row = edge.db.execute("SELECT * FROM catalog_products WHERE product_slug = ? AND removed_at IS NOT NULL",
                          (slug,)).fetchone()
    if row is None:
        return None
    files = tuple(PublishedFile(f["name"], f["size"], f["sha256"], f["file_key"])
                  for f in edge.db.execute("SELECT * FROM catalog_files WHERE product_slug = ? AND last_seen_at = ?"
                                           " AND purged_at IS NULL ORDER BY name", (slug, row["last_seen_at"])))
    return WithdrawnProduct(slug, row["title"] or slug, row["version"], files)


def _protected(edge: "Edge", cutoff: str) -> tuple[set[str], set[str]]:
    """(keys still listed or recently listed or in a pending submission, keys buyers hold rights to)."""
    db = edge.db
    listed = {f.key for prod in edge.catalog.current().products.values() for f in prod.files}
    listed |= {r[0] for r in db.execute(
        "SELECT f.file_key FROM catalog_files f JOIN catalog_products p ON p.product_slug = f.product_slug"
        " WHERE p.removed_at IS NULL OR p.removed_at > ?", (cutoff,))}
    tables = set(db.table_names())
    if "submissions" in tables:
        for r in db.execute("SELECT files FROM submissions WHERE status IN ('draft', 'pending')"):
            with contextlib.suppress(ValueError, TypeError, AttributeError):
                listed |= {str(f["key"]) for f in json.loads(r[0] or "[]") if isinstance(f, dict) and f.get("key")}
    bought: set[str] = set()
    if "purchases" in tables:
        bought = {r[0] for r in db.execute(
            "SELECT DISTINCT f.file_key FROM catalog_files f JOIN purchases pu ON pu.product_slug = f.product_slug"
            " JOIN users u ON u.id = pu.user_id WHERE pu.status = 'active' AND u.anonymised_at IS NULL")}
    return listed, bought


def _delete(store: Any, key: str) -> None:
    if isinstance(store, ReadThroughStorage):  # the edge's copy and the content folder's
        store.primary.delete(key)
        store.fallback.delete(key)
    else:
        store.delete(key)


def purge_removed_files(edge: "Edge", now: float) -> dict[str, int]:
    """Retention hook: delete files of products gone for more than PRODUCT_FILE_RETENTION_DAYS."""
    report = {"product_files_deleted": 0, "product_files_kept_for_buyers": 0,
              "product_files_kept_in_use": 0, "product_files_failed": 0}
    if not _ready(edge):
        return report
    record(edge)
    cutoff = iso(now - edge.settings.PRODUCT_FILE_RETENTION_DAYS * 86400)
    due = sorted({r[0] for r in edge.db.execute(
        "SELECT f.file_key FROM catalog_files f JOIN catalog_products p ON p.product_slug = f.product_slug"
        " WHERE p.removed_at IS NOT NULL AND p.removed_at <= ? AND f.purged_at IS NULL", (cutoff,))})
    if not due:
        return report
    listed, bought = _protected(edge, cutoff)

    store = None
    for key in due:
        if key in listed:
            report["product_files_kept_in_use"] += 1
            continue
        if key in bought:
            report["product_files_kept_for_buyers"] += 1
            continue
        try:
            store = store or storage.storage(edge)
            _delete(store, key)
        except (StorageError, ServiceUnavailable) as exc:
            report["product_files_failed"] += 1
            log.error("product_file_delete_failed", key=key, error=str(exc))
            continue
        with atomic(edge.db):
            edge.db.execute("UPDATE catalog_files SET purged_at = ? WHERE file_key = ? AND purged_at IS NULL",
                            (iso(now), key))
        report["product_files_deleted"] += 1
        log.info("product_file_deleted", key=key)
    return report

