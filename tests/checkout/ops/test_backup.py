"""Snapshots, prune, restore and the restore drill, locally and against moto's S3 on loopback,
with Litestream replicating for real."""

from __future__ import annotations

import contextlib
import gzip
import json
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from checkout.cli.main import main
from checkout.core.clock import Clock
from checkout.ops import backup
from checkout.ops.alerts import readiness
from digitaldock.storage import LocalStorage

HOUR, DAY = 3600, 86400


def cli(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def text(r) -> str:
    """The command's own output, without the JSON log lines the edge writes."""
    return "".join(line for line in r.output.splitlines(keepends=True) if not line.startswith('{"'))


def rows(path: Path, sql: str) -> list:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        return [r[0] for r in conn.execute(sql)]


def test_backup_without_configuration_goes_beside_the_database(ops_env, make_edge, populate):
    edge = make_edge()
    populate(edge, 3)
    r = cli("backup")
    assert r.exit_code == 0, r.output
    assert text(r).startswith("snapshot snapshots/")
    folder = edge.settings.database_path.parent / "backups"
    keys = backup.list_snapshots(LocalStorage(folder))
    assert len(keys) == 1
    manifest = json.loads((folder / backup.manifest_key(keys[0])).read_text())
    assert manifest["row_counts"]["users"] == 3 and manifest["row_counts"]["consents"] == 3
    packed = (folder / keys[0]).read_bytes()
    import hashlib
    assert hashlib.sha256(packed).hexdigest() == manifest["sha256"]
    # a real, compressed SQLite database
    assert gzip.decompress(packed)[:16] == b"SQLite format 3\x00"
    run = edge.db.execute("SELECT * FROM backup_runs WHERE kind = 'snapshot'").fetchone()
    assert run["ok"] == 1 and run["key"] == keys[0]


def test_snapshot_records_ledger_totals_when_the_ledger_exists(ops_env, make_edge, populate):
    edge = make_edge()
    populate(edge, 2)
    manifest = backup.take_snapshot(edge)
    if "ledger_entries" in edge.db.table_names():
        assert manifest["ledger_totals"] == {"NGN": {"paystack:receivable": 2001, "platform:fees": -200,
                                                     "seller:s:pending": -1801}}
    else:
        assert manifest["ledger_totals"] == {}


def test_restore_refuses_a_live_database_without_force(ops_env, make_edge, populate, tmp_path):
    edge = make_edge()
    populate(edge, 2)
    assert cli("backup").exit_code == 0
    r = CliRunner().invoke(main, ["restore", "--latest"])
    assert r.exit_code == 1
    assert "already holds a database" in r.output and "--force" in r.output
    target = tmp_path / "copy" / "edge.sqlite3"
    r = cli("restore", "--latest", "--to", str(target))
    assert r.exit_code == 0, r.output
    assert sorted(rows(target, "SELECT email FROM users")) == ["user0@example.com", "user1@example.com"]
    populate(edge, 1, start=2)
    r = cli("restore", "--latest", "--to", str(target), "--force")
    assert r.exit_code == 0 and "integrity ok" in r.output


def test_restore_needs_exactly_one_mode(ops_env, make_edge):
    make_edge()
    r = CliRunner().invoke(main, ["restore"])
    assert r.exit_code == 2 and "exactly one of" in r.output
    r = CliRunner().invoke(main, ["restore", "--at", "yesterday"])
    assert r.exit_code == 2 and "ISO time" in r.output


def test_restore_at_a_time_picks_the_newest_snapshot_before_it(ops_env, make_edge, populate, tmp_path):
    clock = Clock()
    edge = make_edge(clock)
    populate(edge, 1)
    first = backup.take_snapshot(edge)
    clock.advance(2 * HOUR)
    populate(edge, 1, start=1)
    second = backup.take_snapshot(edge)
    at = backup.key_time(second["key"]) - HOUR
    r = backup.restore(edge.settings, tmp_path / "then.sqlite3", at=at)
    assert r.key == first["key"]
    assert rows(tmp_path / "then.sqlite3", "SELECT email FROM users") == ["user0@example.com"]
    with pytest.raises(backup.BackupError, match="no snapshot before that time"):
        backup.restore(edge.settings, tmp_path / "never.sqlite3", at=at - DAY)
    r = cli("restore", "--snapshot", second["key"], "--to", str(tmp_path / "exact.sqlite3"))
    assert r.exit_code == 0 and second["key"] in r.output


def test_a_corrupted_snapshot_is_refused(ops_env, make_edge, populate, tmp_path):
    edge = make_edge()
    populate(edge, 1)
    m = backup.take_snapshot(edge)
    path = edge.settings.database_path.parent / "backups" / m["key"]
    path.write_bytes(path.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(backup.BackupError, match="does not match its recorded SHA-256"):
        backup.restore(edge.settings, tmp_path / "bad.sqlite3", snapshot=m["key"])


def test_prune_keeps_hourly_48h_daily_30d_monthly_1y(ops_env, make_edge, tmp_path):
    start = 1_767_225_600.0  # 2026-01-01T00:00:00Z
    keys = [backup.snapshot_key(start + h * HOUR) for h in range(0, 400 * 24)]  # hourly for 400 days
    now = start + 400 * DAY
    keep, remove = backup.plan_prune(keys, now)
    ages = sorted((now - backup.key_time(k)) for k in keep)
    assert len(keep) + len(remove) == len(keys)
    hourly = [a for a in ages if a <= 48 * HOUR]
    assert len(hourly) == 48
    daily = [a for a in ages if 48 * HOUR < a <= 30 * DAY]
    assert 27 <= len(daily) <= 29
    monthly = [a for a in ages if 30 * DAY < a <= 365 * DAY]
    assert 10 <= len(monthly) <= 12
    assert not [a for a in ages if a > 365 * DAY]
    # the newest always survives, even when everything is old
    old = keys[:3]
    assert backup.plan_prune(old, now)[0] == [old[-1]]


def test_backup_prune_command_says_what_it_removed(ops_env, make_edge, populate):
    clock = Clock()
    edge = make_edge(clock)
    populate(edge, 1)
    storage = backup.snapshot_storage(edge.settings)
    made = []
    for _ in range(3):
        made.append(backup.take_snapshot(edge, storage)["key"])
        clock.advance(10 * 60)  # three in the same hour
    clock.advance(3 * DAY)
    backup.take_snapshot(edge, storage)
    # the command's own clock is real time; move the snapshots' times by shifting nothing: dry run first
    removed = backup.prune(edge, storage, dry_run=True)
    assert removed == made[:2]
    assert len(backup.list_snapshots(storage)) == 4
    removed = backup.run_prune(edge, storage)
    assert removed == made[:2]
    assert backup.list_snapshots(storage)[0] == made[2]
    assert not storage.stat(backup.manifest_key(made[0]))
    r = cli("backup", "prune", "--dry-run")
    assert r.exit_code == 0 and "0 snapshot(s) to remove" in r.output
    r = cli("backup", "list")
    assert text(r).splitlines()[0] == made[2]


def test_a_failed_backup_alerts_the_admins_and_degrades_readyz(ops_env, make_edge, monkeypatch):
    edge = make_edge()
    edge.db.execute("INSERT INTO users (email, display_name, password_hash, role, created_at)"
                    " VALUES ('root@example.com', 'Root', 'x', 'admin', ?)", (edge.clock.iso(),))

    def broken(*a, **k):
        raise backup.BackupError("disk on fire")

    monkeypatch.setattr(backup, "take_snapshot", broken)
    with pytest.raises(backup.BackupError, match="backup failed: disk on fire"):
        backup.run_backup(edge)
    mail = edge.db.execute("SELECT to_addr, subject, text_body FROM outbox WHERE template = 'alert'").fetchall()
    assert [m["to_addr"] for m in mail] == ["root@example.com"]
    assert "backup failed: disk on fire" in mail[0]["text_body"]
    assert readiness(edge) == {"ok": True, "degraded": True, "reasons": ["backup failed: disk on fire"]}
    r = CliRunner().invoke(main, ["backup"])
    assert r.exit_code == 1 and "backup failed" in r.output
    # the schedule loop keeps going and exits non-zero at the end
    r = CliRunner().invoke(main, ["backup", "--schedule", "--max-runs", "1"])
    assert r.exit_code == 1


def test_schedule_loop_snapshots_and_prunes(ops_env, make_edge, populate, monkeypatch):
    monkeypatch.setenv("BACKUP_INTERVAL_SECONDS", "0")
    edge = make_edge()
    populate(edge, 1)
    r = cli("backup", "--schedule", "--max-runs", "2")
    assert r.exit_code == 0, r.output
    assert text(r).count("snapshot snapshots/") == 2
    # both fall in the same hour: the second run's prune keeps only the newest of that hour
    first = text(r).splitlines()[0].split()[1]
    assert f"pruned {first}" in text(r)
    assert len(backup.list_snapshots(backup.snapshot_storage(edge.settings))) == 1


def test_drill_on_local_snapshots_prints_rto_and_rpo(ops_env, make_edge, populate):
    edge = make_edge()
    populate(edge, 4)
    assert cli("backup").exit_code == 0
    r = CliRunner().invoke(main, ["restore-drill", "--timeout", "60"])
    assert r.exit_code == 0, r.output
    lines = text(r).strip().splitlines()
    assert lines[-2].startswith("RTO ") and lines[-1].startswith("RPO ")
    assert float(lines[-2].split()[1]) > 0
    assert json.loads(lines[1].removeprefix("rows "))["users"] == 4


def test_drill_fails_when_a_check_finds_a_problem(ops_env, make_edge, populate, tmp_path):
    edge = make_edge()
    populate(edge, 1)
    backup.take_snapshot(edge)
    report = backup.drill(edge.settings, tmp_path / "scratch",
                          checks=[lambda path, restored: ["ledger out of balance"]])
    assert not report.ok and report.problems == ["ledger out of balance"]
    assert (tmp_path / "scratch" / "edge.sqlite3").exists()


def test_drill_without_any_backup_exits_non_zero(ops_env, make_edge):
    make_edge()
    r = CliRunner().invoke(main, ["restore-drill"])
    assert r.exit_code == 1 and "no snapshot" in r.output


def test_row_count_check_reports_a_mismatch(tmp_path, ops_env, make_edge, populate):
    edge = make_edge()
    populate(edge, 2)
    m = backup.take_snapshot(edge)
    restored = backup.restore(edge.settings, tmp_path / "r.sqlite3", snapshot=m["key"])
    restored.manifest["row_counts"]["users"] = 5
    assert backup.check_row_counts(restored.path, restored) == ["table users: 2 rows restored, 5 in the snapshot"]


# --- against S3 (moto) with Litestream ------------------------------------------------------

def test_snapshots_go_to_the_bucket_when_configured(s3_env, make_edge, populate, tmp_path):
    edge = make_edge()
    populate(edge, 2)
    r = cli("backup")
    assert r.exit_code == 0, r.output
    storage = backup.snapshot_storage(edge.settings)
    assert storage.describe().startswith(f"s3://{s3_env['BACKUP_S3_BUCKET']}/edge/")
    keys = backup.list_snapshots(storage)
    assert len(keys) == 1
    assert not (edge.settings.database_path.parent / "backups").exists()
    r = cli("restore", "--latest", "--from", "snapshot", "--to", str(tmp_path / "s.sqlite3"))
    assert r.exit_code == 0, r.output
    assert len(rows(tmp_path / "s.sqlite3", "SELECT id FROM users")) == 2


def _replicated(settings, target: Path, expect_users: int) -> bool:
    try:
        backup.restore_litestream(settings, target)
    except backup.BackupError:
        return False
    return len(rows(target, "SELECT id FROM users")) == expect_users


@contextlib.contextmanager
def litestream(settings, folder: Path):
    config = backup.write_litestream_config(settings, folder)
    proc = subprocess.Popen([backup.litestream_bin(settings), "replicate", "-config", str(config)],
                            env=backup.litestream_env(settings), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        yield proc
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:  # pragma: no cover
            proc.kill()
            proc.wait()


def test_litestream_replicates_and_a_deleted_database_comes_back_whole(s3_env, make_edge, populate, tmp_path):
    edge = make_edge()
    written = populate(edge, 5)
    settings = edge.settings
    with litestream(settings, tmp_path):
        written_later = populate(edge, 5, start=5)
        probe = tmp_path / "probe" / "edge.sqlite3"
        deadline = time.monotonic() + 60
        while not _replicated(settings, probe, 10) and time.monotonic() < deadline:
            time.sleep(0.5)
    assert _replicated(settings, probe, 10), "litestream did not replicate within 60 s"
    orders = written["orders"] + written_later["orders"]
    entries = written["ledger_entries"] + written_later["ledger_entries"]
    db = settings.database_path
    edge.close()
    for suffix in ("", "-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    r = cli("restore", "--latest")
    assert r.exit_code == 0, r.output
    assert "from litestream" in r.output
    users = rows(db, "SELECT email FROM users ORDER BY id")
    assert users == written["users"] + written_later["users"]
    assert len(rows(db, "SELECT id FROM consents")) == 10
    assert len(rows(db, "SELECT id FROM audit_log WHERE action = 'user.registered'")) == 10
    tables = rows(db, "SELECT name FROM sqlite_master WHERE type = 'table'")
    if "orders" in tables:
        assert rows(db, "SELECT reference FROM orders ORDER BY id") == orders
        assert rows(db, "SELECT id FROM ledger_entries ORDER BY id") == entries
        assert sum(rows(db, "SELECT amount FROM ledger_entries")) == 0
        assert len(rows(db, "SELECT id FROM purchases")) == 10
    # point in time: before any write there was nothing to restore
    with pytest.raises(backup.BackupError, match="litestream restore failed"):
        backup.restore(settings, tmp_path / "past.sqlite3", at=time.time() - 3600, source="litestream")
    # the drill restores from Litestream and starts an edge on the copy
    r = CliRunner().invoke(main, ["restore-drill"])
    assert r.exit_code == 0, r.output
    assert "restored from litestream" in r.output
    lines = text(r).strip().splitlines()
    assert lines[-2].startswith("RTO ") and lines[-1].startswith("RPO ")
    assert float(lines[-1].split()[1]) < 600


def test_replica_freshness_is_recorded_and_alerted(s3_env, make_edge, populate, monkeypatch):
    clock = Clock()
    edge = make_edge(clock)
    populate(edge, 1)
    state = backup.check_replica_freshness(edge)
    assert state["configured"] and not state["stale"]  # just changed: litestream still has time
    clock.advance(3600)
    state = backup.check_replica_freshness(edge)
    assert state["stale"] and "has not replicated" in state["message"]
    assert readiness(edge)["degraded"]
    r = CliRunner().invoke(main, ["alerts"])
    assert r.exit_code == 0
    # the CLI's clock is the real one: changes a moment old are not stale yet
    assert "replica_stale" not in r.output


def test_litestream_config_in_deploy_matches_the_settings(s3_env, make_edge):
    import os
    import re

    import yaml

    edge = make_edge()
    text = (Path(__file__).resolve().parents[3] / "deploy" / "litestream.yml").read_text()
    env = {**os.environ, "DATABASE_PATH": str(edge.settings.database_path.resolve()), "BACKUP_S3_PREFIX": "edge"}
    expanded = re.sub(r"\$\{(\w+)\}", lambda m: env.get(m.group(1), ""), text)
    config = yaml.safe_load(expanded)
    expected = backup.litestream_config(edge.settings)
    assert config["dbs"][0]["path"] == expected["dbs"][0]["path"]
    for key, value in expected["dbs"][0]["replica"].items():
        assert str(config["dbs"][0]["replica"][key]) == str(value), key


# --- `digitaldock replicate`: how the units and compose run Litestream ------------------------

CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
DEPLOY = Path(__file__).resolve().parents[3] / "deploy"


@contextlib.contextmanager
def replicate_process(*args: str):
    """`digitaldock replicate` as systemd runs it: a process of its own, stopped with SIGTERM."""
    import os
    import sys

    proc = subprocess.Popen([sys.executable, "-m", "checkout.cli.main", "replicate", *args], env=dict(os.environ),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        yield proc
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:  # pragma: no cover
            proc.kill()
            proc.communicate()


@pytest.mark.parametrize("config", ["deploy", "rendered"])
def test_digitaldock_replicate_replicates_with_aws_ca_bundle_set(s3_env, make_edge, populate, tmp_path,
                                                                 monkeypatch, config):
    """AWS_CA_BUNDLE set in the environment (as on this machine) and a plain-http endpoint:
    `litestream replicate` run directly uploads nothing; `digitaldock replicate` drops the
    variable for it, and the database reaches the bucket."""
    import os

    monkeypatch.setenv("AWS_CA_BUNDLE", os.environ.get("AWS_CA_BUNDLE") or CA_BUNDLE)
    edge = make_edge()
    populate(edge, 3)
    settings = edge.settings
    monkeypatch.setenv("DATABASE_PATH", str(settings.database_path.resolve()))  # deploy/litestream.yml reads it
    monkeypatch.setenv("BACKUP_S3_PREFIX", settings.BACKUP_S3_PREFIX)
    args = ["--config", str(DEPLOY / "litestream.yml")] if config == "deploy" else []
    probe = tmp_path / "probe" / "edge.sqlite3"
    with replicate_process(*args) as proc:
        deadline = time.monotonic() + 60
        while not _replicated(settings, probe, 3) and time.monotonic() < deadline:
            assert proc.poll() is None, proc.communicate()[0][-2000:]
            time.sleep(0.5)
        assert _replicated(settings, probe, 3), "nothing replicated within 60 s"
    if config == "rendered":
        assert (settings.data_dir / "litestream.yml").is_file()


def test_replicate_says_what_is_missing(ops_env, make_edge, tmp_path, monkeypatch):
    make_edge()
    r = CliRunner().invoke(main, ["replicate"])
    assert r.exit_code == 1 and "replication needs BACKUP_S3_BUCKET" in r.output
    monkeypatch.setenv("BACKUP_S3_BUCKET", "b")
    r = CliRunner().invoke(main, ["replicate", "--config", str(tmp_path / "nothing.yml")])
    assert r.exit_code == 1 and "nothing.yml does not exist" in r.output
    monkeypatch.setenv("LITESTREAM_BIN", "no-such-litestream")
    r = CliRunner().invoke(main, ["replicate"])
    assert r.exit_code == 1 and "no-such-litestream" in r.output and "not found" in r.output


@hypothesis_settings(max_examples=200, deadline=None)
@given(endpoint=st.one_of(st.just(""), st.text(max_size=30), st.sampled_from(["http://", "https://"]).flatmap(
    lambda scheme: st.text(max_size=20).map(lambda rest: scheme + rest))))
def test_litestream_never_gets_aws_ca_bundle_and_tls_gets_its_bundle_as_ssl_cert_file(endpoint):
    import os
    from types import SimpleNamespace
    from unittest import mock

    with mock.patch.dict("os.environ", {"AWS_CA_BUNDLE": CA_BUNDLE}):
        os.environ.pop("SSL_CERT_FILE", None)
        env = backup.litestream_env(SimpleNamespace(BACKUP_S3_ENDPOINT_URL=endpoint))
    assert "AWS_CA_BUNDLE" not in env
    assert env.get("SSL_CERT_FILE") == (None if endpoint.startswith("http://") else CA_BUNDLE)


def _tls_files(folder: Path) -> tuple[Path, Path, Path]:
    """A private CA and a certificate it signed for 127.0.0.1: (ca.pem, cert.pem, key.pem)."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.UTC)

    def cert(subject, issuer, key, signer, **extensions):
        b = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(key.public_key())
             .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
             .not_valid_after(now + dt.timedelta(days=1)))
        for ext, critical in extensions.values():
            b = b.add_extension(ext, critical=critical)
        return b.sign(signer, hashes.SHA256())

    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "DigitalDock test CA")])
    ca = cert(ca_name, ca_name, ca_key, ca_key, basic=(x509.BasicConstraints(ca=True, path_length=None), True))
    leaf = cert(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]), ca_name, key, ca_key,
                san=(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False))
    paths = folder / "ca.pem", folder / "cert.pem", folder / "key.pem"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return paths


def test_replication_over_tls_trusts_the_ca_bundle_meant_for_the_endpoint(ops_env, make_edge, populate, tmp_path,
                                                                          monkeypatch):
    """An https endpoint behind a private CA, named by AWS_CA_BUNDLE (boto3 uses it for the
    snapshots): Litestream, which cannot read that variable, replicates and restores through it."""
    import sys
    import uuid

    from digitaldock.storage import s3_client

    from ...servers import free_port, serve

    ca, cert, key = _tls_files(tmp_path)
    port = free_port()
    exe = Path(sys.executable).parent / "moto_server"
    with serve([str(exe), "-H", "127.0.0.1", "-p", str(port), "-c", str(cert), "-k", str(key)], port=port,
               name="moto-tls"):
        endpoint = f"https://127.0.0.1:{port}"
        monkeypatch.setenv("AWS_CA_BUNDLE", str(ca))
        monkeypatch.delenv("SSL_CERT_FILE", raising=False)
        bucket = f"dd-tls-{uuid.uuid4().hex[:8]}"
        s3_client(endpoint, env=ops_env).create_bucket(Bucket=bucket)  # boto3 trusts the CA through the variable
        monkeypatch.setenv("BACKUP_S3_BUCKET", bucket)
        monkeypatch.setenv("BACKUP_S3_ENDPOINT_URL", endpoint)
        edge = make_edge()
        populate(edge, 2)
        probe = tmp_path / "probe" / "edge.sqlite3"
        with replicate_process() as proc:
            deadline = time.monotonic() + 60
            while not _replicated(edge.settings, probe, 2) and time.monotonic() < deadline:
                assert proc.poll() is None, proc.communicate()[0][-2000:]
                time.sleep(0.5)
            assert _replicated(edge.settings, probe, 2), "nothing replicated over TLS within 60 s"


def test_every_deployed_and_documented_replication_runs_through_digitaldock_replicate():
    import configparser
    import re
    import shlex

    import yaml

    root = DEPLOY.parent
    unit = configparser.ConfigParser(interpolation=None)
    unit.read(DEPLOY / "systemd" / "digitaldock-litestream.service")
    argv = shlex.split(unit["Service"]["ExecStart"])
    assert Path(argv[0]).name == "digitaldock" and argv[1] == "replicate"
    compose = yaml.safe_load((DEPLOY / "compose.yml").read_text())
    assert compose["services"]["litestream"]["command"][:2] == ["digitaldock", "replicate"]
    for path in [root / "README.md", *(root / "docs").glob("*.md"), *DEPLOY.rglob("*")]:
        if path.is_file():
            text = path.read_text("utf-8", errors="replace")
            assert not re.search(r"litestream\s+replicate\b", text), f"{path.relative_to(root)} runs litestream itself"
