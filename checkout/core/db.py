"""SQLite access: one connection per process part, WAL, foreign keys, busy timeout, migrations.

Migrations are `checkout/core/migrations/NNNN_name.sql`, applied in order, each in its own
transaction, recorded with a checksum in `schema_migrations`. An applied migration whose
file changed is an error: write a new migration instead of editing an old one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils

from checkout.core.errors import EdgeError

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


class MigrationError(EdgeError):
    """Raised when the migrations folder and the database disagree (edited or missing file)."""
    status, code = 500, "migration_failed"
    expose = False


def connect(path: str | Path) -> sqlite_utils.Database:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=5.0)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=5000")
    conn.execute("PRAGMA synchronous=NORMAL")
    return sqlite_utils.Database(conn)


def connect_readonly(path: str | Path) -> sqlite_utils.Database:
    """A read-only connection of its own, for work that grows with the data and runs in a worker
    thread (WAL lets it read while the edge's connection writes): the event loop never waits."""
    conn = sqlite3.connect(f"file:{Path(path).resolve()}?mode=ro", uri=True, check_same_thread=False, timeout=5.0)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA busy_timeout=5000")
    return sqlite_utils.Database(conn)


@contextmanager
def atomic(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """One transaction that takes the write lock at once; nested calls are savepoints
    (sqlite-utils' `Database.atomic`). The original error is re-raised.

    The outermost level is ours rather than sqlite-utils' because its `atomic()` opens a deferred
    `BEGIN`: two transactions that both read before writing then fail the second write with
    SQLITE_BUSY at once (a read transaction cannot become a writer after another writer
    committed, and busy_timeout does not apply), where `BEGIN IMMEDIATE` simply waits its turn.
    The download limits and the webhook batches rely on that.
    """
    conn = db.conn
    if conn.in_transaction:
        with db.atomic():
            yield db
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    try:
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def migration_files(folder: Path = MIGRATIONS_DIR) -> list[tuple[int, str, str]]:
    out = []
    for path in sorted(folder.glob("*.sql")):
        m = _NAME.match(path.name)
        if not m:
            raise MigrationError(f"{path.name}: migration files are named NNNN_name.sql")
        out.append((int(m.group(1)), path.name, path.read_text(encoding="utf-8")))
    versions = [v for v, _, _ in out]
    if len(set(versions)) != len(versions):
        raise MigrationError("two migrations share a number")
    return out


def migrate(db: sqlite_utils.Database, folder: Path = MIGRATIONS_DIR) -> list[str]:
    """Apply every pending migration; return the names applied."""
    db.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
               "name TEXT NOT NULL, checksum TEXT NOT NULL, applied_at TEXT NOT NULL)")
    applied = {r["version"]: r for r in db.execute("SELECT * FROM schema_migrations").fetchall()}
    done = []
    for version, name, sql in migration_files(folder):
        checksum = hashlib.sha256(sql.encode()).hexdigest()
        if version in applied:
            if applied[version]["checksum"] != checksum:
                raise MigrationError(f"{name} was changed after it was applied; add a new migration instead")
            continue
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        try:
            db.conn.executescript(
                "BEGIN IMMEDIATE;\n" + sql + "\n;INSERT INTO schema_migrations VALUES "
                f"({version}, '{name}', '{checksum}', '{now}');\nCOMMIT;")
        except sqlite3.Error as exc:
            if db.conn.in_transaction:
                db.conn.execute("ROLLBACK")
            raise MigrationError(f"{name}: {exc}") from exc
        done.append(name)
    return done


def schema_version(db: sqlite_utils.Database) -> int:
    row = db.execute("SELECT MAX(version) FROM schema_migrations").fetchone()
    return row[0] or 0
