"""The development loop: serve the built site on loopback and rebuild when content changes."""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer


class SiteHandler(SimpleHTTPRequestHandler):
    """Static files with the site's own 404 page, as the CDN serves them."""

    def send_error(self, code, message=None, explain=None):  # noqa: D102 - stdlib signature
        page = Path(self.directory) / "404.html"
        if code == 404 and page.exists():
            body = page.read_bytes()
            self.send_response(404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
            return
        super().send_error(code, message, explain)

    def end_headers(self):
        self.send_header("Cache-Control", "no-cache")
        super().end_headers()

    def log_message(self, format, *args):  # noqa: A002 - stdlib signature
        pass


def make_server(output: Path, host: str = "127.0.0.1", port: int = 8000) -> ThreadingHTTPServer:
    handler = functools.partial(SiteHandler, directory=str(output))
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server


class _Debounced(FileSystemEventHandler):
    """Collects bursts of file events (an editor saves several times) into one rebuild."""

    def __init__(self, rebuild: Callable[[], None], delay: float = 0.3):
        self.rebuild = rebuild
        self.delay = delay
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.is_directory or "/." in str(event.src_path).replace("\\", "/"):
            return
        with self._lock:
            if self._timer:
                self._timer.cancel()
            self._timer = threading.Timer(self.delay, self.rebuild)
            self._timer.daemon = True
            self._timer.start()


def watch(paths: list[Path], rebuild: Callable[[], None]) -> Observer:
    observer = Observer()
    handler = _Debounced(rebuild)
    for p in paths:
        if p.exists():
            observer.schedule(handler, str(p), recursive=True)
    observer.daemon = True
    observer.start()
    return observer


def wait_forever() -> None:  # pragma: no cover - interactive loop, ended by Ctrl-C
    while True:
        time.sleep(3600)
