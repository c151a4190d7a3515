"""The edge as a real uvicorn process on 127.0.0.1: no-environment start, graceful shutdown,
and an outbox that neither loses nor duplicates email across a restart."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from ..conftest import PASSWORD, free_port, write_catalog

FAST_ENV = {"ARGON2_TIME_COST": "1", "ARGON2_MEMORY_COST": "8", "ARGON2_PARALLELISM": "1"}
CLI = [sys.executable, "-c", "from checkout.cli.main import main; main()"]


def base_env(**extra: str) -> dict[str, str]:
    keep = {k: os.environ[k] for k in ("PATH", "HOME", "COVERAGE_PROCESS_START", "PYTHONPATH") if k in os.environ}
    return {**keep, **extra}


def start_edge(cwd: Path, env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**env, "CHECKOUT_URL": env.get("CHECKOUT_URL", f"http://127.0.0.1:{port}")}
    proc = subprocess.Popen([*CLI, "edge", "--port", str(port)], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        if proc.poll() is not None:
            raise AssertionError(proc.stdout.read().decode())
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.05)
    proc.kill()
    raise AssertionError("edge did not start")


def stop(proc: subprocess.Popen) -> str:
    """SIGTERM, wait, and return the log; uvicorn re-raises the signal after a clean shutdown."""
    proc.send_signal(signal.SIGTERM)
    try:
        out, _ = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode in (0, -signal.SIGTERM)
    return out.decode()


def stopped_cleanly(log: str) -> bool:
    return '"event": "edge_stopped"' in log


def test_runs_with_no_environment_at_all(tmp_path):
    proc, url = start_edge(tmp_path, base_env())
    try:
        assert httpx.get(f"{url}/healthz").json() == {"status": "ok"}
        r = httpx.get(f"{url}/readyz")
        assert r.json()["checks"]["database"]["ok"] is True
        assert httpx.get(f"{url}/api/openapi.json").status_code == 200
        assert "Create an account" in httpx.get(f"{url}/register").text
    finally:
        assert stopped_cleanly(stop(proc))
    assert (tmp_path / "data" / "edge.sqlite3").exists()


def test_sigterm_lets_an_in_flight_request_finish(tmp_path):
    write_catalog(tmp_path / "catalog.json")
    env = base_env(CATALOG_PATH=str(tmp_path / "catalog.json"), OUTBOX_POLL_SECONDS="0", **FAST_ENV)
    subprocess.run([*CLI, "user", "create", "ops@example.com", "--password", PASSWORD], cwd=tmp_path, env=env,
                   check=True, capture_output=True)
    proc, url = start_edge(tmp_path, env)
    body = json.dumps({"grant_type": "password", "email": "ops@example.com", "password": PASSWORD}).encode()
    port = int(url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"POST /api/auth/token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                     b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body[:10])
        time.sleep(0.5)  # let the server start the request before it is told to stop
        proc.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        sock.sendall(body[10:])
        sock.settimeout(20)
        data = b""
        while b"\r\n\r\n" not in data or not data.rstrip().endswith(b"}"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    assert data.startswith(b"HTTP/1.1 200"), data[:200]
    assert b"access_token" in data
    out, _ = proc.communicate(timeout=20)
    assert stopped_cleanly(out.decode())
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"{url}/healthz", timeout=1)


def test_outbox_survives_restart_without_loss_or_duplicates(tmp_path, resend):
    write_catalog(tmp_path / "catalog.json")
    env = base_env(CATALOG_PATH=str(tmp_path / "catalog.json"), EMAIL_BACKEND="resend", RESEND_API_KEY="re_test",
                   RESEND_BASE_URL=resend.url, OUTBOX_POLL_SECONDS="0.05", OUTBOX_BACKOFF_SECONDS="0.05",
                   OUTBOX_MAX_ATTEMPTS="1000", **FAST_ENV)
    httpx.post(f"{resend.url}/_control/fail", json={"count": 1_000_000, "status": 503})
    proc, url = start_edge(tmp_path, env)
    try:
        r = httpx.post(f"{url}/api/users", json={"email": "kim@example.com", "password": PASSWORD,
                                                 "display_name": "Kim", "accept": ["terms", "privacy"]})
        assert r.status_code == 201
        metrics = ""
        for _ in range(200):
            metrics = httpx.get(f"{url}/metrics").text
            if "digitaldock_emails_failed_total 0.0" not in metrics:
                break
            time.sleep(0.05)
        assert "digitaldock_outbox_depth 1.0" in metrics
    finally:
        assert stopped_cleanly(stop(proc))
    assert httpx.get(f"{resend.url}/_control/messages").json() == []
    httpx.post(f"{resend.url}/_control/fail", json={"count": 0})
    proc, url = start_edge(tmp_path, env)
    try:
        for _ in range(200):
            if "digitaldock_outbox_depth 0.0" in httpx.get(f"{url}/metrics").text:
                break
            time.sleep(0.05)
        messages = httpx.get(f"{resend.url}/_control/messages").json()
        assert [m["to"] for m in messages] == [["kim@example.com"]]
    finally:
        assert stopped_cleanly(stop(proc))
