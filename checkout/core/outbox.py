"""The email outbox: rows written in the same transaction as their cause, sent by a worker.

`enqueue()` renders the text and HTML bodies now (so a later template change cannot alter a
queued email) and inserts a `pending` row; it must be called inside the caller's transaction.
`process_due()` claims due rows, sends each through the configured backend and records the
outcome: `sent`, or back to `pending` with exponential backoff, or `dead` after the last
attempt (admins can `resend()`). A row claimed by a worker that crashed mid-send is retried
after `STALE_CLAIM_SECONDS`; the backend sees the same idempotency key (`outbox-<id>`), so the
retry never delivers twice.
"""

from __future__ import annotations

import email.policy
import email.utils
import os
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Protocol

import httpx
import structlog

from checkout.core import audit
from checkout.core.clock import iso
from checkout.core.context import Edge
from checkout.core.db import atomic
from checkout.core.errors import NotFound

log = structlog.get_logger("checkout.outbox")
STALE_CLAIM_SECONDS = 300

class SendError(Exception):
    """Raised by a backend when a send failed; `permanent` ones are not retried."""

    def __init__(self, message: str, permanent: bool = False):
        super().__init__(message)
        self.permanent = permanent


class Backend(Protocol):
    def send(self, message: dict[str, Any]) -> str: ...


class FileBackend:
    """Writes each email as `<outbox id>.eml`; rewriting the same id replaces the file (no duplicates)."""

    def __init__(self, folder: Path, sender: str):
        self.folder = Path(folder)
        self.sender = sender

    def send(self, message: dict[str, Any]) -> str:
        self.folder.mkdir(parents=True, exist_ok=True)
        msg = EmailMessage(policy=email.policy.SMTP)
        msg["From"] = self.sender
        msg["To"] = message["to_addr"]
        msg["Subject"] = message["subject"]
        msg["Date"] = email.utils.formatdate(localtime=False)
        msg["Message-ID"] = f"<outbox-{message['id']}@digitaldock>"
        msg["X-Outbox-Id"] = str(message["id"])
        msg.set_content(message["text_body"])
        msg.add_alternative(message["html_body"], subtype="html")
        path = self.folder / f"{message['id']:08d}.eml"
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(msg.as_bytes())
        os.replace(tmp, path)
        return path.name


class ResendBackend:
    """Resend's `POST /emails` through httpx, with an idempotency key per outbox row."""

    def __init__(self, base_url: str, api_key: str, sender: str, timeout: float = 10.0):
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.sender = sender
        self.timeout = timeout

    def send(self, message: dict[str, Any]) -> str:
        try:
            resp = httpx.post(
                f"{self.base_url}/emails", timeout=self.timeout,
                headers={"Authorization": f"Bearer {self.api_key}", "Idempotency-Key": f"outbox-{message['id']}"},
                json={"from": self.sender, "to": [message["to_addr"]], "subject": message["subject"],
                      "text": message["text_body"], "html": message["html_body"]})
        except httpx.HTTPError as exc:
            raise SendError(f"{type(exc).__name__}: {exc}") from None
        if resp.status_code >= 400:
            permanent = 400 <= resp.status_code < 500 and resp.status_code not in (408, 409, 429)
            raise SendError(f"Resend answered {resp.status_code}: {resp.text[:200]}", permanent=permanent)
        try:
            return str(resp.json()["id"])
        except (ValueError, KeyError, TypeError):
            raise SendError("Resend answered without an id") from None


def backend_for(edge: "Edge") -> Backend:
    s = edge.settings
    if s.EMAIL_BACKEND == "resend":
        return ResendBackend(s.RESEND_BASE_URL, s.RESEND_API_KEY.reveal(), s.EMAIL_FROM)
    return FileBackend(s.email_dir, s.EMAIL_FROM)


def enqueue(edge: "Edge", template: str, to_addr: str, user_id: int | None = None, **context: Any) -> int:
    """Render and queue one email. Call inside the transaction of the change that causes it.

    The template's subject comes from `edge.hooks.email_subjects`; an unregistered template is
    a programming error (KeyError), caught by the tests rather than mailed without a subject.
    """
    context.setdefault("checkout_url", edge.settings.CHECKOUT_URL)
    context.setdefault("site_url", edge.settings.SITE_URL)
    text = edge.templates.get_template(f"edge/email/{template}.txt").render(**context)
    html = edge.templates.get_template(f"edge/email/{template}.html").render(**context)
    now = edge.clock.iso()
    cur = edge.db.execute(
        "INSERT INTO outbox (user_id, template, to_addr, subject, text_body, html_body, status, attempts,"
        " next_attempt_at, created_at) VALUES (?,?,?,?,?,?, 'pending', 0, ?, ?)",
        (user_id, template, to_addr, edge.hooks.email_subjects[template], text, html, now, now))
    return int(cur.lastrowid)


def claim_due(edge: "Edge", limit: int = 20) -> list[dict[str, Any]]:
    now = edge.clock()
    with atomic(edge.db):
        rows = edge.db.execute(
            "SELECT * FROM outbox WHERE (status = 'pending' AND next_attempt_at <= ?)"
            " OR (status = 'sending' AND claimed_at <= ?) ORDER BY id LIMIT ?",
            (iso(now), iso(now - STALE_CLAIM_SECONDS), limit)).fetchall()
        for r in rows:
            edge.db.execute("UPDATE outbox SET status = 'sending', claimed_at = ?, attempts = attempts + 1"
                            " WHERE id = ?", (iso(now), r["id"]))
    return [{**dict(r), "attempts": r["attempts"] + 1} for r in rows]


def record_result(edge: "Edge", row: dict[str, Any], provider_id: str | None, error: SendError | None) -> str:
    s = edge.settings
    now = edge.clock()
    with atomic(edge.db):
        if error is None:
            edge.db.execute("UPDATE outbox SET status='sent', sent_at=?, provider_id=?, last_error=NULL,"
                            " claimed_at=NULL WHERE id=?", (iso(now), provider_id, row["id"]))
            edge.metrics.emails_sent.inc()
            log.info("email_sent", outbox_id=row["id"], template=row["template"], attempts=row["attempts"])
            return "sent"
        if error.permanent or row["attempts"] >= s.OUTBOX_MAX_ATTEMPTS:
            edge.db.execute("UPDATE outbox SET status='dead', last_error=?, claimed_at=NULL WHERE id=?",
                            (str(error)[:500], row["id"]))
            edge.metrics.emails_dead.inc()
            log.error("email_dead", outbox_id=row["id"], template=row["template"], error=str(error))
            return "dead"
        delay = s.OUTBOX_BACKOFF_SECONDS * (2 ** (row["attempts"] - 1))
        edge.db.execute("UPDATE outbox SET status='pending', next_attempt_at=?, last_error=?, claimed_at=NULL"
                        " WHERE id=?", (iso(now + delay), str(error)[:500], row["id"]))
        edge.metrics.emails_failed.inc()
        log.warning("email_retry", outbox_id=row["id"], attempts=row["attempts"], retry_in=delay, error=str(error))
        return "retry"


def send_one(backend: Backend, row: dict[str, Any]) -> tuple[str | None, SendError | None]:
    try:
        return backend.send(row), None
    except SendError as exc:
        return None, exc
    except Exception as exc:  # noqa: BLE001 - any backend failure is a retryable send failure
        return None, SendError(f"{type(exc).__name__}: {exc}")


def process_due(edge: "Edge", backend: Backend | None = None, limit: int = 20) -> dict[str, int]:
    """Send every due email once (synchronously); return counts by outcome."""
    backend = backend or backend_for(edge)
    counts = {"sent": 0, "retry": 0, "dead": 0}
    for row in claim_due(edge, limit):
        provider_id, error = send_one(backend, row)
        counts[record_result(edge, row, provider_id, error)] += 1
    return counts


def resend(edge: "Edge", outbox_id: int, actor_id: int | None) -> None:
    """An admin re-queues a dead (or sent) email for one more round of attempts."""

    with atomic(edge.db):
        row = edge.db.execute("SELECT status FROM outbox WHERE id = ?", (outbox_id,)).fetchone()
        if row is None or row["status"] not in ("dead", "sent"):
            raise NotFound("There is no dead or sent email with that id.")
        edge.db.execute("UPDATE outbox SET status='pending', attempts=0, next_attempt_at=?, last_error=NULL"
                        " WHERE id=?", (edge.clock.iso(), outbox_id))
        audit.record(edge, "admin.email_resent", actor_id=actor_id, outbox_id=outbox_id)


def listing(edge: "Edge", status: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
    sql = "SELECT id, user_id, template, to_addr, subject, status, attempts, next_attempt_at, last_error," \
          " created_at, sent_at FROM outbox"
    args: tuple = ()
    if status:
        sql += " WHERE status = ?"
        args = (status,)
    return [dict(r) for r in edge.db.execute(sql + " ORDER BY id DESC LIMIT ?", (*args, limit)).fetchall()]

