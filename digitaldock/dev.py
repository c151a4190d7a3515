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

import click

SITE_PORT, EDGE_PORT, SANDBOX_PORT = 8000, 8001, 8002


def _commands() -> dict:
    from .cli import all_commands

    return all_commands()


def stack(host: str = "127.0.0.1") -> list[tuple[str, list[str]]]:
    """The processes of the local stack, as (name, argv), skipping commands not installed."""
    commands = _commands()  # imported late: the CLI imports this module while it starts
    exe = [sys.executable, "-m", "digitaldock.cli"]
    procs = [("storefront", exe + ["serve", "--host", host, "--port", str(SITE_PORT)])]
    if "edge" in commands:
        procs.append(("edge", exe + ["edge", "--host", host, "--port", str(EDGE_PORT)]))
    if "sandbox" in commands:
        procs.append(("sandbox", exe + ["sandbox", "--host", host, "--port", str(SANDBOX_PORT)]))
    return procs


def stack_env(host: str = "127.0.0.1") -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("SITE_URL", f"http://{host}:{SITE_PORT}")
    env.setdefault("CHECKOUT_URL", f"http://{host}:{EDGE_PORT}")
    if "sandbox" in _commands():
        env.setdefault("PAYSTACK_BASE_URL", f"http://{host}:{SANDBOX_PORT}")
        env.setdefault("PAYSTACK_WEBHOOK_URL", f"http://{host}:{EDGE_PORT}/webhooks/paystack")
    return env


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
def dev(host: str) -> None:  # pragma: no cover - interactive; its parts are tested one by one
    """Run the storefront, the checkout edge and the Paystack sandbox together (Ctrl-C stops)."""
    env = stack_env(host)
    running = []
    for name, argv in stack(host):
        running.append((name, subprocess.Popen(argv, env=env)))
        if name == "storefront":
            time.sleep(1.5)  # the edge reads the catalogue the first build writes
    if "seed" in _commands():
        time.sleep(1.0)
        click.echo("\nDemo accounts (role, email, password):")
        subprocess.run([sys.executable, "-m", "digitaldock.cli", "seed"], env=env, check=False)
    click.echo(f"\nDigitalDock is running: open http://{host}:{SITE_PORT}/  (Ctrl-C stops everything)\n"
               f"Pay with the Paystack sandbox's test page; downloads appear in "
               f"http://{host}:{EDGE_PORT}/library\n")
    try:
        while all(p.poll() is None for _, p in running):
            time.sleep(0.5)
        dead = [name for name, p in running if p.poll() is not None]
        click.echo(f"stopped because {', '.join(dead)} exited", err=True)
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
