"""The consoles' commands (issue #16): account standing, reports and the statement check, through
click's CliRunner on an edge database of their own."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from checkout.accounts import users
from checkout.cli.consoles import report_group
from checkout.cli.edge import seed, user
from checkout.cli.payments import ledger_group
from checkout.core.catalog import required_documents
from checkout.core.settings import load_settings
from checkout.payments import statements
from checkout.testing.bulk import add_movements, fill_orders
from checkout.wiring import build_edge

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def env(tmp_path, catalog_path):
    shutil.copytree(ROOT / "content", tmp_path / "content")
    return {"DIGITALDOCK_DATA_DIR": str(tmp_path / "data"), "CATALOG_PATH": str(catalog_path),
            "CONTENT_DIR": str(tmp_path / "content"), "REBUILD_ON_APPROVAL": "false",
            "ARGON2_TIME_COST": "1", "ARGON2_MEMORY_COST": "8", "ARGON2_PARALLELISM": "1",
            "PAYSTACK_BASE_URL": "http://127.0.0.1:9"}  # no sandbox: seed makes no demo sales


def run(cmd, args, env):
    return CliRunner().invoke(cmd, args, env=env, catch_exceptions=False)


def edge_for(env):
    e = build_edge(load_settings(environ=env, dotenv=None))
    e.migrate()
    return e


def test_ban_unban_verify_from_the_command_line(env, tmp_path):
    assert run(seed, [], env).exit_code == 0
    e = edge_for(env)
    slug = e.db.execute("SELECT seller_slug FROM seller_accounts").fetchone()[0]
    r = run(user, ["ban", "seller@example.com", "--reason", "x"], env)
    assert r.exit_code == 1 and "Give the reason" in r.output
    r = run(user, ["ban", "seller@example.com", "--reason", "Stolen artwork"], env)
    assert r.exit_code == 0 and "is banned" in r.output
    assert "suspended: true" in (tmp_path / "content" / "sellers" / f"{slug}.md").read_text("utf-8")
    shown = json.loads(run(user, ["show", "seller@example.com"], env).stdout)
    assert shown["banned"] and shown["payouts_held"] == [slug]
    row = e.db.execute("SELECT detail FROM audit_log WHERE action = 'admin.user_banned'").fetchone()
    assert json.loads(row[0])["by"] == "an operator (command line)"
    assert run(user, ["unban", "seller@example.com", "--reason", "Licence shown"], env).exit_code == 0
    assert run(user, ["verify", "seller@example.com"], env).exit_code == 0
    assert "verified: true" in (tmp_path / "content" / "sellers" / f"{slug}.md").read_text("utf-8")
    assert run(user, ["unverify", "seller@example.com", "--reason", "Expired papers"], env).exit_code == 0
    found = [json.loads(x) for x in run(user, ["find", "example.com"], env).stdout.splitlines()]
    assert {u["email"] for u in found} == {"buyer@example.com", "seller@example.com", "admin@example.com"}
    assert run(user, ["ban", "nobody@example.com", "--reason", "Who?"], env).exit_code == 1


def test_reports_and_the_statement_chain(env):
    e = edge_for(env)
    fill_orders(e.db.conn, 300, day="2026-09-01", days=60)
    add_movements(e.db.conn, payout_day="2026-10-20")
    r = run(report_group, ["sales", "--from", "2026-09-01", "--to", "2026-10-31", "--period", "month"], env)
    assert r.exit_code == 0 and r.stdout.startswith("Period,Currency,Orders") and "total" in r.stdout
    r = run(report_group, ["sales", "--from", "2026-13-01"], env)
    assert r.exit_code == 1 and "must be a date" in r.output
    assert run(report_group, ["tie-out"], env).exit_code == 0
    assert "po_bulk_" in run(report_group, ["payouts", "--from", "2026-10-01", "--to", "2026-10-31"], env).stdout
    r = run(ledger_group, ["statement", "--seller", "ada"], env)
    assert r.exit_code == 0 and "2026-09" in r.stdout and "ok" in r.stdout
    r = run(ledger_group, ["statement", "--seller", "ada", "--verify"], env)
    assert r.exit_code == 0 and "every seal matches" in r.stdout
    assert "Running balance" in run(ledger_group, ["statement", "--seller", "ada", "--csv"], env).stdout
    # a journal backdated into a sealed month breaks the chain from there on
    e.db.execute("INSERT INTO ledger_journals (kind, memo, created_at) VALUES ('payout_return', 'x',"
                 " '2026-09-10T00:00:00+00:00')")
    jid = e.db.execute("SELECT MAX(id) FROM ledger_journals").fetchone()[0]
    e.db.conn.executemany("INSERT INTO ledger_entries (journal_id, account, currency, amount) VALUES (?,?,?,?)",
                          [(jid, "seller:ada:available", "NGN", -1), (jid, "paystack:receivable", "NGN", 1)])
    e.db.execute("UPDATE ledger_journals SET posted = 1 WHERE id = ?", (jid,))
    r = CliRunner().invoke(ledger_group, ["statement", "--seller", "ada", "--verify"], env=env)
    assert r.exit_code == 1 and "2026-09: the entries no longer give the sealed hash" in r.output
    assert not statements.verify(e.db, "ada").ok


def test_a_seller_registered_by_hand_is_not_linked_twice(env):
    e = edge_for(env)
    state = e.legal()
    uid = users.create_user(e, "seller@example.com", "Demo Seller", "seller", e.hasher.hash("tall-granite-window-8"),
                            [state.legal[s] for s in required_documents("seller") if s in state.legal], verified=True,
                            send_verification=False, actor_id=0)
    e.db.execute("INSERT INTO seller_accounts (seller_slug, user_id, created_at) VALUES ('mine', ?, 'x')", (uid,))
    r = run(seed, [], env)
    assert "manages the catalogue seller mine" in r.stdout
