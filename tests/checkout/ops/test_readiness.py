"""/readyz checks file storage and clamd when they are configured, against real ones (moto's S3
server and clamd from tests/conftest.py) and against stopped or unreachable ones."""

from __future__ import annotations

import contextlib
import socket
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checkout.ops.readiness import _s3_reason
from digitaldock.storage import s3_client

from ...servers import free_port


def _readyz(client) -> tuple[int, dict]:
    r = client.get("/readyz")
    return r.status_code, r.json()


def test_local_storage_ready_and_clamd_reported_unconfigured(make_client, tmp_path):
    client = make_client()
    status, body = _readyz(client)
    assert status == 200 and body["status"] == "ready"
    assert body["checks"]["storage"] == {"ok": True, "configured": True, "backend": "local"}
    assert body["checks"]["clamd"] == {"ok": True, "configured": False}
    # the folder uploads go to exists now and the probe left nothing in it
    assert (tmp_path / "data" / "storage").is_dir() and not any((tmp_path / "data" / "storage").iterdir())


def test_unwritable_local_storage_makes_the_edge_unready(make_client, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    client = make_client(STORAGE_DIR=str(blocker / "storage"))
    status, body = _readyz(client)
    assert status == 503 and body["status"] == "not_ready"
    assert body["checks"]["storage"] == {"ok": False, "configured": True, "backend": "local",
                                         "error": "storage folder is not writable"}
    assert "a-file" not in client.get("/readyz").text


def test_real_clamd_on_its_socket_and_on_tcp(make_client, clamd):
    status, body = _readyz(make_client(CLAMD_SOCKET=clamd["CLAMD_SOCKET"]))
    assert status == 200 and body["checks"]["clamd"] == {"ok": True, "configured": True}
    status, body = _readyz(make_client(CLAMD_HOST="127.0.0.1", CLAMD_PORT=int(clamd["port"])))
    assert status == 200 and body["checks"]["clamd"] == {"ok": True, "configured": True}


def test_stopped_clamd_makes_the_edge_unready(make_client, tmp_path):
    # A clamd that stopped leaves its socket file behind: connecting to it is refused.
    path = tmp_path / "clamd.sock"
    with socket.socket(socket.AF_UNIX) as s:
        s.bind(str(path))
    assert path.exists()
    for settings in ({"CLAMD_SOCKET": str(path)}, {"CLAMD_SOCKET": str(tmp_path / "never.sock")},
                     {"CLAMD_HOST": "127.0.0.1", "CLAMD_PORT": free_port()}):
        client = make_client(**settings)
        status, body = _readyz(client)
        assert status == 503, settings
        assert body["checks"]["clamd"] == {"ok": False, "configured": True, "error": "clamd did not answer PING"}
        assert body["checks"]["database"]["ok"] is True
        assert ".sock" not in client.get("/readyz").text


def test_clamd_answering_something_else_is_not_ready(make_client, tmp_path):
    path = tmp_path / "fake.sock"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    server.listen(4)
    import threading

    def answer() -> None:
        # answers until the test closes the socket (the probe may ask once or twice); the close
        # ends accept() with OSError, which must not escape into whichever test runs next
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with conn:
                conn.recv(64)
                conn.sendall(b"UNKNOWN COMMAND\0")

    t = threading.Thread(target=answer, daemon=True)
    t.start()
    try:
        status, body = _readyz(make_client(CLAMD_SOCKET=str(path)))
        assert status == 503 and body["checks"]["clamd"]["ok"] is False
    finally:
        with contextlib.suppress(OSError):  # wakes a blocked accept(); close() alone does not
            server.shutdown(socket.SHUT_RDWR)
        server.close()
        t.join(timeout=5)


@pytest.fixture
def s3_settings(moto_endpoint, aws_env):
    name = f"ready-{uuid.uuid4().hex[:12]}"
    s3_client(moto_endpoint).create_bucket(Bucket=name)
    return {"STORAGE_BACKEND": "s3", "S3_BUCKET": name, "S3_ENDPOINT_URL": moto_endpoint}


def test_s3_storage_on_a_real_endpoint(make_client, s3_settings):
    client = make_client(**s3_settings)
    for _ in range(2):  # the second probe reuses the client
        status, body = _readyz(client)
        assert status == 200 and body["checks"]["storage"] == {"ok": True, "configured": True, "backend": "s3"}


def test_missing_bucket_makes_the_edge_unready(make_client, s3_settings):
    client = make_client(**{**s3_settings, "S3_BUCKET": "no-such-bucket-here"})
    status, body = _readyz(client)
    assert status == 503 and body["checks"]["storage"]["error"] == "bucket not found"
    assert "no-such-bucket-here" not in client.get("/readyz").text


def test_unreachable_s3_endpoint_makes_the_edge_unready_without_leaking(make_client, s3_settings, aws_env):
    endpoint = f"http://127.0.0.1:{free_port()}"
    client = make_client(**{**s3_settings, "S3_ENDPOINT_URL": endpoint})
    status, body = _readyz(client)
    assert status == 503 and body["status"] == "not_ready"
    assert body["checks"]["storage"] == {"ok": False, "configured": True, "backend": "s3",
                                         "error": "S3 endpoint unreachable"}
    text = client.get("/readyz").text
    assert aws_env["AWS_SECRET_ACCESS_KEY"] not in text
    assert endpoint not in text and s3_settings["S3_BUCKET"] not in text


def test_s3_without_credentials_or_bucket_is_not_ready(make_client, s3_settings, monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    status, body = _readyz(make_client(**s3_settings))
    assert status == 503 and body["checks"]["storage"]["error"] == "no S3 credentials"
    status, body = _readyz(make_client(**{**s3_settings, "S3_BUCKET": ""}))
    assert status == 503 and body["checks"]["storage"]["error"] == "no S3 bucket configured"


def test_unknown_storage_backend_is_not_ready(make_client):
    status, body = _readyz(make_client(STORAGE_BACKEND="ftp"))
    assert status == 503 and body["checks"]["storage"]["error"] == "STORAGE_BACKEND is not local or s3"


def test_s3_reasons_never_repeat_the_message():

    assert _s3_reason("S3 error on bucket 'b' at http://user:pw@host: SlowDown") == "S3 error"


def test_the_proxy_check_skips_shared_parts_and_fails_while_draining(make_client, tmp_path):
    """Caddy asks /readyz?scope=proxy every second: whether new requests should come here."""
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    client = make_client(STORAGE_DIR=str(blocker / "storage"))  # storage broken for both edges
    r = client.get("/readyz?scope=proxy")
    assert r.status_code == 200 and r.json()["status"] == "ready" and "storage" not in r.json()["checks"]
    assert client.get("/readyz").status_code == 503  # monitoring still sees the broken storage
    client.app.state.edge.draining = True  # what SIGUSR1 does (checkout/deploy.py)
    r = client.get("/readyz?scope=proxy")
    assert r.status_code == 503 and r.json()["status"] == "draining"
    assert client.get("/readyz").json()["status"] == "not_ready"  # the full check is unchanged


# --- the reverse proxy: a warning, never a failure ----------------------------------------------

def _proxy(client) -> dict:
    r = client.get("/readyz")
    assert r.status_code == 200 and r.json()["status"] == "ready"
    return r.json()["checks"]["proxy"]


def test_a_proxy_missing_from_forwarded_allow_ips_is_a_warning_for_an_hour(make_client, clock):
    # TestClient connects as "testclient": a peer that is not the configured proxy (10.0.0.1)
    client = make_client(TRUST_PROXY=True, FORWARDED_ALLOW_IPS="10.0.0.1")
    assert _proxy(client) == {"ok": True, "trust_proxy": True}
    client.get("/healthz", headers={"X-Forwarded-For": "198.51.100.7"})
    proxy = _proxy(client)
    assert proxy["peer"] == "testclient" and proxy["ok"] is True
    assert "add testclient to FORWARDED_ALLOW_IPS" in proxy["warning"]
    clock.advance(3601)
    assert _proxy(client) == {"ok": True, "trust_proxy": True}


def test_forwarded_requests_with_trust_proxy_off_are_a_warning(make_client):
    client = make_client(TRUST_PROXY=False)
    client.get("/healthz")
    assert "warning" not in _proxy(client)
    client.get("/healthz", headers={"X-Forwarded-For": "198.51.100.7"})
    assert "set TRUST_PROXY=true" in _proxy(client)["warning"]


def test_what_a_trusted_proxy_forwarded_is_no_warning(make_client):
    from checkout.ops.readiness import check_proxy, note_forwarded

    client = make_client(TRUST_PROXY=True, FORWARDED_ALLOW_IPS="127.0.0.1,10.0.0.0/8")
    edge = client.app.state.edge
    note_forwarded(edge, "198.51.100.7", "203.0.113.1, 198.51.100.7")  # uvicorn took it from the header
    note_forwarded(edge, "10.1.2.3", "10.1.2.3")  # every hop a proxy
    note_forwarded(edge, "127.0.0.1", "198.51.100.7")
    assert "warning" not in check_proxy(edge)
    note_forwarded(edge, "192.0.2.50", "198.51.100.7")  # a peer that is neither
    assert check_proxy(edge)["peer"] == "192.0.2.50"


def test_any_forwarded_for_and_peer_are_noted_without_error(make_client):
    from checkout.ops.readiness import check_proxy, note_forwarded

    edges = {trust: make_client(TRUST_PROXY=trust).app.state.edge for trust in (True, False)}

    @settings(max_examples=200, deadline=None)
    @given(client=st.one_of(st.none(), st.text(max_size=40), st.ip_addresses().map(str)),
           header=st.text(max_size=200), trust=st.booleans())
    def check(client, header, trust):
        edge = edges[trust]
        edge.__dict__.pop("_untrusted_forwarder", None)
        note_forwarded(edge, client, header)
        state = check_proxy(edge)
        assert state["ok"] is True
        believed = trust and (client == "127.0.0.1" or client in {h.strip() for h in header.split(",")})
        assert ("warning" in state) == (bool(client) and not believed)

    check()
