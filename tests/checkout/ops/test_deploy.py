"""Deployment files (linted, adapted, verified without a container engine) and a zero-downtime
deploy driven through Caddy from Debian while a client keeps sending requests."""

from __future__ import annotations

import configparser
import json
import os
import shlex
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
import yaml
from click.testing import CliRunner

from checkout.cli.main import main
from checkout.core.settings_doc import rows
from checkout.ops import deploy

from ...servers import free_port, serve

ROOT = Path(__file__).resolve().parents[3]
DEPLOY = ROOT / "deploy"
BIN = Path(sys.executable).parent


def test_env_example_lists_every_setting():

    text = (DEPLOY / "env.example").read_text()
    names = {line.split("=", 1)[0] for line in text.splitlines() if line and not line.startswith("#")}
    missing = [name for _, name, _, _ in rows() if name not in names]
    assert not missing, f"deploy/env.example lacks {missing}: run `python -m checkout.ops.deploy`"
    for _, name, _, _ in deploy.EXTRA_ENV:
        assert name in names


def test_dockerfile_passes_hadolint_and_runs_as_non_root_with_a_healthcheck():
    r = subprocess.run([str(BIN / "hadolint"), str(DEPLOY / "Dockerfile")], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    text = (DEPLOY / "Dockerfile").read_text()
    users = [line.split()[1] for line in text.splitlines() if line.startswith("USER ")]
    assert users and not users[-1].startswith(("root", "0"))
    assert "HEALTHCHECK" in text and "/healthz" in text


def test_compose_runs_edge_litestream_and_caddy_read_only():
    compose = yaml.safe_load((DEPLOY / "compose.yml").read_text())
    services = compose["services"]
    assert set(services) == {"edge", "litestream", "caddy"}
    assert services["edge"]["read_only"] is True and services["litestream"]["read_only"] is True
    assert services["litestream"]["command"][:2] == ["digitaldock", "replicate"]
    assert "/app/deploy/litestream.yml" in services["litestream"]["command"]
    assert (DEPLOY / services["edge"]["build"]["dockerfile"].removeprefix("deploy/")).exists()


def test_caddyfile_adapts_with_tls_hsts_static_site_and_edge_proxy():
    env = {**os.environ, "SITE_DOMAIN": "shop.example", "CHECKOUT_DOMAIN": "checkout.shop.example"}
    r = subprocess.run(["caddy", "adapt", "--config", str(DEPLOY / "Caddyfile"), "--adapter", "caddyfile"],
                       capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    config = json.loads(r.stdout)
    text = json.dumps(config)
    assert "Strict-Transport-Security" in text and "max-age=63072000" in text
    assert '"handler": "file_server"' in text and '"handler": "reverse_proxy"' in text
    assert '"dial": "127.0.0.1:8001"' in text and '"dial": "127.0.0.1:8002"' in text
    assert '"uri": "/readyz?scope=proxy"' in text and '"policy": "first"' in text
    hosts = {h for route in config["apps"]["http"]["servers"]["srv0"]["routes"] for m in route.get("match", [])
             for h in m.get("host", [])}
    assert hosts == {"shop.example", "checkout.shop.example"}


def _units() -> list[Path]:
    return sorted((DEPLOY / "systemd").iterdir())


def test_systemd_units_verify(tmp_path):
    if not shutil.which("systemd-analyze"):
        pytest.skip("systemd-analyze is not installed")
    for unit in _units():
        text = unit.read_text().replace("/opt/digitaldock/.venv/bin/", f"{BIN}/")
        text = text.replace("User=digitaldock", "User=root").replace("Group=digitaldock", "Group=root")
        (tmp_path / unit.name).write_text(text.replace("WorkingDirectory=/opt/digitaldock", f"WorkingDirectory={tmp_path}"))
    files = [str(tmp_path / u.name) for u in _units()]
    r = subprocess.run(["systemd-analyze", "verify", "--man=no", *files], capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 0 and not r.stderr.strip(), r.stderr


def test_every_unit_runs_an_existing_command_and_every_timer_has_its_service():
    names = {u.name for u in _units()}
    for unit in _units():
        parser = configparser.ConfigParser(strict=False, interpolation=None)
        parser.optionxform = str  # type: ignore[assignment, method-assign]
        parser.read(unit)
        if unit.suffix == ".timer":
            assert unit.name.replace(".timer", ".service") in names
            continue
        argv = shlex.split(parser["Service"]["ExecStart"])
        exe = Path(argv[0]).name
        assert exe in ("digitaldock", "litestream"), argv
        if exe == "digitaldock":
            args = [a.replace("%i", "8001") for a in argv[1:]]
            r = CliRunner().invoke(main, [*args, "--help"])
            assert r.exit_code == 0, (unit.name, r.output)
    for timer in ("backup", "backup-prune", "retention", "alerts", "uptime", "restore-drill"):
        assert f"digitaldock-{timer}.timer" in names


# --- zero-downtime deploy -------------------------------------------------------------------

CADDYFILE = """{{
\tadmin 127.0.0.1:{admin}
\tauto_https off
}}

http://127.0.0.1:{port} {{
\treverse_proxy 127.0.0.1:{a} 127.0.0.1:{b} {{
\t\tlb_policy first
\t\thealth_uri /readyz?scope=proxy
\t\thealth_interval 200ms
\t\thealth_timeout 5s
\t\tlb_try_duration 10s
\t\tlb_try_interval 100ms
\t\ttransport http {{
\t\t\tkeepalive off
\t\t}}
\t}}
}}
"""


@pytest.fixture
def caddy(tmp_path):
    if not shutil.which("caddy"):
        pytest.skip("caddy is not installed (scripts/system-packages installs it)")
    admin, port, a, b = (free_port() for _ in range(4))
    conf = tmp_path / "Caddyfile"
    conf.write_text(CADDYFILE.format(admin=admin, port=port, a=a, b=b))
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "caddy-data"), "XDG_CONFIG_HOME": str(tmp_path / "caddy-cfg")}
    with serve(["caddy", "run", "--config", str(conf), "--adapter", "caddyfile"], port=admin, ready="/config/",
               status=200, env=env, cwd=tmp_path, name="caddy", stop_timeout=10) as server:
        yield {"admin": server.url, "url": f"http://127.0.0.1:{port}", "ports": (a, b)}


def _client(url: str, stop: threading.Event, results: list, limit: int = 5000) -> None:
    # A new connection per request: when Caddy applies a config it closes *idle* keep-alive
    # connections, and a client may race that close with its next request; browsers simply
    # resend such an idempotent request (RFC 9110, 9.2.2). Without keep-alive every failure
    # here is a request that reached the proxy and did not get its answer.
    limits = httpx.Limits(max_keepalive_connections=0)
    with httpx.Client(timeout=15, limits=limits, headers={"Connection": "close"}) as client:
        while not stop.is_set() and len(results) < limit:
            for path in ("/healthz", "/readyz", "/login"):
                try:
                    r = client.get(url + path)
                    results.append((path, r.status_code))
                except httpx.HTTPError as exc:
                    results.append((path, type(exc).__name__))


def test_zero_downtime_deploy_through_caddy(ops_env, make_edge, populate, caddy, tmp_path):
    edge = make_edge()
    populate(edge, 2)
    state = tmp_path / "deploy-state"
    ports = caddy["ports"]
    args = ["deploy", "--state-dir", str(state), "--caddy-admin", caddy["admin"],
            "--ports", f"{ports[0]},{ports[1]}", "--timeout", "60"]
    pids: list[int] = []
    try:
        r = CliRunner().invoke(main, args)
        assert r.exit_code == 0, r.output
        first = json.loads((state / "deploy.json").read_text())
        pids.append(first["pid"])
        assert first["port"] == ports[0]
        assert httpx.get(caddy["url"] + "/readyz", timeout=10).status_code == 200
        stop, results = threading.Event(), []
        thread = threading.Thread(target=_client, args=(caddy["url"], stop, results), daemon=True)
        thread.start()
        try:
            for expected in (ports[1], ports[0]):
                before = len(results)
                r = CliRunner().invoke(main, args)
                assert r.exit_code == 0, r.output
                current = json.loads((state / "deploy.json").read_text())
                pids.append(current["pid"])
                assert current["port"] == expected and f"caddy now proxies to port {expected}" in r.output
                deadline = time.monotonic() + 10
                while len(results) < before + 20 and time.monotonic() < deadline:
                    time.sleep(0.05)
        finally:
            stop.set()
            thread.join(30)
        failed = [x for x in results if x[1] != 200]
        assert len(results) > 40
        assert failed == [], f"{len(failed)} of {len(results)} requests failed: {failed[:5]}"
        # the old edges drained (SIGUSR1) before they were stopped; only the newest serves
        assert "edge_draining" in (state / f"edge-{ports[0]}.log").read_text()
        assert not deploy._alive(pids[0]) and not deploy._alive(pids[1])
        assert deploy._alive(pids[2])
    finally:
        for pid in pids:
            deploy.stop_edge(0, pid, "process")


def test_a_new_version_that_never_gets_ready_leaves_the_old_one_serving(ops_env, make_edge, caddy, tmp_path,
                                                                       monkeypatch):
    make_edge()
    state = tmp_path / "deploy-state"
    ports = caddy["ports"]
    (state).mkdir()
    (state / "deploy.json").write_text(json.dumps({"port": ports[0], "pid": None}))
    monkeypatch.setenv("CATALOG_PATH", str(tmp_path / "missing.json"))  # no legal documents: not ready
    monkeypatch.setenv("CONTENT_DIR", str(tmp_path / "nothing"))
    r = CliRunner().invoke(main, ["deploy", "--state-dir", str(state), "--caddy-admin", caddy["admin"],
                                  "--ports", f"{ports[0]},{ports[1]}", "--timeout", "3"])
    assert r.exit_code == 1 and "did not become ready; the old one keeps serving" in r.output
    assert json.loads((state / "deploy.json").read_text())["port"] == ports[0]
    config = httpx.get(caddy["admin"] + "/config/").json()
    assert f"127.0.0.1:{ports[0]}" in json.dumps(config)


def test_deploy_checks_caddy_proxies_to_both_ports_with_a_health_check(caddy, tmp_path):
    deploy.check_caddy(caddy["admin"], caddy["ports"])  # the test's Caddyfile is right
    with pytest.raises(deploy.DeployError, match="no reverse_proxy to both edge ports 1, 2"):
        deploy.check_caddy(caddy["admin"], (1, 2))
    with pytest.raises(deploy.DeployError, match="cannot reach Caddy's admin API"):
        deploy.check_caddy(f"http://127.0.0.1:{free_port()}", (1, 2))
    # an upstream block without the health check that moves traffic off a draining edge
    a, b = caddy["ports"]
    r = httpx.patch(caddy["admin"] + "/config/apps/http/servers/srv0/routes/0/handle/0/routes/0/handle/0",
                    json={"handler": "reverse_proxy", "upstreams": [{"dial": f"127.0.0.1:{a}"}, {"dial": f"127.0.0.1:{b}"}]})
    assert r.status_code == 200, r.text
    with pytest.raises(deploy.DeployError, match="no active health check on /readyz"):
        deploy.check_caddy(caddy["admin"], caddy["ports"])


def test_deploy_rejects_bad_ports():
    r = CliRunner().invoke(main, ["deploy", "--ports", "8001"])
    assert r.exit_code == 2 and "two ports" in r.output


def test_env_example_is_what_the_generator_renders_for_every_setting():
    rendered = deploy.env_example()
    names = {line.split("=", 1)[0] for line in rendered.splitlines() if line and not line.startswith("#")}
    in_file = {line.split("=", 1)[0] for line in (DEPLOY / "env.example").read_text().splitlines()
               if line and not line.startswith("#")}
    assert names <= in_file
    assert "# --- edge ---" in rendered and "BACKUP_S3_BUCKET=" in rendered


def test_systemd_manager_drives_the_template_unit(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "calls"
    fake = bin_dir / "systemctl"
    fake.write_text(f"#!/bin/sh\necho \"$@\" >> {calls}\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    assert deploy.start_edge(8002, "systemd", tmp_path) is None
    deploy.drain_edge(8001, None, "systemd")
    deploy.stop_edge(8001, None, "systemd")
    assert calls.read_text().splitlines() == ["start digitaldock-edge@8002.service",
                                              "kill --signal=SIGUSR1 digitaldock-edge@8001.service",
                                              "stop digitaldock-edge@8001.service"]


def test_a_failing_migration_stops_the_deploy_before_anything_starts(ops_env, tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_PATH", str(tmp_path))  # a folder: SQLite cannot open it
    with pytest.raises(deploy.DeployError, match="migration failed"):
        deploy.deploy(tmp_path / "state", "http://127.0.0.1:9", say=lambda *_: None)
    assert not (tmp_path / "state" / "deploy.json").exists()
