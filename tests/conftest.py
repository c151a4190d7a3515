"""Fixtures shared by every test area. Area-specific fixtures live in tests/<area>/conftest.py."""

from __future__ import annotations

import os
import shutil
import socket
import sys
from pathlib import Path

import pytest

from .servers import free_port, serve

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic"]


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def chromium():
    """Debian's Chromium driven by Playwright (no downloaded browser: the machine is offline)."""
    from playwright.sync_api import sync_playwright

    executable = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(autouse=True)
def _hide_playwrights_loop(request):
    """Playwright's sync API leaves its event loop marked as running in this thread for the
    whole session, so a later non-browser test's `asyncio.run()` would fail depending on test
    order. Outside browser tests the marker is cleared, and restored afterwards."""
    import asyncio

    leaked = asyncio.events._get_running_loop()
    if leaked is None or request.node.get_closest_marker("browser"):
        yield
        return
    asyncio.events._set_running_loop(None)
    try:
        yield
    finally:
        asyncio.events._set_running_loop(leaked)


# --- real parts on loopback, shared by the pipeline and edge tests ---------------------------

CLAMD = shutil.which("clamd") or "/usr/sbin/clamd"


@pytest.fixture(scope="session")
def clamd(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A real clamd on a unix socket and a loopback port, with the EICAR database of
    tests/pipelines/clamav/.

    Returns the environment that points `digitaldock scan` at it through the socket (and the
    TCP port under "port").
    """
    if not os.path.exists(CLAMD):
        pytest.skip("clamd is not installed (apt-get install clamav-daemon)")
    d = tmp_path_factory.mktemp("clamd")
    db = d / "db"
    shutil.copytree(ROOT / "tests" / "pipelines" / "clamav", db, ignore=shutil.ignore_patterns("*.md"))
    sock = d / "clamd.sock"
    conf = d / "clamd.conf"
    port = free_port()
    user = "User root\n" if os.geteuid() == 0 else ""
    conf.write_text(f"DatabaseDirectory {db}\nLocalSocket {sock}\nForeground yes\n{user}"
                    f"TCPSocket {port}\nTCPAddr 127.0.0.1\n"
                    f"LogFile {d / 'clamd.log'}\nPidFile {d / 'clamd.pid'}\nStreamMaxLength 600M\n")

    def pong_on_the_socket() -> bool:
        with socket.socket(socket.AF_UNIX) as s:
            s.connect(str(sock))
            s.sendall(b"zPING\0")
            return s.recv(16).startswith(b"PONG")

    with serve([CLAMD, "-c", str(conf)], ready=pong_on_the_socket, name="clamd"):
        yield {"CLAMD_SOCKET": str(sock), "port": str(port)}


@pytest.fixture(scope="session")
def moto_endpoint() -> str:
    """A real S3 HTTP endpoint on loopback (moto's server)."""
    port = free_port()
    exe = Path(sys.executable).parent / "moto_server"
    with serve([str(exe), "-H", "127.0.0.1", "-p", str(port)], port=port) as server:
        yield server.url


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> dict:
    """Test credentials for moto in the environment, and no other AWS settings."""
    env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "AWS_DEFAULT_REGION": "us-east-1"}
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    for k in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_REGION"):
        monkeypatch.delenv(k, raising=False)
    return env
