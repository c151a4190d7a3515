"""Database: pragmas, migrations (applied once, never edited), transactions with savepoints."""

from __future__ import annotations

import pytest

from checkout.core import db


def test_pragmas_and_migrations(tmp_path):
    d = db.connect(tmp_path / "x" / "edge.sqlite3")
    assert d.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert d.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert d.execute("PRAGMA busy_timeout").fetchone()[0] == 5000
    assert db.migrate(d) == [name for _, name, _ in db.migration_files()]
    assert db.migrate(d) == []
    assert db.schema_version(d) == db.migration_files()[-1][0]
    assert {"users", "consents", "sessions", "outbox", "audit_log"} <= set(d.table_names())


def test_edited_migration_is_refused(tmp_path):
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "0001_a.sql").write_text("CREATE TABLE a (x);")
    d = db.connect(tmp_path / "e.sqlite3")
    db.migrate(d, folder)
    (folder / "0001_a.sql").write_text("CREATE TABLE a (x, y);")
    with pytest.raises(db.MigrationError, match="changed after it was applied"):
        db.migrate(d, folder)


def test_bad_migrations(tmp_path):
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "0001_a.sql").write_text("CREATE TABLE a (x);")
    (folder / "0002_b.sql").write_text("CREATE TABLE broken (;")
    d = db.connect(tmp_path / "e.sqlite3")
    with pytest.raises(db.MigrationError, match="0002_b.sql"):
        db.migrate(d, folder)
    assert db.schema_version(d) == 1  # the good one stays applied
    (folder / "bad name.sql").write_text("")
    with pytest.raises(db.MigrationError, match="NNNN_name.sql"):
        db.migration_files(folder)
    (folder / "bad name.sql").unlink()
    (folder / "0002_c.sql").write_text("")
    with pytest.raises(db.MigrationError, match="share a number"):
        db.migration_files(folder)


def test_atomic_rolls_back_and_nests(tmp_path):
    d = db.connect(tmp_path / "e.sqlite3")
    d.execute("CREATE TABLE t (x INTEGER)")
    with pytest.raises(ZeroDivisionError):
        with db.atomic(d):
            d.execute("INSERT INTO t VALUES (1)")
            1 / 0
    assert d.execute("SELECT COUNT(*) FROM t").fetchone()[0] == 0
    with db.atomic(d):
        d.execute("INSERT INTO t VALUES (1)")
        with pytest.raises(ValueError):
            with db.atomic(d):
                d.execute("INSERT INTO t VALUES (2)")
                raise ValueError
        with db.atomic(d):
            d.execute("INSERT INTO t VALUES (3)")
    assert [r[0] for r in d.execute("SELECT x FROM t ORDER BY x")] == [1, 3]


def test_why_atomic_begins_immediate_a_deferred_writer_that_read_first_fails(tmp_path):
    """sqlite-utils' own atomic() begins deferred: a transaction that reads, then finds another
    writer committed in between, cannot write at all (SQLITE_BUSY at once, busy_timeout or not)."""
    import sqlite3 as sq
    import threading

    path = tmp_path / "t.sqlite3"
    a, b = db.connect(path), db.connect(path)
    a.execute("CREATE TABLE t (n INTEGER)")
    with pytest.raises(sq.OperationalError, match="locked"):
        with b.atomic():  # deferred
            b.execute("SELECT COUNT(*) FROM t").fetchone()
            with db.atomic(a):
                a.execute("INSERT INTO t VALUES (1)")
            b.execute("INSERT INTO t VALUES (2)")
    # ours takes the write lock first: the second writer waits its turn and both rows land
    started, release = threading.Event(), threading.Event()

    def first() -> None:
        with db.atomic(a):
            a.execute("SELECT COUNT(*) FROM t").fetchone()
            started.set()
            release.wait(5)
            a.execute("INSERT INTO t VALUES (3)")

    worker = threading.Thread(target=first)
    worker.start()
    started.wait(5)
    threading.Timer(0.2, release.set).start()
    with db.atomic(b):
        b.execute("SELECT COUNT(*) FROM t").fetchone()
        b.execute("INSERT INTO t VALUES (4)")
    worker.join(5)
    assert sorted(r[0] for r in a.execute("SELECT n FROM t")) == [1, 3, 4]
