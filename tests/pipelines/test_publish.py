"""`digitaldock publish` against a real S3 endpoint (moto): changed-only uploads, order, headers."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from checkout.cli.main import main
from pipelines import publish as pub

FILES = {
    "index.html": "<html>home</html>",
    "products/budget-planner/index.html": "<html>planner</html>",
    "catalog.json": '{"products": []}',
    "sitemap.xml": "<urlset/>",
    "robots.txt": "User-agent: *",
    "feeds/all.atom.xml": "<feed/>",
    "theme/css/site.css": "body{}",
    "theme/js/cart.js": "console.log(1)",
    "images/cover.png": "\x89PNG fake",
    "pagefind/fragment/en_3fcb573.pf_fragment": "fragment",
    "pagefind/pagefind.en_a667801d2a2f869.pf_meta": "meta",
    "pagefind/wasm.en.pagefind": "wasm",
}


def build(root: Path, files: dict[str, str] = FILES) -> Path:
    out = root / "output"
    for rel, text in files.items():
        p = out / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return out


@pytest.fixture
def site(tmp_path):
    return build(tmp_path)


@pytest.fixture
def cli(moto_endpoint, bucket, site, aws_env):
    def invoke(*args: str, env: dict | None = None):
        with contextlib.chdir(site.parent):
            return CliRunner().invoke(main, ["publish", "--bucket", bucket, "--endpoint-url", moto_endpoint,
                                             *args], env=env, catch_exceptions=False)
    return invoke


def objects(s3, bucket: str) -> dict[str, bytes]:
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    return {k: s3.get_object(Bucket=bucket, Key=k)["Body"].read() for k in keys}


def test_first_publish_uploads_everything_with_headers(cli, s3, bucket, site):
    result = cli()
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == f"plan for s3://{bucket}/: 12 to upload, 0 to keep, 0 to delete"
    assert {k: v.decode() for k, v in objects(s3, bucket).items()} == FILES
    expected = {
        "index.html": ("text/html; charset=utf-8", "public, max-age=300"),
        "catalog.json": ("application/json", "public, max-age=300"),
        "sitemap.xml": ("application/xml", "public, max-age=300"),
        "robots.txt": ("text/plain; charset=utf-8", "public, max-age=300"),
        "theme/css/site.css": ("text/css; charset=utf-8", "public, max-age=300"),
        "images/cover.png": ("image/png", "public, max-age=86400"),
        "pagefind/fragment/en_3fcb573.pf_fragment": ("application/octet-stream", "public, max-age=31536000, immutable"),
        "pagefind/pagefind.en_a667801d2a2f869.pf_meta": ("application/octet-stream", "public, max-age=31536000, immutable"),
        "pagefind/wasm.en.pagefind": ("application/octet-stream", "public, max-age=300"),
    }
    for key, (ctype, cache) in expected.items():
        head = s3.head_object(Bucket=bucket, Key=key)
        assert (head["ContentType"], head["CacheControl"]) == (ctype, cache), key
        assert len(head["Metadata"]["sha256"]) == 64


def test_search_shards_named_by_content_are_immutable_assets():
    from pipelines.publish import cache_control, is_document

    for key in ("search/t/12.3a0cdaaee2.json", "search/d/0.e2b1de3531.json", "search/facets.88bd6b8348.json"):
        assert cache_control(key) == "public, max-age=31536000, immutable" and not is_document(key), key
    for key in ("search/index.json", "catalog.json", "sitemaps/sitemap-1.xml", "products/abc1234/index.html"):
        assert cache_control(key) == "public, max-age=300" and is_document(key), key


def test_assets_go_up_before_the_pages_that_use_them(cli):
    lines = [line.split(" ", 1)[1] for line in cli().stdout.splitlines() if line.startswith("uploaded ")]
    documents = [i for i, k in enumerate(lines) if k.endswith((".html", ".json", ".xml", ".txt"))]
    assets = [i for i, k in enumerate(lines) if i not in documents]
    assert len(lines) == 12 and max(assets) < min(documents)


def test_an_unchanged_build_uploads_nothing(cli, bucket):
    cli()
    result = cli()
    assert result.exit_code == 0
    assert result.stdout == f"plan for s3://{bucket}/: 0 to upload, 12 to keep, 0 to delete\n"


def test_only_changes_are_uploaded_and_stale_objects_removed_last(cli, s3, bucket, site):
    cli()
    (site / "index.html").write_text("<html>home v2</html>")
    (site / "robots.txt").unlink()
    (site / "images" / "new.png").write_text("new")
    result = cli()
    assert result.stdout.splitlines() == [
        f"plan for s3://{bucket}/: 2 to upload, 10 to keep, 1 to delete",
        "uploaded images/new.png", "uploaded index.html", "deleted robots.txt"]
    live = objects(s3, bucket)
    assert live["index.html"] == b"<html>home v2</html>" and "robots.txt" not in live


def test_changed_headers_alone_cause_an_upload(cli, s3, bucket):
    cli()
    s3.copy_object(Bucket=bucket, Key="index.html", CopySource={"Bucket": bucket, "Key": "index.html"},
                   MetadataDirective="REPLACE", ContentType="text/plain", Metadata={})
    assert "1 to upload" in cli().stdout


def test_dry_run_prints_the_plan_and_touches_nothing(cli, s3, bucket, site):
    cli()
    (site / "index.html").write_text("<html>changed</html>")
    (site / "robots.txt").unlink()
    before = objects(s3, bucket)
    result = cli("--dry-run")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == f"plan for s3://{bucket}/: 1 to upload, 10 to keep, 1 to delete"
    assert "upload index.html" in lines and "delete robots.txt" in lines and "keep catalog.json" in lines
    assert objects(s3, bucket) == before


def test_prefix_keeps_other_objects_alone(cli, s3, bucket):
    s3.put_object(Bucket=bucket, Key="other/keep.txt", Body=b"x")
    s3.put_object(Bucket=bucket, Key="site/stale.html", Body=b"x")
    result = cli("--prefix", "/site/")
    assert result.stdout.splitlines()[0] == f"plan for s3://{bucket}/site/: 12 to upload, 0 to keep, 1 to delete"
    keys = set(objects(s3, bucket))
    assert "other/keep.txt" in keys and "site/stale.html" not in keys and "site/index.html" in keys


@pytest.mark.parametrize("when", ["vanished", "changed"])
def test_a_file_that_vanishes_mid_run_publishes_no_pages_and_deletes_nothing(cli, s3, bucket, site,
                                                                             monkeypatch, when):
    (site / "old.html").write_text("old page")
    cli()
    (site / "old.html").unlink()
    (site / "index.html").write_text("<html>v2</html>")
    (site / "images" / "new.png").write_text("new image")
    real = pub.make_plan

    def plan_then_break(*args, **kwargs):
        plan = real(*args, **kwargs)
        if when == "vanished":
            (site / "images" / "new.png").unlink()
        else:
            (site / "images" / "new.png").write_text("edited meanwhile")
        return plan

    monkeypatch.setattr(pub, "make_plan", plan_then_break)
    result = cli()
    assert result.exit_code == 1
    assert result.stderr == (f"Error: output/images/new.png {when} during publish; rebuild and publish again "
                             "(nothing stale was deleted; the live pages still work)\n")
    live = objects(s3, bucket)
    assert live["index.html"] == b"<html>home</html>" and live["old.html"] == b"old page"


def test_missing_credentials(cli, monkeypatch, tmp_path):
    for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(k)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    result = cli()
    assert result.exit_code == 1
    assert result.stderr == "Error: no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY\n"


def test_missing_bucket(site, moto_endpoint, aws_env):
    with contextlib.chdir(site.parent):
        result = CliRunner().invoke(main, ["publish", "--bucket", "no-such-bucket", "--endpoint-url", moto_endpoint])
    assert result.exit_code == 1
    assert result.stderr == (f"Error: bucket 'no-such-bucket' does not exist at {moto_endpoint}; "
                             "create it or fix the bucket name\n")


def test_unreachable_endpoint(site, aws_env):
    with contextlib.chdir(site.parent):
        result = CliRunner().invoke(main, ["publish", "--bucket", "b", "--endpoint-url", "http://127.0.0.1:9"])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: cannot reach the S3 endpoint http://127.0.0.1:9 (")


@pytest.mark.parametrize("files, message", [
    (None, "Error: output/ does not exist; run digitaldock build first\n"),
    ({}, "Error: output/ is empty; refusing to publish an empty site (run digitaldock build)\n"),
])
def test_no_build_no_publish(tmp_path, aws_env, moto_endpoint, files, message):
    if files is not None:
        (tmp_path / "output").mkdir()
    with contextlib.chdir(tmp_path):
        result = CliRunner().invoke(main, ["publish", "--bucket", "b", "--endpoint-url", moto_endpoint])
    assert result.exit_code == 1 and result.stderr == message


def test_a_file_that_vanishes_while_planning(site, monkeypatch):
    def gone(path):
        raise FileNotFoundError(2, "No such file", str(path))

    monkeypatch.setattr(pub, "_hash", gone)
    with pytest.raises(pub.PublishError, match=r"vanished while reading the build; rebuild and publish again$"):
        pub.local_files(site, "")


def test_a_failed_delete_is_reported():
    class Client:
        def delete_objects(self, **kwargs):
            return {"Errors": [{"Key": "old.html", "Code": "AccessDenied", "Message": "no"}]}

    plan = pub.Plan("b", "", delete=["old.html"])
    with pytest.raises(pub.PublishError, match="^could not delete old.html: AccessDenied no$"):
        pub.execute(plan, Client())


@pytest.mark.parametrize("key, ctype, cache", [
    ("a/app.3f2a9c1e.css", "text/css; charset=utf-8", pub.IMMUTABLE),
    ("a/app.css", "text/css; charset=utf-8", pub.SHORT),
    ("fonts/inter.woff2", "font/woff2", pub.DAY),
    ("img/cafe.webp", "image/webp", pub.DAY),
    ("img/facade.jpg", "image/jpeg", pub.DAY),
    ("x.unknownext", "application/octet-stream", pub.DAY),
    ("LICENSE", "application/octet-stream", pub.DAY),
    ("feed.rss", "application/rss+xml", pub.SHORT),
    ("logo.svg", "image/svg+xml", pub.DAY),
])
def test_headers_by_name(key, ctype, cache):
    assert (pub.content_type(key), pub.cache_control(key)) == (ctype, cache)


def test_environment_supplies_the_endpoint(moto_endpoint, bucket, site, aws_env):
    with contextlib.chdir(site.parent):
        result = CliRunner().invoke(main, ["publish", "--dry-run", "-o", "output"],
                                    env={"S3_SITE_BUCKET": bucket, "S3_ENDPOINT_URL": moto_endpoint})
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"plan for s3://{bucket}/: 12 to upload")
    assert os.environ.get("S3_SITE_BUCKET") is None
