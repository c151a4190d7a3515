"""Two builds of one output folder at once (`digitaldock serve` rebuilding on a save while the
edge rebuilds after an approval, in its own process) take turns and both leave a whole site."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from generator.build import default_cache_dir

ROOT = Path(__file__).resolve().parents[2]
BUILD = ("import sys; from generator.build import build; "
         "build(sys.argv[1], sys.argv[2], {'PATH': sys.argv[3], 'THEME': sys.argv[4], 'PLUGIN_PATHS': [sys.argv[5]]})")


def start_build(output: Path, content: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", BUILD, str(output), str(ROOT / "pelicanconf.py"), str(content),
                             str(ROOT / "digitaldock" / "theme"), str(ROOT)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)


def assert_whole_site(output: Path, content: Path) -> None:
    catalog = json.loads((output / "catalog.json").read_text())
    assert catalog["products"], "an empty catalogue"
    for product in catalog["products"].values():
        page = output / product["url"].strip("/") / "index.html"
        assert page.is_file() and page.read_text().rstrip().endswith("</html>"), page
    images = {p.relative_to(content).as_posix() for p in (content / "images").rglob("*") if p.is_file()}
    copied = {p.relative_to(output).as_posix() for p in (output / "images").rglob("*") if p.is_file()}
    assert images == copied
    for path in (ROOT / "content" / "images").rglob("*"):
        if path.is_file():
            assert (output / path.relative_to(ROOT / "content")).read_bytes() == path.read_bytes()
    leftovers = [p.name for p in output.rglob(".*")] + [p.name for p in output.parent.glob(f".{output.name}.staging-*")]
    assert leftovers == [], leftovers


def test_two_concurrent_builds_of_one_output_both_succeed_with_a_whole_site(tmp_path: Path):
    content = ROOT / "content"
    # empty folders (where both builds render and copy in place) race most; then a rebuild
    for round_, name in enumerate(["a", "b", "c", "d", "d"]):
        output = tmp_path / name
        builds = [start_build(output, content) for _ in range(2)]
        results = [(b.wait(300), *b.communicate()) for b in builds]
        for code, out, err in results:
            assert code == 0, f"round {round_}: a build failed:\n{err[-3000:]}"
        assert_whole_site(output, content)
    assert (default_cache_dir(tmp_path / "d") / "build.lock").is_file()


def _waiting_on_a_lock(pid: int) -> bool:
    """Whether `pid` is queued for a file lock (Linux lists waiters in /proc/locks with "->")."""
    for line in Path("/proc/locks").read_text().splitlines():
        fields = line.split()
        if "->" in fields and str(pid) in fields:
            return True
    return False


def test_a_build_waits_while_another_holds_the_output(tmp_path: Path):
    from generator.build import build_lock  # noqa

    output, content = tmp_path / "output", ROOT / "content"
    with build_lock(output):
        proc = start_build(output, content)
        while not _waiting_on_a_lock(proc.pid):
            if proc.poll() is not None:
                proc.communicate()
                raise AssertionError("the build ran while another build held its output folder")
            time.sleep(0.05)
        assert not output.exists() or not any(output.iterdir())
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err[-3000:]
    assert_whole_site(output, content)
