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


@pytest.fixture(scope="module")
def chromium():
    """Debian's Chromium driven by Playwright (no downloaded browser: the machine is offline).

    One per test module, not per session: Playwright's sync API marks its event loop as
    running in this thread from start to stop (its design: every sync call runs that loop),
    so while it is started an `asyncio.run()` in the same thread fails. Browser tests live in
    modules of their own (``pytestmark = pytest.mark.browser``), and pytest stops a
    module-scoped fixture before it runs a test of another module, so no other test ever
    sees the loop, whatever the order or the xdist worker. The price is one Chromium start
    per browser module instead of one per session.
    """
    from playwright.sync_api import sync_playwright

    executable = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests and other tests never share a module: see `chromium`."""
    kinds: dict[str, set[bool]] = {}
    for item in items:
        kinds.setdefault(item.nodeid.split("::")[0], set()).add(item.get_closest_marker("browser") is not None)
    mixed = sorted(path for path, found in kinds.items() if len(found) > 1)
    if mixed:
        raise pytest.UsageError(f"browser and non-browser tests in one module: {', '.join(mixed)}; "
                                "keep browser tests in modules of their own (see the chromium fixture)")


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
