"""JSON logs: request id on every line, secrets redacted, optional file, Sentry only when possible."""

from __future__ import annotations

import io
import json
import logging

import structlog

from checkout.core import logs, redact, sentry

from ..conftest import PASSWORD, register


def test_redaction_at_any_depth():
    event = {"password": "hunter2", "headers": {"Authorization": "Bearer x", "cookie": "dd=1"},
             "items": [{"refresh_token": "abc"}], "sessions_deleted": 3, "event": "x"}
    out = redact.redact(event)
    assert out["password"] == out["headers"]["Authorization"] == out["headers"]["cookie"] == "[redacted]"
    assert out["items"][0]["refresh_token"] == "[redacted]" and out["sessions_deleted"] == 3


def test_request_lines_carry_request_id_and_no_secrets(make_client):
    stream = io.StringIO()
    client = make_client()
    logs.configure("INFO", stream=stream)
    register(client)
    client.post("/api/auth/token", json={"grant_type": "password", "email": "ann@example.com", "password": PASSWORD},
                headers={"X-Request-ID": "req-42"})
    lines = [json.loads(l) for l in stream.getvalue().splitlines() if l.startswith("{")]
    assert any(l.get("request_id") == "req-42" and l["event"] == "request" for l in lines)
    assert all("request_id" in l for l in lines if l["event"] == "request")
    assert PASSWORD not in stream.getvalue()
    structlog.get_logger("t").info("leak", password=PASSWORD, api_key="re_x")
    assert PASSWORD not in stream.getvalue() and "re_x" not in stream.getvalue()


def test_log_file_rotates_daily_keeping_30(tmp_path):
    path = tmp_path / "edge.log"
    logs.configure("INFO", str(path))
    handler = [h for h in logging.getLogger().handlers if isinstance(h, logging.handlers.TimedRotatingFileHandler)][0]
    assert handler.when == "MIDNIGHT" and handler.backupCount == 30
    structlog.get_logger("t").info("hello", n=1)
    assert json.loads(path.read_text().splitlines()[-1])["event"] == "hello"
    logs.configure("INFO")
    assert not any(isinstance(h, logging.handlers.TimedRotatingFileHandler) for h in logging.getLogger().handlers)


def test_sentry_is_optional():
    assert sentry.init("", "development") is False
    try:
        import sentry_sdk  # noqa: F401
    except ImportError:
        assert sentry.init("https://key@example.invalid/1", "development") is False
