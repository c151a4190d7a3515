"""`digitaldock seed` makes a lively store through the real code paths: buyers who paid on the
sandbox, their reviews, and the exported stats the storefront shows."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from checkout.cli.edge import seed
from checkout.cli.reviews import reviews
from checkout.core.settings import load_settings
from checkout.wiring import build_edge
from digitaldock.stats import load_stats

from ...generator.conftest import build_to, make_content
from ..payments.conftest import make_buyer


def test_seed_buys_reviews_exports_and_rebuilds(tmp_path: Path, sandbox):
    content = make_content(tmp_path / "site")
    (content / "stats.json").unlink()
    output = build_to(content, tmp_path / "site" / "output")
    env = {"DIGITALDOCK_DATA_DIR": str(tmp_path / "data"), "CATALOG_PATH": str(output / "catalog.json"),
           "CONTENT_DIR": str(content), "PAYSTACK_BASE_URL": sandbox.url, "PAYSTACK_RETRIES": "1",
           "ARGON2_TIME_COST": "1", "ARGON2_MEMORY_COST": "8", "ARGON2_PARALLELISM": "1"}
    r = CliRunner().invoke(seed, [], env=env, catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert "demo store: 6 buyers" in r.output
    edge = build_edge(load_settings(environ=env, dotenv=None))
    paid = edge.db.execute("SELECT COUNT(*) FROM orders WHERE status = 'paid'").fetchone()[0]
    assert paid >= 6 and edge.db.execute("SELECT COUNT(*) FROM ledger_entries").fetchone()[0] > 0
    counted = edge.db.execute("SELECT COUNT(*) FROM reviews WHERE status = 'approved'").fetchone()[0]
    stats = load_stats(content / "stats.json")
    assert sum(s.count for s in stats.products.values()) == counted > 0
    rated = next(slug for slug, s in stats.products.items() if s.count)
    assert f"{stats.products[rated].average} out of 5" in (output / f"products/{rated}/index.html").read_text()
    # a second seed adds nothing
    r = CliRunner().invoke(seed, [], env=env, catch_exceptions=False)
    assert "demo store" not in r.output
    assert edge.db.execute("SELECT COUNT(*) FROM reviews").fetchone()[0] == counted
    # the export command: to a file of one's choosing, or to the build's file (unchanged now)
    r = CliRunner().invoke(reviews, ["export", "-o", str(tmp_path / "s.json")], env=env, catch_exceptions=False)
    assert r.exit_code == 0 and "written" in r.output and load_stats(tmp_path / "s.json") == stats
    r = CliRunner().invoke(reviews, ["export"], env=env, catch_exceptions=False)
    assert r.exit_code == 0 and "unchanged" in r.output


def test_seed_counts_purchases_the_running_edge_already_applied(shop, sandbox):
    """Under `digitaldock dev` the sandbox's webhook reaches the running edge before the seed's own
    verify, which then finds the order paid already: the demo buyers still own and review."""
    from checkout.payments import charges
    from checkout.reviews import demo
    from checkout.web.base import edge_of

    edge = edge_of(shop)
    admin = make_buyer(edge, "admin@example.com", role="admin")

    def pay_and_let_the_webhook_win(reference: str) -> None:
        sandbox.pay(reference)
        assert charges.verify_and_apply(edge, reference, "webhook") == "paid"  # as the edge's webhook would

    made = demo.seed_store(edge, admin, edge.hasher.hash("demo-pass-1"), pay_and_let_the_webhook_win)
    assert made["buyers"] == 6 and made["purchases"] > 0 and made["reviews"] > 0
    owned = edge.db.execute("SELECT COUNT(*) FROM purchases WHERE status = 'active'").fetchone()[0]
    assert made["purchases"] == owned
