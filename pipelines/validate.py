"""`digitaldock validate`: every problem in every content file, in one run.

`digitaldock.schema.load_catalog` does the content checks, the same the build does (so the
two never disagree): the tree (no links, no devices, no stray files), every file read with a
size limit as UTF-8, its YAML loaded strictly, the schema, every image under images/ (a
raster image that decodes, at most `MAX_IMAGE_BYTES` and `MAX_IMAGE_PIXELS`), publication
dates. This step adds what needs more than the content folder:

- every product file is in storage with the declared size and SHA-256 (local storage refuses
  a key that is a link or not a regular file);
- a legal document's `version` never goes down against the same file at a git base ref, and
  goes up whenever its text changed.

The storage check reads the raw front matter, so a product with a bad price still has its
files checked in the same run. Each problem is a `schema.Problem` (path, line, field,
message); `format_problem` prints it as one line of text or as a GitHub Actions annotation.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from digitaldock import frontmatter, schema, tree
from digitaldock.schema import Catalog, Problem
from digitaldock.storage import NotRegular, Storage

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
    if storage is not None:
        for path, under in tree.walk(str(root)).products:
            problems += _product_files(root, path, under, storage)
    if base_ref and base_ref.strip("0"):  # all zeros: GitHub's "before" of a new branch
        problems += _legal_history(root, catalog, base_ref)
    if paths:
        wanted = [Path(x).resolve() for x in paths]
        problems = [pr for pr in problems if _under((root.parent / pr.path).resolve(), wanted)]
    problems = sorted(set(problems), key=lambda q: (q.path, q.line, q.field, q.message))
    return Report(catalog, problems)


def _under(p: Path, wanted: Iterable[Path]) -> bool:
    return any(p == w or w in p.parents for w in wanted)


def escape_data(text: str) -> str:
    """A workflow command's message, escaped as the Actions toolkit's `escapeData` does."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A workflow command's property (file=, title=), as the toolkit's `escapeProperty`."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def format_problem(problem: Problem, fmt: str = "text") -> str:
    """One line: `path:line: field: message`, or a GitHub `::error` annotation.

    In an annotation, `%`, CR and LF are escaped everywhere and `:` and `,` in properties too,
    exactly as @actions/core does, so no file name or message can end the command early or
    start another (`::warning` injection). In text, control and invisible characters are
    written as escapes (`schema.Problem.__str__`).
    """
    if fmt == "github":
        return (f"::error file={escape_property(problem.path)},line={problem.line},"
                f"title={escape_property(problem.field)}::{escape_data(problem.message)}")
    return str(problem)


# --- product files in storage ----------------------------------------------------------------

class _Lines:
    def __init__(self, doc: frontmatter.Document):
        self.doc, self._lines = doc, None

    def __call__(self, key: str) -> int:
        if self._lines is None:
            self._lines = frontmatter.key_lines(self.doc.raw_meta)
        return frontmatter.line_of(self._lines, key)


def _product_files(root: Path, path: str, under: str, storage: Storage) -> list[Problem]:
    try:
        doc = frontmatter.split(tree.read_text(path, tree.MAX_MARKDOWN_BYTES))
    except (tree.Unreadable, frontmatter.FrontMatterError):
        return []  # already reported by load_catalog
    rel = schema.relative_path(root, root / under)
    files, line, out = doc.meta.get("files"), _Lines(doc), []
    if isinstance(files, list) and len(files) <= schema.MAX_FILES:
        for i, item in enumerate(files):
            if isinstance(item, dict):
                out += _check_file(storage, rel, line, f"files[{i}]", item)
    return out


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
    try:
        actual = storage.stat(key)
    except NotRegular as exc:
        return [Problem(rel, line(f"{prefix}.key"), f"{prefix}.key", str(exc))]
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
        try:
            real = storage.sha256(key)
        except NotRegular as exc:
            return out + [Problem(rel, line(f"{prefix}.key"), f"{prefix}.key", str(exc))]
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
    line = _Lines(frontmatter.split(tree.read_text(str(path), tree.MAX_MARKDOWN_BYTES)))
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
