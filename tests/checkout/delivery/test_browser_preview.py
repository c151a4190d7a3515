"""Before buying (#15), in real Chromium: a product's audio preview plays on its static page,
fed by the edge's `/preview/<sha256>`, and a gallery image opens in a lightbox on the page."""

from __future__ import annotations

import hashlib
import io
import math
import re
import shutil
import struct
import threading
import wave

import pytest

from digitaldock.schema import storage_key

from ...servers import FAST_ENV, base_env, free_port, serve_edge

pytestmark = pytest.mark.browser


def tone(seconds: float = 1.5, rate: int = 8000) -> bytes:
    """A short 440 Hz clip as a WAV file: what a seller's audio preview might be."""
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / rate)))
                               for i in range(int(seconds * rate))))
    return buf.getvalue()


@pytest.fixture(scope="module")
def stack(tmp_path_factory, repo_root):
    from generator.build import build
    from generator.serve import make_server

    root = tmp_path_factory.mktemp("preview")
    content = root / "content"
    shutil.copytree(repo_root / "content", content)
    clip = tone()
    sha = hashlib.sha256(clip).hexdigest()
    (content / "storage" / storage_key(sha)).parent.mkdir(parents=True, exist_ok=True)
    (content / "storage" / storage_key(sha)).write_bytes(clip)
    product = content / "products" / "accra-market-ambience.md"
    product.write_text(product.read_text().replace("license:", f"preview:\n  name: market-sample.wav\n"
                                                               f"  size: {len(clip)}\n  sha256: {sha}\n"
                                                               f"  key: {storage_key(sha)}\nlicense:", 1))
    site_port, edge_port = free_port(), free_port()
    site, edge = f"http://127.0.0.1:{site_port}", f"http://127.0.0.1:{edge_port}"
    out = build(root / "output", repo_root / "pelicanconf.py",
                overrides={"PATH": str(content), "THEME": str(repo_root / "digitaldock/theme"),
                           "PLUGIN_PATHS": [str(repo_root)], "SITEURL": site, "CHECKOUT_URL": edge})
    server = make_server(out, "127.0.0.1", site_port, site_url=site, checkout_url=edge)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = base_env(**FAST_ENV, CATALOG_PATH=str(out / "catalog.json"), DIGITALDOCK_DATA_DIR=str(root / "data"),
                   CONTENT_DIR=str(content), SITE_URL=site, CHECKOUT_URL=edge)
    try:
        with serve_edge(root, env, port=edge_port, log=root / "edge.log"):
            yield {"site": site, "edge": edge}
    finally:
        server.shutdown()
        server.server_close()


def test_the_audio_preview_plays_and_the_gallery_opens_in_a_lightbox(chromium, stack):
    context = chromium.new_context()
    page = context.new_page()
    page.set_default_timeout(15000)
    blocked = []
    page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
    try:
        page.goto(stack["site"] + "/products/accra-market-ambience/")
        audio = page.locator(".preview audio")
        assert audio.get_attribute("src").startswith(stack["edge"] + "/preview/")
        played = audio.evaluate("""async (a) => {
          a.muted = true;  // muted media may start without a gesture
          const playing = new Promise(r => a.addEventListener("playing", () => r(true), {once: true}));
          await a.play();
          const fired = await playing;
          return {paused: a.paused, playing: fired, ready: a.readyState, duration: a.duration};
        }""")
        # decoded and playing: the clip's data arrived (readyState 2+ is HAVE_CURRENT_DATA)
        assert played["playing"] and not played["paused"] and played["ready"] >= 2
        assert 1.4 < played["duration"] < 1.6
        assert blocked == []
        page.locator(".gallery a").first.click()
        assert re.search(r"#shot-1$", page.url)
        assert page.locator("#shot-1").is_visible() and page.locator("#shot-1 img").is_visible()
        page.locator("#shot-1 .lightbox-close").click()
        assert not page.locator("#shot-1").is_visible()
    finally:
        context.close()
