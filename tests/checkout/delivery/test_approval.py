"""The approval queue: approving writes a product file that passes the schema (or commits it on
a branch), rejecting emails the reason, and the seller's dashboard follows the status."""

from __future__ import annotations

import subprocess

import pytest

from checkout.core.settings import Settings
from checkout.delivery import approval
from digitaldock import schema

from . import test_uploads as uploads_tests


@pytest.fixture
def submitted(make_client, shop, helpers, tmp_path):
    """A seller's pending submission; returns (client, edge, submission id, content folder)."""
    content = tmp_path / "content"
    content.mkdir(exist_ok=True)
    (content / "categories.yml").write_text("- slug: fonts\n  name: Fonts\n  description: Type families.\n")
    (content / "sellers").mkdir(exist_ok=True)

    def make(**settings):
        client = make_client(**{"REBUILD_ON_APPROVAL": False, **settings})
        helpers.make_user(client, "sam@example.com", role="seller", name="Sam Seller")
        r = uploads_tests.post(client, helpers, uploads_tests.good_files())
        assert r.status_code == 303, r.text
        helpers.make_user(client, "admin@example.com", role="admin", name="Ada Admin")
        edge = client.app.state.edge
        return client, edge, edge.db.execute("SELECT id FROM submissions").fetchone()[0], content
    return make


def decide(client, helpers, sub_id, action, **data):
    page = client.get("/account")
    return client.post(f"/admin/submissions/{sub_id}/{action}", data={"csrf_token": helpers.csrf_from(page.text), **data})


def test_admin_sees_the_queue_with_preview_and_scan_results(submitted, helpers):
    client, edge, sub_id, _ = submitted()
    page = client.get("/admin/submissions")
    assert "Harbour Sans" in page.text and "<strong>Four weights.</strong>" in page.text
    assert "harbour-sans.pdf" in page.text and "virus scan not configured" in page.text
    img = client.get(f"/admin/submissions/{sub_id}/images/0")
    assert img.status_code == 200 and img.headers["content-type"] == "image/png"
    assert client.get(f"/admin/submissions/{sub_id}/images/9").status_code == 404
    helpers.sign_in(client, "sam@example.com")
    assert client.get("/admin/submissions").status_code == 403


def test_approval_writes_a_valid_product_file_and_a_new_seller(submitted, helpers, shop):
    client, edge, sub_id, content = submitted()
    r = decide(client, helpers, sub_id, "approve")
    assert r.status_code == 303 and "Approved" in client.get(r.headers["location"]).text
    text = (content / "products" / "harbour-sans.md").read_text()
    seller_text = (content / "sellers" / "sam-seller.md").read_text()
    seller, problems = schema.parse_seller("sellers/sam-seller.md", seller_text)
    assert problems == [] and seller.name == "Sam Seller"
    product, problems = schema.parse_product("products/harbour-sans.md", text, ["fonts"], {"sam-seller"})
    assert problems == [], problems
    assert product.seller == "sam-seller" and product.price.minor == 1250 and product.tags == ("sans", "display")
    assert (content / product.cover).is_file() and all((content / g).is_file() for g in product.gallery)
    for f in product.files:  # product files reach content/storage, where `digitaldock validate` looks
        assert (content / "storage" / f.key).stat().st_size == f.size
    row = edge.db.execute("SELECT status, seller_slug, published_as FROM submissions").fetchone()
    assert tuple(row) == ("approved", "sam-seller", "products/harbour-sans.md")
    mail = edge.db.execute("SELECT * FROM outbox WHERE template = 'submission_decided'").fetchone()
    assert mail["to_addr"] == "sam@example.com" and "was approved" in mail["text_body"]
    r = decide(client, helpers, sub_id, "approve")
    assert "not pending" in client.get(r.headers["location"]).text  # the flash of the redirect
    # approved, then live once the catalogue carries it
    helpers.sign_in(client, "sam@example.com")
    assert 'data-slug="harbour-sans" data-state="approved"' in client.get("/seller").text
    shop.add_product("harbour-sans", [("harbour-sans.pdf", b"%PDF-1.4 x")], seller="sam-seller")
    assert 'data-slug="harbour-sans" data-state="live"' in client.get("/seller").text


def test_second_approval_reuses_the_sellers_slug(submitted, helpers):
    client, edge, sub_id, content = submitted()
    decide(client, helpers, sub_id, "approve")
    slug, files = approval.seller_for(edge, edge.db.execute("SELECT user_id FROM submissions").fetchone()[0], "Sam Seller", "USD")
    assert slug == "sam-seller" and files == {}
    assert approval.slugify("Ade & Co. Studio!!") == "ade-co-studio" and approval.slugify("A") == "seller-a"


def test_rejection_needs_a_reason_and_emails_it(submitted, helpers):
    client, edge, sub_id, content = submitted()
    r = decide(client, helpers, sub_id, "reject", reason="")
    assert "Tell the seller why" in client.get(r.headers["location"]).text
    r = decide(client, helpers, sub_id, "reject", reason="The cover is blurry; please upload a sharper one.")
    assert r.status_code == 303
    assert not (content / "products" / "harbour-sans.md").exists()
    mail = edge.db.execute("SELECT * FROM outbox WHERE template = 'submission_decided'").fetchone()
    assert "cover is blurry" in mail["text_body"]
    helpers.sign_in(client, "sam@example.com")
    page = client.get("/seller")
    assert "rejected" in page.text and "cover is blurry" in page.text
    assert decide.__name__ and client.post("/admin/submissions/x/approve").status_code in (403, 404)


def test_pull_request_mode_commits_on_a_branch_and_leaves_the_tree_alone(submitted, helpers, tmp_path):
    client, edge, sub_id, content = submitted(APPROVAL_MODE="pull-request")
    git = lambda *a: subprocess.run(["git", *a], cwd=tmp_path, capture_output=True, text=True, check=True).stdout  # noqa: E731
    git("init", "-q", "-b", "main")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", "start")
    r = decide(client, helpers, sub_id, "approve")
    assert "submissions/harbour-sans-" in client.get(r.headers["location"]).text
    branch = f"submissions/harbour-sans-{sub_id}"
    listed = git("ls-tree", "-r", "--name-only", branch).split()
    assert "content/products/harbour-sans.md" in listed and "content/sellers/sam-seller.md" in listed
    assert any(p.startswith("content/storage/sha256/") for p in listed)
    assert not (content / "products" / "harbour-sans.md").exists()
    assert git("status", "--porcelain", "--", "content/products") == ""
    text = git("show", f"{branch}:content/products/harbour-sans.md")
    assert schema.parse_product("products/harbour-sans.md", text, ["fonts"], {"sam-seller"})[1] == []


def test_rebuild_runs_after_approval_in_write_mode(submitted, helpers, monkeypatch):
    calls = []
    monkeypatch.setattr(approval, "rebuild", lambda edge: calls.append(edge) or "SyntaxError: boom")
    client, edge, sub_id, content = submitted(REBUILD_ON_APPROVAL=True)
    r = decide(client, helpers, sub_id, "approve")
    assert len(calls) == 1 and "rebuild failed" in client.get(r.headers["location"]).text


def test_rebuild_reports_a_broken_build(make_client, tmp_path):
    client = make_client(CONTENT_DIR=str(tmp_path / "nowhere"), CATALOG_PATH=str(tmp_path / "out" / "catalog.json"))
    problem = approval.rebuild(client.app.state.edge)
    assert problem and "Error" in problem.split(":")[0]


def test_decisions_are_audited_and_a_new_version_keeps_its_publication_date(submitted, helpers):
    client, edge, sub_id, content = submitted()
    decide(client, helpers, sub_id, "approve")
    actions = [r["action"] for r in edge.db.execute("SELECT action FROM audit_log WHERE action LIKE 'submission.%'")]
    assert actions == ["submission.approved"]
    md = content / "products" / "harbour-sans.md"
    md.write_text(md.read_text().replace(f"published: '{edge.clock.iso()[:10]}'", "published: '2025-01-02'")
                  .replace(f"published: {edge.clock.iso()[:10]}", "published: 2025-01-02"))
    helpers.sign_in(client, "sam@example.com")
    r = uploads_tests.post(client, helpers, [("files", ("harbour-sans-2.pdf", uploads_tests.PDF + b"v2", "application/pdf"))], {"version": "1.1"})
    assert r.status_code == 303, r.text
    helpers.sign_in(client, "admin@example.com")
    decide(client, helpers, sub_id, "approve")
    product, problems = schema.parse_product("products/harbour-sans.md", md.read_text(), ["fonts"], {"sam-seller"})
    assert problems == [] and product.version == "1.1" and str(product.published) == "2025-01-02"
    assert [f.name for f in product.files] == ["harbour-sans-2.pdf"]


def test_production_refuses_uploads_without_a_virus_scanner(submitted, helpers, monkeypatch):
    client, edge, sub_id, content = submitted()
    helpers.sign_in(client, "sam@example.com")
    monkeypatch.setattr(Settings, "production", property(lambda self: True))
    r = uploads_tests.post(client, helpers, uploads_tests.good_files(), {"slug": "another-font"}, json_=True)
    assert r.status_code == 503 and "virus scanner" in r.json()["message"]
    assert edge.db.execute("SELECT COUNT(*) FROM submissions").fetchone()[0] == 1
