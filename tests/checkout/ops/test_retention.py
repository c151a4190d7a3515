"""The retention table of the Privacy Policy, enforced by `run_retention` with a clock we move."""

from __future__ import annotations

from click.testing import CliRunner

from checkout.accounts import gdpr
from checkout.cli.main import main
from checkout.core import audit, outbox
from checkout.core import retention as retention_job
from checkout.core.clock import Clock
from checkout.core.db import atomic

DAY = 86400


def _user(edge, email: str) -> dict:
    uid = edge.db.execute("INSERT INTO users (email, display_name, password_hash, role, created_at)"
                          " VALUES (?,?,?,?,?)", (email, "Someone", "x", "buyer", edge.clock.iso())).lastrowid
    edge.db.execute("INSERT INTO consents (user_id, document, version, accepted_at, ip) VALUES (?,?,?,?,?)",
                    (uid, "terms", "1.0", edge.clock.iso(), "203.0.113.9"))
    return dict(edge.db.execute("SELECT * FROM users WHERE id = ?", (uid,)).fetchone())


def _last_run(edge) -> dict:
    runs = [r for r in audit.recent(edge, 500) if r["action"] == "retention.run"]
    return runs[0]["detail"]


def test_deleted_accounts_are_anonymised_after_30_days_not_before(ops_env, make_edge, populate):
    clock = Clock()
    edge = make_edge(clock)
    ann = _user(edge, "ann@example.com")
    bob = _user(edge, "bob@example.com")
    purchases = populate(edge, 1)  # orders and ledger rows, when issue #6's tables exist
    gdpr.request_deletion(edge, ann, "203.0.113.9")
    clock.advance(29 * DAY)
    assert retention_job.run(edge)["accounts_anonymised"] == 0
    assert _last_run(edge)["accounts_anonymised"] == 0
    clock.advance(2 * DAY)
    report = retention_job.run(edge)
    assert report["accounts_anonymised"] == 1
    row = edge.db.execute("SELECT * FROM users WHERE id = ?", (ann["id"],)).fetchone()
    assert row["email"] == f"deleted-{ann['id']}@deleted.invalid" and row["anonymised_at"]
    assert edge.db.execute("SELECT ip FROM consents WHERE user_id = ?", (ann["id"],)).fetchone()["ip"] is None
    # someone who did not ask keeps everything
    assert edge.db.execute("SELECT email FROM users WHERE id = ?", (bob["id"],)).fetchone()["email"] == "bob@example.com"
    # each run writes an audit entry with its counts
    assert _last_run(edge) == report
    # purchases are kept (tax law), even years later
    clock.advance(800 * DAY)
    retention_job.run(edge)
    if "orders" in edge.db.table_names():
        assert [r["reference"] for r in edge.db.execute("SELECT reference FROM orders")] == purchases["orders"]
        assert len(edge.db.execute("SELECT id FROM ledger_entries").fetchall()) == len(purchases["ledger_entries"])


def test_logs_go_after_30_days_and_email_records_after_a_year(ops_env, make_edge):
    clock = Clock()
    edge = make_edge(clock)
    ann = _user(edge, "ann@example.com")
    with atomic(edge.db):
        audit.record(edge, "user.login", subject_id=ann["id"], ip="203.0.113.9")
        mail = outbox.enqueue(edge, "password_changed", ann["email"], ann["id"], name="Ann")
    outbox.process_due(edge)
    assert edge.db.execute("SELECT status FROM outbox WHERE id = ?", (mail,)).fetchone()["status"] == "sent"
    clock.advance(29 * DAY)
    retention_job.run(edge)
    assert edge.db.execute("SELECT COUNT(*) FROM audit_log WHERE action = 'user.login'").fetchone()[0] == 1
    clock.advance(2 * DAY)
    report = retention_job.run(edge)
    assert report["audit_rows_deleted"] >= 1
    assert edge.db.execute("SELECT COUNT(*) FROM audit_log WHERE action = 'user.login'").fetchone()[0] == 0
    assert edge.db.execute("SELECT COUNT(*) FROM outbox WHERE id = ?", (mail,)).fetchone()[0] == 1
    clock.advance(335 * DAY)  # 366 days after sending
    report = retention_job.run(edge)
    assert report["emails_deleted"] == 1
    assert edge.db.execute("SELECT COUNT(*) FROM outbox WHERE id = ?", (mail,)).fetchone()[0] == 0


def test_retention_tasks_join_the_report_and_the_audit_entry(ops_env, make_edge):
    edge = make_edge()
    seen = []

    def extra(e, now):
        seen.append(now)
        return {"extra_rows_deleted": 2}

    edge.hooks.retention_tasks.append(("extra", extra))
    report = retention_job.run(edge)
    assert report["extra_rows_deleted"] == 2 and len(seen) == 1
    assert _last_run(edge)["extra_rows_deleted"] == 2
    assert report["accounts_anonymised"] == 0  # the built-in tasks ran too


def test_every_edge_runs_the_same_retention_tasks_however_it_was_built(ops_env, make_edge):
    """The tasks are registered by checkout.wiring, never by importing a module first."""
    from checkout.core.settings import load_settings
    from checkout.wiring import build_edge

    names = [name for name, _ in build_edge(load_settings(environ={}, dotenv=None)).hooks.retention_tasks]
    assert names == [name for name, _ in make_edge().hooks.retention_tasks]
    assert {"personal data", "refused webhooks", "download addresses", "withdrawn products' files"} <= set(names)


def test_retention_command_prints_counts(ops_env, make_edge):
    make_edge()
    r = CliRunner().invoke(main, ["retention"])
    assert r.exit_code == 0
    assert "accounts_anonymised: 0" in r.output and "emails_deleted: 0" in r.output


def test_the_privacy_policy_says_what_wins_for_product_files():
    from pathlib import Path

    text = (Path(__file__).resolve().parents[3] / "content" / "legal" / "privacy.md").read_text()
    section = text.split("## Data retention", 1)[1]
    assert "90 days" in section and "download rights" in section and "wins" in section
