"""Zero-downtime deploys of the edge behind Caddy, and the deployment environment template.

`deploy()` alternates the edge between two local ports (default 8001 and 8002):

1. migrate the database forward (migrations only add tables, columns and indexes, so the old
   version keeps working on the new schema while both run; SQLite's WAL lets two processes
   share the file);
2. start the new version beside the old one on the other port and wait for its `/readyz`
   (if it never gets ready, it is stopped and the old one keeps serving: nothing changed);
3. switch Caddy's upstream through its admin API (every `reverse_proxy` upstream pointing at
   an edge port is patched to the new port; Caddy applies config gracefully, requests in
   flight finish on the old upstream);
4. drain the old version: SIGTERM, which uvicorn answers by finishing in-flight requests
   (webhooks included) before exiting.

Processes are managed either directly (`process`: pid in `<state>/deploy.json`) or by systemd
(`systemd`: the template unit `digitaldock-edge@PORT.service` in deploy/systemd/).

`env_example()` renders `deploy/env.example` from every setting the code declares.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import structlog

log = structlog.get_logger("checkout.deploy")


# Edges started by this process: kept so their Popen objects are not collected while they run.
_STARTED: list[subprocess.Popen] = []


class DeployError(Exception):
    """A deploy step failed; the message says which. The old version is still serving."""


# --- Caddy ----------------------------------------------------------------------------------

def _upstream_lists(node: Any, path: str = "") -> Iterator[tuple[str, list[dict[str, Any]]]]:
    if isinstance(node, dict):
        for key, value in node.items():
            sub = f"{path}/{key}"
            if key == "upstreams" and isinstance(value, list):
                yield sub, value
            else:
                yield from _upstream_lists(value, sub)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _upstream_lists(value, f"{path}/{i}")


def switch_caddy(admin_url: str, ports: tuple[int, ...], new_port: int, host: str = "127.0.0.1") -> int:
    """Point every Caddy upstream that dials one of `ports` at `new_port`; return how many changed."""
    admin = admin_url.rstrip("/")
    try:
        config = httpx.get(f"{admin}/config/", timeout=10).json()
        changed = 0
        for path, upstreams in _upstream_lists(config):
            dials = [u.get("dial", "") for u in upstreams]
            if not any(d.rsplit(":", 1)[-1] in {str(p) for p in ports} for d in dials):
                continue
            r = httpx.patch(f"{admin}/config{path}", json=[{"dial": f"{host}:{new_port}"}], timeout=10)
            if r.status_code >= 400:
                raise DeployError(f"Caddy refused the upstream switch: HTTP {r.status_code} {r.text.strip()[:200]}")
            changed += 1
    except httpx.HTTPError as exc:
        raise DeployError(f"cannot reach Caddy's admin API at {admin} ({type(exc).__name__})") from None
    if not changed:
        raise DeployError(f"Caddy has no reverse_proxy upstream on ports {ports}; check the Caddyfile")
    return changed


# --- processes ------------------------------------------------------------------------------

def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - someone else's process
        return True
    try:  # a zombie child of ours counts as gone
        done, _ = os.waitpid(pid, os.WNOHANG)
        return done == 0
    except ChildProcessError:
        return True


def start_edge(port: int, manager: str, log_dir: Path, host: str = "127.0.0.1") -> int | None:
    if manager == "systemd":
        subprocess.run(["systemctl", "start", f"digitaldock-edge@{port}.service"], check=True)
        return None
    log_dir.mkdir(parents=True, exist_ok=True)
    with (log_dir / f"edge-{port}.log").open("ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", "digitaldock.cli", "edge", "--host", host, "--port", str(port)],
                                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
    _STARTED.append(proc)
    return proc.pid


def stop_edge(port: int, pid: int | None, manager: str, timeout: float = 40.0) -> None:
    """Graceful stop: SIGTERM lets uvicorn finish in-flight requests, then exit."""
    if manager == "systemd":
        subprocess.run(["systemctl", "stop", f"digitaldock-edge@{port}.service"], check=True)
        return
    if pid is None or not _alive(pid):
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if _alive(pid):  # pragma: no cover - a hung edge
        os.kill(pid, signal.SIGKILL)


def wait_ready(url: str, timeout: float, pid: int | None = None) -> bool:
    """Poll `url` until it answers 200; False on timeout or when process `pid` has died."""
    from .backup import poll_ready

    return poll_ready(url, timeout, (lambda: _alive(pid)) if pid is not None else None)


def migrate() -> str:
    proc = subprocess.run([sys.executable, "-m", "digitaldock.cli", "migrate"], capture_output=True, text=True)
    if proc.returncode != 0:
        raise DeployError("migration failed: " + ((proc.stderr or proc.stdout).strip().splitlines() or ["?"])[-1])
    return proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""


def deploy(state_dir: Path, caddy_admin: str, ports: tuple[int, int] = (8001, 8002), manager: str = "process",
           host: str = "127.0.0.1", ready_timeout: float = 60.0, say: Any = print,
           settle: float = 2.0) -> dict[str, Any]:
    """Start the new edge beside the old, switch Caddy, drain the old. Returns the new state."""
    state_dir = Path(state_dir)
    state_dir.mkdir(parents=True, exist_ok=True)
    state_file = state_dir / "deploy.json"
    state = json.loads(state_file.read_text()) if state_file.exists() else {}
    old_port, old_pid = state.get("port"), state.get("pid")
    new_port = ports[1] if old_port == ports[0] else ports[0]
    say(migrate() or "migrated")
    say(f"starting the new edge on port {new_port}")
    pid = start_edge(new_port, manager, state_dir, host)
    if not wait_ready(f"http://{host}:{new_port}/readyz", ready_timeout, pid):
        stop_edge(new_port, pid, manager)
        raise DeployError(f"the new edge on port {new_port} did not become ready; the old one keeps serving")
    try:
        changed = switch_caddy(caddy_admin, ports, new_port, host)
    except DeployError:
        stop_edge(new_port, pid, manager)
        raise
    say(f"caddy now proxies to port {new_port} ({changed} upstream(s) switched)")
    if old_port is not None:
        # Requests Caddy accepted under the old config may still be on their way to the old
        # edge: give them a moment to arrive before it stops accepting connections.
        time.sleep(settle)
        say(f"draining the old edge on port {old_port}")
        stop_edge(old_port, old_pid, manager)
    new_state = {"port": new_port, "pid": pid, "previous_port": old_port, "deployed_at": time.time()}
    state_file.write_text(json.dumps(new_state))
    say(f"deployed: edge on port {new_port}")
    return new_state


# --- environment template -------------------------------------------------------------------

EXTRA_ENV = [
    ("deploy", "AWS_REGION", "auto", "Region of the backup bucket (R2: `auto`); read by boto3 and Litestream."),
    ("deploy", "SITE_DOMAIN", "digitaldock.example", "Caddy: the storefront's domain (TLS certificate, static files)."),
    ("deploy", "CHECKOUT_DOMAIN", "checkout.digitaldock.example", "Caddy: the edge's domain (TLS, reverse proxy)."),
]


def env_example() -> str:
    """Every setting as `NAME=default` with its help as a comment, grouped by part."""
    from digitaldock.settings_doc import rows

    lines = ["# DigitalDock environment: every setting, generated by `python -m checkout.deploy`",
             "# (a test keeps it complete). Copy to /etc/digitaldock/env and fill in the secrets.", ""]
    part = None
    for p, name, default, help_ in [*rows(), *EXTRA_ENV]:
        if p != part:
            lines += ["", f"# --- {p} ---"] if part else [f"# --- {p} ---"]
            part = p
        lines.append(f"# {help_}")
        lines.append(f"{name}={'' if default in ('None',) else default}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # pragma: no cover
    target = Path(__file__).resolve().parent.parent / "deploy" / "env.example"
    target.write_text(env_example())
    print(f"wrote {target}")
