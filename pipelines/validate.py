"""`digitaldock validate`: every problem in every content file, in one run.

The product schema (`digitaldock.schema`) checks what a file says; this step adds what the
schema cannot know on its own:

- every image a product or seller names (cover, gallery, avatar) exists under content/, is at
  most `MAX_IMAGE_BYTES` and really is an image (Pillow decodes it; SVG must be an <svg>);
- every product file is in storage with the declared size and SHA-256;
- a legal document's `version` never goes down against the same file at a git base ref, and
  goes up whenever its text changed.

These checks read the raw front matter, so a product with a bad price still has its images
and files checked in the same run. Each problem is a `schema.Problem` (path, line, field,
message); `format_problem` prints it as text or as a GitHub Actions annotation.
"""

from __future__ import annotations

import os
import subprocess
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from digitaldock import frontmatter, schema
from digitaldock.schema import MAX_IMAGE_BYTES, Catalog, Problem
from digitaldock.storage import Storage

from .errors import PipelineError


class ValidateError(PipelineError):
    """Validation could not run at all (bad base ref, missing content folder)."""


@dataclass
class Report:
    catalog: Catalog
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        c = self.catalog
        return (f"content OK: {len(c.products)} products, {len(c.sellers)} sellers, "
                f"{len(c.legal)} legal documents")


def validate(content_dir: str | Path, storage: Storage | None, *, paths: Sequence[str | Path] = (),
             base_ref: str | None = "HEAD") -> Report:
    """Check all content under `content_dir`; report problems only for `paths` when given.

    `storage` holds the product files (None skips that check); `base_ref` is the git revision
    legal documents are compared with (None skips it).
    """
    root = Path(content_dir)
    if not root.is_dir():
        raise ValidateError(f"content folder {str(root)!r} does not exist; pass --content-dir")
    catalog, problems = schema.load_catalog(root, strict=False, jobs=os.cpu_count() or 1)
    images: dict[object, str | None] = {}  # one verdict per image for this run: covers are shared
    for p in sorted((root / "products").rglob("*.md")):
        problems += _product_assets(root, p, storage, images)
    for p in sorted((root / "sellers").glob("*.md")):
        problems += _seller_assets(root, p, images)
    if base_ref and base_ref.strip("0"):  # all zeros: GitHub's "before" of a new branch
        problems += _legal_history(root, catalog, base_ref)
    if paths:
        wanted = [Path(x).resolve() for x in paths]
        problems = [pr for pr in problems if _under((root.parent / pr.path).resolve(), wanted)]
    problems = sorted(set(problems), key=lambda q: (q.path, q.line, q.field, q.message))
    return Report(catalog, problems)


def _under(p: Path, wanted: Iterable[Path]) -> bool:
    return any(p == w or w in p.parents for w in wanted)


def format_problem(problem: Problem, fmt: str = "text") -> str:
    if fmt == "github":
        msg = problem.message.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
        title = problem.field.replace(",", "%2C").replace(":", "%3A")
        return f"::error file={problem.path},line={problem.line},title={title}::{msg}"
    return str(problem)


# --- images and files ------------------------------------------------------------------------

def _meta(path: Path) -> frontmatter.Document | None:
    try:
        return frontmatter.split(path.read_text("utf-8"))
    except (ValueError, UnicodeDecodeError):  # FrontMatterError is a ValueError too
        return None  # already reported


class _Lines:
    def __init__(self, doc: frontmatter.Document):
        self.doc, self._lines = doc, None

    def __call__(self, key: str) -> int:
        if self._lines is None:
            self._lines = frontmatter.key_lines(self.doc.raw_meta)
        return frontmatter.line_of(self._lines, key)


def _product_assets(root: Path, path: Path, storage: Storage | None,
                    images_seen: dict[object, str | None]) -> list[Problem]:
    doc = _meta(path)
    if doc is None:
        return []
    rel, line, meta, out = schema.relative_path(root, path), _Lines(doc), doc.meta, []
    images = [("cover", meta.get("cover"))]
    gallery = meta.get("gallery")
    if isinstance(gallery, list) and len(gallery) <= schema.MAX_IMAGES:
        images += [(f"gallery[{i}]", v) for i, v in enumerate(gallery)]
    for name, value in images:
        message = check_image(root, value, images_seen)
        if message:
            out.append(Problem(rel, line(name), name, message))
    files = meta.get("files")
    if storage is not None and isinstance(files, list) and len(files) <= schema.MAX_FILES:
        for i, item in enumerate(files):
            if isinstance(item, dict):
                out += _check_file(storage, rel, line, f"files[{i}]", item)
    return out


def _seller_assets(root: Path, path: Path, images_seen: dict[object, str | None]) -> list[Problem]:
    doc = _meta(path)
    if doc is None:
        return []
    message = check_image(root, doc.meta.get("avatar"), images_seen)
    if not message:
        return []
    return [Problem(schema.relative_path(root, path), _Lines(doc)("avatar"), "avatar", message)]


def check_image(root: Path, value: object, seen: dict[object, str | None] | None = None) -> str | None:
    """Why the image `value` (a path under images/) is unusable, or None when it is fine.

    A value the schema already refuses (not a path under images/) is not checked again.
    `seen` remembers verdicts for one run, so an image many products share is opened once.
    """
    if seen is not None:
        if isinstance(value, str) and value in seen:
            return seen[value]
        verdict = check_image(root, value)
        if isinstance(value, str):
            seen[value] = verdict
        return verdict
    try:
        value = schema.check_image_path(value)
    except ValueError:
        return None
    p = root / value
    if not p.is_file():
        return f"{value} does not exist in {root.name}/"
    size = p.stat().st_size
    if size > MAX_IMAGE_BYTES:
        return f"{value} is {size} bytes, over the {MAX_IMAGE_BYTES // (1024 * 1024)} MB image limit"
    reason = _image_problem(p)
    return f"{value} is not a usable image: {reason}" if reason else None


def _image_problem(p: Path) -> str | None:
    with p.open("rb") as f:
        head = f.read(4096)
    if p.suffix.lower() == ".svg" or b"<svg" in head[:1024]:
        text = head.decode("utf-8", "replace").lstrip("\ufeff \t\r\n")
        return None if text.startswith(("<svg", "<?xml", "<!--")) and "<svg" in text else "not an SVG document"
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(p) as im:
                im.verify()
                fmt = im.format
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        return "too many pixels"
    except Exception:  # Pillow raises many types for a broken file  # noqa: BLE001
        return "the file cannot be decoded as PNG, JPEG, GIF, WebP or SVG"
    if fmt not in ("PNG", "JPEG", "GIF", "WEBP"):
        return f"{fmt} images are not accepted; use PNG, JPEG, GIF, WebP or SVG"
    return None


def _valid(check, value: object) -> bool:
    """True when the schema's own checker accepts `value` (else the schema reports it)."""
    try:
        check(value)
    except ValueError:
        return False
    return True


def _check_file(storage: Storage, rel: str, line: _Lines, prefix: str, item: dict) -> list[Problem]:
    key = item.get("key")
    if not _valid(schema.check_storage_key, key):
        return []
    actual = storage.stat(key)
    if actual is None:
        return [Problem(rel, line(f"{prefix}.key"), f"{prefix}.key",
                        f"{key} is not in storage ({storage.describe()})")]
    out = []
    size = item.get("size")
    if _valid(schema.check_file_size, size) and size != actual:
        out.append(Problem(rel, line(f"{prefix}.size"), f"{prefix}.size",
                           f"declared {size} bytes but the stored file is {actual} bytes"))
    digest = item.get("sha256")
    if _valid(schema.check_sha256, digest):
        real = storage.sha256(key)
        if real != digest:
            out.append(Problem(rel, line(f"{prefix}.sha256"), f"{prefix}.sha256",
                               f"does not match the stored file, whose sha256 is {real}"))
    return out


# --- legal documents against git ------------------------------------------------------------

def _git(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "-C", str(cwd), *args], capture_output=True, text=True, check=False)


def _legal_history(root: Path, catalog: Catalog, base_ref: str) -> list[Problem]:
    if not catalog.legal:
        return []
    top = _git(root, "rev-parse", "--show-toplevel")
    if top.returncode != 0:
        return []  # not a git checkout: nothing to compare with
    if _git(root, "rev-parse", "--verify", "--quiet", f"{base_ref}^{{commit}}").returncode != 0:
        if base_ref == "HEAD":
            return []  # a repository without commits yet
        raise ValidateError(f"git revision {base_ref!r} not found; fetch it or pass another --base-ref")
    toplevel = Path(top.stdout.strip())
    out = []
    for doc in catalog.legal.values():
        path = (root / "legal" / f"{doc.slug}.md").resolve()
        old_text = _git(toplevel, "show", f"{base_ref}:{path.relative_to(toplevel.resolve()).as_posix()}")
        if old_text.returncode != 0:
            continue  # a new document
        old, _ = schema.parse_legal(doc.source, old_text.stdout)
        if old is None:
            continue
        out += _compare_legal(path, doc, old, base_ref)
    return out


def _compare_legal(path: Path, new: schema.LegalDocument, old: schema.LegalDocument,
                   ref: str) -> list[Problem]:
    line = _Lines(frontmatter.split(path.read_text("utf-8")))
    if new.version_tuple < old.version_tuple:
        return [Problem(new.source, line("version"), "version",
                        f"{new.version} is lower than {old.version} at {ref}; versions must not decrease")]
    if new.version_tuple == old.version_tuple:
        if new.body != old.body or new.summary != old.summary or new.title != old.title:
            return [Problem(new.source, line("version"), "version",
                            f"the text changed since {ref} but the version is still {new.version}; raise it")]
        if new.effective != old.effective:
            return [Problem(new.source, line("effective"), "effective",
                            f"changed since {ref} without a new version; raise the version too")]
        return []
    if new.effective < old.effective:
        return [Problem(new.source, line("effective"), "effective",
                        f"{new.effective} is earlier than {old.effective}, the date of version {old.version} at {ref}")]
    return []
