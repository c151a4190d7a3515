"""Outgoing webhooks (issue #21): a seller's endpoint on loopback receives a signed `sale` that
verifies with the snippets of docs/api.md; failures are retried with backoff, then the endpoint
is disabled with an email; SSRF targets, redirects, huge and slow answers cannot hurt the edge."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from checkout.integrations import addresses, signing, webhooks
from checkout.integrations.errors import UnsafeEndpoint

from ...servers import serve
from ..web.consoles import PASSWORD, build_site, link, make_account, sell

DOC = Path(__file__).resolve().parents[3] / "docs" / "api.md"


def snippet(language: str) -> str:
    found = re.search(rf"```{language}\n(.*?)```", DOC.read_text("utf-8"), re.S)
    assert found, f"docs/api.md has no {language} snippet"
    return found.group(1)


class Receiver:
    """A real HTTP endpoint on loopback that records what it is sent."""

    def __init__(self):
        self.received: list[dict] = []

        async def record(request: Request) -> Response:
            self.received.append({"path": request.url.path, "headers": dict(request.headers),
                                  "body": await request.body()})
            kind = request.url.path.strip("/")
            if kind == "fail":
                return JSONResponse({"error": "down for maintenance"}, status_code=503)
            if kind == "redirect":
                return RedirectResponse("/redirect", status_code=302)
            if kind == "huge":
                async def endless():
                    for _ in range(10_000):
                        yield b"x" * 65536
                return StreamingResponse(endless())
            if kind == "slow":
                await asyncio.sleep(3)
            return JSONResponse({"ok": True})

        self.app = Starlette(routes=[Route("/{kind}", record, methods=["POST"])])


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return build_site(tmp_path_factory.mktemp("built"))


@pytest.fixture(scope="module")
def receiver():
    r = Receiver()
    with serve(r.app, name="receiver") as server:
        r.url = server.url
        yield r


@pytest.fixture
def shop(make_client, built, tmp_path, receiver, request):
    site = tmp_path / "site"
    shutil.copytree(built, site)
    client = make_client(CATALOG_PATH=str(site / "output" / "catalog.json"), CONTENT_DIR=str(site / "content"),
                         REBUILD_ON_APPROVAL=False, WEBHOOK_ALLOW_PRIVATE=True,
                         # 1 s only where a test wants the timeout; elsewhere a loaded machine must not trip it
                         WEBHOOK_TIMEOUT_SECONDS=getattr(request.function, "webhook_timeout", 10.0))
    edge = client.app.state.edge
    seller = make_account(edge, "ade@example.com", "seller", "Ade Foundry")
    buyer = make_account(edge, "bea@example.com", "buyer", "Bea Buyer")
    link(edge, seller)
    receiver.received.clear()
    return client, edge, dict(edge.db.execute("SELECT * FROM users WHERE id = ?", (buyer,)).fetchone())


def auth(client, scopes=("read:webhooks", "write:webhooks", "read:sales")) -> dict[str, str]:
    r = client.post("/api/auth/token", json={"grant_type": "password", "email": "ade@example.com",
                                             "password": PASSWORD})
    first_party = {"Authorization": f"Bearer {r.json()['access_token']}"}
    made = client.post("/api/v1/tokens", json={"name": "hooks", "scopes": list(scopes)}, headers=first_party)
    return {"Authorization": f"Bearer {made.json()['token']}"}


def register(client, headers, url: str, events=("sale",)) -> dict:
    r = client.post("/api/v1/webhooks", json={"url": url, "events": list(events)}, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


def test_a_sale_reaches_the_endpoint_signed_and_verifies_with_the_documented_snippets(shop, receiver):
    client, edge, buyer = shop
    headers = auth(client)
    endpoint = register(client, headers, receiver.url + "/ok")
    assert endpoint["secret"].startswith("whsec_")
    assert "secret" not in client.get(f"/api/v1/webhooks/{endpoint['id']}", headers=headers).json()
    order = sell(client, buyer, "lagos-grotesk")
    # queued with the sale, sent by the worker (never by the request)
    assert receiver.received == []
    assert webhooks.process_due(edge) == {"succeeded": 1, "retry": 0, "dead": 0}
    [got] = receiver.received
    body = json.loads(got["body"])
    assert body["type"] == "sale" and body["data"]["order_reference"] == order["reference"]
    assert body["data"]["lines"][0]["product_slug"] == "lagos-grotesk"
    assert body["data"]["total"]["amount"] == order["amount"]
    assert got["headers"]["digitaldock-event"] == "sale" and got["headers"]["digitaldock-delivery"] == body["id"]
    signature = got["headers"]["digitaldock-signature"]
    # the Python snippet of docs/api.md, as a receiver would paste it
    scope: dict = {}
    exec(compile(snippet("python"), "docs/api.md", "exec"), scope)
    assert scope["verify"](endpoint["secret"], signature, got["body"])
    assert not scope["verify"](endpoint["secret"], signature, got["body"] + b" ")
    assert not scope["verify"]("whsec_wrong", signature, got["body"])
    assert signing.verify(endpoint["secret"], signature, got["body"], edge.clock())
    # a captured delivery replayed later is refused
    assert not signing.verify(endpoint["secret"], signature, got["body"], edge.clock() + 3600)
    # the delivery log shows the answer
    log = client.get(f"/api/v1/webhooks/{endpoint['id']}/deliveries", headers=headers).json()["data"]
    assert log[0]["status"] == "succeeded" and log[0]["response_status"] == 200 and '"ok"' in log[0]["response_body"]


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
def test_the_javascript_snippet_verifies_a_real_delivery(shop, receiver, tmp_path):
    client, edge, buyer = shop
    headers = auth(client)
    endpoint = register(client, headers, receiver.url + "/ok")
    sell(client, buyer, "lagos-grotesk")
    webhooks.process_due(edge)
    [got] = receiver.received
    (tmp_path / "verify.js").write_text(snippet("javascript"))
    (tmp_path / "body.bin").write_bytes(got["body"])
    check = ("const {verify} = require('./verify.js'); const fs = require('fs');"
             "const body = fs.readFileSync('body.bin');"
             f"console.log(verify({json.dumps(endpoint['secret'])}, {json.dumps(got['headers']['digitaldock-signature'])}, body),"
             f" verify('whsec_wrong', {json.dumps(got['headers']['digitaldock-signature'])}, body))")
    out = subprocess.run(["node", "-e", check], cwd=tmp_path, capture_output=True, text=True, timeout=30)
    assert out.stdout.split() == ["true", "false"], out.stderr


def test_a_failing_endpoint_is_retried_with_backoff_then_disabled_with_an_email(shop, receiver):
    client, edge, buyer = shop
    headers = auth(client)
    endpoint = register(client, headers, receiver.url + "/fail")
    sell(client, buyer, "lagos-grotesk")
    assert webhooks.process_due(edge)["retry"] == 1
    waits = []
    for _ in range(4):
        row = edge.db.execute("SELECT * FROM webhook_deliveries").fetchone()
        assert row["status"] == "failed" and row["response_status"] == 503
        waits.append(webhooks.parse_iso(row["next_attempt_at"]) - edge.clock())
        assert webhooks.process_due(edge)["retry"] == 0  # not due yet: nothing is sent early
        edge.clock.advance(waits[-1] + 1)
        assert webhooks.process_due(edge)["retry"] == 1
    assert all(later > 1.9 * earlier for earlier, later in zip(waits, waits[1:], strict=False)), waits  # exponential
    assert len(receiver.received) == 5
    edge.clock.advance(24 * 3600)
    assert webhooks.process_due(edge)["dead"] == 1
    found = client.get(f"/api/v1/webhooks/{endpoint['id']}", headers=headers).json()
    assert found["status"] == "disabled" and "503" in found["disabled_reason"]
    [mail] = [r for r in edge.db.execute("SELECT * FROM outbox WHERE template = 'webhook_disabled'")]
    assert mail["to_addr"] == "ade@example.com" and "/fail" in mail["text_body"]
    # a disabled endpoint gets nothing more; a redelivery waits until it is enabled again
    sell(client, buyer, "adire-display")
    assert edge.db.execute("SELECT COUNT(*) FROM webhook_deliveries").fetchone()[0] == 1
    dead = client.get(f"/api/v1/webhooks/{endpoint['id']}/deliveries", headers=headers).json()["data"][0]
    assert dead["status"] == "dead" and dead["attempts"] == 6
    client.patch(f"/api/v1/webhooks/{endpoint['id']}", json={"url": receiver.url + "/ok", "status": "active"},
                 headers=headers)
    again = client.post(f"/api/v1/webhooks/{endpoint['id']}/deliveries/{dead['id']}/redeliver", headers=headers)
    assert again.status_code == 202 and again.json()["event_id"] == dead["event_id"]
    assert webhooks.process_due(edge)["succeeded"] == 1
    assert receiver.received[-1]["path"] == "/ok"


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/", "http://169.254.169.254/latest/meta-data/", "http://[::1]/",
                                 "http://localhost/", "http://10.0.0.8/hook", "http://192.168.1.1/",
                                 "http://[::ffff:127.0.0.1]/", "http://0.0.0.0/", "ftp://example.com/",
                                 "http://user:pw@example.com/", "not a url", "http://%zz/"])
def test_ssrf_targets_are_refused_naming_the_url(make_client, url):
    client = make_client()
    edge = client.app.state.edge
    make_account(edge, "ade@example.com", "seller", "Ade Foundry")
    r = client.post("/api/v1/webhooks", json={"url": url, "events": ["sale"]}, headers=auth(client))
    assert r.status_code == 422 and "url" in r.json()["fields"], r.text
    assert edge.db.execute("SELECT COUNT(*) FROM webhook_endpoints").fetchone()[0] == 0


def test_an_address_that_turns_private_later_is_refused_at_sending(shop, receiver):
    client, edge, buyer = shop
    register(client, auth(client), receiver.url + "/ok")
    sell(client, buyer, "lagos-grotesk")
    private = edge.settings.replace(WEBHOOK_ALLOW_PRIVATE=False)
    edge.settings = private
    assert webhooks.process_due(edge)["retry"] == 1
    row = edge.db.execute("SELECT * FROM webhook_deliveries").fetchone()
    assert "private, loopback or reserved" in row["last_error"] and receiver.received == []


def test_redirects_huge_and_slow_answers_cannot_hurt_the_edge(shop, receiver):
    client, edge, buyer = shop
    headers = auth(client)
    for kind in ("redirect", "huge", "slow"):
        register(client, headers, f"{receiver.url}/{kind}")
    sell(client, buyer, "lagos-grotesk")
    counts = webhooks.process_due(edge)
    rows = {r["url"].rsplit("/", 1)[-1]: r for r in edge.db.execute(
        "SELECT d.*, e.url FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id")}
    assert rows["redirect"]["status"] == "failed" and "redirects are not followed" in rows["redirect"]["last_error"]
    assert [r["path"] for r in receiver.received].count("/redirect") == 1  # not followed
    assert rows["huge"]["status"] == "succeeded" and len(rows["huge"]["response_body"]) <= 2000
    assert rows["slow"]["status"] == "failed" and "no answer within 1 s" in rows["slow"]["last_error"]
    assert counts == {"succeeded": 1, "retry": 2, "dead": 0}


test_redirects_huge_and_slow_answers_cannot_hurt_the_edge.webhook_timeout = 1.0  # the slow receiver takes 3 s


def test_rotation_signs_with_both_secrets_for_the_overlap(shop, receiver):
    client, edge, buyer = shop
    headers = auth(client)
    endpoint = register(client, headers, receiver.url + "/ok")
    rotated = client.post(f"/api/v1/webhooks/{endpoint['id']}/rotate-secret", headers=headers).json()
    assert rotated["secret"] != endpoint["secret"] and rotated["secret_rotating_until"]
    test = client.post(f"/api/v1/webhooks/{endpoint['id']}/test", headers=headers)
    assert test.status_code == 202 and test.json()["event"] == "ping"
    webhooks.process_due(edge)
    got = receiver.received[-1]
    signature = got["headers"]["digitaldock-signature"]
    assert signature.count("v1=") == 2
    for secret in (endpoint["secret"], rotated["secret"]):
        assert signing.verify(secret, signature, got["body"], edge.clock())
    edge.clock.advance(25 * 3600)
    client.post(f"/api/v1/webhooks/{endpoint['id']}/test", headers=headers)
    webhooks.process_due(edge)
    later = receiver.received[-1]["headers"]["digitaldock-signature"]
    assert later.count("v1=") == 1


def test_endpoints_are_checked_field_by_field(shop, receiver):
    client, edge, buyer = shop
    headers = auth(client)
    for body, field in (({"url": receiver.url + "/ok", "events": ["nope"]}, "events"),
                        ({"url": receiver.url + "/ok", "events": "sale"}, "events"),
                        ({"url": receiver.url + "/ok", "events": ["sale"], "description": "x" * 500}, "description"),
                        ({"url": 7, "events": ["sale"]}, "url")):
        r = client.post("/api/v1/webhooks", json=body, headers=headers)
        assert r.status_code == 422 and field in r.json()["fields"], (body, r.text)
    # read-only tokens cannot register
    reader = auth(client, ("read:webhooks",))
    assert client.post("/api/v1/webhooks", json={"url": receiver.url + "/ok", "events": ["sale"]},
                       headers=reader).json()["code"] == "insufficient_scope"
    assert edge.db.execute("SELECT COUNT(*) FROM webhook_endpoints").fetchone()[0] == 0


def test_public_addresses_pass_and_private_ones_do_not():
    assert addresses.is_public("93.184.216.34") and addresses.is_public("2606:4700::1111")
    for private in ("127.0.0.1", "10.1.2.3", "172.16.0.1", "169.254.169.254", "::1", "fd00::1", "224.0.0.1",
                    "100.64.0.1", "::ffff:10.0.0.1"):
        assert not addresses.is_public(private), private
    with pytest.raises(UnsafeEndpoint):
        addresses.check_url("http://127.0.0.1/")
    assert addresses.check_url("http://127.0.0.1:8080/x?y=1", allow_private=True).path == "/x?y=1"


def test_each_event_goes_to_the_endpoints_that_want_it_and_to_admins(shop, receiver):
    from checkout.core import signals
    from checkout.core.db import atomic

    client, edge, buyer = shop
    headers = auth(client)
    sales_only = register(client, headers, receiver.url + "/ok", ("sale",))
    payouts = register(client, headers, receiver.url + "/ok", ("payout", "refund"))
    make_account(edge, "root@example.com", "admin", "Root Admin")
    r = client.post("/api/auth/token", json={"grant_type": "password", "email": "root@example.com",
                                             "password": PASSWORD})
    admin = {"Authorization": f"Bearer {r.json()['access_token']}"}
    watcher = client.post("/api/v1/webhooks", json={"url": receiver.url + "/ok", "events": ["refund"]},
                          headers=admin).json()
    with atomic(edge.db):
        signals.emit(edge, "refund", {"seller": "adire-type-foundry", "refund_id": 1})
        signals.emit(edge, "payout", {"seller": "someone-else", "payout_id": 2})
        signals.emit(edge, "product.approved", {"seller": "adire-type-foundry", "product_slug": "x"})
    got = {(r["endpoint_id"], r["event"]) for r in edge.db.execute("SELECT * FROM webhook_deliveries")}
    # the seller's refund endpoint and the admin's (admins hear every seller); nobody wanted that payout
    assert got == {(payouts["id"], "refund"), (watcher["id"], "refund")}
    assert sales_only["id"] not in {e for e, _ in got}
    # a rolled-back change queues nothing
    try:
        with atomic(edge.db):
            signals.emit(edge, "refund", {"seller": "adire-type-foundry", "refund_id": 3})
            raise RuntimeError("the change failed")
    except RuntimeError:
        pass
    assert edge.db.execute("SELECT COUNT(*) FROM webhook_deliveries").fetchone()[0] == 2


def test_the_retention_job_forgets_finished_deliveries_after_a_month(shop, receiver):
    from checkout.core import retention

    client, edge, buyer = shop
    headers = auth(client)
    endpoint = register(client, headers, receiver.url + "/ok")
    client.post(f"/api/v1/webhooks/{endpoint['id']}/test", headers=headers)
    webhooks.process_due(edge)
    assert retention.run(edge)["webhook_deliveries"] == 0  # a fresh log is kept
    edge.clock.advance(31 * 86400)
    assert retention.run(edge)["webhook_deliveries"] == 1
    assert edge.db.execute("SELECT COUNT(*) FROM webhook_deliveries").fetchone()[0] == 0
