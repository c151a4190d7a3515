"""Building the site: render into a folder, copy assets, drop stale files, swap atomically.

`render_into` is what the Pelican plugin calls. It is incremental: a cache beside the output
remembers, for each file, the fingerprint of everything it was made from (`OutputFile.key`)
and re-renders only files whose fingerprint changed, using both cores for large batches. The
result is byte-identical to a cold build because a fingerprint covers every input.

Nothing is written until every content file has parsed, so a broken file leaves the previous
site as it was. Changed files are first rendered into a staging folder beside the output and
moved into place (one rename each) only when all of them rendered; the cache is saved after
that, so a build interrupted while moving files is simply redone by the next one. A
no-change rebuild writes nothing at all.
"""

from __future__ import annotations

import gc
import hashlib
import json
import multiprocessing
import os
import pickle
import shutil
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from markupsafe import Markup

from digitaldock.schema import Catalog, ContentError, Problem

from .site import OutputFile, Settings, SiteModel, environment, plan, render, theme_assets

CACHE_VERSION = "3"  # 2: parse results are stored pickled, one per file; 3: strict YAML, image verdicts
PARALLEL_THRESHOLD = 200  # below this many files, forking costs more than it saves


@dataclass
class BuildStats:
    rendered: list[str]
    total: int


class TrackingCache(dict):
    """A parse cache that remembers which entries this build used, to drop the rest."""

    def __init__(self, data: dict):
        super().__init__(data)
        self._loaded = set(data)
        self._used: set = set()

    def __contains__(self, key) -> bool:
        self._used.add(key)
        return super().__contains__(key)

    def used(self) -> dict:
        return {k: self[k] for k in self._used if k in self.keys()}

    @property
    def changed(self) -> bool:
        """Whether saving would write anything new: a file parsed, or one no longer seen."""
        return set(self.keys()) != self._loaded or self._used != self._loaded - {"version"}


@contextmanager
def without_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector for a build step.

    A build allocates about a hundred long-lived objects per product and frees few; the
    collector would walk all of them again each time the heap grew by a quarter (a quarter of
    the parse time at 10,000 products), and in forked workers its walks would copy the
    parent's memory page by page. What a build leaves behind is collected when it resumes.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def copy_tree(src: Path, dst: Path, expected: set[str], output: Path,
              rename: dict[str, str] | None = None) -> None:
    """Copy a folder of assets (the theme's), skipping files whose size and mtime match.

    `rename` maps a file's path under `src` to the name it gets under `dst` (fingerprints).
    """
    if not src.is_dir():
        return
    files = {path.relative_to(src).as_posix(): str(path) for path in sorted(src.rglob("*"))
             if not path.name.startswith(".") and path.is_file() and not path.is_symlink()}
    copy_files(files, dst, expected, output, rename)


_READ = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)


def copy_files(files: dict[str, str], dst: Path, expected: set[str], output: Path,
               rename: dict[str, str] | None = None) -> None:
    """Copy `files` (path under `dst` → source file), skipping those whose size and mtime
    already match. A source is opened without following a link and must be a regular file:
    content images come from the catalogue's own list (`Catalog.image_files`), and nothing
    swapped in since it was checked is published.
    """
    for rel, path in sorted(files.items()):
        target = dst / (rename or {}).get(rel, rel)
        expected.add(target.relative_to(output).as_posix())
        fd = os.open(path, _READ)
        with os.fdopen(fd, "rb") as source:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise ContentError([Problem(path, 1, "file", "is not a regular file")])
            os.set_blocking(fd, True)
            try:
                tt = target.stat()
                if tt.st_size == st.st_size and tt.st_mtime_ns == st.st_mtime_ns:
                    continue
            except FileNotFoundError:
                pass
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".{target.name}.tmp")
            with open(tmp, "wb") as out:
                shutil.copyfileobj(source, out, 1 << 20)
        os.utime(tmp, ns=(st.st_atime_ns, st.st_mtime_ns))
        os.replace(tmp, target)


def remove_stale(output: Path, expected: set[str]) -> None:
    """Delete files the new site no longer has, and folders left empty (plain strings: fast)."""
    root = str(output)
    cut = len(root) + 1
    for folder, dirs, names in os.walk(root, topdown=False):
        for name in names:
            full = os.path.join(folder, name)
            if full[cut:].replace(os.sep, "/") not in expected:
                os.unlink(full)
        if folder != root and not os.listdir(folder):
            os.rmdir(folder)


def template_fingerprint(settings: Settings, assets: dict[str, str]) -> str:
    """Templates, settings and theme asset names: changing any re-renders every page."""
    h = hashlib.sha256(CACHE_VERSION.encode())
    h.update(repr(settings).encode())
    h.update(repr(sorted(assets.items())).encode())
    for path in sorted((settings.theme / "templates").rglob("*")):
        if path.is_file():
            h.update(path.relative_to(settings.theme).as_posix().encode())
            h.update(path.read_bytes())
    return h.hexdigest()


# --- rendering, in this process or in forked workers that inherit the model ------------------

_JOB: tuple | None = None


def _render_batch(indices: list[int]) -> list[tuple[str, int, str | None]]:
    """Render and write some files; returns (path, size, key), the key only if asked for."""
    env, files, site, staging, base = _JOB
    out = []
    made: set[str] = set()
    for i in indices:
        f = files[i]
        data = render(env, f, site)
        target = os.path.join(staging, f.path)
        folder = os.path.dirname(target)
        if folder not in made:
            try:
                os.mkdir(folder)  # the parent usually exists: one call, not makedirs' stat first
            except FileExistsError:
                pass
            except FileNotFoundError:
                os.makedirs(folder, exist_ok=True)
            made.add(folder)
        _write(target, data)
        out.append((f.path, len(data), f.key(base) if base is not None else None))
    return out


_CREATE = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0)


def _write(path: str, data: bytes) -> None:
    """Three system calls per file; Python's open() adds a stat, a tty check and a seek."""
    fd = os.open(path, _CREATE, 0o666)  # less the umask, as open() does
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)


def _chunks(files: list[OutputFile], todo: list[int], jobs: int) -> list[list[int]]:
    """Split the work so each product card is rendered by one worker, and both stay busy.

    Listing pages show every product's card, so they go to one worker together (a card is
    rendered once per process, then reused); the data files to another. Product pages (which
    show only a few related cards) follow in small batches, taken by whichever worker is free.
    """
    listings = [i for i in todo if files[i].template and files[i].template != "product.html"]
    data = [i for i in todo if not files[i].template]
    pages = [i for i in todo if files[i].template == "product.html"]
    size = max(50, len(pages) // (jobs * 16))
    return [c for c in (listings, data) if c] + [pages[k:k + size] for k in range(0, len(pages), size)]


def _render(files: list[OutputFile], todo: list[int], model: SiteModel, output: Path,
            jobs: int, base: str | None = None) -> list[tuple[str, int, str | None]]:
    """Render `todo` into `output`; with `base`, also fingerprint each file where it is made."""
    global _JOB
    env = model.env = environment(model.settings, model.assets)
    # the header and footer are the same on every page: render them once
    model.site.header_html = Markup(env.get_template("_header.html").render(site=model.site))
    model.site.footer_html = Markup(env.get_template("_footer.html").render(site=model.site))
    _JOB = (env, files, model.site, str(output), base)
    try:
        if jobs > 1 and len(todo) >= PARALLEL_THRESHOLD and "fork" in multiprocessing.get_all_start_methods():
            with multiprocessing.get_context("fork").Pool(jobs) as pool:
                return [r for batch in pool.map(_render_batch, _chunks(files, todo, jobs), chunksize=1)
                        for r in batch]
        return _render_batch(todo)
    finally:
        _JOB = None


def render_into(catalog: Catalog, settings: Settings, output: Path, cache_dir: Path | None = None,
                jobs: int | None = None) -> BuildStats:
    """Write the whole site into `output`, re-rendering only what changed, then drop stale files."""
    output.mkdir(parents=True, exist_ok=True)
    model = SiteModel(catalog, settings)
    model.cache_dir = cache_dir  # the search index keeps what it can between builds
    files = plan(model)
    # every page shows the site's navigation and footer (categories with products, legal documents)
    model.assets = theme_assets(settings)
    base = template_fingerprint(settings, model.assets) + hashlib.sha256(repr(model.site).encode()).hexdigest()
    previous = _load_json(cache_dir / "render.json") if cache_dir else {}
    jobs = jobs or os.cpu_count() or 1
    first_build = not previous and not any(output.iterdir())
    keys: dict[str, str] = {}
    done: dict[str, int] = {}
    if first_build:
        # nothing to compare with and no previous site to protect: render everything in place,
        # each file fingerprinted by the worker that renders it
        todo = list(range(len(files)))
        for path, size, key in _render(files, todo, model, output, jobs, base):
            done[path], keys[path] = size, key
    else:
        keys = {f.path: f.key(base) for f in files}
        todo = []
        for i, f in enumerate(files):
            entry = previous.get(f.path)
            if entry and entry[0] == keys[f.path] and _size(output / f.path) == entry[1]:
                continue
            todo.append(i)
    if todo and not first_build:
        staging = Path(tempfile.mkdtemp(prefix=f".{output.name}.staging-", dir=output.parent))
        try:
            done = {path: size for path, size, _ in _render(files, todo, model, staging, jobs)}
            made: set[Path] = set()
            for path in sorted(done):  # every file rendered: now move them into place
                target = output / path
                if target.parent not in made:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    made.add(target.parent)
                os.replace(staging / path, target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    expected = {f.path for f in files}  # and, once copied, the images and theme files
    copy_files({rel.removeprefix("images/"): path for rel, path in catalog.image_files.items()},
               output / "images", expected, output)
    copy_tree(settings.theme / "static", output / "theme", expected, output, rename=model.assets)
    if not first_build:
        remove_stale(output, expected)
    stats = BuildStats(rendered=sorted(files[i].path for i in todo), total=len(files))
    if cache_dir and (todo or previous.keys() != {f.path for f in files}):
        cache = {f.path: [keys[f.path], done[f.path] if f.path in done else previous[f.path][1]]
                 for f in files}
        _save(cache_dir / "render.json", json.dumps(cache, sort_keys=True).encode())
    if cache_dir:
        _save(cache_dir / "last-build.json", json.dumps(stats.__dict__, indent=1).encode())
    return stats


def last_build(output: Path) -> BuildStats | None:
    """What the last build of `output` rendered (the rest it kept from the build before)."""
    data = _load_json(default_cache_dir(Path(output).resolve()) / "last-build.json")
    return BuildStats(**data) if data else None


def _size(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return None


def _load_json(path: Path) -> dict:
    try:
        return json.loads(path.read_bytes())
    except (FileNotFoundError, ValueError):
        return {}


def load_parse_cache(cache_dir: Path | None) -> dict:
    if not cache_dir:
        return {}
    try:
        with open(cache_dir / "parse.pickle", "rb") as fh:
            data = pickle.load(fh)
        return data if isinstance(data, dict) and data.get("version") == CACHE_VERSION else {}
    except (FileNotFoundError, EOFError, pickle.UnpicklingError, AttributeError, ImportError):
        return {}


def save_parse_cache(cache_dir: Path | None, cache: dict) -> None:
    if cache_dir:
        cache["version"] = CACHE_VERSION
        _save(cache_dir / "parse.pickle", pickle.dumps(cache, protocol=pickle.HIGHEST_PROTOCOL))


def _save(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def default_cache_dir(output: Path) -> Path:
    return output.with_name(f".{output.name}.cache")


def build(output: str | Path = "output", settings_file: str | Path | None = "pelicanconf.py",
          overrides: dict | None = None) -> Path:
    """Build the site with Pelican and the settings file, exactly as `pelican -s` would; with no
    settings file, with the storefront's own settings (`generator.defaults`)."""
    import logging

    from pelican import Pelican
    from pelican.log import console
    from pelican.settings import read_settings

    output = Path(output).resolve()
    if settings_file is None:
        from .defaults import settings as defaults

        settings = read_settings(None, override={**defaults(), "OUTPUT_PATH": str(output), **(overrides or {})})
    else:
        settings = read_settings(str(settings_file), override={"OUTPUT_PATH": str(output), **(overrides or {})})
    logging.getLogger("pelican").setLevel(logging.WARNING)
    # Pelican's closing "Processed 0 articles, 0 pages" counts its blog machinery, which the
    # storefront switches off; `digitaldock build` says what it rendered instead
    quiet, console.quiet = console.quiet, True
    try:
        with build_lock(output):
            Pelican(settings).run()
    finally:
        console.quiet = quiet
    return output


@contextmanager
def build_lock(output: Path) -> Iterator[None]:
    """Hold the output folder's build lock; a second build of the same folder waits here.

    Two builds of one folder (`digitaldock serve` rebuilding on a save while the edge rebuilds
    after an approval, in its own process) would share temporary file names, delete each
    other's files as stale and interleave the cache: one of them crashed. An advisory lock on a
    file in the output's cache folder makes them take turns, across processes; the kernel
    releases it if a build dies.
    """
    import fcntl

    folder = default_cache_dir(Path(output).resolve())
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "build.lock", "a+b") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
