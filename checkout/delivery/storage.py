"""The edge's file storage, built from its settings once per edge."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import structlog

from checkout.core.context import Edge
from checkout.core.errors import ServiceUnavailable
from digitaldock.storage import LocalStorage, ReadThroughStorage, S3Storage, Storage, StorageError

log = structlog.get_logger("checkout.delivery.storage")


def storage_for(settings: Any) -> Storage:
    """The edge's storage from its settings (see docs/delivery.md)."""
    if settings.STORAGE_BACKEND == "s3":
        return S3Storage(settings.S3_BUCKET, settings.S3_ENDPOINT_URL or None, settings.S3_PREFIX)
    if settings.STORAGE_BACKEND != "local":
        raise StorageError(f"STORAGE_BACKEND={settings.STORAGE_BACKEND!r} is not a storage backend; use 'local' or 's3'")
    root = Path(settings.STORAGE_DIR or settings.data_dir / "storage")
    content = Path(settings.CONTENT_DIR) / "storage"
    if content.resolve() == root.resolve():
        return LocalStorage(root)
    return ReadThroughStorage(LocalStorage(root), LocalStorage(content))


def presigns(edge: "Edge") -> bool:
    """Whether downloads are 302s to presigned URLs (S3/R2) rather than streamed by the edge. A
    presigned URL serves the whole file, any number of times, until it expires, so only a
    counted download may be given one (checkout/web/delivery.py)."""
    return edge.settings.STORAGE_BACKEND == "s3"


def storage(edge: "Edge") -> Storage:
    """One storage per edge, built on first use."""
    found = edge.__dict__.get("_delivery_storage")
    if found is None:
        try:
            found = storage_for(edge.settings)
        except StorageError as exc:
            log.error("storage_unavailable", error=str(exc))
            raise ServiceUnavailable("File storage is not available right now.") from None
        edge.__dict__["_delivery_storage"] = found
    return found
