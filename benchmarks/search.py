"""Search benchmark: what a shopper downloads and waits for until the first results, in real
Chromium, at 10,000 and 100,000 products; and the build's time and peak memory.

    .venv/bin/python benchmarks/search.py [--products 10000 100000] [--keep DIR] [--source REF]

For each size it generates the synthetic catalogue of benchmarks/build.py, builds it with
`digitaldock build` in a fresh process (wall time, peak RSS of the process and its workers),
then serves the output gzip-compressed (level 6, as a CDN compresses text) and opens
/search/?q=... in a fresh Chromium context per query (an empty cache). It counts the bytes
on the wire (Chromium's encodedDataLength: headers and compressed bodies) from navigation until
the first result card is in the page: the page, its CSS and JS, the index's entry file, the
shards of the query's words, the facet columns and the cards' chunks. Result cover images are
not counted (they load lazily, after the results show). The time to first results is the
page's own clock (performance.now() when the first card is added).

Baselines: the whole index in one compressed download (what any one-file index costs at the
least before its first result); and `--source REF` (e.g. the commit before issue #15) runs
the same measurements with that commit's code (`git archive`), for a before/after pair from
the same machine and day.
Nothing here is a test; the figures depend on the machine (benchmarks/README.md has ours).
"""

from __future__ import annotations

import argparse
import gzip
import importlib.util
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
QUERIES = ("studio", "invoice template", "lofi", "product number 4242", "tag-017", "plannr", "pakc")
COMPRESSED = (".html", ".json", ".js", ".css", ".xml", ".svg", ".txt")


def _bench_build():
    spec = importlib.util.spec_from_file_location("bench_build", ROOT / "benchmarks" / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Gzipped(SimpleHTTPRequestHandler):
    """Static files, text compressed as a CDN would (gzip level 6, cached per file)."""

    cache: dict[str, bytes] = {}

    def log_message(self, *args):
        pass

    def do_GET(self):  # noqa: N802 - stdlib name
        path = Path(self.translate_path(self.path))
        if path.is_dir():
            path = path / "index.html"
        if not path.is_file():
            self.send_error(404)
            return
        data = path.read_bytes()
        gz = path.suffix in COMPRESSED and "gzip" in self.headers.get("Accept-Encoding", "")
        if gz:
            key = str(path)
            data = self.cache.get(key) or self.cache.setdefault(key, gzip.compress(data, 6, mtime=0))
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "public, max-age=31536000")
        if gz:
            self.send_header("Content-Encoding", "gzip")
        self.end_headers()
        self.wfile.write(data)


FIRST_RESULT = """
new MutationObserver((_, obs) => {
  const list = document.getElementById("search-results");
  const status = document.getElementById("search-status");
  if ((list && list.firstElementChild) || (status && status.textContent.includes("found"))) {
    window.__firstResult = performance.now(); obs.disconnect();
  }
}).observe(document, { childList: true, subtree: true, characterData: true });
"""


def browse(site: str, queries: tuple[str, ...]) -> list[tuple[str, int, float, int, int]]:
    """(query, bytes until first results, ms until first results, results, index files read)."""
    from playwright.sync_api import sync_playwright

    executable = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    rows = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=["--no-sandbox", "--disable-gpu"])
        for q in queries:
            context = browser.new_context()
            context.route("**/*.png", lambda route: route.abort())  # covers load after the results
            page = context.new_page()
            page.add_init_script(FIRST_RESULT)
            cdp = context.new_cdp_session(page)
            cdp.send("Network.enable")
            sizes: dict[str, int] = {}
            urls: dict[str, str] = {}
            cdp.on("Network.requestWillBeSent", lambda e, urls=urls: urls.__setitem__(e["requestId"], e["request"]["url"]))
            cdp.on("Network.loadingFinished",
                   lambda e, sizes=sizes: sizes.__setitem__(e["requestId"], int(e["encodedDataLength"])))
            page.goto(f"{site}/search/?q={q.replace(' ', '%20')}")
            page.wait_for_function("window.__firstResult !== undefined || "
                                   "document.getElementById('search-status').textContent.includes('found')",
                                   timeout=120_000)
            first = page.evaluate("window.__firstResult")
            # what arrived until then: every request finished by now belongs to the first results
            total = sum(sizes.values())
            index_files = sum(1 for rid in sizes if "/search/" in urls.get(rid, "") and urls[rid].endswith(".json"))
            found = page.locator("#search-status").inner_text()
            rows.append((q, total, first if first is not None else float("nan"), int(found.split()[0]), index_files))
            context.close()
        browser.close()
    return rows


def edge_times(out: Path, queries: tuple[str, ...]) -> list[float]:
    """Milliseconds the edge's rules take per query (digitaldock.search over the files, warm)."""
    import time

    sys.path.insert(0, str(ROOT))
    from digitaldock.search import Index

    index = Index(lambda name: (out / "search" / name).read_bytes())
    times = []
    for q in queries:
        index.cards(index.search(q).ids[:24])  # files read once, as a running edge has them
        start = time.perf_counter()
        index.cards(index.search(q).ids[:24])
        times.append((time.perf_counter() - start) * 1000)
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--products", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--keep", type=Path, help="work in this folder and keep it")
    ap.add_argument("--source", help="measure this git commit's code instead of the working tree's")
    ap.add_argument("--reuse", action="store_true", help="keep content generated in --keep by an earlier run")
    args = ap.parse_args()
    bench = _bench_build()
    work = args.keep or Path(tempfile.mkdtemp(prefix="dd-search-"))
    work.mkdir(parents=True, exist_ok=True)
    src = ROOT
    if args.source:
        src = work / "source"
        shutil.rmtree(src, ignore_errors=True)
        src.mkdir()
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", args.source], check=True, capture_output=True)
        subprocess.run(["tar", "-x", "-C", str(src)], input=archive.stdout, check=True)
        print(f"measuring {args.source} ({src})", flush=True)
    env = {**os.environ, "PYTHONPATH": str(src)}
    summary = []
    for n in args.products:
        root = work / str(n)
        if args.reuse and (root / "content" / "products").is_dir():
            content = root / "content"
            for old in ("output", ".output.cache"):
                shutil.rmtree(root / old, ignore_errors=True)  # a cold build
            print(f"reusing the {n} products in {root}", flush=True)
        else:
            shutil.rmtree(root, ignore_errors=True)
            root.mkdir(parents=True)
            print(f"generating {n} products in {root} ...", flush=True)
            content = bench.make_content(root, n)
        conf = root / "benchconf.py"
        conf.write_text(f"import sys\nsys.path.insert(0, {str(src)!r})\nfrom pelicanconf import *\n"
                        f"PATH = {str(content)!r}\nTHEME = {str(src / 'digitaldock/theme')!r}\n"
                        f"PLUGIN_PATHS = [{str(src)!r}]\nCHECKOUT_URL = 'http://127.0.0.1:9'\n")
        out = root / "output"
        print("cold build ...", flush=True)
        argv = [PY, "-m", "checkout.cli.main", "build", "-s", str(conf), "-o", str(out)]
        wall, rss = bench.timed(argv, src, env)
        print("no-change rebuild ...", flush=True)
        again, again_rss = bench.timed(argv, src, env)
        files = [p for p in (out / "search").rglob("*") if p.is_file()]
        raw = sum(p.stat().st_size for p in files)
        whole = gzip.compress(b"".join(p.read_bytes() for p in sorted(files)), 6, mtime=0)
        shards = [p for p in files if p.parent.name == "t"]
        biggest = max((len(gzip.compress(p.read_bytes(), 6, mtime=0)) for p in shards), default=0)
        entry = len(gzip.compress((out / "search/index.json").read_bytes(), 6, mtime=0))
        facets = [p for p in files if p.name.startswith("facets.")]
        facets_gz = len(gzip.compress(facets[0].read_bytes(), 6, mtime=0)) if facets else 0
        sitemaps = len(list((out / "sitemaps").glob("*.xml"))) or 1
        handler = partial(Gzipped, directory=str(out))
        Gzipped.cache = {}
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            rows = browse(f"http://127.0.0.1:{server.server_address[1]}", QUERIES)
        finally:
            server.shutdown()
            server.server_close()
        print(f"\n{n} products: cold build {wall:.1f} s, peak RSS {rss:.0f} MB; no-change rebuild {again:.1f} s, "
              f"{again_rss:.0f} MB")
        print(f"index: {len(files)} files, {raw / 1e6:.1f} MB raw; {len(shards)} term shards (largest "
              f"{biggest / 1024:.1f} KB gz); entry {entry / 1024:.1f} KB gz; facet columns {facets_gz / 1024:.1f} KB gz; "
              f"sitemap files: {sitemaps}")
        print(f"baseline, the whole index in one download: {len(whole) / 1024:.0f} KB gz")
        edge = edge_times(out, QUERIES) if not args.source else [float("nan")] * len(QUERIES)
        print(f"{'query':<22}{'KB until results':>18}{'ms until results':>18}{'found':>8}{'index files':>13}"
              f"{'edge ms':>9}")
        for (q, total, ms, found, index_files), edge_ms in zip(rows, edge, strict=True):
            print(f"{q:<22}{total / 1024:>18.1f}{ms:>18.0f}{found:>8}{index_files:>13}{edge_ms:>9.0f}")
        summary.append((n, wall, rss, max(r[1] for r in rows), statistics.median(r[2] for r in rows), len(whole)))
        print(flush=True)
    if len(summary) > 1:
        (n0, w0, *_), (n1, w1, *_) = summary[0], summary[-1]
        print(f"build time {n1 // 1000}k / {n0 // 1000}k: {w1 / w0:.1f}x for {n1 / n0:.0f}x the products")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
