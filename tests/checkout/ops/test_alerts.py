"""Alerts reach the admins by email (once per interval), clear when the cause is gone, and
`digitaldock uptime` exits non-zero with a one-line reason."""

from __future__ import annotations

import contextlib
import json
import threading
from collections import namedtuple
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from click.testing import CliRunner

from checkout.cli.main import main
from checkout.core.clock import Clock
from checkout.core.settings import SETTINGS, load_settings
from checkout.payments import events
from checkout.ops import alerts, backup
from checkout.ops.uptime import default_urls, probe
from checkout.web.app import create_app

HOUR = 3600


def _admin(edge, email="root@example.com"):
    edge.db.execute("INSERT INTO users (email, display_name, password_hash, role, created_at)"
                    " VALUES (?, 'Root', 'x', 'admin', ?)", (email, edge.clock.iso()))


def _alert_mail(edge):
    return [dict(r) for r in edge.db.execute(
        "SELECT to_addr, text_body FROM outbox WHERE template = 'alert' ORDER BY id").fetchall()]


def test_an_alert_is_mailed_to_admins_and_extra_addresses_once_per_interval(ops_env, make_edge):
    clock = Clock()
    edge = make_edge(clock, ALERT_EMAILS="ops@example.com, ROOT@example.com")
    _admin(edge)
    assert alerts.raise_alert(edge, "disk_full", "the disk is 95% full")
    assert [m["to_addr"] for m in _alert_mail(edge)] == ["root@example.com", "ops@example.com"]
    assert "the disk is 95% full" in _alert_mail(edge)[0]["text_body"]
    clock.advance(10 * 60)
    assert not alerts.raise_alert(edge, "disk_full", "the disk is 96% full")
    assert len(_alert_mail(edge)) == 2
    clock.advance(HOUR)
    assert alerts.raise_alert(edge, "disk_full", "the disk is 97% full")
    assert len(_alert_mail(edge)) == 4
    assert "3 times" in _alert_mail(edge)[-1]["text_body"]
    alerts.clear(edge, "disk_full")
    assert alerts.active(edge) == []


def test_checks_fire_for_dead_emails_disk_and_stale_backups(ops_env, make_edge, monkeypatch):
    clock = Clock()
    edge = make_edge(clock, DISK_ALERT_PERCENT=0.0)
    _admin(edge)
    edge.db.execute("INSERT INTO outbox (template, to_addr, subject, text_body, html_body, status, next_attempt_at,"
                    " created_at) VALUES ('verify', 'x@example.com', 's', 't', 'h', 'dead', ?, ?)",
                    (clock.iso(), clock.iso()))
    backup.record_run(edge, "snapshot", True, key="k")
    firing = alerts.run_checks(edge)
    assert set(firing) == {"dead_emails", "disk_full"}
    assert "1 email(s) could not be delivered" in firing["dead_emails"]
    clock.advance(4 * HOUR)
    firing = alerts.run_checks(edge)
    assert "backup_failed" in firing and "hours old" in firing["backup_failed"]
    assert alerts.readiness(edge)["degraded"]
    # once a fresh backup exists the alert clears
    backup.record_run(edge, "snapshot", True, key="k2")
    assert "backup_failed" not in alerts.run_checks(edge)
    assert "backup_failed" not in {a["kind"] for a in alerts.active(edge)}


def test_production_without_any_backup_is_degraded(ops_env, make_edge):
    secrets = {s.name: "x" * 40 for s in SETTINGS if s.required_in_production}
    edge = make_edge(DIGITALDOCK_ENV="production", **secrets)
    assert alerts.readiness(edge) == {"ok": True, "degraded": True,
                                      "reasons": ["no backup snapshot has been taken yet"]}


def test_payment_checks_fire_when_issue_6_tables_exist(ops_env, make_edge, populate):
    clock = Clock()
    edge = make_edge(clock, WEBHOOK_FAILURE_THRESHOLD=1)
    populate(edge, 1)
    edge.db.execute("UPDATE orders SET status = 'flagged'")
    for _ in range(2):
        events.record_rejected(edge, b"{}", "bad_signature", "203.0.113.7")
    edge.db.execute("INSERT INTO payouts (reference, seller_slug, currency, amount, recipient_code, status,"
                    " created_at, updated_at) VALUES ('P1', 's', 'NGN', 100000, 'RCP', 'failed', ?, ?)",
                    (clock.iso(), clock.iso()))
    firing = alerts.run_checks(edge)
    assert {"webhook_signatures", "flagged_orders", "payouts_failing"} <= set(firing)


def test_a_broken_check_becomes_an_alert_not_a_crash(ops_env, make_edge, monkeypatch):
    edge = make_edge()

    def broken(e):
        raise RuntimeError("boom")

    monkeypatch.setattr(edge.hooks, "alert_checks", [("custom", broken)])
    assert alerts.run_checks(edge) == {"custom": "the custom check itself failed: RuntimeError: boom"}


def test_readyz_shows_degraded_when_the_last_backup_failed(ops_env, make_edge):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient

    app = create_app(load_settings(dotenv=None))
    with TestClient(app) as client:
        body = client.get("/readyz").json()
        assert body["status"] == "ready" and body["detail"] == "ok"
        backup.record_run(app.state.edge, "snapshot", False, error="backup failed: bucket gone")
        r = client.get("/readyz")
        assert r.status_code == 200
        assert r.json()["detail"] == "degraded"
        assert r.json()["checks"]["backups"]["reasons"] == ["backup failed: bucket gone"]


def test_alerts_command_reports_and_mails(ops_env, make_edge, monkeypatch):
    edge = make_edge()
    _admin(edge)
    monkeypatch.setenv("DISK_ALERT_PERCENT", "0")
    r = CliRunner().invoke(main, ["alerts"])
    assert r.exit_code == 0 and "ALERT disk_full:" in r.output
    assert _alert_mail(edge)
    monkeypatch.setenv("DISK_ALERT_PERCENT", "100")
    r = CliRunner().invoke(main, ["alerts"])
    assert "no alerts" in r.output


def test_alerts_command_flags_an_unreachable_replica_bucket(ops_env, make_edge, monkeypatch):
    make_edge()
    monkeypatch.setenv("BACKUP_S3_BUCKET", "dd-nowhere")
    monkeypatch.setenv("BACKUP_S3_ENDPOINT_URL", "http://127.0.0.1:9")
    r = CliRunner().invoke(main, ["alerts"])
    assert "ALERT replica_stale: cannot check the Litestream replica" in r.output


# --- uptime ---------------------------------------------------------------------------------

Site = namedtuple("Site", "url state")


@contextlib.contextmanager
def fake_site():
    state = {"ready": True, "catalog": True, "home": 200}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_GET(self):
            if self.path == "/readyz":
                ok = state["ready"]
                body = {"status": "ready" if ok else "not_ready", "detail": "degraded",
                        "checks": {"database": {"ok": ok}}}
                self._send(200 if ok else 503, json.dumps(body))
            elif self.path == "/catalog.json":
                self._send(200, json.dumps({"products": {}} if state["catalog"] else {"oops": 1}))
            else:
                self._send(state["home"], "<html>home</html>")

        def _send(self, status, text):
            data = text.encode()
            self.send_response(status)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Site(f"http://127.0.0.1:{server.server_address[1]}", state)
    finally:
        server.shutdown()
        server.server_close()


def test_uptime_passes_then_names_the_first_failure(ops_env, make_edge):
    edge = make_edge()
    _admin(edge)
    with fake_site() as site:
        urls = default_urls(site.url, site.url)
        r = CliRunner().invoke(main, ["uptime", *urls])
        assert r.exit_code == 0 and "ok: 3 URL(s) up (edge degraded)" in r.output
        site.state["catalog"] = False
        r = CliRunner().invoke(main, ["uptime", *urls])
        assert r.exit_code == 1 and "catalog.json: is not the catalogue" in r.output
        site.state["catalog"] = True
        site.state["ready"] = False
        r = CliRunner().invoke(main, ["uptime", "--alert", *urls])
        assert r.exit_code == 1 and "/readyz: not ready, HTTP 503 (failing: database)" in r.output
        assert "not ready" in _alert_mail(edge)[0]["text_body"]
        site.state["ready"] = True
        site.state["home"] = 502
        assert probe(urls[0]).reason.endswith(": HTTP 502")
        site.state["home"] = 200
        r = CliRunner().invoke(main, ["uptime", "--alert", *urls])
        assert r.exit_code == 0 and alerts.active(edge) == []
    r = CliRunner().invoke(main, ["uptime", "--timeout", "2", urls[2]])
    assert r.exit_code == 1 and "cannot connect" in r.output


def test_uptime_defaults_to_the_configured_site_and_edge(ops_env, monkeypatch):
    with fake_site() as site:
        monkeypatch.setenv("SITE_URL", site.url)
        monkeypatch.setenv("CHECKOUT_URL", site.url)
        r = CliRunner().invoke(main, ["uptime"])
        assert r.exit_code == 0 and "3 URL(s)" in r.output
