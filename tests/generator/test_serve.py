"""The development loop: the site is served with its own 404 page and rebuilt on change."""

from __future__ import annotations

import os
import shutil
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from generator.serve import Rebuilder, is_editor_temp, make_server, watch


def test_serves_files_and_the_sites_404(tmp_path: Path):
    (tmp_path / "index.html").write_text("<h1>home</h1>")
    (tmp_path / "404.html").write_text("<h1>lost</h1>")
    server = make_server(tmp_path, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with urllib.request.urlopen(base + "/") as r:
            assert r.read() == b"<h1>home</h1>" and r.headers["Cache-Control"] == "no-cache"
        try:
            urllib.request.urlopen(base + "/missing/")
        except urllib.error.HTTPError as err:
            assert err.code == 404 and err.read() == b"<h1>lost</h1>"
        else:
            raise AssertionError("expected 404")
        head = urllib.request.Request(base + "/nothing", method="HEAD")
        try:
            urllib.request.urlopen(head)
        except urllib.error.HTTPError as err:
            assert err.code == 404 and err.read() == b""
        (tmp_path / "404.html").unlink()
        try:
            urllib.request.urlopen(base + "/gone")
        except urllib.error.HTTPError as err:
            assert err.code == 404 and b"lost" not in err.read()
    finally:
        server.shutdown()
        server.server_close()


def test_a_burst_of_edits_triggers_one_rebuild(tmp_path: Path):
    calls: list[float] = []
    done = threading.Event()

    def rebuild():
        calls.append(time.monotonic())
        done.set()

    watcher = watch([tmp_path, tmp_path / "absent"], rebuild)
    try:
        for i in range(5):
            (tmp_path / "product.md").write_text(f"edit {i}")
        for noise in (".hidden.swp", "product.md~", "#product.md#", "4913", "product.md___jb_tmp___"):
            (tmp_path / noise).write_text("editor noise")
        assert done.wait(10), "no rebuild after a change"
        time.sleep(0.8)  # let any stray timer fire before counting
        assert len(calls) == 1
    finally:
        watcher.stop()
        watcher.join(5)


def _wait_for(count: list, n: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while len(count) < n:
        assert time.monotonic() < deadline, f"{len(count)} rebuilds, expected {n}"
        time.sleep(0.05)


def test_an_idle_watcher_never_rebuilds_and_each_change_rebuilds_once(content: Path, tmp_path: Path, kit):
    """The real build as the rebuild: it reads every content and theme file, and those reads
    must not count as changes (they did: two rebuilds a second, forever, with nothing changed)."""
    from generator.build import build, default_cache_dir

    theme = tmp_path / "theme"
    shutil.copytree(kit.ROOT / "digitaldock" / "theme", theme)
    output = tmp_path / "output"

    def build_once():
        build(output, kit.ROOT / "pelicanconf.py",
              overrides={"PATH": str(content), "THEME": str(theme), "PLUGIN_PATHS": [str(kit.ROOT)]})

    build_once()
    rebuilds: list[int] = []
    watcher = watch([content, theme], lambda: (build_once(), rebuilds.append(1)),
                    ignore=[output, default_cache_dir(output)])
    try:
        product = content / "products" / "first-guide.md"
        product.write_text(product.read_text() + "\n")
        _wait_for(rebuilds, 1)
        time.sleep(10)  # idle: the rebuild's own reads of content/ and the theme are no change
        assert len(rebuilds) == 1
        os.utime(product)  # `touch`: one more rebuild
        _wait_for(rebuilds, 2)
        (theme / "static" / "css" / "main.css").write_text((theme / "static" / "css" / "main.css").read_text() + "\n")
        _wait_for(rebuilds, 3)
        time.sleep(2)
        assert len(rebuilds) == 3
    finally:
        watcher.stop()
        watcher.join(10)


def test_a_change_during_a_rebuild_is_built_next_never_at_the_same_time(tmp_path: Path):
    running, most, done = [0], [0], []
    gate = threading.Event()

    def rebuild():
        running[0] += 1
        most[0] = max(most[0], running[0])
        if not done:
            gate.wait(10)  # the first rebuild is still running when the next change comes
        done.append(1)
        running[0] -= 1

    watcher = watch([tmp_path], rebuild, delay=0.05)
    try:
        (tmp_path / "a.md").write_text("one")
        deadline = time.monotonic() + 10
        while not running[0] and time.monotonic() < deadline:
            time.sleep(0.01)
        (tmp_path / "a.md").write_text("two")
        (tmp_path / "b.md").write_text("three")
        time.sleep(0.5)  # both changes are seen while the first rebuild still runs
        gate.set()
        _wait_for(done, 2, 10)
        time.sleep(0.5)
        assert len(done) == 2 and most[0] == 1
    finally:
        watcher.stop()
        watcher.join(5)


def test_a_failing_rebuild_does_not_stop_the_watcher(tmp_path: Path, capsys):
    calls: list[int] = []

    def rebuild():
        calls.append(1)
        if len(calls) == 1:
            raise FileNotFoundError("output/images/.cover.png.tmp")

    watcher = watch([tmp_path], rebuild, delay=0.05)
    try:
        (tmp_path / "a.md").write_text("one")
        _wait_for(calls, 1, 10)
        time.sleep(0.3)
        (tmp_path / "a.md").write_text("two")
        _wait_for(calls, 2, 10)
    finally:
        watcher.stop()
        watcher.join(5)
    assert "rebuild failed: FileNotFoundError" in capsys.readouterr().err


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet=st.characters(blacklist_characters="/\x00"), min_size=1, max_size=12),
                min_size=1, max_size=4))
def test_only_visible_files_under_a_watched_folder_count(parts):
    root = Path("/srv/site/content")
    ignored = Path("/srv/site/content/output")
    handler = Rebuilder(lambda: None, [root], [Path("/srv/site/pelicanconf.py")], [ignored])
    try:
        path = str(root.joinpath(*parts))
        expected = ((os.path.abspath(path) == str(root) or os.path.abspath(path).startswith(str(root) + os.sep))
                    and not os.path.abspath(path).startswith(str(ignored) + os.sep)
                    and os.path.abspath(path) != str(ignored)
                    and not any(is_editor_temp(p) for p in Path(os.path.abspath(path)).relative_to(root).parts))
        assert handler.relevant(path) is expected
        assert handler.relevant("/srv/site/pelicanconf.py") and not handler.relevant("/srv/site/other.py")
        assert not handler.relevant(str(ignored / "index.html"))
    finally:
        handler.stop()
