"""Backups of the edge's SQLite database: snapshots, retention, restore and the restore drill.

Two layers protect the database:

* **Litestream** replicates every committed transaction to the backup bucket within about a
  second (`deploy/litestream.yml`, run beside the edge). `litestream_config()` renders the same
  configuration from the settings so restores and tests use exactly what production runs.
* **Snapshots** (`take_snapshot`, `digitaldock backup`) are consistent copies made with SQLite's
  online backup API (never a file copy of a live database), gzip-compressed, with a manifest
  (`<key>.json`) recording the SHA-256, the row count of every table and the ledger totals.
  They go to `<BACKUP_S3_PREFIX>/snapshots/` in BACKUP_S3_BUCKET, or, with no bucket, to a
  `backups/` folder beside the database. `prune()` keeps hourly snapshots for 48 hours, one a
  day and one a week for 30 days and one a month for a year, and always the newest.

`restore()` rebuilds a database from Litestream (`litestream restore`, point in time with
`at`) or from a snapshot (checked against its SHA-256), into a path that must not already
hold a database unless `force` is given. `drill()` restores the latest backup into a scratch
folder, checks it (integrity, pluggable `DRILL_CHECKS` such as the ledger invariant, row
counts) and starts an edge on the copy to measure RTO and RPO.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gzip
import hashlib
import io
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import sqlite_utils
import structlog

from checkout.core import audit
from checkout.core.clock import iso, parse_iso
from checkout.core.context import Edge
from checkout.core.settings import Settings
from checkout.ops import alerts
from checkout.ops.errors import BackupError
from checkout.payments import ledger
from digitaldock.storage import LocalStorage, S3Storage, Storage, StorageError

log = structlog.get_logger("checkout.backup")

SNAPSHOTS = "snapshots/"
SUFFIX = ".sqlite3.gz"
HOUR, DAY = 3600, 86400
# (window in seconds, bucket): a snapshot is kept when it is the newest of its bucket inside a window.
RETENTION_RULES: tuple[tuple[int, str], ...] = (
    (48 * HOUR, "hour"), (30 * DAY, "day"), (30 * DAY, "week"), (365 * DAY, "month"))


# --- where backups live ---------------------------------------------------------------------

def snapshot_storage(settings: "Settings") -> Storage:
    """The bucket (BACKUP_S3_BUCKET) or the local folder beside the database."""
    if settings.BACKUP_S3_BUCKET:
        return S3Storage(settings.BACKUP_S3_BUCKET, settings.BACKUP_S3_ENDPOINT_URL or None,
                         settings.BACKUP_S3_PREFIX)
    return LocalStorage(settings.BACKUP_DIR or settings.database_path.parent / "backups")


def litestream_config(settings: "Settings", db_path: Path | None = None) -> dict[str, Any]:
    """Litestream's configuration for the edge database, from the same settings as the edge."""
    replica: dict[str, Any] = {
        "type": "s3", "bucket": settings.BACKUP_S3_BUCKET,
        "path": f"{settings.BACKUP_S3_PREFIX.strip('/')}/litestream",
        "region": os.environ.get("AWS_REGION") or "us-east-1",
        "force-path-style": True, "sync-interval": "1s",
    }
    if settings.BACKUP_S3_ENDPOINT_URL:
        replica["endpoint"] = settings.BACKUP_S3_ENDPOINT_URL
    return {"dbs": [{"path": str(Path(db_path or settings.database_path).resolve()), "replica": replica}]}


def litestream_env(settings: "Settings") -> dict[str, str]:
    """The environment for litestream: never AWS_CA_BUNDLE; its CA bundle as SSL_CERT_FILE for
    a TLS endpoint.

    Litestream (0.5) cannot use AWS_CA_BUNDLE at all: with it set, loading its AWS
    configuration fails ("unable to add custom RootCAs HTTPClient") and nothing is replicated
    or restored, whatever the endpoint, on any host that sets it for other tools. Go reads
    SSL_CERT_FILE instead of the system's roots, so a bundle meant for an https endpoint (a
    private CA in front of MinIO, say) still applies; a plain-http endpoint needs none. Every
    way the project runs litestream goes through here (`digitaldock replicate`, restore, the
    drill)."""
    env = dict(os.environ)
    bundle = env.pop("AWS_CA_BUNDLE", None)
    if bundle and not settings.BACKUP_S3_ENDPOINT_URL.startswith("http://"):
        env.setdefault("SSL_CERT_FILE", bundle)
    return env


def replicate_command(settings: "Settings", config: Path | None = None) -> tuple[str, list[str], dict[str, str]]:
    """(binary, argv, environment) of `litestream replicate` for the edge database: with
    `config`, that file (deploy/litestream.yml, which reads the same settings from the
    environment); otherwise the configuration rendered from the settings into the data folder."""
    binary = litestream_bin(settings)
    if binary is None:
        raise BackupError(f"the litestream binary ({settings.LITESTREAM_BIN}) was not found")
    if not settings.BACKUP_S3_BUCKET:
        raise BackupError("replication needs BACKUP_S3_BUCKET")
    if config is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        config = write_litestream_config(settings, settings.data_dir)
    elif not Path(config).is_file():
        raise BackupError(f"--config: {config} does not exist")
    return binary, [binary, "replicate", "-config", str(config)], litestream_env(settings)


def write_litestream_config(settings: "Settings", folder: Path, db_path: Path | None = None) -> Path:
    path = Path(folder) / "litestream.yml"
    path.write_text(json.dumps(litestream_config(settings, db_path), indent=2))  # JSON is YAML
    return path


def litestream_bin(settings: "Settings") -> str | None:
    name = settings.LITESTREAM_BIN
    found = shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))
    return found


# --- inspecting a database ------------------------------------------------------------------

def _connect_ro(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{Path(path).resolve()}?mode=ro", uri=True)


def table_names(conn: sqlite3.Connection) -> list[str]:
    return [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]


def row_counts(conn: sqlite3.Connection) -> dict[str, int]:
    return {t: conn.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in table_names(conn)}


def ledger_totals(conn: sqlite3.Connection) -> dict[str, dict[str, int]]:
    """Sum of ledger entries by account and currency, when the ledger (issue #6) exists."""
    if "ledger_entries" not in table_names(conn):
        return {}
    out: dict[str, dict[str, int]] = {}
    for account, currency, total in conn.execute(
            "SELECT account, currency, SUM(amount) FROM ledger_entries GROUP BY account, currency ORDER BY 1, 2"):
        out.setdefault(currency, {})[account] = int(total)
    return out


def newest_timestamp(conn: sqlite3.Connection) -> float | None:
    """The newest ISO time in any `at`/`*_at` column: when the newest restored transaction happened."""
    newest: float | None = None
    for table in table_names(conn):
        for col in conn.execute(f'PRAGMA table_info("{table}")').fetchall():
            name = col[1]
            if name != "at" and not name.endswith("_at"):
                continue
            value = conn.execute(f'SELECT MAX("{name}") FROM "{table}"').fetchone()[0]
            if not isinstance(value, str):
                continue
            try:
                ts = parse_iso(value)
            except ValueError:
                continue
            newest = ts if newest is None else max(newest, ts)
    return newest


def integrity(path: Path) -> str:
    with contextlib.closing(_connect_ro(path)) as conn:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])


# --- snapshots ------------------------------------------------------------------------------

def snapshot_key(ts: float) -> str:
    d = dt.datetime.fromtimestamp(ts, dt.UTC)
    return f"{SNAPSHOTS}{d:%Y%m%dT%H%M%S}.{d.microsecond // 1000:03d}Z{SUFFIX}"


def key_time(key: str) -> float:
    stem = key[len(SNAPSHOTS):-len(SUFFIX)]
    return dt.datetime.strptime(stem, "%Y%m%dT%H%M%S.%fZ").replace(tzinfo=dt.UTC).timestamp()


def manifest_key(key: str) -> str:
    return key[:-len(SUFFIX)] + ".json"


def list_snapshots(storage: Storage) -> list[str]:
    """Snapshot keys, oldest first."""
    keys = [k for k in storage.list(SNAPSHOTS) if k.endswith(SUFFIX)]
    return sorted(keys, key=key_time)


def read_manifest(storage: Storage, key: str) -> dict[str, Any]:
    with contextlib.closing(storage.open(manifest_key(key))) as f:
        return json.loads(f.read())


def take_snapshot(edge: "Edge", storage: Storage | None = None) -> dict[str, Any]:
    """Copy the live database with the online backup API, compress, hash, upload; return the manifest."""
    storage = storage or snapshot_storage(edge.settings)
    now = edge.clock()
    key = snapshot_key(now)
    src_path = edge.settings.database_path
    with tempfile.TemporaryDirectory(prefix="dd-snapshot-") as tmp:
        copy = Path(tmp) / "snapshot.sqlite3"
        with contextlib.closing(sqlite3.connect(str(src_path), timeout=10)) as src, \
                contextlib.closing(sqlite3.connect(str(copy))) as dst:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")
            check = dst.execute("PRAGMA integrity_check").fetchone()[0]
            counts, totals = row_counts(dst), ledger_totals(dst)
        if check != "ok":
            raise BackupError(f"the snapshot of {src_path} failed its integrity check: {check}")
        packed = Path(tmp) / "snapshot.gz"
        with copy.open("rb") as raw, gzip.GzipFile(packed, "wb", compresslevel=6, mtime=0) as gz:
            shutil.copyfileobj(raw, gz, 1024 * 1024)
        digest = hashlib.sha256(packed.read_bytes()).hexdigest()
        manifest = {"key": key, "created_at": iso(now), "database": str(src_path), "sha256": digest,
                    "size": packed.stat().st_size, "raw_size": copy.stat().st_size,
                    "row_counts": counts, "ledger_totals": totals}
        with packed.open("rb") as f:
            storage.put(key, f)
        storage.put(manifest_key(key), io.BytesIO(json.dumps(manifest, indent=1, sort_keys=True).encode()))
    log.info("backup_snapshot", key=key, sha256=digest, size=manifest["size"], where=storage.describe())
    return manifest


def plan_prune(keys: list[str], now: float) -> tuple[list[str], list[str]]:
    """Split snapshot keys into (keep, remove) by RETENTION_RULES; the newest is always kept."""
    def bucket(ts: float, unit: str) -> tuple[int, ...]:
        d = dt.datetime.fromtimestamp(ts, dt.UTC)
        if unit == "hour":
            return (d.year, d.month, d.day, d.hour)
        if unit == "day":
            return (d.year, d.month, d.day)
        if unit == "week":
            return tuple(d.isocalendar()[:2])
        return (d.year, d.month)

    keep: set[str] = set()
    for window, unit in RETENTION_RULES:
        seen: set[tuple[int, ...]] = set()
        for key in sorted(keys, key=key_time, reverse=True):  # newest first: newest of a bucket wins
            ts = key_time(key)
            if now - ts > window:
                continue
            b = bucket(ts, unit)
            if b not in seen:
                seen.add(b)
                keep.add(key)
    if keys:
        keep.add(max(keys, key=key_time))
    ordered = sorted(keys, key=key_time)
    return [k for k in ordered if k in keep], [k for k in ordered if k not in keep]


def prune(edge: "Edge", storage: Storage | None = None, dry_run: bool = False) -> list[str]:
    """Apply the retention rules to the snapshots; return the keys removed (or that would be)."""
    storage = storage or snapshot_storage(edge.settings)
    _, remove = plan_prune(list_snapshots(storage), edge.clock())
    if not dry_run:
        for key in remove:
            storage.delete(key)
            storage.delete(manifest_key(key))
    log.info("backup_pruned", removed=len(remove), dry_run=dry_run)
    return remove


# --- recording runs (for alerts and /readyz) -----------------------------------------------

def record_run(edge: "Edge", kind: str, ok: bool, *, key: str | None = None, sha256: str | None = None,
               size: int | None = None, error: str | None = None, started_at: str | None = None) -> None:
    now = edge.clock.iso()
    edge.db.execute("INSERT INTO backup_runs (kind, started_at, finished_at, ok, key, sha256, size, error)"
                    " VALUES (?,?,?,?,?,?,?,?)", (kind, started_at or now, now, int(ok), key, sha256, size,
                                                   (error or "")[:500] or None))


def run_backup(edge: "Edge", storage: Storage | None = None) -> dict[str, Any]:
    """`digitaldock backup`: one snapshot; a failure is recorded and alerted, then re-raised."""

    started = edge.clock.iso()
    try:
        manifest = take_snapshot(edge, storage)
    except (BackupError, StorageError, sqlite3.Error, OSError) as exc:
        message = f"backup failed: {exc}"
        record_run(edge, "snapshot", False, error=message, started_at=started)
        alerts.raise_alert(edge, "backup_failed", message)
        raise BackupError(message) from None
    record_run(edge, "snapshot", True, key=manifest["key"], sha256=manifest["sha256"], size=manifest["size"],
               started_at=started)
    audit.record(edge, "ops.backup", key=manifest["key"], size=manifest["size"])
    alerts.clear(edge, "backup_failed")
    return manifest


def run_prune(edge: "Edge", storage: Storage | None = None, dry_run: bool = False) -> list[str]:
    removed = prune(edge, storage, dry_run)
    if not dry_run:
        record_run(edge, "prune", True, size=len(removed))
        audit.record(edge, "ops.prune", removed=len(removed))
    return removed


# --- restore --------------------------------------------------------------------------------

@dataclass
class Restored:
    path: Path
    source: str                      # "litestream" or "snapshot"
    key: str | None = None           # the snapshot key, for snapshots
    manifest: dict[str, Any] = field(default_factory=dict)


def _has_database(path: Path) -> bool:
    return any(Path(str(path) + s).exists() for s in ("", "-wal", "-shm"))


def _install(tmp: Path, target: Path) -> None:
    for suffix in ("-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            Path(str(target) + suffix).unlink()
    os.replace(tmp, target)


def restore_snapshot(storage: Storage, key: str, target: Path) -> dict[str, Any]:
    """Download one snapshot, verify its SHA-256 against the manifest, unpack it to `target`."""
    manifest = read_manifest(storage, key)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="dd-restore-", dir=target.parent) as tmp:
        packed = Path(tmp) / "snapshot.gz"
        h = hashlib.sha256()
        with packed.open("wb") as out:
            for chunk in storage.iter_chunks(key):
                h.update(chunk)
                out.write(chunk)
        if h.hexdigest() != manifest["sha256"]:
            raise BackupError(f"snapshot {key} does not match its recorded SHA-256; try an older one")
        raw = Path(tmp) / "restored.sqlite3"
        with gzip.open(packed, "rb") as gz, raw.open("wb") as out:
            shutil.copyfileobj(gz, out, 1024 * 1024)
        _install(raw, target)
    return manifest


def restore_litestream(settings: "Settings", target: Path, at: float | None = None) -> None:
    binary = litestream_bin(settings)
    if not settings.BACKUP_S3_BUCKET or binary is None:
        raise BackupError("Litestream restore needs BACKUP_S3_BUCKET and the litestream binary")
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="dd-restore-", dir=target.parent) as tmp:
        config = write_litestream_config(settings, Path(tmp))
        out = Path(tmp) / "restored.sqlite3"
        cmd = [binary, "restore", "-config", str(config), "-o", str(out)]
        if at is not None:
            cmd += ["-timestamp", dt.datetime.fromtimestamp(at, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")]
        cmd.append(str(settings.database_path.resolve()))
        proc = subprocess.run(cmd, capture_output=True, text=True, env=litestream_env(settings), timeout=600)
        if proc.returncode != 0 or not out.exists():
            last = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
            raise BackupError(f"litestream restore failed: {last[0]}")
        _install(out, target)


def restore(settings: "Settings", target: Path | None = None, *, at: float | None = None,
            snapshot: str | None = None, source: str = "auto", force: bool = False,
            storage: Storage | None = None) -> Restored:
    """Restore the newest backup (or the newest before `at`, or one `snapshot`) into `target`.

    `source` is `litestream`, `snapshot` or `auto` (Litestream when a bucket is configured and
    it has a replica, else the newest snapshot). Refuses to overwrite a database without `force`.
    """
    target = Path(target or settings.database_path)
    if _has_database(target) and not force:
        raise BackupError(f"{target} already holds a database; stop the edge and pass --force to overwrite it")
    storage = storage or snapshot_storage(settings)
    if snapshot:
        manifest = restore_snapshot(storage, snapshot, target)
        restored = Restored(target, "snapshot", snapshot, manifest)
    else:
        restored = None
        if source in ("auto", "litestream") and settings.BACKUP_S3_BUCKET:
            try:
                restore_litestream(settings, target, at)
                restored = Restored(target, "litestream")
            except BackupError:
                if source == "litestream":
                    raise
                log.warning("litestream_restore_failed_fallback_snapshot")
        elif source == "litestream":
            raise BackupError("Litestream restore needs BACKUP_S3_BUCKET")
        if restored is None:
            keys = [k for k in list_snapshots(storage) if at is None or key_time(k) <= at]
            if not keys:
                raise BackupError(f"no snapshot {'before that time ' if at else ''}in {storage.describe()}")
            manifest = restore_snapshot(storage, keys[-1], target)
            restored = Restored(target, "snapshot", keys[-1], manifest)
    check = integrity(target)
    if check != "ok":
        raise BackupError(f"the restored database failed its integrity check: {check}")
    log.info("backup_restored", target=str(target), source=restored.source, key=restored.key)
    return restored


# --- the restore drill ----------------------------------------------------------------------

DrillCheck = Callable[[Path, "Restored"], list[str]]


def check_row_counts(path: Path, restored: Restored) -> list[str]:
    """A snapshot restores exactly the rows its manifest counted."""
    expected = restored.manifest.get("row_counts")
    if not expected:
        return []
    with contextlib.closing(_connect_ro(path)) as conn:
        actual = row_counts(conn)
    return [f"table {t}: {actual.get(t)} rows restored, {n} in the snapshot"
            for t, n in expected.items() if actual.get(t) != n]


def check_ledger_totals(path: Path, restored: Restored) -> list[str]:
    expected = restored.manifest.get("ledger_totals")
    if not expected:
        return []
    with contextlib.closing(_connect_ro(path)) as conn:
        actual = ledger_totals(conn)
    return [] if actual == expected else ["ledger totals differ from the snapshot's manifest"]


def check_ledger_invariant(path: Path, restored: Restored) -> list[str]:
    """Every ledger invariant (`checkout.payments.ledger.check`) on the restored copy."""
    conn = _connect_ro(path)
    conn.row_factory = sqlite3.Row
    db = sqlite_utils.Database(conn)
    try:
        if "ledger_entries" not in db.table_names():
            return []
        return [f"ledger: {problem}" for problem in ledger.check(db)]
    finally:
        db.conn.close()


# Checks run on every restored copy; each returns a list of problems (empty: fine).
DRILL_CHECKS: list[DrillCheck] = [check_row_counts, check_ledger_totals, check_ledger_invariant]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def edge_process(db_path: Path, port: int, extra_env: dict[str, str] | None = None) -> Iterator[subprocess.Popen]:
    """Run `digitaldock edge` on `db_path` (no outbox, no retention: a copy must never send mail)."""
    folder = db_path.parent
    env = {**os.environ, "DATABASE_PATH": str(db_path), "DIGITALDOCK_DATA_DIR": str(folder),
           "OUTBOX_POLL_SECONDS": "0", "RETENTION_INTERVAL_SECONDS": "0", "PAYOUT_INTERVAL_SECONDS": "0",
           "RECONCILE_INTERVAL_SECONDS": "0", "EMAIL_BACKEND": "file", "EMAIL_DIR": str(folder / "emails"),
           "LOG_FILE": "", **(extra_env or {})}
    proc = subprocess.Popen([sys.executable, "-m", "checkout.cli.main", "edge", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:  # pragma: no cover - a hung edge
                proc.kill()
                proc.wait()
        if proc.stderr:
            proc.stderr.close()


def poll_ready(url: str, timeout: float, alive: Callable[[], bool] | None = None) -> bool:
    """Poll `url` until it answers 200; False on timeout or as soon as `alive()` says no."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if alive is not None and not alive():
            return False
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    return False


def wait_ready(url: str, timeout: float, proc: subprocess.Popen | None = None) -> bool:
    return poll_ready(url, timeout, (lambda: proc.poll() is None) if proc is not None else None)


@dataclass
class DrillReport:
    source: str
    key: str | None
    rto: float
    rpo: float | None
    row_counts: dict[str, int]
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def drill(settings: "Settings", scratch: Path | None = None, *, source: str = "auto",
          checks: list[DrillCheck] | None = None, timeout: float = 60.0, now: Callable[[], float] = time.time,
          storage: Storage | None = None) -> DrillReport:
    """Restore the latest backup into `scratch`, check it, start an edge on it; measure RTO/RPO."""
    checks = DRILL_CHECKS if checks is None else checks
    own = scratch is None
    folder = Path(scratch or tempfile.mkdtemp(prefix="dd-drill-"))
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "edge.sqlite3"
    started = time.monotonic()
    problems: list[str] = []
    try:
        restored = restore(settings, target, source=source, force=True, storage=storage)
        with contextlib.closing(_connect_ro(target)) as conn:
            counts = row_counts(conn)
            newest = newest_timestamp(conn)
        for check in checks:
            problems += check(target, restored)
        port = free_port()
        with edge_process(target, port) as proc:
            if not wait_ready(f"http://127.0.0.1:{port}/readyz", timeout, proc):
                problems.append("the edge on the restored copy did not become ready")
            rto = time.monotonic() - started
        rpo = None if newest is None else max(0.0, now() - newest)
        return DrillReport(restored.source, restored.key, rto, rpo, counts, problems)
    finally:
        if own:
            shutil.rmtree(folder, ignore_errors=True)


__all__ = ["BackupError", "DRILL_CHECKS", "DrillReport", "Restored", "drill", "list_snapshots",
           "litestream_config", "plan_prune", "prune", "replicate_command", "restore", "run_backup", "run_prune",
           "snapshot_storage", "take_snapshot"]


def check_replica_freshness(edge: "Edge", storage: Storage | None = None) -> dict[str, Any]:
    """Compare the database's last change with Litestream's newest upload; record it for alerts.

    Stale means: the database changed more than REPLICA_STALE_MINUTES ago and the replica holds
    nothing as new as that change. A database that did not change is never stale.
    """

    s = edge.settings
    if not s.BACKUP_S3_BUCKET:
        return {"configured": False, "stale": False}
    storage = storage or snapshot_storage(s)
    assert isinstance(storage, S3Storage)
    prefix = f"{s.BACKUP_S3_PREFIX.strip('/')}/litestream/"
    newest = 0.0
    with s3_errors_for(storage):
        for page in storage.client.get_paginator("list_objects_v2").paginate(Bucket=storage.bucket, Prefix=prefix):
            for obj in page.get("Contents", ()):
                newest = max(newest, obj["LastModified"].timestamp())
    db = s.database_path
    changed = max((p.stat().st_mtime for p in (db, Path(str(db) + "-wal")) if p.exists()), default=0.0)
    limit = s.REPLICA_STALE_MINUTES * 60
    stale = changed - newest > limit and edge.clock() - changed > limit
    state = {"configured": True, "stale": stale, "replica_newest": iso(newest) if newest else None,
             "database_changed": iso(changed) if changed else None}
    if stale:
        state["message"] = (f"Litestream has not replicated database changes for over {s.REPLICA_STALE_MINUTES:g}"
                            f" minutes (newest replica upload: {state['replica_newest'] or 'none'})")
    alerts.set_state(edge, "replica", state)
    return state


def s3_errors_for(storage: S3Storage) -> contextlib.AbstractContextManager[None]:
    from digitaldock.storage import s3_errors

    return s3_errors(storage.bucket, storage.endpoint_url)
