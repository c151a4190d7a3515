"""Sentry for real: the edge sends its errors to a local ingest stand-in (real HTTP, real
sentry-sdk envelopes), and nothing personal is in what arrives."""

from __future__ import annotations

import pytest
import sentry_sdk
import structlog
from starlette.testclient import TestClient

from checkout.core import sentry
from checkout.ops import alerts
from checkout.testing.sentry_standin import SentryStandIn, parse_envelope
from checkout.web.app import create_app

from ..conftest import csrf_from, edge_of

EMAIL = "ann.person@example.com"
PASSWORD = "hunter2-correct-horse"
IP = "198.51.100.77"
FORWARDED_IP = "203.0.113.9"
RESET_TOKEN = "rst_9f8e7d6c5b4a"
BEARER = "opaque-api-credential-123"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"
PERSONAL = (EMAIL, EMAIL.replace("@", "%40"), PASSWORD, IP, FORWARDED_IP, RESET_TOKEN, BEARER, JWT)


@pytest.fixture
def standin():
    s = SentryStandIn().start()
    yield s
    client = sentry_sdk.get_client()
    if client.is_active():
        client.close(timeout=5)
    sentry_sdk.get_global_scope().set_client(None)
    s.stop()


def _events(standin: SentryStandIn) -> list[dict]:
    assert sentry_sdk.flush(timeout=10) is not False
    return standin.items("event")


def _assert_nothing_personal(standin: SentryStandIn) -> None:
    raw = b"".join(standin.raw).decode("utf-8", "replace")
    for value in PERSONAL:
        assert value not in raw, value


def test_an_error_in_a_request_reaches_sentry_without_personal_data(standin, make_settings, monkeypatch):
    app = create_app(make_settings(SENTRY_DSN=standin.dsn))
    assert sentry_sdk.get_client().is_active() and sentry_sdk.get_client().should_send_default_pii() is False

    def broken_lookup(edge, email):
        raise RuntimeError(f"lookup failed for {email} from {IP} (reset link /password-reset/confirm?token="
                           f"{RESET_TOKEN}, Authorization: Bearer {BEARER}, jwt {JWT})")

    monkeypatch.setattr("checkout.accounts.users.get_by_email", broken_lookup)
    with TestClient(app, client=(IP, 50123), follow_redirects=False) as client:
        page = client.get("/login")
        client.cookies.set("tracking_cookie", "cookie-value-xyz")
        r = client.post(f"/login?next=/account&token={RESET_TOKEN}",
                        data={"csrf_token": csrf_from(page.text), "email": EMAIL, "password": PASSWORD},
                        headers={"Authorization": f"Bearer {BEARER}", "X-Forwarded-For": FORWARDED_IP,
                                 "X-Real-IP": FORWARDED_IP, "User-Agent": "pytest-browser"})
    # The person sees the themed error page with its code, never the exception or a traceback.
    assert r.status_code == 500 and "text/html" in r.headers["content-type"]
    assert "internal_error" in r.text and "Traceback" not in r.text and "RuntimeError" not in r.text
    assert EMAIL not in r.text

    events = _events(standin)
    errors = [e for e in events if e.get("exception")]
    assert len(errors) == 1, events
    event = errors[0]
    exc = event["exception"]["values"][-1]
    assert exc["type"] == "RuntimeError" and exc["value"].startswith("lookup failed for [email] from [ip]")
    assert exc["stacktrace"]["frames"] and all("vars" not in f for f in exc["stacktrace"]["frames"])
    assert event["tags"]["log_event"] == "unhandled_error"
    # The Starlette integration attached the request: path and method yes, personal parts no.
    request = event["request"]
    assert request["url"].endswith("/login") and request["method"] == "POST"
    assert "query_string" not in request and "cookies" not in request and "data" not in request
    assert request["headers"]["user-agent"] == "pytest-browser"
    assert not {"authorization", "cookie", "x-forwarded-for", "x-real-ip"} & {h.lower() for h in request["headers"]}
    assert "user" not in event
    assert "cookie-value-xyz" not in b"".join(standin.raw).decode()
    _assert_nothing_personal(standin)
    assert all(p == "/api/1/envelope/" for p in standin.paths)


def test_an_alert_reaches_sentry_scrubbed(standin, make_client):
    client = make_client(SENTRY_DSN=standin.dsn)
    edge = edge_of(client)
    assert alerts.raise_alert(edge, "disk_full", f"disk full on {IP}; tell {EMAIL}") is True
    events = _events(standin)
    assert len(events) == 1
    event = events[0]
    assert event["level"] == "error" and event["tags"]["alert"] == "disk_full"
    message = event.get("logentry", {}).get("message") or event.get("message")
    assert message == "disk_full: disk full on [ip]; tell [email]"
    _assert_nothing_personal(standin)


def test_alerts_and_logged_errors_stay_local_without_a_dsn(standin, make_client):
    client = make_client()
    assert not sentry_sdk.get_client().is_active()
    alerts.raise_alert(edge_of(client), "disk_full", "disk full")
    try:
        raise ValueError("nothing listens")
    except ValueError:
        structlog.get_logger("checkout.test").exception("boom")
    sentry_sdk.flush(timeout=1)
    assert standin.raw == []


def test_a_logged_exception_object_from_a_background_task_is_sent(standin, make_settings):
    create_app(make_settings(SENTRY_DSN=standin.dsn))
    exc = KeyError(f"outbox row for {EMAIL}")
    structlog.get_logger("checkout.app").error("outbox_worker_error", exc_info=exc)
    structlog.get_logger("checkout.app").error("no_exception_here", exc_info=False)
    structlog.get_logger("checkout.app").info("not_an_error", exc_info=exc)
    events = _events(standin)
    assert [e["exception"]["values"][-1]["type"] for e in events] == ["KeyError"]
    assert events[0]["tags"]["log_event"] == "outbox_worker_error"
    _assert_nothing_personal(standin)


@pytest.mark.parametrize(("text", "expected"), [
    ("mail ann@example.com now", "mail [email] now"),
    ("from 10.0.0.1:8080", "from [ip]:8080"),
    ("peer 2001:db8::1 and fe80:0:0:0:0:0:0:1", "peer [ip] and [ip]"),
    ("at 09:04:40 in Foo::bar", "at 09:04:40 in Foo::bar"),
    ("Authorization: Bearer abc.def-ghi", "Authorization: Bearer [Filtered]"),
    ("/verify?token=abc&next=/x", "/verify?token=[Filtered]&next=/x"),
    ("password=hunter2 refresh_token=r1", "password=[Filtered] refresh_token=[Filtered]"),
    ("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig", "jwt [Filtered]"),
    ("order 42 paid in NGN 12.50", "order 42 paid in NGN 12.50"),
])
def test_scrub_text(text, expected):
    assert sentry.scrub_text(text) == expected


def test_scrub_keys_and_request():
    event = {"user": {"email": EMAIL}, "extra": {"email": EMAIL, "password": "x", "count": 3, "note": None,
                                                 "items": [f"to {EMAIL}", ("a", 1)]},
             "request": {"url": "http://edge/reset?token=t#frag", "query_string": "token=t", "cookies": {"s": "1"},
                         "env": {"REMOTE_ADDR": IP}, "data": {"password": "x"},
                         "headers": {"Cookie": "s=1", "Accept": "text/html", "X-Forwarded-For": IP, "X-Odd": 1}}}
    out = sentry.scrub(event)
    assert "user" not in out
    assert out["extra"] == {"email": "[Filtered]", "password": "[Filtered]", "count": 3, "note": None,
                            "items": ["to [email]", ["a", 1]]}
    assert out["request"] == {"url": "http://edge/reset", "headers": {"Accept": "text/html"}}


def test_parse_envelope_with_and_without_lengths():
    body = (b'{"event_id":"1"}\n{"type":"event","length":8}\n{"a": 1}\n'
            b'{"type":"attachment"}\nnot json\n')
    header, items = parse_envelope(body)
    assert header == {"event_id": "1"}
    assert items == [({"type": "event", "length": 8}, {"a": 1}), ({"type": "attachment"}, b"not json")]


def test_init_needs_a_dsn():
    assert sentry.init("", "production") is False


def test_scrub_stops_at_absurd_depth():
    deep: dict = {"v": f"to {EMAIL}"}
    for _ in range(30):
        deep = {"n": deep}
    out = sentry.scrub_value(deep)
    assert EMAIL not in repr(out) and "[Filtered]" in repr(out)
