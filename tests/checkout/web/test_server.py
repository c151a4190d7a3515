"""The edge as a real uvicorn process on 127.0.0.1: no-environment start, graceful shutdown,
and an outbox that neither loses nor duplicates email across a restart."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import time

import httpx
import pytest

from ...servers import CLI, FAST_ENV, SIGTERMED, base_env, serve_edge
from ..conftest import PASSWORD, write_catalog


def stopped_cleanly(log: str) -> bool:
    return '"event": "edge_stopped"' in log


def test_runs_with_no_environment_at_all(tmp_path):
    with serve_edge(tmp_path, base_env()) as edge:
        url = edge.url
        assert httpx.get(f"{url}/healthz").json() == {"status": "ok"}
        r = httpx.get(f"{url}/readyz")
        assert r.json()["checks"]["database"]["ok"] is True
        assert httpx.get(f"{url}/api/openapi.json").status_code == 200
        assert "Create an account" in httpx.get(f"{url}/register").text
    assert edge.returncode in SIGTERMED
    assert stopped_cleanly(edge.output)
    assert (tmp_path / "data" / "edge.sqlite3").exists()


def test_sigterm_lets_an_in_flight_request_finish(tmp_path):
    write_catalog(tmp_path / "catalog.json")
    env = base_env(CATALOG_PATH=str(tmp_path / "catalog.json"), OUTBOX_POLL_SECONDS="0", **FAST_ENV)
    subprocess.run([*CLI, "user", "create", "ops@example.com", "--password", PASSWORD], cwd=tmp_path, env=env,
                   check=True, capture_output=True)
    body = json.dumps({"grant_type": "password", "email": "ops@example.com", "password": PASSWORD}).encode()
    with serve_edge(tmp_path, env) as edge:
        with socket.create_connection(("127.0.0.1", edge.port)) as sock:
            sock.sendall(b"POST /api/auth/token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                         b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body[:10])
            time.sleep(0.5)  # let the server start the request before it is told to stop
            edge.proc.send_signal(signal.SIGTERM)
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
        edge.proc.wait(timeout=20)
    assert stopped_cleanly(edge.output)
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"{edge.url}/healthz", timeout=1)


def test_outbox_survives_restart_without_loss_or_duplicates(tmp_path, resend):
    write_catalog(tmp_path / "catalog.json")
    env = base_env(CATALOG_PATH=str(tmp_path / "catalog.json"), EMAIL_BACKEND="resend", RESEND_API_KEY="re_test",
                   RESEND_BASE_URL=resend.url, OUTBOX_POLL_SECONDS="0.05", OUTBOX_BACKOFF_SECONDS="0.05",
                   OUTBOX_MAX_ATTEMPTS="1000", **FAST_ENV)
    httpx.post(f"{resend.url}/_control/fail", json={"count": 1_000_000, "status": 503})
    with serve_edge(tmp_path, env) as edge:
        url = edge.url
        r = httpx.post(f"{url}/api/users", json={"email": "kim@example.com", "password": PASSWORD,
                                                 "display_name": "Kim", "accept": ["terms", "privacy"]})
        assert r.status_code == 202
        metrics = ""
        for _ in range(200):
            metrics = httpx.get(f"{url}/metrics").text
            if "digitaldock_emails_failed_total 0.0" not in metrics:
                break
            time.sleep(0.05)
        assert "digitaldock_outbox_depth 1.0" in metrics
    assert edge.returncode in SIGTERMED
    assert stopped_cleanly(edge.output)
    assert httpx.get(f"{resend.url}/_control/messages").json() == []
    httpx.post(f"{resend.url}/_control/fail", json={"count": 0})
    with serve_edge(tmp_path, env) as edge:
        for _ in range(200):
            if "digitaldock_outbox_depth 0.0" in httpx.get(f"{edge.url}/metrics").text:
                break
            time.sleep(0.05)
        messages = httpx.get(f"{resend.url}/_control/messages").json()
        assert [m["to"] for m in messages] == [["kim@example.com"]]
    assert edge.returncode in SIGTERMED
    assert stopped_cleanly(edge.output)
