"""The approval queue: an admin approves or rejects a seller's submission.

Approving writes the same Markdown file a pull request would add (`content/products/<slug>.md`,
checked with `digitaldock.schema.parse_product` against the content's categories and sellers
before anything is written), the product's images under `content/images/products/<slug>/`
and, for a seller user with no catalogue seller yet, `content/sellers/<slug>.md` with a
generated avatar. Then, by APPROVAL_MODE:

- `write` (the local stack): the files are written into CONTENT_DIR, product files are copied
  into `<CONTENT_DIR>/storage` when the edge keeps its own local storage (so `digitaldock
  validate` finds them), and the storefront is rebuilt into the folder of CATALOG_PATH when
  REBUILD_ON_APPROVAL is on.
- `pull-request`: the same files are committed on a new branch `submissions/<slug>-<id>` of
  the content's git repository (plumbing only: the working tree and index are not touched), to
  be pushed and opened as a pull request by whoever runs the repository.

Either way the seller is emailed through the outbox; a rejection carries its reason.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import structlog

from checkout.core import audit, outbox, signals
from checkout.core.context import Edge
from checkout.core.db import atomic
from checkout.core.errors import Conflict, NotFound, ValidationFailed
from checkout.delivery import sellers, slugs, storage, uploads
from checkout.delivery.sellers import new_seller_files
from checkout.delivery.uploads import decode
from digitaldock import schema
from digitaldock.storage import LocalStorage, ReadThroughStorage

log = structlog.get_logger("checkout.approval")


def get(edge: "Edge", sub_id: int) -> Any:
    row = edge.db.execute("SELECT s.*, u.email, u.display_name FROM submissions s JOIN users u ON u.id = s.user_id"
                          " WHERE s.id = ?", (sub_id,)).fetchone()
    if row is None:
        raise NotFound("No such submission.")
    return row


def queue(edge: "Edge") -> list[dict[str, Any]]:
    rows = edge.db.execute("SELECT s.*, u.email, u.display_name FROM submissions s JOIN users u ON u.id = s.user_id"
                           " WHERE s.status != 'draft' ORDER BY s.status = 'pending' DESC, s.updated_at DESC LIMIT 200"
                           ).fetchall()
    return [decode(r) for r in rows]


def slugify(text: str) -> str:
    s = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    s = re.sub(r"-{2,}", "-", s)[:60].strip("-")
    return s if len(s) >= 3 else f"seller-{s}".strip("-")


def _content(edge: "Edge") -> Path:
    return Path(edge.settings.CONTENT_DIR)


def seller_for(edge: "Edge", user_id: int, display_name: str, currency: str) -> tuple[str, dict[str, bytes]]:
    """The catalogue seller of a user, and the files to add when a new one must be created."""
    found = sellers.seller_slug_of(edge, user_id)
    content = _content(edge)
    if found:
        if (content / "sellers" / f"{found}.md").is_file() or found in edge.catalog.current().sellers:
            return found, {}
        return found, new_seller_files(found, display_name, currency)  # reserved at sign-up, no page yet
    taken = {p.stem for p in (content / "sellers").glob("*.md")} | set(edge.catalog.current().sellers) \
        | slugs.seller_slugs_ever_used(edge)
    base = slugify(display_name)
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug, new_seller_files(slug, display_name, currency)


def approve(edge: "Edge", sub_id: int, admin: Any) -> str:
    """Approve a pending submission; returns where it went (a file path or a branch name)."""
    sub = decode(get(edge, sub_id))
    if sub["status"] != "pending":
        raise Conflict(f"This submission is {sub['status']}, not pending.")
    fields, slug = sub["fields"], sub["product_slug"]
    seller, extra = seller_for(edge, sub["user_id"], sub["display_name"], fields.get("currency", "USD"))
    # checked again here: since the upload, the slug may have reached the catalogue under another seller
    slugs.check_free_for(edge, slug, sub["user_id"], seller)
    content = _content(edge)
    text = uploads.render_product(fields, seller, sub["files"], sub["images"], _published_date(content, slug, edge))
    categories = [c.slug for c in schema.parse_categories("categories.yml", (content / "categories.yml").read_text("utf-8"))[0]] \
        if (content / "categories.yml").is_file() else None
    sellers = {p.stem for p in (content / "sellers").glob("*.md")} | {seller}
    _, problems = schema.parse_product(f"products/{slug}.md", text, categories, sellers)
    if problems:
        raise ValidationFailed("The submission does not pass the product checks: "
                               + "; ".join(f"{p.field}: {p.message}" for p in problems))
    store = storage.storage(edge)
    files: dict[str, bytes | Path] = {f"products/{slug}.md": text.encode(), **extra}
    for img in sub["images"]:
        files[img["path"]] = b"".join(store.iter_chunks(img["key"]))
    own = _own_local(edge)
    if own is not None:
        for f in sub["files"]:
            src = own.local_path(f["key"])
            if src is not None and not (content / "storage" / f["key"]).is_file():
                files[f"storage/{f['key']}"] = src
    if edge.settings.APPROVAL_MODE == "pull-request":
        where = commit_branch(content, f"submissions/{slug}-{sub_id}", files,
                              f"Add {fields.get('title', slug)} from {sub['display_name']} (submission {sub_id})")
    else:
        for rel, data in files.items():
            _write(content / rel, data)
        where = f"products/{slug}.md"
    with atomic(edge.db):
        audit.record(edge, "submission.approved", actor_id=admin["id"], subject_id=sub["user_id"],
                     submission=sub_id, product=slug, seller=seller, where=where)
        edge.db.execute("UPDATE submissions SET status = 'approved', seller_slug = ?, decided_at = ?, decided_by = ?,"
                        " published_as = ?, reason = NULL, updated_at = ? WHERE id = ?",
                        (seller, edge.clock.iso(), admin["id"], where, edge.clock.iso(), sub_id))
        if extra and edge.db["seller_accounts"].exists():
            edge.db.execute("INSERT OR IGNORE INTO seller_accounts (seller_slug, user_id, created_at) VALUES (?,?,?)",
                            (seller, sub["user_id"], edge.clock.iso()))
        outbox.enqueue(edge, "submission_decided", sub["email"], sub["user_id"], name=sub["display_name"],
                       title=fields.get("title", slug), approved=True, reason="",
                       link=f"{edge.settings.CHECKOUT_URL}/seller")
        signals.emit(edge, "product.approved", {"seller": seller, "product_slug": slug, "submission_id": sub_id,
                                                "title": fields.get("title", slug), "version": fields.get("version", ""),
                                                "published_as": where})
    log.info("submission_approved", id=sub_id, slug=slug, seller=seller, where=where)
    return where


def _published_date(content: Path, slug: str, edge: "Edge") -> str:
    """A new version keeps the date the product was first published; a new product gets today."""
    from digitaldock import frontmatter

    existing = content / "products" / f"{slug}.md"
    if existing.is_file():
        try:
            value = frontmatter.split(existing.read_text("utf-8")).meta.get("published")
        except frontmatter.FrontMatterError:
            value = None
        if value:
            return str(value)
    return edge.clock.iso()[:10]


def reject(edge: "Edge", sub_id: int, admin: Any, reason: str) -> None:
    reason = reason.strip()
    if not 3 <= len(reason) <= 2000:
        raise ValidationFailed(fields={"reason": "Tell the seller why, in 3 to 2,000 characters."})
    sub = decode(get(edge, sub_id))
    if sub["status"] != "pending":
        raise Conflict(f"This submission is {sub['status']}, not pending.")
    with atomic(edge.db):
        audit.record(edge, "submission.rejected", actor_id=admin["id"], subject_id=sub["user_id"],
                     submission=sub_id, product=sub["product_slug"])
        edge.db.execute("UPDATE submissions SET status = 'rejected', reason = ?, decided_at = ?, decided_by = ?,"
                        " updated_at = ? WHERE id = ?", (reason, edge.clock.iso(), admin["id"], edge.clock.iso(), sub_id))
        outbox.enqueue(edge, "submission_decided", sub["email"], sub["user_id"], name=sub["display_name"],
                       title=sub["fields"].get("title", sub["product_slug"]), approved=False, reason=reason,
                       link=f"{edge.settings.CHECKOUT_URL}/seller")
    log.info("submission_rejected", id=sub_id)


def _own_local(edge: "Edge") -> LocalStorage | None:
    store = storage.storage(edge)
    if isinstance(store, ReadThroughStorage) and isinstance(store.primary, LocalStorage):
        return store.primary
    return None


def _write(path: Path, data: bytes | Path) -> None:
    import os
    import shutil
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(fd, "wb") as out:
        if isinstance(data, Path):
            with data.open("rb") as src:
                shutil.copyfileobj(src, out, 1024 * 1024)
        else:
            out.write(data)
    os.replace(tmp, path)


def commit_branch(content: Path, branch: str, files: dict[str, bytes | Path], message: str,
                  deletions: tuple[str, ...] | list[str] = ()) -> str:
    """Commit `files` (paths relative to `content`) and the removal of `deletions` on a new
    branch from HEAD, without touching the working tree or the index; returns the branch name."""
    import os
    import tempfile

    def git(*args: str, data: bytes | None = None, env: dict | None = None) -> str:
        done = subprocess.run(["git", *args], cwd=content, input=data, capture_output=True, check=False,
                              env={**os.environ, **(env or {})})
        if done.returncode != 0:
            raise Conflict(f"git {args[0]} failed: {done.stderr.decode(errors='replace').strip()[:300]}")
        return done.stdout.decode().strip()

    top = Path(git("rev-parse", "--show-toplevel"))
    prefix = content.resolve().relative_to(top.resolve()).as_posix()
    head = git("rev-parse", "HEAD")
    if subprocess.run(["git", "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}"], cwd=content,
                      capture_output=True).returncode == 0:
        raise Conflict(f"The branch {branch} already exists.")
    with tempfile.TemporaryDirectory() as tmp:
        env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
        git("read-tree", head, env=env)
        for rel, data in files.items():
            if isinstance(data, Path):
                blob = git("hash-object", "-w", str(data))
            else:
                blob = git("hash-object", "-w", "--stdin", data=data)
            path = f"{prefix}/{rel}" if prefix not in ("", ".") else rel
            git("update-index", "--add", "--cacheinfo", f"100644,{blob},{path}", env=env)
        for rel in deletions:
            path = f"{prefix}/{rel}" if prefix not in ("", ".") else rel
            git("update-index", "--force-remove", path, env=env)
        tree = git("write-tree", env=env)
    commit = git("-c", "user.name=DigitalDock", "-c", "user.email=edge@digitaldock.local",
                 "commit-tree", tree, "-p", head, "-m", message)
    git("update-ref", f"refs/heads/{branch}", commit)
    return branch


def rebuild(edge: "Edge") -> str | None:
    """Rebuild the storefront into the folder of CATALOG_PATH; returns an error message or None.

    The build runs in its own process: the generator forks workers, which is unsafe from a
    threaded server, and a build's memory is returned to the system when it ends.
    """
    import sys

    output = Path(edge.settings.CATALOG_PATH).resolve().parent
    # the ratings and units sold the edge exported (issue #14, checkout.reviews.export)
    code = ("import sys; from generator.build import build; "
            "build(sys.argv[1], None, {'PATH': sys.argv[2], 'STATS_PATH': sys.argv[3]})")
    try:
        done = subprocess.run([sys.executable, "-c", code, str(output), str(_content(edge).resolve()),
                               str(Path(edge.settings.stats_path).resolve())],
                              capture_output=True, text=True, timeout=900, check=False)
    except subprocess.TimeoutExpired:
        return "the build took longer than 15 minutes"
    if done.returncode != 0:
        last = [line for line in done.stderr.strip().splitlines() if line.strip()][-1:] or [f"exit {done.returncode}"]
        log.error("rebuild_failed", stderr=done.stderr[-2000:])
        return last[0][:300]
    return None
