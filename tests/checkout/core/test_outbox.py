"""The email outbox: file backend, Resend over real HTTP, retries with backoff, dead letters."""

from __future__ import annotations

import httpx

from checkout.core import outbox

from ...servers import free_port
from ..conftest import edge_of, outbox_rows, read_eml, register, scrape, submit


def test_file_backend_writes_eml_with_text_and_html(client):
    register(client)
    edge = edge_of(client)
    assert outbox.process_due(edge) == {"sent": 1, "retry": 0, "dead": 0}
    [path] = sorted(edge.settings.email_dir.glob("*.eml"))
    msg = read_eml(path)
    assert msg["To"] == "ann@example.com" and "Confirm your email" in msg["Subject"]
    assert "/verify?token=" in msg.get_body(("plain",)).get_content()
    assert "Confirm my email" in msg.get_body(("html",)).get_content()
    assert outbox.process_due(edge) == {"sent": 0, "retry": 0, "dead": 0}  # nothing twice
    assert outbox_rows(client)[0]["status"] == "sent"


def test_resend_backend_retries_with_backoff_then_sends_once(make_client, resend, clock):
    client = make_client(EMAIL_BACKEND="resend", RESEND_API_KEY="re_test", RESEND_BASE_URL=resend.url,
                         OUTBOX_BACKOFF_SECONDS=10)
    register(client)
    edge = edge_of(client)
    httpx.post(f"{resend.url}/_control/fail", json={"count": 2, "status": 503})
    assert outbox.process_due(edge)["retry"] == 1
    row = outbox_rows(client)[0]
    assert row["status"] == "pending" and row["attempts"] == 1 and "503" in row["last_error"]
    assert outbox.process_due(edge)["retry"] == 0  # not due yet: backoff
    clock.advance(11)
    assert outbox.process_due(edge)["retry"] == 1
    clock.advance(19)
    assert outbox.process_due(edge)["retry"] == 0  # second delay is 20 s
    clock.advance(2)
    assert outbox.process_due(edge)["sent"] == 1
    [msg] = httpx.get(f"{resend.url}/_control/messages").json()
    assert msg["to"] == ["ann@example.com"] and msg["idempotency_key"] == "outbox-1"
    assert "digitaldock_emails_sent_total 1.0" in scrape(client)


def test_dead_after_last_attempt_and_admin_resend(make_client, resend, clock):
    client = make_client(EMAIL_BACKEND="resend", RESEND_API_KEY="re_test", RESEND_BASE_URL=resend.url,
                         OUTBOX_MAX_ATTEMPTS=2, OUTBOX_BACKOFF_SECONDS=1)
    register(client)
    edge = edge_of(client)
    httpx.post(f"{resend.url}/_control/fail", json={"count": 2, "status": 500})
    outbox.process_due(edge)
    clock.advance(2)
    assert outbox.process_due(edge)["dead"] == 1
    assert outbox_rows(client)[0]["status"] == "dead"
    from ..conftest import link_from, login
    link = link_from(outbox_rows(client)[0], "/verify")
    client.get(link)
    edge.db.execute("UPDATE users SET role='admin'")
    login(client)
    page = client.get("/admin/emails?status=dead")
    assert "dead" in page.text and "Resend" in page.text
    r = submit(client, "/admin/emails?status=dead", {}, action="/admin/outbox/1/resend")
    assert r.status_code == 303
    assert outbox.process_due(edge)["sent"] == 1
    assert len(httpx.get(f"{resend.url}/_control/messages").json()) == 1
    assert client.post("/admin/outbox/1/resend").status_code == 403  # no CSRF token
    r = submit(client, "/admin/emails", {}, action="/admin/outbox/x/resend")
    assert r.status_code == 404


def test_permanent_failure_is_dead_at_once(make_client, resend):
    client = make_client(EMAIL_BACKEND="resend", RESEND_API_KEY="wrong-key", RESEND_BASE_URL=resend.url)
    register(client)
    assert outbox.process_due(edge_of(client))["dead"] == 1
    assert "401" in outbox_rows(client)[0]["last_error"]


def test_unreachable_backend_is_retried(make_client):
    client = make_client(EMAIL_BACKEND="resend", RESEND_API_KEY="k", RESEND_BASE_URL=f"http://127.0.0.1:{free_port()}")
    register(client)
    assert outbox.process_due(edge_of(client))["retry"] == 1


def test_crashed_send_is_retried_with_same_idempotency_key(make_client, resend, clock):
    client = make_client(EMAIL_BACKEND="resend", RESEND_API_KEY="re_test", RESEND_BASE_URL=resend.url)
    register(client)
    edge = edge_of(client)
    [row] = outbox.claim_due(edge)  # a worker claimed it ...
    outbox.send_one(outbox.backend_for(edge), row)  # ... delivered, then died before recording
    assert outbox.process_due(edge)["sent"] == 0  # claim still fresh
    clock.advance(outbox.STALE_CLAIM_SECONDS + 1)
    assert outbox.process_due(edge)["sent"] == 1
    assert len(httpx.get(f"{resend.url}/_control/messages").json()) == 1  # delivered once


def test_backend_bugs_are_retryable(client):
    register(client)

    class Broken:
        def send(self, message):
            raise KeyError("oops")
    assert outbox.process_due(edge_of(client), Broken())["retry"] == 1


def test_worker_in_the_running_edge_sends(make_client):
    import time
    client = make_client(OUTBOX_POLL_SECONDS=0.05)
    register(client)
    for _ in range(100):
        if outbox_rows(client)[0]["status"] == "sent":
            break
        time.sleep(0.05)
    assert outbox_rows(client)[0]["status"] == "sent"
