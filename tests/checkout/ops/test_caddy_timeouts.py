"""Issue #22: Caddy bounds what uvicorn does not (the time to send headers and a body, idle
keep-alive connections); checked on the JSON the real caddy binary adapts deploy/Caddyfile to."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

CADDYFILE = Path(__file__).resolve().parents[3] / "deploy" / "Caddyfile"
SECOND = 1_000_000_000  # Caddy's JSON durations are nanoseconds


def test_caddy_times_out_slow_headers_slow_bodies_and_idle_connections():
    if not shutil.which("caddy"):
        pytest.skip("caddy is not installed (scripts/system-packages installs it)")
    env = {**os.environ, "SITE_DOMAIN": "shop.example", "CHECKOUT_DOMAIN": "checkout.shop.example"}
    r = subprocess.run(["caddy", "adapt", "--config", str(CADDYFILE), "--adapter", "caddyfile"],
                       capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    server = json.loads(r.stdout)["apps"]["http"]["servers"]["srv0"]
    assert server["read_header_timeout"] == 10 * SECOND
    assert server["idle_timeout"] == 120 * SECOND
    # long enough for the largest upload at about 2 Mbit/s; the edge ends stalled bodies itself
    assert server["read_timeout"] == 2 * 3600 * SECOND
    assert "write_timeout" not in server  # downloads may be long
