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
import ipaddress
import os
import tempfile
from pathlib import Path
from typing import Any

import structlog
from starlette.concurrency import run_in_threadpool

from checkout.core.clock import iso
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


# --- the reverse proxy ----------------------------------------------------------------------

PROXY_WARNING_SECONDS = 3600
"""How long /readyz keeps warning after the last request an untrusted peer forwarded."""


def _networks(edge: "Edge") -> tuple:
    found = edge.__dict__.get("_proxy_networks")
    if found is None:
        raw = edge.settings.FORWARDED_ALLOW_IPS if edge.settings.TRUST_PROXY else ""
        found = tuple(ipaddress.ip_network(e, strict=False) for e in raw.split(",") if e)
        edge.__dict__["_proxy_networks"] = found
    return found


def _trusted(edge: "Edge", host: str) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(address in net for net in _networks(edge))


def note_forwarded(edge: "Edge", client: str | None, forwarded_for: str) -> None:
    """Remember a request that carried X-Forwarded-For from a peer whose header is not believed.

    `client` is the address the edge settled on: with TRUST_PROXY, uvicorn has already replaced
    a trusted proxy's address with one taken from the header, so a client address that is
    neither trusted nor in the header is the peer itself, forwarding unheard. Behind a proxy
    that is missing from FORWARDED_ALLOW_IPS (or with TRUST_PROXY off) every request is one:
    all clients then share the proxy's address, and one sign-in limit.
    """
    if not client:
        return
    hops = {h.strip() for h in forwarded_for.split(",")}
    if edge.settings.TRUST_PROXY and (_trusted(edge, client) or client in hops):
        return
    edge.__dict__["_untrusted_forwarder"] = (client, edge.clock())


def check_proxy(edge: "Edge") -> dict[str, Any]:
    """A warning, never a failure: the edge serves either way, with the wrong client addresses."""
    trust = edge.settings.TRUST_PROXY
    state: dict[str, Any] = {"ok": True, "trust_proxy": trust}
    seen = edge.__dict__.get("_untrusted_forwarder")
    if seen is None or edge.clock() - seen[1] > PROXY_WARNING_SECONDS:
        return state
    peer, at = seen
    fix = (f"add {peer} to FORWARDED_ALLOW_IPS if it is your proxy" if trust
           else "set TRUST_PROXY=true and FORWARDED_ALLOW_IPS to your proxy's address")
    state.update(warning=f"requests with X-Forwarded-For arrive from {peer}, whose header is not believed: {fix}",
                 peer=peer, last_seen=iso(at))
    return state
