"""Sign-in limits (#20, #22): only failures count, per address (known or not) and per IP; the
pause answers 429 the same way for every address; the owner of an account gets an unlock link."""

from __future__ import annotations

import math
import re
import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checkout.accounts import lockout
from checkout.accounts.errors import TooManySignIns
from checkout.core.clock import Clock
from checkout.core.errors import RateLimited, wait_in_words
from checkout.web.errors import _in_words
from checkout.wiring import build_edge

from ..conftest import PASSWORD, csrf_from, edge_of, link_from, login, outbox_rows, register, submit

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

WRONG = "wrong-password-123"


def from_ip(client: TestClient, ip: str) -> TestClient:
    """Another browser on the same edge, from another address."""
    return TestClient(client.app, follow_redirects=False, client=(ip, 50000))


def lead(html: str) -> str:
    """The message of a page, without the request id every error page carries."""
    return re.search(r'<p class="edge-lead">(.*?)</p>', html, re.S).group(1)


def token(client: TestClient, email: str, password: str = WRONG):
    return client.post("/api/auth/token", json={"grant_type": "password", "email": email, "password": password})


def test_the_pause_looks_the_same_for_known_and_unknown_addresses(client):
    register(client)
    known, unknown = from_ip(client, "198.51.100.1"), from_ip(client, "198.51.100.2")
    for _ in range(5):
        assert login(known, password=WRONG).status_code == 401
        assert login(unknown, email="ghost@example.com", password=WRONG).status_code == 401
    a, b = login(known), login(unknown, email="ghost@example.com")  # the right password no longer helps
    assert a.status_code == b.status_code == 429
    assert lead(a.text) == lead(b.text) == "Too many failed sign-ins for this address. Try again in 15 minutes."
    assert 0 < int(a.headers["retry-after"]) <= 900 and 0 < int(b.headers["retry-after"]) <= 900
    # the API counts the same failures and answers the same way, from any IP
    a = token(from_ip(client, "198.51.100.3"), "ann@example.com", PASSWORD)
    b = token(from_ip(client, "198.51.100.4"), "ghost@example.com", PASSWORD)
    assert a.status_code == b.status_code == 429 and a.json() == b.json()
    assert a.json()["code"] == "too_many_sign_ins" and a.headers["retry-after"]
    assert [m["to_addr"] for m in outbox_rows(client, "lockout")] == ["ann@example.com"]


def test_successful_sign_ins_are_not_counted(client):
    register(client)
    for _ in range(8):
        assert login(client).status_code == 303


def test_a_successful_sign_in_clears_its_address_but_not_its_ip(client):
    register(client)
    first, second = from_ip(client, "198.51.100.1"), from_ip(client, "198.51.100.2")
    for _ in range(4):
        assert login(first, password=WRONG).status_code == 401
    assert login(first).status_code == 303
    for _ in range(5):  # the address starts afresh: five more tries before the pause
        assert login(second, password=WRONG).status_code == 401
    assert login(second).status_code == 429
    # the first IP still carries its four failures: one more and it is paused for any address
    assert login(first, email="other@example.com", password=WRONG).status_code == 401
    r = login(first, email="third@example.com", password=WRONG)
    assert r.status_code == 429 and "from your network" in r.text


def test_a_paused_ip_does_not_pause_the_account_elsewhere(client):
    register(client)
    noisy = from_ip(client, "198.51.100.1")
    for i in range(5):
        login(noisy, email=f"user{i}@example.com", password=WRONG)
    assert login(noisy).status_code == 429
    assert login(from_ip(client, "198.51.100.2")).status_code == 303


def test_the_unlock_link_lifts_the_pause_once_posted(client, clock):
    register(client)
    for _ in range(5):
        login(client, password=WRONG)
    [mail] = outbox_rows(client, "lockout")
    link = link_from(mail, "/login/unlock")
    page = client.get(link)
    assert page.status_code == 200 and "Unlock sign-in" in page.text
    assert login(client).status_code == 429  # opening the link (a mail scanner does) changes nothing
    r = client.post("/login/unlock", data={"csrf_token": csrf_from(page.text), "token": link.split("token=")[1]})
    assert r.status_code == 200 and "Sign-in unlocked" in r.text
    assert login(client).status_code == 303
    actions = [row[0] for row in edge_of(client).db.execute("SELECT action FROM audit_log")]
    assert "user.unlocked" in actions
    assert client.get("/login/unlock?token=forged").status_code == 400
    for _ in range(5):  # paused again within the window: no second email
        login(client, password=WRONG)
    assert len(outbox_rows(client, "lockout")) == 1
    clock.advance(16 * 60)
    for _ in range(5):
        login(client, password=WRONG)
    assert len(outbox_rows(client, "lockout")) == 2
    clock.advance(25 * 3600)
    assert client.get(link).status_code == 400  # UNLOCK_LINK_HOURS


def test_a_wrong_current_password_counts_as_a_failed_sign_in(signed_in):
    client = signed_in
    for _ in range(5):
        r = submit(client, "/account/password", {"current_password": WRONG, "new_password": "new-harbour-otter-7"})
        assert r.status_code == 422
    r = submit(client, "/account/password", {"current_password": PASSWORD, "new_password": "new-harbour-otter-7"})
    assert r.status_code == 429 and "Try again in 15 minutes" in r.text and r.headers["retry-after"]
    assert login(from_ip(client, "198.51.100.9")).status_code == 429  # the address is paused everywhere


def test_attempts_in_flight_count_before_their_password_is_checked(client):
    """Parallel requests waiting on argon2 cannot all slip under the limit."""
    edge = edge_of(client)
    for _ in range(5):
        lockout.start(edge, "ann@example.com", "198.51.100.1")  # none has finished yet
    with pytest.raises(TooManySignIns):
        lockout.start(edge, "ann@example.com", "198.51.100.2")


def test_only_the_password_holder_learns_an_account_is_disabled(client):
    register(client)
    edge_of(client).db.execute("UPDATE users SET disabled_at = '2026-01-01T00:00:00+00:00'")
    wrong, unknown = login(client, password=WRONG), login(client, email="ghost@example.com", password=WRONG)
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.text.replace("ann@example.com", "X") == unknown.text.replace("ghost@example.com", "X")
    r = login(client)
    assert r.status_code == 403 and "disabled" in r.text


def test_every_429_page_says_when_to_retry(make_client):
    client = make_client(REGISTER_LIMIT="1/hour")
    register(client, email="a1@example.com")
    r = register(client, email="a2@example.com")
    assert r.status_code == 429 and "Try again in 60 minutes." in r.text and int(r.headers["retry-after"]) <= 3600
    # a limit raised without words (downloads per hour) gets them on its page from Retry-After
    assert _in_words(RateLimited("You can start 10 downloads per hour.", headers={"Retry-After": "300"})) == \
        "You can start 10 downloads per hour. Try again in 5 minutes."
    done = RateLimited.after(61)
    assert _in_words(done) == done.message == "Too many attempts. Try again in 2 minutes."


@given(st.floats(min_value=0, max_value=10 * 86400, allow_nan=False))
def test_wait_in_words_never_promises_too_early(seconds):
    number, unit = wait_in_words(seconds).split()
    n = int(number)
    assert n >= 1 and unit in ("minute", "minutes", "hours") and (unit == "minute") == (n == 1)
    step = 3600 if unit == "hours" else 60
    assert n * step >= seconds and (n - 1) * step < max(seconds, 60)


class FrozenClock(Clock):
    """Time that moves only when the test says."""

    def __call__(self) -> float:
        return 1_800_000_000.0 + self.offset


@pytest.fixture
def model_edge(make_settings):
    """One migrated edge on a frozen clock, shared by the examples of one test."""
    edge = build_edge(make_settings(), FrozenClock())
    edge.migrate()
    yield edge
    edge.close()


STEP = st.one_of(st.just(("fail", 0)), st.just(("succeed", 0)), st.tuples(st.just("wait"), st.integers(1, 1200)))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(STEP, max_size=30), n=st.integers(0, 10**9))
def test_the_limit_follows_its_model(model_edge, steps, n):
    """Any sequence of failures, successes and waits: refused exactly when the address or the IP
    has LOGIN_FAILURES failures younger than the window, with the model's Retry-After."""
    edge = model_edge
    email, ip = f"user{n}@example.com", f"ip-{n}"
    edge.db.execute("DELETE FROM sign_in_failures")
    by_email: list[float] = []
    by_ip: list[float] = []
    window = 15 * 60

    def wait(times: list[float], now: float) -> float | None:
        young = sorted((t for t in times if t > now - window), reverse=True)
        return young[4] + window - now if len(young) >= 5 else None

    for kind, seconds in steps:
        now = edge.clock()
        if kind == "wait":
            edge.clock.advance(seconds)
            continue
        waits = [w for w in (wait(by_email, now), wait(by_ip, now)) if w is not None]
        if waits:
            with pytest.raises(TooManySignIns) as refused:
                lockout.start(edge, email, ip)
            assert refused.value.retry_after == math.ceil(max(waits))
            continue
        attempt = lockout.start(edge, email, ip)
        if kind == "fail":
            lockout.failed(edge, attempt, None)
            by_email.append(now)
            by_ip.append(now)
        else:
            lockout.succeeded(edge, attempt)
            by_email.clear()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=200))
def test_forged_unlock_links_are_refused_cleanly(client, forged):
    page = client.get("/login")
    assert client.get("/login/unlock", params={"token": forged}).status_code == 400
    r = client.post("/login/unlock", data={"csrf_token": csrf_from(page.text), "token": forged})
    assert r.status_code == 400 and "invalid or has expired" in r.text
