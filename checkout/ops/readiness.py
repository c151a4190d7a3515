"""The parts of `/readyz` that reach outside the process: file storage and clamd.

Each check answers a small dict for the probe's JSON: ``{"ok": true, "configured": true,
"backend": "s3"}`` when the part answers, ``{"ok": false, "configured": true, "error": ...}``
when a configured part does not (the edge is then not ready: uploads and downloads would
fail), and ``{"ok": true, "configured": false}`` for a part that is not set up at all (clamd
without CLAMD_SOCKET or CLAMD_HOST).

- storage, as the edge itself builds it (`checkout.delivery.storage_for`): for S3 one
  ``HeadBucket`` (no listing, no object read); for the local backend, the edge's storage folder
  exists (it is created, as the first upload would) and a file can be written in it.
- clamd: one ``PING`` through `pipelines.scan.Clamd`, the client uploads are scanned with.

Both run in worker threads at the same time and every network step is bounded by
`TIMEOUT` seconds with no retries, so a probe answers in a few seconds at worst. The JSON never
carries an endpoint, bucket, path or key; the full reason goes to the log.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path
from typing import Any

import structlog
from starlette.concurrency import run_in_threadpool

from checkout.core.context import Edge
from checkout.delivery.uploads import clamd_for
from digitaldock.storage import S3Storage, StorageError
from pipelines.scan import ScanError

log = structlog.get_logger("checkout.readiness")

TIMEOUT = 2.0
"""Seconds allowed for each connect and each read of a readiness check."""


def _s3_reason(message: str) -> str:
    """A short, secret-free reason from a StorageError's one-line message."""
    for needle, reason in (("cannot reach", "S3 endpoint unreachable"), ("does not exist", "bucket not found"),
                           ("denied", "access denied"), ("no S3 credentials", "no S3 credentials"),
                           ("no S3 bucket", "no S3 bucket configured")):
        if needle in message:
            return reason
    return "S3 error"


def _s3_storage(edge: "Edge") -> S3Storage:
    """The S3 storage of the edge's settings with a short-timeout client, kept for the next probe."""
    found = edge.__dict__.get("_readyz_s3")
    if found is None:
        from digitaldock.storage import s3_client

        s = edge.settings
        endpoint = s.S3_ENDPOINT_URL or None
        if not s.S3_BUCKET:
            raise StorageError("no S3 bucket: set S3_BUCKET")
        found = S3Storage(s.S3_BUCKET, endpoint, s.S3_PREFIX, client=s3_client(endpoint, timeout=TIMEOUT))
        edge.__dict__["_readyz_s3"] = found
    return found


def check_storage(edge: "Edge") -> dict[str, Any]:
    backend = edge.settings.STORAGE_BACKEND
    if backend == "s3":
        try:
            _s3_storage(edge).check_bucket()
        except StorageError as exc:
            log.warning("readyz_storage_failed", backend=backend, error=str(exc))
            return {"ok": False, "configured": True, "backend": backend, "error": _s3_reason(str(exc))}
        return {"ok": True, "configured": True, "backend": backend}
    if backend != "local":
        log.warning("readyz_storage_failed", backend=backend, error="unknown STORAGE_BACKEND")
        return {"ok": False, "configured": True, "backend": "unknown", "error": "STORAGE_BACKEND is not local or s3"}
    root = Path(edge.settings.STORAGE_DIR or edge.settings.data_dir / "storage")
    try:
        root.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=root, prefix=".tmp-readyz-")
        os.close(fd)
        os.unlink(tmp)
    except OSError as exc:
        log.warning("readyz_storage_failed", backend=backend, error=f"{type(exc).__name__}: {exc.strerror}")
        return {"ok": False, "configured": True, "backend": backend, "error": "storage folder is not writable"}
    return {"ok": True, "configured": True, "backend": backend}


def check_clamd(edge: "Edge") -> dict[str, Any]:
    clamd = clamd_for(edge)
    if clamd is None:
        return {"ok": True, "configured": False}
    clamd.timeout = TIMEOUT
    try:
        clamd.ping()
    except ScanError as exc:
        log.warning("readyz_clamd_failed", error=str(exc))
        return {"ok": False, "configured": True, "error": "clamd did not answer PING"}
    return {"ok": True, "configured": True}


async def dependency_checks(edge: "Edge") -> dict[str, dict[str, Any]]:
    """Storage and clamd, checked at the same time in worker threads."""
    storage, clamd = await asyncio.gather(run_in_threadpool(check_storage, edge),
                                          run_in_threadpool(check_clamd, edge))
    return {"storage": storage, "clamd": clamd}
