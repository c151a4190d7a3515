"""Real servers for tests: a free loopback port, and `serve()`, which starts a server (a
subprocess, or an ASGI app under uvicorn in a thread), waits until it answers and always stops it.

Import it relatively, like the conftest helpers (pytest imports tests/ as the package `tests`
under --import-mode=importlib): `from ..servers import serve` from tests/<area>/,
`from ...servers import serve` from tests/checkout/<layer>/.

    port = free_port()
    with serve([exe, "-p", str(port)], port=port, ready="/healthz") as server:
        httpx.get(server.url + "/...")
    server.output  # everything the process printed, once it stopped

`ready` says when a server answers:
  - None: a subprocess accepts a TCP connection on `port`; an app has finished uvicorn's startup;
  - "/path" or "http://...": an HTTP GET answers, with any status (or with `status` if given);
  - a callable: returns True (an OSError or httpx.HTTPError it raises counts as "not yet").
If the server exits, or does not answer within `timeout` seconds, the test fails with a message
that holds the process's last output lines. On leaving the block a subprocess gets SIGTERM, then
SIGKILL if it is still running `stop_timeout` seconds later; an app's uvicorn is told to exit.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest

HOST = "127.0.0.1"


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class Server:
    """A started server: its port and URL, and either its process or its uvicorn in a thread."""

    def __init__(self, name: str, port: int | None, proc: subprocess.Popen | None = None,
                 log: Path | None = None, log_start: int = 0, uvicorn_server: Any = None,
                 thread: threading.Thread | None = None):
        self.name, self.port = name, port
        self.url = f"http://{HOST}:{port}" if port is not None else None
        self.proc, self.uvicorn, self.thread = proc, uvicorn_server, thread
        self._log, self._log_start = log, log_start
        self.output = ""  # what the process printed (stdout and stderr), filled in when it stopped

    @property
    def returncode(self) -> int | None:
        return self.proc.returncode if self.proc is not None else None

    def running(self) -> bool:
        if self.proc is not None:
            return self.proc.poll() is None
        return self.thread is not None and self.thread.is_alive()

    def read_output(self) -> str:
        """What the process has printed so far (an app in a thread prints to this process)."""
        if self._log is None or not self._log.exists():
            return ""
        with open(self._log, "rb") as f:
            f.seek(self._log_start)
            return f.read().decode(errors="replace")

    def tail(self, lines: int = 30) -> str:
        text = self.read_output().rstrip()
        if not text:
            if self.proc is None:
                return "(an app in a thread of this process: its log is in the test's captured output)"
            return "(it printed nothing)"
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, timeout: float = 20) -> None:
        """SIGTERM, then SIGKILL after `timeout` seconds; keep the output. Safe to call twice."""
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(10)
            self.output = self.read_output()
        elif self.uvicorn is not None and self.thread is not None:
            self.uvicorn.should_exit = True
            self.thread.join(timeout)
            if self.thread.is_alive():
                self.uvicorn.force_exit = True
                self.thread.join(5)


def _http_check(url: str, status: int | None) -> Callable[[], bool]:
    def check() -> bool:
        r = httpx.get(url, timeout=1)
        return status is None or r.status_code == status
    return check


def _tcp_check(port: int) -> Callable[[], bool]:
    def check() -> bool:
        with socket.create_connection((HOST, port), timeout=0.2):
            return True
    return check


def wait_until_ready(server: Server, check: Callable[[], bool], what: str, timeout: float = 30) -> None:
    """Poll `check` until it returns True; fail (with the server's last output) if the server
    exits first or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        if not server.running():
            code = f" with code {server.returncode}" if server.proc is not None else ""
            pytest.fail(f"{server.name} exited{code} before it answered ({what}); its last output:\n"
                        f"{server.tail()}")
        try:
            if check():
                return
        except (OSError, httpx.HTTPError):
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"{server.name} did not answer ({what}) within {timeout:g} s; its last output:\n"
                        f"{server.tail()}")
        time.sleep(0.05)


@contextlib.contextmanager
def serve(target: Sequence[str] | Any, *, port: int | None = None,
          ready: str | Callable[[], bool] | None = None, status: int | None = None,
          env: dict[str, str] | None = None, cwd: Path | str | None = None, log: Path | None = None,
          name: str | None = None, timeout: float = 30, stop_timeout: float = 20) -> Iterator[Server]:
    """Start `target`, wait until it answers (see the module's doc), yield its Server, stop it.

    target: an argv list (a subprocess; its stdout and stderr go to `log`, appended, or to a
    temporary file) or an ASGI app (uvicorn in a daemon thread, on `port` or a free one).
    """
    if isinstance(target, (list, tuple)):
        cm = _serve_process(list(target), port, env, cwd, log, name or Path(target[0]).name, stop_timeout)
    else:
        cm = _serve_app(target, free_port() if port is None else port, name or "app", stop_timeout)
    with cm as server:
        if callable(ready):
            check, what = ready, getattr(ready, "__name__", "ready check")
        elif ready is not None:
            url = ready if ready.startswith("http") else f"{server.url}{ready}"
            check, what = _http_check(url, status), f"GET {url}" + (f" -> {status}" if status else "")
        elif server.proc is not None:
            if port is None:
                raise ValueError("serve() needs a port or a ready check to know when a process answers")
            check, what = _tcp_check(port), f"TCP port {port}"
        else:
            check, what = (lambda: server.uvicorn.started), "uvicorn startup"
        wait_until_ready(server, check, what, timeout)
        yield server


@contextlib.contextmanager
def _serve_process(argv: list[str], port: int | None, env: dict[str, str] | None, cwd: Path | str | None,
                   log: Path | None, name: str, stop_timeout: float) -> Iterator[Server]:
    temporary = log is None
    if temporary:
        fd, path = tempfile.mkstemp(prefix=f"{name}-", suffix=".log")
        os.close(fd)
        log = Path(path)
    try:
        with open(log, "ab") as out:  # a file, not a pipe: a full pipe would stall the server
            start = out.tell()
            proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
        server = Server(name, port, proc=proc, log=log, log_start=start)
        try:
            yield server
        finally:
            server.stop(stop_timeout)
    finally:
        if temporary:
            log.unlink(missing_ok=True)


@contextlib.contextmanager
def _serve_app(app: Any, port: int, name: str, stop_timeout: float) -> Iterator[Server]:
    import uvicorn

    config = uvicorn.Config(app, host=HOST, port=port, log_config=None, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True, name=f"{name}:{port}")
    handle = Server(name, port, uvicorn_server=server, thread=thread)
    thread.start()
    try:
        yield handle
    finally:
        handle.stop(stop_timeout)


# --- the checkout CLI as a real process -------------------------------------------------------

CLI = [sys.executable, "-c", "from checkout.cli.main import main; main()"]
FAST_ENV = {"ARGON2_TIME_COST": "1", "ARGON2_MEMORY_COST": "8", "ARGON2_PARALLELISM": "1"}
SIGTERMED = (0, -signal.SIGTERM)  # return codes of a clean stop: uvicorn re-raises SIGTERM after shutting down


def base_env(**extra: str) -> dict[str, str]:
    """A near-empty environment for a CLI subprocess: PATH, HOME, coverage's and Python's path."""
    keep = {k: os.environ[k] for k in ("PATH", "HOME", "COVERAGE_PROCESS_START", "PYTHONPATH") if k in os.environ}
    return {**keep, **extra}


@contextlib.contextmanager
def serve_edge(cwd: Path, env: dict[str, str], *, port: int | None = None, log: Path | None = None,
               timeout: float = 30) -> Iterator[Server]:
    """`digitaldock edge` on `port` (or a free one), ready once /healthz answers 200. CHECKOUT_URL
    defaults to its own URL."""
    port = free_port() if port is None else port
    env = {**env, "CHECKOUT_URL": env.get("CHECKOUT_URL", f"http://{HOST}:{port}")}
    with serve([*CLI, "edge", "--port", str(port)], port=port, ready="/healthz", status=200, cwd=cwd, env=env,
               log=log, name="edge", timeout=timeout) as edge:
        yield edge


@contextlib.contextmanager
def shop_stack(root: Path, repo_root: Path, *, commands: Sequence[Sequence[str]] = ()) -> Iterator[dict[str, Any]]:
    """The whole local shop as real servers on free ports, for browser tests: the repository's
    content built into `root/output` and served with the production headers, `digitaldock seed`,
    then any extra CLI `commands` (such as a discount code), the Paystack sandbox and the edge.
    Yields the URLs, the catalogue, the seed's output (demo passwords) and the edge's environment."""
    import json
    import re

    from generator.build import build
    from generator.serve import make_server

    site_port, edge_port, sandbox_port = free_port(), free_port(), free_port()
    site, edge = f"http://{HOST}:{site_port}", f"http://{HOST}:{edge_port}"
    out = build(root / "output", repo_root / "pelicanconf.py",
                overrides={"PATH": str(repo_root / "content"), "THEME": str(repo_root / "digitaldock/theme"),
                           "PLUGIN_PATHS": [str(repo_root)], "SITEURL": site, "CHECKOUT_URL": edge})
    server = make_server(out, HOST, site_port, site_url=site, checkout_url=edge, pay_url=f"http://{HOST}:{sandbox_port}")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = base_env(**FAST_ENV, CATALOG_PATH=str(out / "catalog.json"), DIGITALDOCK_DATA_DIR=str(root / "data"),
                   CONTENT_DIR=str(repo_root / "content"), SITE_URL=site, CHECKOUT_URL=edge,
                   PAYSTACK_BASE_URL=f"http://{HOST}:{sandbox_port}",
                   PAYSTACK_WEBHOOK_URL=f"{edge}/webhooks/paystack", OUTBOX_POLL_SECONDS="0.2")
    seeded = subprocess.run([*CLI, "seed"], cwd=root, env=env, capture_output=True, text=True, check=True).stdout
    for command in commands:
        subprocess.run([*CLI, *command], cwd=root, env=env, capture_output=True, text=True, check=True)
    try:
        with (serve([*CLI, "sandbox", "--port", str(sandbox_port)], port=sandbox_port, ready="/", cwd=root, env=env,
                    log=root / "sandbox.log", name="sandbox"),
              serve_edge(root, env, port=edge_port, log=root / "edge.log")):
            yield {"site": site, "edge": edge, "root": root, "env": env, "seeded": seeded,
                   "password": re.search(r"^buyer\s+buyer@example.com\s+(\S+)$", seeded, re.M).group(1),
                   "catalog": json.loads((out / "catalog.json").read_text())}
    finally:
        server.shutdown()
        server.server_close()
