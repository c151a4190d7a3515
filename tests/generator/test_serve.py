"""The development loop: the site is served with its own 404 page and rebuilt on change."""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from generator.serve import make_server, watch


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

    observer = watch([tmp_path, tmp_path / "absent"], rebuild)
    try:
        for i in range(5):
            (tmp_path / "product.md").write_text(f"edit {i}")
        (tmp_path / ".hidden.swp").write_text("editor noise")
        assert done.wait(10), "no rebuild after a change"
        time.sleep(0.8)  # let any stray timer fire before counting
        assert len(calls) == 1
    finally:
        observer.stop()
        observer.join(5)
