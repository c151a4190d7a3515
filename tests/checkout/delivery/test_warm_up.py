"""The edge builds its file storage while starting, so the first downloads do not wait for it."""

from __future__ import annotations

import time

from structlog.testing import capture_logs

from checkout.delivery import storage
from checkout.web import delivery


def test_storage_is_ready_after_start(make_client):
    client = make_client()
    edge = client.app.state.edge
    for _ in range(500):  # the warm-up runs in a thread next to startup
        if "_delivery_storage" in edge.__dict__:
            break
        time.sleep(0.01)
    assert edge.__dict__["_delivery_storage"] is storage.storage(edge)


def test_a_broken_storage_does_not_stop_the_edge(make_client):
    client = make_client(STORAGE_BACKEND="floppy")
    with capture_logs() as logs:
        delivery.warm_up(client.app.state.edge)
    assert [e["event"] for e in logs] == ["storage_unavailable", "storage_warm_up_failed"]
    assert client.get("/healthz").status_code == 200
