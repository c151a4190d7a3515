"""Legal consent: which documents a user must accept, recording acceptances, spotting new versions.

A consent record is (user, document, version, time, IP). A user is up to date when, for every
document their role requires, their latest record carries the catalogue's current version.
When the catalogue shows a new version of a document the edge has seen before, every active
user who must accept it gets a `consent_update` email, queued in the same transaction that
records the new version (so a restart sends nothing twice).
"""

from __future__ import annotations

from typing import Any, Iterable

from checkout.core import audit, outbox
from checkout.core.catalog import CatalogState, LegalDoc, required_documents
from checkout.core.context import Edge
from checkout.core.db import atomic
from checkout.core.errors import ServiceUnavailable, ValidationFailed


def required_now(edge: "Edge", role: str) -> list[LegalDoc]:
    state = edge.legal()
    missing = [slug for slug in required_documents(role) if slug not in state.legal]
    if missing:
        raise ServiceUnavailable("The legal documents are not available right now; please try again later.",
                                 code="legal_unavailable")
    return [state.legal[slug] for slug in required_documents(role)]


def accepted_versions(edge: "Edge", user_id: int) -> dict[str, str]:
    rows = edge.db.execute("SELECT document, version FROM consents WHERE user_id = ? ORDER BY id",
                           (user_id,)).fetchall()
    return {r["document"]: r["version"] for r in rows}


def outstanding(edge: "Edge", user: Any) -> list[LegalDoc]:
    """Documents whose current version this user has not accepted yet."""
    state = edge.legal()
    have = accepted_versions(edge, user["id"])
    return [state.legal[s] for s in required_documents(user["role"])
            if s in state.legal and have.get(s) != state.legal[s].version]


def check_accepted(edge: "Edge", role: str, accepted: Iterable[str]) -> list[LegalDoc]:
    docs = required_now(edge, role)
    given = set(accepted)
    missing = [d for d in docs if d.slug not in given]
    if missing:
        names = ", ".join(d.title for d in missing)
        raise ValidationFailed(f"To continue you must accept: {names}.", code="consent_missing",
                               fields={"consent": f"Please accept: {names}."})
    return docs


def record(edge: "Edge", user_id: int, docs: Iterable[LegalDoc], ip: str | None) -> None:
    """Store one consent row per document; call inside a transaction."""
    now = edge.clock.iso()
    for d in docs:
        edge.db.execute("INSERT INTO consents (user_id, document, version, accepted_at, ip) VALUES (?,?,?,?,?)",
                        (user_id, d.slug, d.version, now, ip))
        audit.record(edge, "user.consent", actor_id=user_id, subject_id=user_id, ip=ip,
                     document=d.slug, version=d.version)


def accept_outstanding(edge: "Edge", user: Any, accepted: Iterable[str], ip: str | None) -> list[LegalDoc]:
    todo = outstanding(edge, user)
    given = set(accepted)
    missing = [d for d in todo if d.slug not in given]
    if missing:
        names = ", ".join(d.title for d in missing)
        raise ValidationFailed(f"To continue you must accept: {names}.", code="consent_missing",
                               fields={"consent": f"Please accept: {names}."})
    with atomic(edge.db):
        record(edge, user["id"], todo, ip)
    return todo


def note_versions(edge: "Edge", state: CatalogState) -> None:
    """Record legal versions seen for the first time; email users when a known document changed."""
    marker = (id(state), len(state.legal))
    if getattr(edge, "_noted_versions", None) == marker or not state.legal:
        return
    known = {(r["document"], r["version"]) for r in edge.db.execute("SELECT document, version FROM legal_versions")}
    seen_docs = {d for d, _ in known}
    new = [d for d in state.legal.values() if (d.slug, d.version) not in known]
    if new:
        with atomic(edge.db):
            now = edge.clock.iso()
            for d in new:
                edge.db.execute("INSERT OR IGNORE INTO legal_versions VALUES (?,?,?,?)", (d.slug, d.version, d.title, now))
            changed = {d.slug: d for d in new if d.slug in seen_docs}
            if changed:
                _email_changes(edge, changed)
    edge._noted_versions = marker


def _email_changes(edge: "Edge", changed: dict[str, LegalDoc]) -> None:
    users = edge.db.execute("SELECT id, email, display_name, role FROM users WHERE disabled_at IS NULL").fetchall()
    for u in users:
        docs = [changed[s] for s in required_documents(u["role"]) if s in changed]
        if docs:
            outbox.enqueue(edge, "consent_update", u["email"], u["id"], name=u["display_name"],
                           documents=[d.__dict__ for d in docs])
