"""Building the site: render into a folder, copy assets, drop stale files, swap atomically.

`render_into` is what the Pelican plugin calls. `build` is what `digitaldock build` calls:
it runs Pelican with pelicanconf.py into a staging folder beside the output and only swaps
it in when everything (pages, assets, search index) succeeded, so a failed build never
leaves a half-written site where a good one was.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from digitaldock.schema import Catalog

from .site import Settings, write_site



def _write_if_changed(target: Path, data: bytes) -> bool:
    try:
        if target.stat().st_size == len(data) and target.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, target)
    return True


def copy_tree(src: Path, dst: Path, expected: set[str], output: Path) -> None:
    if not src.is_dir():
        return
    for path in sorted(src.rglob("*")):
        if path.is_file() and not path.name.startswith("."):
            target = dst / path.relative_to(src)
            _write_if_changed(target, path.read_bytes())
            expected.add(target.relative_to(output).as_posix())


def render_into(catalog: Catalog, settings: Settings, output: Path) -> list[str]:
    """Write the whole site into `output`, then remove files no longer part of it."""
    output.mkdir(parents=True, exist_ok=True)
    expected: set[str] = set()
    written = write_site(catalog, settings, output, writer=_write_if_changed)
    expected.update(written)
    copy_tree(settings.content / "images", output / "images", expected, output)
    copy_tree(settings.theme / "static", output / "theme", expected, output)
    for path in sorted(output.rglob("*"), reverse=True):
        rel = path.relative_to(output).as_posix()
        if path.is_file() and rel not in expected:
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    return written


def build(output: str | Path = "output", settings_file: str | Path = "pelicanconf.py",
          overrides: dict | None = None) -> Path:
    """Build the site with Pelican into a staging folder and swap it in on success."""
    from pelican import Pelican
    from pelican.settings import read_settings

    output = Path(output).resolve()
    output.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{output.name}.staging-", dir=output.parent))
    try:
        if output.is_dir():  # start from the previous build so unchanged files keep their mtime
            shutil.copytree(output, staging, dirs_exist_ok=True, copy_function=shutil.copy2)
        settings = read_settings(str(settings_file), override={"OUTPUT_PATH": str(staging),
                                                               **(overrides or {})})
        Pelican(settings).run()
        previous = output.with_name(f".{output.name}.previous")
        if previous.exists():
            shutil.rmtree(previous)
        if output.exists():
            os.replace(output, previous)
        os.replace(staging, output)
        shutil.rmtree(previous, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return output
