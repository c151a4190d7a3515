"""`digitaldock publish`: sync the built site to an S3-compatible bucket (R2 in production).

The plan compares each file of the output folder with the object at the same key: an
object is uploaded only when its SHA-256 (kept in the object's ``sha256`` metadata) or its
headers differ, so publishing an unchanged build uploads nothing. The plan then runs in an
order that keeps the live site whole at every moment:

1. new and changed *assets* (images, CSS, JS, fonts, search index fragments) go up first;
2. then the *documents* that reference them (HTML, JSON, XML, feeds, robots.txt);
3. stale objects are deleted last, and only when every upload succeeded.

A failure at any step stops the run before the next one, so the worst case is a mix of old
and new pages that all still find their assets. ``--dry-run`` prints the plan and writes
nothing.

Content-Type comes from the extension (`content_type`); Cache-Control from the kind of file
(`cache_control`): documents five minutes, fingerprinted files (a content hash in the name,
such as Pagefind's ``en_3fcb573.pf_fragment``) a year and immutable, other media a day.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from digitaldock.storage import StorageError, s3_errors

from .errors import PipelineError

SHORT = "public, max-age=300"
DAY = "public, max-age=86400"
IMMUTABLE = "public, max-age=31536000, immutable"

TYPES = {
    ".html": "text/html; charset=utf-8", ".htm": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8", ".json": "application/json",
    ".xml": "application/xml", ".atom": "application/atom+xml", ".rss": "application/rss+xml",
    ".txt": "text/plain; charset=utf-8", ".webmanifest": "application/manifest+json",
    ".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
    ".gif": "image/gif", ".webp": "image/webp", ".avif": "image/avif", ".ico": "image/x-icon",
    ".woff2": "font/woff2", ".woff": "font/woff", ".ttf": "font/ttf", ".otf": "font/otf",
    ".wasm": "application/wasm", ".pdf": "application/pdf", ".map": "application/json",
}
# Documents are what a visitor navigates to; they reference assets, so they switch last.
DOCUMENTS = {".html", ".htm", ".json", ".xml", ".atom", ".rss", ".txt", ".webmanifest"}
# A hex run of 7+ characters with a digit, between separators: "app.3f2a9c1.css", "en_3fcb573.pf_index".
_FINGERPRINT = re.compile(r"(?:^|[._-])(?=[0-9a-f]*\d)[0-9a-f]{7,}(?=[._-]|$)")


class PublishError(PipelineError):
    """Publishing could not start or stopped; the message says what to fix."""


def content_type(name: str) -> str:
    suffix = Path(name).suffix.lower()
    if suffix.startswith(".pf_") or suffix == ".pagefind":
        return "application/octet-stream"
    return TYPES.get(suffix, "application/octet-stream")


def is_fingerprinted(key: str) -> bool:
    """True when the file name (extension aside) carries a content hash."""
    return bool(_FINGERPRINT.search(Path(key).name.rsplit(".", 1)[0]))


def is_document(key: str) -> bool:
    """A file visitors navigate to or that names others: it switches last and is cached briefly.
    Data files named by their content (the search index's shards, `search/t/0.3a0cdaaee2.json`)
    are assets: immutable, and up before the `search/index.json` that names them."""
    suffix = Path(key).suffix.lower()
    return suffix in DOCUMENTS and not (suffix == ".json" and is_fingerprinted(key))


def cache_control(key: str) -> str:
    suffix = Path(key).suffix.lower()
    if is_document(key):
        return SHORT
    if is_fingerprinted(key):
        return IMMUTABLE
    if suffix in (".css", ".js", ".mjs", ".map", ".wasm", ".pagefind"):
        return SHORT  # unversioned code must not outlive the pages that load it
    return DAY


@dataclass(frozen=True)
class LocalFile:
    key: str
    path: Path
    sha256: str
    size: int

    @property
    def headers(self) -> tuple[str, str]:
        return content_type(self.key), cache_control(self.key)

    @property
    def is_document(self) -> bool:
        return is_document(self.key)


@dataclass
class Plan:
    bucket: str
    prefix: str
    upload: list[LocalFile] = field(default_factory=list)
    keep: list[str] = field(default_factory=list)
    delete: list[str] = field(default_factory=list)

    def lines(self) -> Iterator[str]:
        yield (f"plan for s3://{self.bucket}/{self.prefix}: {len(self.upload)} to upload, "
               f"{len(self.keep)} to keep, {len(self.delete)} to delete")
        for f in self.upload:
            yield f"upload {f.key}"
        for k in self.keep:
            yield f"keep {k}"
        for k in self.delete:
            yield f"delete {k}"


def _hash(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1024 * 1024):
            h.update(chunk)
    return h.hexdigest()


def local_files(output: Path, prefix: str) -> list[LocalFile]:
    if not output.is_dir():
        raise PublishError(f"{output}/ does not exist; run digitaldock build first")
    out = []
    try:
        for p in sorted(output.rglob("*")):
            if p.is_file():
                out.append(LocalFile(prefix + p.relative_to(output).as_posix(), p, _hash(p), p.stat().st_size))
    except FileNotFoundError as exc:
        raise PublishError(f"{exc.filename} vanished while reading the build; rebuild and publish again") from None
    if not out:
        raise PublishError(f"{output}/ is empty; refusing to publish an empty site (run digitaldock build)")
    return out


def normalise_prefix(prefix: str) -> str:
    prefix = prefix.strip("/")
    return prefix + "/" if prefix else ""


def make_plan(output: str | Path, client: Any, bucket: str, prefix: str = "",
              endpoint_url: str | None = None, workers: int = 16) -> Plan:
    """Compare the output folder with the bucket; reads the bucket, writes nothing."""
    prefix = normalise_prefix(prefix)
    files = local_files(Path(output), prefix)
    remote: dict[str, int] = {}
    with s3_errors(bucket, endpoint_url):
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            remote.update((o["Key"], int(o["Size"])) for o in page.get("Contents", ()))

    def unchanged(f: LocalFile) -> bool:
        if remote.get(f.key) != f.size:
            return False
        with s3_errors(bucket, endpoint_url, f.key):
            head = client.head_object(Bucket=bucket, Key=f.key)
        return (head.get("Metadata", {}).get("sha256") == f.sha256
                and (head.get("ContentType"), head.get("CacheControl")) == f.headers)

    with ThreadPoolExecutor(workers) as pool:
        same = list(pool.map(unchanged, files))
    plan = Plan(bucket, prefix)
    for f, keep in zip(files, same):
        (plan.keep.append(f.key) if keep else plan.upload.append(f))
    local = {f.key for f in files}
    plan.delete = sorted(k for k in remote if k not in local)
    return plan


def execute(plan: Plan, client: Any, endpoint_url: str | None = None, workers: int = 16,
            echo: Callable[[str], None] = lambda _line: None) -> None:
    """Run a plan: assets, then documents, then deletes; stop at the first failure."""
    assets = [f for f in plan.upload if not f.is_document]
    documents = [f for f in plan.upload if f.is_document]

    def upload(f: LocalFile) -> str:
        try:
            data = f.path.read_bytes()
        except FileNotFoundError:
            raise PublishError(f"{f.path} vanished during publish; rebuild and publish again") from None
        if hashlib.sha256(data).hexdigest() != f.sha256:
            raise PublishError(f"{f.path} changed during publish; rebuild and publish again")
        ctype, cache = f.headers
        with s3_errors(plan.bucket, endpoint_url, f.key):
            client.put_object(Bucket=plan.bucket, Key=f.key, Body=data, ContentType=ctype,
                              CacheControl=cache, Metadata={"sha256": f.sha256})
        return f.key

    for batch in (assets, documents):
        with ThreadPoolExecutor(workers) as pool:
            futures = [pool.submit(upload, f) for f in batch]
            errors = []
            for fut in futures:
                try:
                    echo(f"uploaded {fut.result()}")
                except (PublishError, StorageError) as exc:
                    errors.append(exc)
        if errors:
            raise PublishError(f"{errors[0]} (nothing stale was deleted; the live pages still work)")
    for i in range(0, len(plan.delete), 1000):
        batch = plan.delete[i:i + 1000]
        with s3_errors(plan.bucket, endpoint_url):
            answer = client.delete_objects(Bucket=plan.bucket,
                                           Delete={"Objects": [{"Key": k} for k in batch], "Quiet": True})
        if answer.get("Errors"):
            e = answer["Errors"][0]
            raise PublishError(f"could not delete {e.get('Key')}: {e.get('Code')} {e.get('Message', '')}".rstrip())
        for k in batch:
            echo(f"deleted {k}")


def publish(output: str | Path, bucket: str, *, client: Any, prefix: str = "",
            endpoint_url: str | None = None, dry_run: bool = False,
            echo: Callable[[str], None] = print) -> Plan:
    """Plan and (unless `dry_run`) run the sync; StorageError/PublishError on failure."""
    plan = make_plan(output, client, bucket, prefix, endpoint_url)
    if dry_run:
        for line in plan.lines():
            echo(line)
        return plan
    echo(next(plan.lines()))
    execute(plan, client, endpoint_url, echo=echo)
    return plan
