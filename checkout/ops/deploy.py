"""Zero-downtime deploys of the edge behind Caddy, and the deployment environment template.

Caddy proxies to both edge ports (default 8001 and 8002) with the `first` policy and an active
health check on `/readyz` (deploy/Caddyfile), so a deploy never changes Caddy's configuration
(a config reload hands listeners over, and under load that once dropped a connection).
`deploy()` alternates the edge between the two ports:

1. migrate the database forward (migrations only add tables, columns and indexes, so the old
   version keeps working on the new schema while both run; SQLite's WAL lets two processes
   share the file);
2. check that Caddy proxies to both ports with a health check (a clear error otherwise);
3. start the new version on the free port and wait for its `/readyz` (if it never gets ready,
   it is stopped and the old one keeps serving: nothing changed), then long enough for
   Caddy's health check to see it;
4. drain the old version: SIGUSR1 turns its `/readyz` to 503, Caddy's health check stops
   sending it new requests, then SIGTERM lets uvicorn finish in-flight requests (webhooks
   included) and exit. A request that still meets it while it closes is retried by Caddy on
   the new one (`lb_try_duration`).

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

from checkout.core.settings_doc import rows
from checkout.ops.backup import poll_ready
from checkout.ops.errors import DeployError

log = structlog.get_logger("checkout.deploy")


# Edges started by this process: kept so their Popen objects are not collected while they run.
_STARTED: list[subprocess.Popen] = []


# --- Caddy ----------------------------------------------------------------------------------

def _proxies(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        if node.get("handler") == "reverse_proxy":
            yield node
        for value in node.values():
            yield from _proxies(value)
    elif isinstance(node, list):
        for value in node:
            yield from _proxies(value)


def check_caddy(admin_url: str, ports: tuple[int, ...]) -> None:
    """Caddy must proxy to every edge port with an active health check on /readyz: that is
    what moves traffic from the draining edge to the new one, without touching Caddy."""
    admin = admin_url.rstrip("/")
    try:
        config = httpx.get(f"{admin}/config/", timeout=10).json()
    except (httpx.HTTPError, ValueError) as exc:
        raise DeployError(f"cannot reach Caddy's admin API at {admin} ({type(exc).__name__})") from None
    wanted = {str(p) for p in ports}
    for proxy in _proxies(config):
        dialled = {u.get("dial", "").rsplit(":", 1)[-1] for u in proxy.get("upstreams", [])}
        if not wanted <= dialled:
            continue
        active = proxy.get("health_checks", {}).get("active", {})
        if not str(active.get("uri", active.get("path", ""))).startswith("/readyz"):
            raise DeployError("Caddy's reverse_proxy to the edge has no active health check on /readyz; "
                              "see deploy/Caddyfile")
        return
    raise DeployError(f"Caddy has no reverse_proxy to both edge ports {', '.join(sorted(wanted))}; "
                      "see deploy/Caddyfile")


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
        proc = subprocess.Popen([sys.executable, "-m", "checkout.cli.main", "edge", "--host", host, "--port", str(port)],
                                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
    _STARTED.append(proc)
    return proc.pid


def drain_edge(port: int, pid: int | None, manager: str) -> None:
    """SIGUSR1: the edge answers /readyz with 503 and keeps serving until it is stopped."""
    if manager == "systemd":
        subprocess.run(["systemctl", "kill", "--signal=SIGUSR1", f"digitaldock-edge@{port}.service"], check=True)
        return
    if pid is not None and _alive(pid):
        os.kill(pid, signal.SIGUSR1)


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

    return poll_ready(url, timeout, (lambda: _alive(pid)) if pid is not None else None)


def migrate() -> str:
    proc = subprocess.run([sys.executable, "-m", "checkout.cli.main", "migrate"], capture_output=True, text=True)
    if proc.returncode != 0:
        raise DeployError("migration failed: " + ((proc.stderr or proc.stdout).strip().splitlines() or ["?"])[-1])
    return proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""


def deploy(state_dir: Path, caddy_admin: str, ports: tuple[int, int] = (8001, 8002), manager: str = "process",
           host: str = "127.0.0.1", ready_timeout: float = 60.0, say: Any = print,
           settle: float = 2.0) -> dict[str, Any]:
    """Start the new edge beside the old, let Caddy's health checks move traffic to it, drain
    the old. `settle` must exceed Caddy's `health_interval` (1 s in deploy/Caddyfile)."""
    state_dir = Path(state_dir)
    state_dir.mkdir(parents=True, exist_ok=True)
    state_file = state_dir / "deploy.json"
    state = json.loads(state_file.read_text()) if state_file.exists() else {}
    old_port, old_pid = state.get("port"), state.get("pid")
    new_port = ports[1] if old_port == ports[0] else ports[0]
    say(migrate() or "migrated")
    check_caddy(caddy_admin, ports)
    say(f"starting the new edge on port {new_port}")
    pid = start_edge(new_port, manager, state_dir, host)
    if not wait_ready(f"http://{host}:{new_port}/readyz", ready_timeout, pid):
        stop_edge(new_port, pid, manager)
        raise DeployError(f"the new edge on port {new_port} did not become ready; the old one keeps serving")
    time.sleep(settle)  # Caddy's health check sees the new edge ready
    if old_port is not None:
        say(f"draining the old edge on port {old_port}")
        drain_edge(old_port, old_pid, manager)
        time.sleep(settle)  # ... and the old one draining: no new requests reach it
        stop_edge(old_port, old_pid, manager)
    say(f"caddy now proxies to port {new_port}")
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


# Where the deployment these files describe needs another value than the code's default (which
# suits `digitaldock edge` on a laptop): Caddy runs on the same host as the systemd units and
# proxies to the edge from 127.0.0.1, FORWARDED_ALLOW_IPS' default. compose.yml sets both
# settings itself for its own network (Caddy at a fixed address). The file is production's, as
# the image is: compose's env_file overrides the image's ENV, so a development value here would
# win over the image's. The URLs are Caddy's domains (EXTRA_ENV), which Caddy also reads for the
# storefront's policy; the data folder is the systemd units' one writable path (compose and the
# image use /data).
DEPLOY_VALUES = {
    "TRUST_PROXY": "true",
    "DIGITALDOCK_ENV": "production",
    "DIGITALDOCK_DATA_DIR": "/var/lib/digitaldock",
    "SITE_URL": "https://digitaldock.example",
    "CHECKOUT_URL": "https://checkout.digitaldock.example",
    "PAYSTACK_BASE_URL": "https://api.paystack.co",
}


def env_example() -> str:
    """Every setting as `NAME=default` with its help as a comment, grouped by part; the values
    of DEPLOY_VALUES instead of the default where the deployment needs them."""

    lines = ["# DigitalDock environment: every setting, generated by `python -m checkout.ops.deploy`",
             "# (a test keeps it complete). Copy to /etc/digitaldock/env and fill in the secrets.", ""]
    part = None
    for p, name, default, help_ in [*rows(), *EXTRA_ENV]:
        if p != part:
            lines += ["", f"# --- {p} ---"] if part else [f"# --- {p} ---"]
            part = p
        lines.append(f"# {help_}")
        default = DEPLOY_VALUES.get(name, default)
        lines.append(f"{name}={'' if default in ('None',) else default}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # pragma: no cover
    # a developer tool that rewrites a repository file; from an installed wheel, parents[2] is
    # site-packages' parent, so it refuses instead of writing there
    if not (Path(__file__).resolve().parents[2] / "pyproject.toml").is_file():
        sys.exit("run this from a source checkout: deploy/env.example lives in the repository")
    target = Path(__file__).resolve().parents[2] / "deploy" / "env.example"
    target.write_text(env_example())
    print(f"wrote {target}")
