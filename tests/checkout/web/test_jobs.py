"""The edge's own schedule runs the jobs it claims to (the retention job once called a function
that no longer existed, and only logged an error on every tick)."""

from __future__ import annotations

import time

from checkout.web.base import edge_of


def test_the_running_edge_runs_the_retention_job_on_its_schedule(make_client):
    client = make_client(RETENTION_INTERVAL_SECONDS=0.05)
    db = edge_of(client).db
    deadline = time.monotonic() + 20  # bounded: a broken schedule fails here, it never hangs
    runs = 0
    while time.monotonic() < deadline and runs < 2:
        time.sleep(0.05)
        runs = db.execute("SELECT COUNT(*) FROM audit_log WHERE action = 'retention.run'").fetchone()[0]
    assert runs >= 2, "the edge's retention schedule did not complete two runs"
