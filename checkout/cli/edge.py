"""`digitaldock` subcommands for the checkout edge: edge, migrate, seed, retention, user create,
outbox. Thin: each builds settings and an `Edge`, then calls one library function.
"""

from __future__ import annotations

import json
import secrets
import time
from pathlib import Path
from typing import Any

import click
import httpx

from checkout.accounts import passwords, standing, users
from checkout.cli.common import make_edge
from checkout.cli.common import settings as load_settings
from checkout.cli.consoles import USER_COMMANDS
from checkout.cli.payments import user_link_seller
from checkout.cli.promotions import demo_promotions
from checkout.core import audit
from checkout.core import retention as retention_job
from checkout.core.catalog import required_documents
from checkout.core.db import MigrationError, atomic, schema_version
from checkout.core.errors import EdgeError
from checkout.core.outbox import process_due
from checkout.ops import seeding
from checkout.payments import payouts
from checkout.reviews import demo as review_demo
from checkout.reviews import export as stats_export


def server_options(settings: Any) -> dict[str, Any]:
    """uvicorn's settings for the edge. uvicorn has no timeout for reading a request's headers or
    body: Caddy in front bounds those (deploy/Caddyfile `timeouts`), and the upload endpoint ends
    a stalled body itself (UPLOAD_IDLE_SECONDS). Here: idle keep-alive connections close after
    5 s, and a request's headers may not exceed 16 KiB, so no client holds a connection or
    memory for nothing."""
    return {"log_config": None, **proxy_options(settings),
            "timeout_keep_alive": 5, "h11_max_incomplete_event_size": 16 * 1024,
            "timeout_graceful_shutdown": 30, "server_header": False}


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8001, show_default=True, type=int, help="Port to listen on.")
def edge(host: str, port: int) -> None:
    """Run the checkout edge (Starlette under uvicorn)."""
    import uvicorn  # the server and the app are imported only by the command that runs them

    from checkout.web.app import create_app

    settings = load_settings()
    app = create_app(settings)
    uvicorn.run(app, host=host, port=port, **server_options(settings))


def proxy_options(settings: Any) -> dict[str, Any]:
    """uvicorn's forwarded-header options. X-Forwarded-For is believed only from the proxies in
    FORWARDED_ALLOW_IPS: from anywhere ("*", as before), an edge reachable directly would let any
    client choose its address, and a rotating one disables every per-address limit."""
    if not settings.TRUST_PROXY:
        return {"proxy_headers": False}
    return {"proxy_headers": True, "forwarded_allow_ips": settings.FORWARDED_ALLOW_IPS.split(",")}


@click.command()
def migrate() -> None:
    """Apply pending database migrations of the checkout edge."""

    try:
        e = make_edge()
    except MigrationError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"database {e.settings.database_path} at schema version {schema_version(e.db)}")


@click.command()
def retention() -> None:
    """Enforce the data retention table once and report what was removed."""

    report = retention_job.run(make_edge())
    for key, value in report.items():
        click.echo(f"{key}: {value}")


SEED_USERS = (("buyer@example.com", "Demo Buyer", "buyer"), ("seller@example.com", "Demo Seller", "seller"),
              ("admin@example.com", "Demo Admin", "admin"))


@click.command()
@click.option("--products", type=click.IntRange(0, 1_000_000), default=0,
              help="Also write this many fake products (Faker) into CONTENT_DIR and build the storefront.")
@click.option("--buyers", type=click.IntRange(0, 1_000_000), default=0, help="Also create this many buyer accounts.")
@click.option("--orders", type=click.IntRange(0, 10_000_000), default=0,
              help="Also make this many paid orders through the checkout and webhook code paths.")
@click.option("--days", type=click.IntRange(1, 3650), default=90, show_default=True,
              help="Spread the orders over this many past days.")
@click.option("--seed", "seed_", type=int, default=21, show_default=True, help="Random seed (same seed, same data).")
@click.option("--wait", default=0.0, show_default=True, type=float,
              help="Seconds to wait for the Paystack sandbox and the first build before the demo sales.")
def seed(products: int, buyers: int, orders: int, days: int, seed_: int, wait: float) -> None:
    """Create demo accounts (buyer, seller, admin) and print their credentials; with --products,
    --buyers and --orders, also fake but realistic data at scale, made through the real code
    paths (docs/api.md; its timing is in benchmarks/README.md). With a Paystack sandbox answering,
    also demo buyers who paid and reviewed (checkout/reviews/demo.py).

    The passwords are random; they are also kept in `<DATA_DIR>/demo-accounts.txt` (readable
    only by you) so `digitaldock dev` can show them again on the next start.
    """

    e = make_edge()
    _seed_accounts(e, wait)
    if products or buyers or orders:
        _seed_bulk(e, products, buyers, orders, days, seed_)


def _seed_bulk(e: Any, products: int, buyers: int, orders: int, days: int, seed_: int) -> None:
    started = time.perf_counter()

    def say(what: str) -> None:
        click.echo(f"{time.perf_counter() - started:8.1f} s  {what}", err=True)

    slugs = None
    if products:
        slugs = seeding.write_products(e, products, seed_)
        say(f"{products} products written to {e.settings.CONTENT_DIR}/products")
        try:
            seeding.build_storefront(e)
        except RuntimeError as exc:
            raise click.ClickException(str(exc)) from None
        say("storefront built, catalogue loaded")
    buyer_ids: list[int] = []
    if buyers:
        buyer_ids, password = seeding.make_buyers(e, buyers, seed_)
        say(f"{buyers} buyers (seed-buyer-NNNNNN@example.com, password {password})")
    if orders:
        if not buyer_ids:
            buyer_ids = [r[0] for r in e.db.execute("SELECT id FROM users WHERE role = 'buyer'")]
        try:
            counts = seeding.make_orders(e, orders, buyer_ids, slugs, days, seed_, progress=say)
        except RuntimeError as exc:
            raise click.ClickException(str(exc)) from None
        say(f"{counts['orders']} paid orders ({counts['skipped_already_owned']} skipped: already owned; "
            f"{counts['emails_not_sent']} receipts to made-up addresses not sent)")


def _seed_accounts(e: Any, wait: float) -> None:
    state = e.legal()
    saved = e.settings.data_dir / "demo-accounts.txt"
    lines = saved.read_text("utf-8").splitlines() if saved.exists() else []
    for email, name, role in SEED_USERS:
        if users.get_by_email(e, email):
            known = next((line for line in lines if f" {email} " in f" {line} "), None)
            click.echo(known or f"{role:7} {email:22} (exists, password unchanged)")
            continue
        password = "demo-" + secrets.token_urlsafe(9)
        docs = [state.legal[s] for s in required_documents(role) if s in state.legal]
        users.create_user(e, email, name, role, e.hasher.hash(password), docs, verified=True,
                             send_verification=False, actor_id=0)
        line = f"{role:7} {email:22} {password}"
        lines = [entry for entry in lines if f" {email} " not in f" {entry} "] + [line]
        click.echo(line)
    demo = demo_seller(e)
    if demo:
        click.echo(f"seller  seller@example.com manages the catalogue seller {demo} (its products and earnings)")
    for line in demo_promotions(e, demo):
        click.echo(line)  # a discount code and an affiliate for the demo seller (issue #17)
    saved.parent.mkdir(parents=True, exist_ok=True)
    saved.touch(mode=0o600)
    saved.write_text("\n".join(lines) + "\n", "utf-8")
    demo_sales(e, wait)


def _sandbox_and_catalogue(e: Any, base: str, key: str, wait: float) -> bool:
    """Whether the sandbox answers and the storefront's catalogue lists products, waiting up to
    `wait` seconds (`digitaldock dev` starts the sandbox and the first build just before)."""
    deadline = time.monotonic() + wait
    while True:
        try:
            httpx.get(f"{base}/_sandbox/state", headers={"Authorization": f"Bearer {key}"},
                      timeout=2).raise_for_status()
            if e.catalog.current().products:
                return True
        except httpx.HTTPError:
            pass
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.5)


def demo_sales(e: Any, wait: float = 0.0) -> None:
    """Buyers, purchases and reviews (issue #14), paid on the local Paystack sandbox: only when
    PAYSTACK_BASE_URL is a sandbox that answers (never against Paystack itself)."""
    base = e.settings.PAYSTACK_BASE_URL.rstrip("/")
    key = e.settings.PAYSTACK_SECRET_KEY.reveal()
    if e.settings.production or "paystack.co" in base:
        return
    if not _sandbox_and_catalogue(e, base, key, wait):
        click.echo("no Paystack sandbox answers, or no catalogue is built: no demo purchases or reviews "
                   "(`digitaldock dev` starts both)")
        return

    def pay(reference: str) -> None:
        httpx.post(f"{base}/_sandbox/pay/{reference}", json={"action": "pay"},
                   headers={"Authorization": f"Bearer {key}"}, timeout=10).raise_for_status()

    admin = users.get_by_email(e, "admin@example.com")
    made = review_demo.seed_store(e, admin, e.hasher.hash("demo-" + secrets.token_urlsafe(9)), pay)
    if made["buyers"]:
        click.echo(f"demo store: {made['buyers']} buyers, {made['purchases']} purchases, {made['reviews']} reviews")
        changed, problem = stats_export.publish(e)
        if problem:
            click.echo(f"the storefront rebuild failed: {problem}", err=True)


def demo_seller(e: Any) -> str | None:
    """Link the demo seller account to the catalogue seller with the most listed products (issue
    #16), so `/seller` shows products and earnings out of the box; an existing link is kept."""
    account = users.get_by_email(e, "seller@example.com")
    if account is None:
        return None
    linked = payouts.sellers_of(e, account["id"])
    if linked:
        return linked[0]
    taken = {r[0] for r in e.db.execute("SELECT seller_slug FROM seller_accounts")}
    counts: dict[str, int] = {}
    for product in e.catalog.current().products.values():
        counts[product.seller] = counts.get(product.seller, 0) + 1
    if not counts:  # no storefront built yet: the content's sellers
        counts = {p.stem: 0 for p in (Path(e.settings.CONTENT_DIR) / "sellers").glob("*.md")}
    free = sorted((s for s in counts if s not in taken), key=lambda s: (-counts[s], s))
    if not free:
        return None
    payouts.link_seller(e, account["id"], free[0])
    with atomic(e.db):
        audit.record(e, "payment.seller_linked", subject_id=account["id"], seller=free[0], fee_bps=None, by="seed")
    return free[0]


@click.group()
def user() -> None:
    """Manage edge user accounts."""


@user.command("create")
@click.argument("email")
@click.option("--name", default="", help="Display name (default: the part of EMAIL before @).")
@click.option("--admin", is_flag=True, help="Make the account an administrator.")
@click.option("--role", type=click.Choice(["buyer", "seller", "admin"]), default="buyer", show_default=True)
@click.password_option(envvar="DIGITALDOCK_PASSWORD", help="Password (prompted if not given).")
def user_create(email: str, name: str, admin: bool, role: str, password: str) -> None:
    """Create a verified account, e.g. the first administrator."""

    e = make_edge()
    role = "admin" if admin else role
    name = name or email.split("@", 1)[0]
    email = users.normalize_email(email)
    if not users.EMAIL.match(email):
        raise click.ClickException(f"{email!r} is not a valid email address")
    why = passwords.check_policy(password, e.settings.PASSWORD_MIN_LENGTH, email, name)
    if why:
        raise click.ClickException(why)
    try:
        uid = users.create_user(e, email, name, role, e.hasher.hash(password), verified=True,
                                   send_verification=False, actor_id=0)
    except EdgeError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(json.dumps({"id": uid, "email": email, "role": role}))


@user.command("role")
@click.argument("email")
@click.argument("role", type=click.Choice(["buyer", "seller", "admin"]))
def user_role(email: str, role: str) -> None:
    """Change the role of an account (recorded in the audit log)."""

    e = make_edge()
    found = users.get_by_email(e, email)
    if found is None:
        raise click.ClickException(f"no account with email {email!r}")
    if found["role"] != role:  # audited as an operator's change (checkout.accounts.standing)
        standing.set_role(e, found["id"], None, role)
    click.echo(json.dumps({"id": found["id"], "email": found["email"], "role": role}))


@click.command("outbox")
@click.option("--once", is_flag=True, help="Send what is due now and exit.")
def outbox_cmd(once: bool) -> None:
    """Send due emails from the outbox (the edge does this itself while running)."""

    counts = process_due(make_edge())
    click.echo(json.dumps(counts))


user.add_command(user_link_seller)  # `digitaldock user link-seller`, beside the other account commands
for _command in USER_COMMANDS:  # find, show, ban, unban, verify, unverify (checkout.cli.consoles)
    user.add_command(_command)

COMMANDS = [edge, migrate, seed, retention, user, outbox_cmd]

