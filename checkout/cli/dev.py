"""`digitaldock dev`: the whole local stack in one command, on embedded defaults.

Starts the storefront (build, serve on :8000, rebuild on change), then the checkout edge
(:8001) and the Paystack sandbox (:8002) when those commands are installed, and stops them
all together. Each runs as its own process so a crash in one is visible and does not take
the others down silently.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

import click

SITE_PORT, EDGE_PORT, SANDBOX_PORT = 8000, 8001, 8002


def stack(host: str = "127.0.0.1") -> list[tuple[str, list[str]]]:
    """The processes of the local stack, as (name, argv)."""
    exe = [sys.executable, "-m", "checkout.cli.main"]
    return [("storefront", exe + ["serve", "--host", host, "--port", str(SITE_PORT)]),
            ("edge", exe + ["edge", "--host", host, "--port", str(EDGE_PORT)]),
            ("sandbox", exe + ["sandbox", "--host", host, "--port", str(SANDBOX_PORT)])]


def stack_env(host: str = "127.0.0.1") -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("SITE_URL", f"http://{host}:{SITE_PORT}")
    env.setdefault("CHECKOUT_URL", f"http://{host}:{EDGE_PORT}")
    env.setdefault("PAYSTACK_BASE_URL", f"http://{host}:{SANDBOX_PORT}")
    env.setdefault("PAYSTACK_WEBHOOK_URL", f"http://{host}:{EDGE_PORT}/webhooks/paystack")
    return env


QUIET_PARTS = ("edge", "sandbox")  # they log a JSON line per request: to files, unless --verbose


def log_folder(env: dict[str, str]) -> Path:
    return Path(env.get("DIGITALDOCK_DATA_DIR") or "data") / "logs"


def output_for(name: str, folder: Path, verbose: bool) -> IO[bytes] | None:
    """Where a part's output goes: the terminal (None) for the storefront, which prints the
    content problems an author must see, and a file in `folder` for the JSON-logging parts."""
    if verbose or name not in QUIET_PARTS:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    return (folder / f"{name}.log").open("ab")


def tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return ""


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("-v", "--verbose", is_flag=True, help="Print the edge's and the sandbox's logs here too.")
def dev(host: str, verbose: bool) -> None:  # pragma: no cover - interactive; its parts are tested one by one
    """Run the storefront, the checkout edge and the Paystack sandbox together (Ctrl-C stops)."""
    env = stack_env(host)
    logs = log_folder(env)
    running = []
    for name, argv in stack(host):
        out = output_for(name, logs, verbose)
        running.append((name, subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT if out else None)))
        if out:
            out.close()  # the child has its own copy
        if name == "storefront":
            time.sleep(1.5)  # the edge reads the catalogue the first build writes
    time.sleep(1.0)
    click.echo("\nDemo accounts (role, email, password):")
    seeded = subprocess.run([sys.executable, "-m", "checkout.cli.main", "seed", "--wait", "30"], env=env, check=False,
                            stderr=None if verbose else subprocess.PIPE, text=True)
    if seeded.returncode and seeded.stderr:  # its JSON logs are noise, but not its failure
        click.echo(seeded.stderr.strip().splitlines()[-1], err=True)
    quiet = [] if verbose else [n for n, _ in running if n in QUIET_PARTS]
    click.echo(f"\nDigitalDock is running: open http://{host}:{SITE_PORT}/  (Ctrl-C stops everything)\n"
               f"Pay with the Paystack sandbox's test page; downloads appear in "
               f"http://{host}:{EDGE_PORT}/library\n"
               + (f"Logs of the {' and the '.join(quiet)}: {logs}/ (or run with --verbose)\n" if quiet else ""))
    try:
        while all(p.poll() is None for _, p in running):
            time.sleep(0.5)
        dead = [name for name, p in running if p.poll() is not None]
        click.echo(f"stopped because {', '.join(dead)} exited", err=True)
        for name in dead:
            if name in QUIET_PARTS and not verbose:
                click.echo(f"--- last lines of {logs / (name + '.log')}:\n{tail(logs / (name + '.log'))}", err=True)
    except KeyboardInterrupt:
        pass
    finally:
        for _, p in running:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for _, p in running:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()


COMMANDS = [dev]
