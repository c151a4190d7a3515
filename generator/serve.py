"""The development loop: serve the built site on loopback and rebuild when content changes."""

from __future__ import annotations

import functools
import os
import sys
import threading
import time
from collections.abc import Callable
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from watchdog.events import (
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
    FileAttribEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver

from . import defaults
from .headers import PAYSTACK_CHECKOUT, is_user_file, site_headers, user_file_headers


class SiteHandler(SimpleHTTPRequestHandler):
    """Static files with the site's own 404 page and security headers, as production serves
    them (deploy/Caddyfile): the site's policy on pages and theme files, the sandbox on files
    a seller supplied (generator/headers.py)."""

    def __init__(self, *args, site_headers: list[tuple[str, str]], **kwargs):
        self.site_headers = site_headers
        super().__init__(*args, **kwargs)

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

    def serves_user_file(self) -> bool:
        """Decided on the file this request resolves to (after %-decoding and `..`), not on
        the path as written: /theme/../images/x.svg and /%69mages/x.svg are user files too."""
        target = Path(self.translate_path(self.path))
        root = Path(self.directory).resolve()
        try:
            rel = "/" + target.resolve().relative_to(root).as_posix() + ("/" if self.path.endswith("/") else "")
        except ValueError:
            return False
        return is_user_file(rel)

    def end_headers(self):
        self.send_header("Cache-Control", "no-cache")
        for name, value in (user_file_headers() if self.serves_user_file() else self.site_headers):
            self.send_header(name, value)
        super().end_headers()

    def log_message(self, format, *args):  # noqa: A002 - stdlib signature
        pass


def make_server(output: Path, host: str = "127.0.0.1", port: int = 8000, *, site_url: str | None = None,
                checkout_url: str | None = None, pay_url: str | None = None) -> ThreadingHTTPServer:
    """The storefront server; its policy names SITE_URL and CHECKOUT_URL as the build saw them
    (the environment, generator/defaults.py) unless given, and Paystack's payment page and
    the local sandbox's (PAYSTACK_BASE_URL, as `digitaldock dev` sets it for the edge)."""
    default_site, default_checkout = defaults.urls()
    sandbox = pay_url or os.environ.get("PAYSTACK_BASE_URL") or "http://127.0.0.1:8002"
    headers = site_headers(site_url or default_site, checkout_url or default_checkout,
                           (PAYSTACK_CHECKOUT, sandbox))
    handler = functools.partial(SiteHandler, directory=str(output), site_headers=headers)
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server


# What a save looks like to inotify. Not opens, reads or closes: a build reads every content
# and theme file, and a watcher that counted those rebuilt after each of its own rebuilds,
# twice a second, forever. A file's mtime change (`touch`) counts: it is how one asks for a
# rebuild by hand.
WRITE_EVENTS: list[type[FileSystemEvent]] = [
    FileCreatedEvent, FileModifiedEvent, FileAttribEvent, FileDeletedEvent, FileMovedEvent,
    DirCreatedEvent, DirDeletedEvent, DirMovedEvent]


def is_editor_temp(name: str) -> bool:
    """Swap, backup, lock and autosave files of vim, emacs, JetBrains and friends; hidden files."""
    return (name.startswith((".", "#")) or name.endswith(("~", ".swp", ".swx", ".tmp", "___jb_tmp___",
                                                            "___jb_old___")) or name == "4913")


class Rebuilder(FileSystemEventHandler):
    """Turns file events into rebuilds: one per burst of changes (an editor saves several files,
    git checks out many), after `delay` seconds of quiet, never two at once.

    One worker thread runs every rebuild, so a change that arrives while a rebuild runs is
    picked up by the next one, not by a second build racing the first over the same output.
    A rebuild that raises is reported and the worker goes on waiting for the next change.
    """

    def __init__(self, rebuild: Callable[[], object], roots: list[Path], files: list[Path],
                 ignore: list[Path], delay: float = 0.3):
        self.rebuild = rebuild
        self.delay = delay
        self.roots = [str(p) for p in roots]
        self.files = {str(p) for p in files}
        self.ignore = [str(p) for p in ignore]
        self._cond = threading.Condition()
        self._last: float | None = None  # monotonic time of the newest unhandled change
        self._stopped = False
        self._worker = threading.Thread(target=self._run, name="storefront-rebuild", daemon=True)
        self._worker.start()

    def relevant(self, path: str) -> bool:
        if not path:
            return False
        path = os.path.abspath(path)
        if any(path == d or path.startswith(d + os.sep) for d in self.ignore):
            return False
        if path in self.files:
            return True
        inside = next((root for root in self.roots if path == root or path.startswith(root + os.sep)), None)
        if inside is None:
            return False
        return not any(is_editor_temp(part) for part in Path(path[len(inside):]).parts if part != os.sep)

    def on_any_event(self, event: FileSystemEvent) -> None:
        if type(event) not in WRITE_EVENTS:
            return
        if not (self.relevant(os.fsdecode(event.src_path)) or self.relevant(os.fsdecode(event.dest_path or ""))):
            return
        with self._cond:
            self._last = time.monotonic()
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._last is None and not self._stopped:
                    self._cond.wait()
                if self._stopped:
                    return
                while (quiet := self._last + self.delay - time.monotonic()) > 0 and not self._stopped:
                    self._cond.wait(quiet)  # each new change pushes the rebuild back
                if self._stopped:
                    return
                self._last = None
            try:
                self.rebuild()
            except Exception as exc:  # noqa: BLE001 - a failed rebuild must not end the watcher
                print(f"rebuild failed: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify()

    def join(self, timeout: float | None = None) -> None:
        self._worker.join(timeout)


class Watcher:
    """The running observer and its rebuilder; `stop()` ends both."""

    def __init__(self, observer: BaseObserver, rebuilder: Rebuilder):
        self.observer, self.rebuilder = observer, rebuilder

    def stop(self) -> None:
        self.observer.stop()
        self.rebuilder.stop()

    def join(self, timeout: float | None = None) -> None:
        self.observer.join(timeout)
        self.rebuilder.join(timeout)


def watch(paths: list[Path], rebuild: Callable[[], object], ignore: list[Path] = (),  # type: ignore[assignment]
          delay: float = 0.3) -> Watcher:
    """Rebuild after writes under the folders in `paths` (and to the files in it), nothing else.

    `ignore` lists folders whose changes never count (the output and its cache, should they
    sit inside a watched folder). A file is watched through its folder, so an editor that
    saves by renaming a new file over it is still seen.
    """
    paths = [Path(p).resolve() for p in paths]
    roots = [p for p in paths if p.is_dir()]
    files = [p for p in paths if p.is_file()]
    rebuilder = Rebuilder(rebuild, roots, files, [Path(p).resolve() for p in ignore], delay)
    observer = Observer()
    for root in roots:
        observer.schedule(rebuilder, str(root), recursive=True, event_filter=WRITE_EVENTS)
    for folder in sorted({f.parent for f in files} - set(roots)):
        observer.schedule(rebuilder, str(folder), recursive=False, event_filter=WRITE_EVENTS)
    observer.daemon = True
    observer.start()
    return Watcher(observer, rebuilder)


def wait_forever() -> None:  # pragma: no cover - interactive loop, ended by Ctrl-C
    while True:
        time.sleep(3600)
