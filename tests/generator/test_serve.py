"""The development loop: the site is served with its own 404 page and rebuilt on change."""

from __future__ import annotations

import os
import shutil
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
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


# --- the storefront's own headers ----------------------------------------------------------------

def _csp(value: str) -> dict[str, list[str]]:
    """A CSP header as {directive: [sources]}."""
    out = {}
    for part in value.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


def _get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url) as r:
            return r.status, r.headers
    except urllib.error.HTTPError as err:
        return err.code, err.headers


def assert_site_policy(headers, site: str, edge: str) -> None:
    csp = _csp(headers["Content-Security-Policy"])
    assert csp["script-src"] == ["'self'"]  # no inline script, no eval, nothing from elsewhere
    assert csp["object-src"] == ["'none'"] and csp["base-uri"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"] and headers["X-Frame-Options"] == "DENY"
    assert edge in csp["connect-src"] and edge in csp["form-action"] and site in csp["form-action"]
    assert "https://checkout.paystack.com" in csp["form-action"]  # the edge redirects a Buy form there
    assert csp["default-src"] == ["'self'"] and "'unsafe-inline'" not in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def assert_user_file_policy(headers) -> None:
    csp = _csp(headers["Content-Security-Policy"])
    assert csp["sandbox"] == [] and csp["default-src"] == ["'none'"]
    assert "script-src" not in csp
    assert headers["X-Content-Type-Options"] == "nosniff"


@pytest.fixture(scope="module")
def storefront(tmp_path_factory):
    """The real storefront built from the repository's content, served with the URLs the build used."""
    from generator.build import build

    root = Path(__file__).resolve().parents[2]
    site, edge = "http://127.0.0.1:18000", "https://checkout.shop.example"
    out = build(tmp_path_factory.mktemp("headers") / "output", root / "pelicanconf.py",
                overrides={"PATH": str(root / "content"), "THEME": str(root / "digitaldock" / "theme"),
                           "PLUGIN_PATHS": [str(root)], "SITEURL": site, "CHECKOUT_URL": edge})
    server = make_server(out, "127.0.0.1", 0, site_url=site, checkout_url=edge)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield {"url": f"http://127.0.0.1:{server.server_address[1]}", "out": out, "site": site, "edge": edge}
    finally:
        server.shutdown()
        server.server_close()


def test_pages_and_theme_files_get_the_storefronts_policy(storefront):
    out, base = storefront["out"], storefront["url"]
    asset = next((out / "theme" / "js").glob("site.*.js")).relative_to(out).as_posix()
    product = next((out / "products").iterdir()).name
    for path in ("/", f"/products/{product}/", f"/{asset}", "/catalog.json", "/search/", "/no/such/page"):
        status, headers = _get(base + path)
        assert status in (200, 404), path
        assert_site_policy(headers, storefront["site"], storefront["edge"])


def test_files_under_images_are_sandboxed_however_the_path_is_written(storefront):
    out, base = storefront["out"], storefront["url"]
    image = next(p for p in (out / "images").rglob("*") if p.is_file()).relative_to(out).as_posix()
    rest = image.removeprefix("images/")
    for path in (f"/{image}", f"/%69mages/{rest}", f"/theme/../{image}", f"/theme/%2e%2e/{image}",
                 "/images/", "/images/missing.svg"):
        status, headers = _get(base + path)
        assert status in (200, 404), path
        assert_user_file_policy(headers)


def test_the_built_theme_has_no_inline_script_or_event_handler(storefront):
    """What the policy forbids, the site does not do: every <script> has a src (JSON-LD is
    data), no element has an on…= handler, no link is javascript:."""
    from html.parser import HTMLParser

    found: list[str] = []

    class Scan(HTMLParser):
        def handle_starttag(self, tag, attrs):
            a = dict(attrs)
            if tag == "script" and not a.get("src") and a.get("type") != "application/ld+json":
                found.append(f"{self.name}: inline <script>")
            found.extend(f"{self.name}: {k}=" for k in a if k.startswith("on"))
            found.extend(f"{self.name}: {k}={v}" for k, v in a.items()
                         if v and v.strip().lower().startswith("javascript:"))
            if "style" in a:
                found.append(f"{self.name}: style=")

    pages = sorted(storefront["out"].rglob("*.html"))
    assert len(pages) > 20
    for page in pages:
        scan = Scan()
        scan.name = page.relative_to(storefront["out"]).as_posix()
        scan.feed(page.read_text("utf-8"))
    assert found == []


def test_serve_names_the_urls_of_the_settings_file(tmp_path: Path, monkeypatch):
    from generator.commands import built_urls

    monkeypatch.setenv("SITE_URL", "https://shop.example")
    monkeypatch.setenv("CHECKOUT_URL", "https://checkout.shop.example")
    assert built_urls(None) == ("https://shop.example", "https://checkout.shop.example")
    conf = tmp_path / "conf.py"
    conf.write_text("SITEURL = 'http://127.0.0.1:9000'\nCHECKOUT_URL = 'http://127.0.0.1:9001'\n")
    assert built_urls(conf) == ("http://127.0.0.1:9000", "http://127.0.0.1:9001")
