"""X-Forwarded-For/-Proto are believed only from the proxies in FORWARDED_ALLOW_IPS. A real edge
process (TRUST_PROXY=true, FORWARDED_ALLOW_IPS=127.0.0.1) and clients bound to two loopback
addresses (Linux routes all of 127.0.0.0/8 to lo): 127.0.0.1 plays the proxy, 127.0.0.2 a client
that reaches the edge directly."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checkout.cli.edge import proxy_options
from checkout.core.settings import SettingsError, load_settings
from checkout.payments.paystack import WEBHOOK_IPS

from ...servers import FAST_ENV, base_env, serve_edge
from ..conftest import write_catalog

PROXY, DIRECT = "127.0.0.1", "127.0.0.2"
NO_ENV = {"SECRET_KEY": "test-secret-key"}  # nothing written to a data folder


def client(address: str) -> httpx.Client:
    return httpx.Client(transport=httpx.HTTPTransport(local_address=address), timeout=10)


def sign_in(http: httpx.Client, url: str, forwarded_for: str | None) -> int:
    """One failed sign-in with a fresh email (so only the per-address limit can refuse it)."""
    headers = {"Content-Type": "application/json", **({"X-Forwarded-For": forwarded_for} if forwarded_for else {})}
    body = {"grant_type": "password", "email": f"{uuid.uuid4().hex[:12]}@example.com", "password": "wrong-password-1"}
    return http.post(f"{url}/api/auth/token", content=json.dumps(body), headers=headers).status_code


@pytest.fixture(scope="module")
def edge(tmp_path_factory):
    root = tmp_path_factory.mktemp("forwarded")
    write_catalog(root / "catalog.json")
    env = base_env(CATALOG_PATH=str(root / "catalog.json"), TRUST_PROXY="true", FORWARDED_ALLOW_IPS=PROXY,
                   LOGIN_FAILURES="3", PAYSTACK_CHECK_SOURCE_IP="true", OUTBOX_POLL_SECONDS="0", **FAST_ENV)
    with serve_edge(root, env) as server:
        yield server


def test_a_rotating_forwarded_for_from_an_untrusted_address_does_not_dodge_the_sign_in_limit(edge):
    with client(DIRECT) as http:
        codes = [sign_in(http, edge.url, f"203.0.113.{n}") for n in range(1, 6)]
    assert codes == [401, 401, 401, 429, 429]  # the limit counts 127.0.0.2, whatever the header says


def test_the_trusted_proxys_forwarded_for_is_the_clients_address(edge):
    with client(PROXY) as http:
        rotating = [sign_in(http, edge.url, f"198.51.100.{n}") for n in range(1, 7)]
        assert rotating == [401] * 6  # six clients behind the proxy, one attempt each
        same = [sign_in(http, edge.url, "192.0.2.77") for _ in range(4)]
        assert same == [401, 401, 401, 429]  # one client behind the proxy, limited by its own address


def test_forwarded_proto_is_believed_only_from_the_proxy(edge):
    with client(DIRECT) as http:
        direct = http.get(f"{edge.url}/healthz", headers={"X-Forwarded-Proto": "https"})
    with client(PROXY) as http:
        proxied = http.get(f"{edge.url}/healthz", headers={"X-Forwarded-Proto": "https"})
    assert "strict-transport-security" not in direct.headers
    assert "strict-transport-security" in proxied.headers


def test_a_forged_paystack_address_does_not_pass_the_webhook_source_check(edge):
    paystack = sorted(WEBHOOK_IPS)[0]
    with client(DIRECT) as http:
        r = http.post(f"{edge.url}/webhooks/paystack", content=b"{}", headers={"X-Forwarded-For": paystack})
        assert r.status_code == 403 and r.json()["code"] == "forbidden_source"
    with client(PROXY) as http:  # from the proxy, the address is believed; the signature is checked next
        r = http.post(f"{edge.url}/webhooks/paystack", content=b"{}", headers={"X-Forwarded-For": paystack})
        assert r.status_code == 401 and r.json()["code"] == "invalid_signature"


# --- the setting --------------------------------------------------------------------------------

def test_forwarded_allow_ips_is_handed_to_uvicorn_only_with_trust_proxy():
    on = load_settings(environ=NO_ENV, dotenv=None, TRUST_PROXY="true", FORWARDED_ALLOW_IPS="127.0.0.1, 10.0.0.1/8,::1")
    assert proxy_options(on) == {"proxy_headers": True, "forwarded_allow_ips": ["127.0.0.1", "10.0.0.0/8", "::1"]}
    assert proxy_options(load_settings(environ=NO_ENV, dotenv=None)) == {"proxy_headers": False}
    for bad in ("*", "caddy", "127.0.0.1,*", "10.0.0.0/33"):
        with pytest.raises(SettingsError, match="FORWARDED_ALLOW_IPS"):
            load_settings(environ=NO_ENV, dotenv=None, TRUST_PROXY="true", FORWARDED_ALLOW_IPS=bad)
    with pytest.raises(SettingsError, match="FORWARDED_ALLOW_IPS"):
        load_settings(environ=NO_ENV, dotenv=None, TRUST_PROXY="true", FORWARDED_ALLOW_IPS=" , ")


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_any_forwarded_allow_ips_value_is_addresses_or_a_settings_error(raw):
    try:
        found = load_settings(environ=NO_ENV, dotenv=None, TRUST_PROXY="true", FORWARDED_ALLOW_IPS=raw)
    except SettingsError as exc:
        assert "FORWARDED_ALLOW_IPS" in str(exc)
        return
    import ipaddress
    for entry in proxy_options(found)["forwarded_allow_ips"]:
        assert "*" not in entry
        ipaddress.ip_network(entry)  # strict: what uvicorn parses
