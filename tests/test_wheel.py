"""The built wheel installs and runs outside the checkout: `digitaldock migrate`, `edge` and
`build` from a fresh venv, in a folder that is not the repository.

deploy/Dockerfile installs the wheel, so a data file the wheel forgets (a migration, a
template, the password list, the theme) breaks production while every other test, run from
the checkout, passes. The installed commands read nothing from the checkout.

To stay offline and quick, the wheel is installed with --no-deps into a fresh venv whose
dependencies come from this test venv's site-packages, named as a path in a .pth file. A path
in a .pth does not process that folder's own .pth files, so the checkout's editable-install
hook stays off and only the wheel's copy of the project can be imported (asserted below).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import time
import zipfile
from pathlib import Path

import httpx
import pytest

from .conftest import ROOT, free_port

pytestmark = pytest.mark.wheel

PACKAGES = ("digitaldock", "generator", "pipelines", "checkout")
# cheap password hashing: the commands hash a password at most once, but argon2's production
# profile would still dominate their run time
FAST = {"ARGON2_TIME_COST": "1", "ARGON2_MEMORY_COST": "8", "ARGON2_PARALLELISM": "1"}


def _run(argv: list[str], **kw) -> subprocess.CompletedProcess:
    r = subprocess.run(argv, capture_output=True, text=True, timeout=300, **kw)
    assert r.returncode == 0, f"{argv}\n{r.stdout}\n{r.stderr}"
    return r


def _env(**extra: str) -> dict[str, str]:
    """Only what a shell on a server would have: no PYTHONPATH, no VIRTUAL_ENV, and no
    coverage hook (its subprocess measurement would slow pip down and measures nothing here)."""
    keep = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "TMPDIR") if k in os.environ}
    return {**keep, **FAST, **extra}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built from a copy of what deploy/Dockerfile copies into its build stage, so
    the build leaves no build/ or egg-info in the checkout (a stale build/ would also leak
    deleted files into the wheel)."""
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    for name in PACKAGES:
        shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    dist = tmp_path_factory.mktemp("dist")
    _run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "--no-index",
          "--wheel-dir", str(dist), str(src)], env=_env(PIP_DISABLE_PIP_VERSION_CHECK="1"))
    [built] = dist.glob("digitaldock-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv outside the checkout with only the wheel installed; returns its bin/."""
    root = tmp_path_factory.mktemp("venv")
    assert not root.is_relative_to(ROOT)
    _run([sys.executable, "-m", "venv", "--without-pip", str(root)], env=_env())
    py = root / "bin" / "python"
    site = _run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                env=_env()).stdout.strip()
    deps = dict.fromkeys(sysconfig.get_paths()[k] for k in ("purelib", "platlib"))
    (Path(site) / "digitaldock-test-deps.pth").write_text("".join(f"{d}\n" for d in deps))
    _run([sys.executable, "-m", "pip", "--python", str(py), "install", "--quiet", "--no-deps", "--no-index",
          str(wheel)], env=_env(PIP_DISABLE_PIP_VERSION_CHECK="1"))
    return root / "bin"


def _data_files(folder: Path) -> set[str]:
    return {p.relative_to(ROOT).as_posix() for p in folder.rglob("*")
            if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts}


def test_wheel_carries_every_non_python_file_of_the_packages(wheel: Path):
    """Whatever sits beside the code (migrations, theme, password list, and any file added
    later) is read at runtime from the package, so it must be in the wheel."""
    shipped = set(zipfile.ZipFile(wheel).namelist())
    expected = set().union(*(_data_files(ROOT / name) for name in PACKAGES))
    assert {"checkout/core/migrations/0001_accounts.sql", "checkout/accounts/common_passwords.txt",
            "digitaldock/theme/templates/base.html", "digitaldock/theme/templates/edge/email/receipt.txt",
            "digitaldock/theme/static/css/main.css"} <= expected
    assert sorted(expected - shipped) == []


def test_the_installed_copy_is_imported_not_the_checkout(venv: Path, tmp_path: Path):
    probe = ("import json, checkout, digitaldock, generator, pipelines, checkout.accounts.passwords as pw; "
             "print(json.dumps({'prefix': __import__('sys').prefix, "
             "'files': [m.__file__ for m in (checkout, digitaldock, generator, pipelines, pw)]}))")
    out = json.loads(_run([str(venv / "python"), "-c", probe], cwd=tmp_path, env=_env()).stdout)
    prefix = Path(out["prefix"]).resolve()
    assert prefix == venv.parent.resolve()
    for f in out["files"]:
        assert Path(f).resolve().is_relative_to(prefix), f
        assert not Path(f).resolve().is_relative_to(ROOT), f


def test_migrate_build_and_edge_run_from_the_installed_wheel(venv: Path, tmp_path: Path):
    """The production sequence in a folder of its own: migrate, refuse a listed password,
    build the storefront from a copy of content/, serve the edge on it."""
    site = tmp_path / "site"
    shutil.copytree(ROOT / "content", site / "content")
    env = _env(DIGITALDOCK_DATA_DIR=str(tmp_path / "data"))
    dd = str(venv / "digitaldock")

    r = _run([dd, "migrate"], cwd=site, env=env)
    assert "at schema version" in r.stdout
    assert (tmp_path / "data" / "edge.sqlite3").exists()

    # the common-password list is read from the package: a password only it refuses
    r = subprocess.run([dd, "user", "create", "buyer@example.com", "--password", "1q2w3e4r5t6y"], cwd=site,
                       env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and "too common" in r.stderr, r.stdout + r.stderr
    _run([dd, "user", "create", "buyer@example.com", "--password", "blue-otter-harbour-42"], cwd=site, env=env)

    assert not (site / "pelicanconf.py").exists()  # the storefront's built-in settings and theme
    _run([dd, "build"], cwd=site, env=env)
    out = site / "output"
    catalog = json.loads((out / "catalog.json").read_text("utf-8"))
    assert (out / "index.html").is_file() and catalog["products"]
    for slug in catalog["products"]:
        assert (out / "products" / slug / "index.html").is_file(), slug
    assert list((out / "theme" / "css").glob("main.*.css"))

    port = free_port()
    log = (tmp_path / "edge.log").open("wb")
    edge = subprocess.Popen([dd, "edge", "--port", str(port)], cwd=site, env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        healthy = False
        while not healthy and time.monotonic() < deadline and edge.poll() is None:
            try:
                healthy = httpx.get(f"{url}/healthz", timeout=1).status_code == 200
            except httpx.HTTPError:
                time.sleep(0.1)
        assert healthy, (tmp_path / "edge.log").read_text()
        # a template and a static file of the packaged theme; the catalogue the build just wrote
        assert "Create an account" in httpx.get(f"{url}/register", timeout=5).text
        assert httpx.get(f"{url}/theme/css/edge.css", timeout=5).status_code == 200
        checks = httpx.get(f"{url}/readyz", timeout=5).json()["checks"]
        assert checks["database"]["ok"] is True
        assert checks["catalog"]["ok"] is True and checks["catalog"]["source"].endswith("catalog.json")
    finally:
        edge.send_signal(signal.SIGTERM)
        try:
            edge.wait(30)
        finally:
            if edge.poll() is None:
                edge.kill()
                edge.wait()
            log.close()
