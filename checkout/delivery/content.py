"""Changes to the storefront's content made from the consoles, through the same pipeline as an
approved upload (`checkout.delivery.approval`): a seller's flags (verified, suspended), a
seller's public page, a product's status (unlisted) or its removal.

By APPROVAL_MODE:

- `write`: the files are written into (or removed from) CONTENT_DIR, checked first with the
  one schema, and the storefront is rebuilt when REBUILD_ON_APPROVAL is on (`rebuild`);
- `pull-request`: the same change is committed on a new branch of the content repository,
  for whoever runs it to push and merge; the storefront changes when CI builds it.

Edits of existing files change only the lines they must (a product's `status:`), so a
seller's Markdown, comments and key order survive an unlist.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog

from checkout.core.context import Edge
from checkout.core.errors import Conflict, NotFound, ValidationFailed
from checkout.delivery import approval
from checkout.delivery.sellers import new_seller_files, render_seller
from digitaldock import frontmatter, schema

log = structlog.get_logger("checkout.delivery.content")



@dataclass
class Change:
    """What a content change did: where it went (a path or a branch) and, in write mode, how the
    rebuild went (None: rebuilt or no rebuild asked; text: why it failed)."""

    where: str
    branch: bool = False
    rebuilt: bool = False
    problem: str | None = None

    def said(self, done: str) -> str:
        """A sentence for the person who asked: what happened and when the storefront shows it."""
        if not self.branch:
            if self.problem:
                return f"{done} The storefront rebuild failed: {self.problem}"
            if self.rebuilt:
                return f"{done} The storefront was rebuilt."
            return f"{done} The storefront shows it after the next build."
        return f"{done} Committed on the branch {self.where}: the storefront shows it once that is merged."


def content_dir(edge: "Edge") -> Path:
    return Path(edge.settings.CONTENT_DIR)


def publish(edge: "Edge", files: dict[str, bytes | Path], message: str, branch: str,
            deletions: tuple[str, ...] = (), rebuild: bool = True) -> Change:
    """Write `files` and remove `deletions` (paths relative to CONTENT_DIR) the way APPROVAL_MODE
    says; in write mode, rebuild the storefront afterwards (when REBUILD_ON_APPROVAL)."""
    content = content_dir(edge)
    if edge.settings.APPROVAL_MODE == "pull-request":
        stamp = edge.clock.iso()[:19].replace(":", "").replace("-", "")
        where = approval.commit_branch(content, f"{branch}-{stamp}", files, message, deletions)
        log.info("content_committed", branch=where, files=sorted(files), deleted=list(deletions))
        return Change(where, branch=True)
    for rel, data in files.items():
        approval._write(content / rel, data)
    for rel in deletions:
        path = content / rel
        if path.is_file():
            path.unlink()
    where = next((p for p in [*files, *deletions] if p.startswith(("products/", "sellers/"))), "content")
    log.info("content_written", files=sorted(files), deleted=list(deletions))
    change = Change(where)
    if rebuild and edge.settings.REBUILD_ON_APPROVAL:
        change.problem = approval.rebuild(edge)
        change.rebuilt = change.problem is None
    return change


# --- sellers ----------------------------------------------------------------------------------

def seller_path(edge: "Edge", slug: str) -> Path:
    return content_dir(edge) / "sellers" / f"{slug}.md"


def read_seller(edge: "Edge", slug: str) -> tuple[dict[str, Any], str] | None:
    """A seller's front matter (as YAML gives it) and bio, or None when it has no file."""
    path = seller_path(edge, slug)
    if not path.is_file():
        return None
    try:
        doc = frontmatter.split(path.read_text("utf-8"))
    except frontmatter.FrontMatterError as exc:
        raise Conflict(f"content/sellers/{slug}.md cannot be read: {exc.message}") from None
    return dict(doc.meta), doc.body.strip()


def _checked_seller(slug: str, text: str) -> None:
    _, problems = schema.parse_seller(f"sellers/{slug}.md", text)
    if problems:
        raise ValidationFailed("The seller page does not pass the content checks: "
                               + "; ".join(f"{p.field}: {p.message}" for p in problems),
                               fields={p.field: p.message for p in problems})


def set_seller_flags(edge: "Edge", slugs: list[str], why: str, **flags: bool) -> Change | None:
    """Set `verified` and/or `suspended` on the seller files of `slugs` (those that have one);
    None when no file changes (a buyer's account, or flags already so)."""
    files: dict[str, bytes | Path] = {}
    for slug in slugs:
        found = read_seller(edge, slug)
        if found is None:
            continue
        meta, bio = found
        new = {**meta, **flags}
        if all(bool(meta.get(k)) == v for k, v in flags.items()):
            continue
        text = render_seller(new, bio)
        _checked_seller(slug, text)
        files[f"sellers/{slug}.md"] = text.encode()
    if not files:
        return None
    name = "-".join(f"{k}" for k, v in flags.items() if v) or "restore"
    return publish(edge, files, why, f"sellers/{slugs[0]}-{name}")


def save_seller_profile(edge: "Edge", slug: str, name: str, bio: str, location: str, website: str,
                        links: list[str], avatar: bytes | None, currency: str) -> Change:
    """A seller's public page as the seller edited it (checked with the schema before anything is
    written); the avatar, when a new one came, is stored beside it under a new name."""
    found = read_seller(edge, slug)
    meta = dict(found[0]) if found else {"payout_currency": currency, "avatar": f"images/sellers/{slug}.png"}
    files: dict[str, bytes | Path] = {}
    if avatar is not None:
        import hashlib

        meta["avatar"] = f"images/sellers/{slug}-{hashlib.sha256(avatar).hexdigest()[:12]}.png"
        files[meta["avatar"]] = avatar
    elif found is None:
        files.update({k: v for k, v in new_seller_files(slug, name, currency).items() if k.startswith("images/")})
    meta.update(name=name, location=location, website=website, links=list(links))
    text = render_seller(meta, bio)
    _checked_seller(slug, text)
    files[f"sellers/{slug}.md"] = text.encode()
    return publish(edge, files, f"Update the seller page of {slug}", f"sellers/{slug}-profile")


# --- products ---------------------------------------------------------------------------------

def product_path(edge: "Edge", slug: str) -> Path | None:
    """The Markdown file of a product (products may sit in sub-folders), or None."""
    root = content_dir(edge) / "products"
    direct = root / f"{slug}.md"
    if direct.is_file():
        return direct
    return next(iter(sorted(root.rglob(f"{slug}.md"))), None) if root.is_dir() else None


_STATUS = re.compile(r"^status:[^\n]*$", re.M)


def with_status(text: str, status: str) -> str:
    """The product Markdown with its front matter's `status:` set, every other byte kept."""
    if not text.startswith("---"):
        raise Conflict("The product file has no front matter.")
    end = text.find("\n---", 3)
    if end < 0:
        raise Conflict("The product file's front matter is not closed.")
    front, rest = text[:end], text[end:]
    if _STATUS.search(front):
        front = _STATUS.sub(f"status: {status}", front, count=1)
    else:
        front = front.rstrip("\n") + f"\nstatus: {status}"
    return front + rest


def set_product_status(edge: "Edge", slug: str, status: str, why: str) -> Change:
    """Unlist (`withdrawn`) or list again (`published`) a product whose file is in the content."""
    assert status in ("withdrawn", "published"), status
    path = product_path(edge, slug)
    if path is None:
        raise NotFound("This product has no file in the content yet; it may still wait for review.")
    text = path.read_text("utf-8")
    new = with_status(text, status)
    if new == text:
        raise Conflict("The product is already unlisted." if status == "withdrawn" else "The product is listed.",
                       code="no_change")
    rel = path.relative_to(content_dir(edge)).as_posix()
    return publish(edge, {rel: new.encode()}, why, f"products/{slug}-{'unlist' if status == 'withdrawn' else 'list'}")


def delete_product(edge: "Edge", slug: str, why: str) -> Change:
    """Remove a product's file (and its uploaded images' folder) from the content."""
    path = product_path(edge, slug)
    if path is None:
        raise NotFound("This product has no file in the content.")
    content = content_dir(edge)
    deletions = [path.relative_to(content).as_posix()]
    images = content / "images" / "products" / slug
    if images.is_dir():
        deletions += sorted(p.relative_to(content).as_posix() for p in images.rglob("*") if p.is_file())
    return publish(edge, {}, why, f"products/{slug}-delete", deletions=tuple(deletions))


def meta_of(path: Path) -> dict[str, Any]:
    try:
        return dict(frontmatter.split(path.read_text("utf-8")).meta)
    except (OSError, frontmatter.FrontMatterError):
        return {}
