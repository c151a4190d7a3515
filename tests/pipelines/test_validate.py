"""`digitaldock validate`: summary, PATH filters, GitHub annotations, images, storage, legal history."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from checkout.cli.main import main

PRODUCT = "content/products/budget-planner.md"


def png(fmt: str = "PNG") -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buf, fmt)
    return buf.getvalue()


def test_valid_content_prints_a_summary(tree):
    result = tree.invoke("validate")
    assert result.exit_code == 0, result.output
    assert result.stdout == "content OK: 1 products, 1 sellers, 5 legal documents\n"


def test_the_console_script_reports_without_a_traceback(tree):
    (tree.root / "images" / "cover.png").unlink()
    result = tree.run("validate")
    assert result.returncode == 1
    assert result.stdout == f"{PRODUCT}:9: cover: images/cover.png does not exist in content/\n"
    assert result.stderr == "Error: 1 problem in 1 file\n"


def test_paths_limit_the_report_but_not_the_cross_checks(tree):
    bad = tree.product_text().replace("seller: ada", "seller: bob")
    tree.product("first-one", bad)
    tree.product("second-one", bad)
    result = tree.invoke("validate", "content/products/second-one.md")
    assert result.exit_code == 1
    assert result.stdout == ("content/products/second-one.md:3: seller: unknown seller 'bob'\n")
    assert result.stderr == "Error: 1 problem in 1 file\n"
    result = tree.invoke("validate", "content/products")
    assert result.stdout.count("unknown seller") == 2
    assert "2 problems in 2 files" in result.stderr
    assert tree.invoke("validate", "content/sellers").exit_code == 0


def test_github_format_prints_annotations(tree):
    tree.product("bad-one", tree.product_text().replace('price: "12.50"', 'price: "12,50"'))
    result = tree.invoke("validate", "--format", "github")
    assert result.exit_code == 1
    assert result.stdout == ("::error file=content/products/bad-one.md,line=6,title=price::"
                             "'12,50' is not a decimal amount such as \"12.50\"\n")


def test_github_format_escapes_special_characters():
    from digitaldock.schema import Problem
    from pipelines.validate import format_problem

    p = Problem("a.md", 3, "files[0]:x,y", "100% wrong\nreally")
    assert format_problem(p, "github") == "::error file=a.md,line=3,title=files[0]%3Ax%2Cy::100%25 wrong%0Areally"
    # issue #20: text output is one line per problem, whatever a message holds
    assert format_problem(p) == "a.md:3: files[0]:x,y: 100% wrong\\x0areally"


def test_seller_avatar_is_checked(tree):
    (tree.root / "images" / "ada.png").write_bytes(b"GIF89a broken")
    result = tree.invoke("validate")
    assert result.stdout == ("content/sellers/ada.md:3: avatar: images/ada.png is not a usable image: "
                             "the file cannot be decoded as PNG, JPEG, GIF or WebP\n")


@pytest.mark.parametrize("name, data, message", [
    ("pic.jpg", png("JPEG"), None),
    ("pic.gif", png("GIF"), None),
    ("pic.webp", png("WEBP"), None),
    ("pic.jpeg", png("JPEG"), None),
    # issue #22: raster only; issue #20: a file is named for what it is
    ("pic.svg", b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>',
     "'images/pic.svg': SVG images are not accepted (an SVG can carry scripts); use PNG, JPEG, GIF or WebP"),
    ("pic.bmp", png("BMP"), "'images/pic.bmp': '.bmp' is not an image extension; "
                            "use .png, .jpg, .jpeg, .gif or .webp"),
    ("pic.png", png("BMP"), "images/pic.png is not a usable image: the file cannot be decoded as "
                            "PNG, JPEG, GIF or WebP"),
    ("pic.png", png("GIF"), "images/pic.png is not a usable image: it is a GIF image named .png; name it .gif"),
])
def test_image_kinds(tree, name, data, message):
    tree.image(name, data)
    tree.product("budget-planner", tree.product_text().replace("images/shot-1.png", f"images/{name}"))
    result = tree.invoke("validate")
    expected = f"{PRODUCT}:11: gallery[0]: {message}\n" if message else "content OK"
    assert expected in result.stdout


def test_decompression_bombs_are_refused(tree, monkeypatch):
    from digitaldock import images

    monkeypatch.setattr(images, "MAX_IMAGE_PIXELS", 10)  # a 4×4 image becomes "too big"
    result = tree.invoke("validate")
    assert (f"{PRODUCT}:9: cover: images/cover.png is not a usable image: 4×4 is too many pixels "
            "(at most 10)") in result.stdout


def test_missing_content_folder(tmp_path, tree):
    result = tree.invoke("validate", "--content-dir", "nowhere")
    assert result.exit_code == 1
    assert result.stderr == "Error: content folder 'nowhere' does not exist; pass --content-dir\n"


def test_files_are_checked_in_s3(tree, moto_endpoint, bucket, s3, aws_env):
    env = {"STORAGE_BACKEND": "s3", "S3_BUCKET": bucket, "S3_ENDPOINT_URL": moto_endpoint}
    result = tree.invoke("validate", env=env)
    assert result.stdout == (f"{PRODUCT}:16: files[0].key: {tree.pdf['key']} is not in storage "
                             f"(s3://{bucket}/)\n")
    for p in tree.storage.rglob("*"):
        if p.is_file():
            s3.upload_file(str(p), bucket, p.relative_to(tree.storage).as_posix())
    assert tree.invoke("validate", env=env).exit_code == 0


def test_storage_failure_is_one_line(tree, moto_endpoint, aws_env):
    env = {"STORAGE_BACKEND": "s3", "S3_BUCKET": "gone-bucket", "S3_ENDPOINT_URL": moto_endpoint}
    result = tree.invoke("validate", env=env)
    assert result.exit_code == 1
    assert result.stderr == (f"Error: bucket 'gone-bucket' does not exist at {moto_endpoint}; "
                             "create it or fix the bucket name\n")
    result = tree.invoke("validate", env={"STORAGE_BACKEND": "nfs"})
    assert result.stderr == "Error: STORAGE_BACKEND='nfs' is not a storage backend; use 'local' or 's3'\n"


# --- legal documents against git -------------------------------------------------------------

def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=Test", "-c", "user.email=t@example.com", *args],
                   cwd=cwd, check=True, capture_output=True)


@pytest.fixture
def repo(tree):
    git(tree.base, "init", "-q", "-b", "main")
    git(tree.base, "add", ".")
    git(tree.base, "commit", "-q", "-m", "content")
    return tree


LEGAL = "content/legal/refunds.md"


@pytest.mark.parametrize("edit, expected", [
    ({"append": "More words.\n"},
     f"{LEGAL}:3: version: the text changed since HEAD but the version is still 1.0; raise it\n"),
    ({'version: "1.0"': 'version: "0.9"'},
     f"{LEGAL}:3: version: 0.9 is lower than 1.0 at HEAD; versions must not decrease\n"),
    ({"effective: 2025-01-01": "effective: 2025-02-01"},
     f"{LEGAL}:4: effective: changed since HEAD without a new version; raise the version too\n"),
    ({'version: "1.0"': 'version: "1.1"', "effective: 2025-01-01": "effective: 2024-12-01"},
     f"{LEGAL}:4: effective: 2024-12-01 is earlier than 2025-01-01, the date of version 1.0 at HEAD\n"),
])
def test_legal_versions_against_git(repo, edit, expected):
    p = repo.root / "legal" / "refunds.md"
    text = p.read_text()
    for old, new in edit.items():
        text = text + new if old == "append" else text.replace(old, new, 1)
    p.write_text(text)
    result = repo.invoke("validate")
    assert result.exit_code == 1
    assert result.stdout == expected


def test_legal_version_raised_with_new_text_is_fine(repo):
    p = repo.root / "legal" / "refunds.md"
    p.write_text(p.read_text().replace('version: "1.0"', 'version: "1.1"') + "New rule.\n")
    assert repo.invoke("validate").exit_code == 0
    git(repo.base, "commit", "-qam", "refunds 1.1")
    assert repo.invoke("validate", "--base-ref", "HEAD~1").exit_code == 0
    p.write_text(p.read_text().replace('version: "1.1"', 'version: "1.0"'))
    result = repo.invoke("validate", "--base-ref", "")
    assert result.exit_code == 0, "an empty --base-ref skips the history check"


def test_new_or_broken_legal_documents_at_the_base_are_skipped(tree):
    git(tree.base, "init", "-q", "-b", "main")
    assert tree.invoke("validate").exit_code == 0, "no commits yet: nothing to compare"
    p = tree.root / "legal" / "privacy.md"
    text = p.read_text()
    p.write_text("broken")
    git(tree.base, "add", "content/legal/privacy.md")
    git(tree.base, "commit", "-q", "-m", "only a broken privacy policy")
    p.write_text(text)
    assert tree.invoke("validate").exit_code == 0


def test_unknown_base_ref_is_one_line(repo):
    result = repo.invoke("validate", "--base-ref", "origin/nope")
    assert result.exit_code == 1
    assert result.stderr == "Error: git revision 'origin/nope' not found; fetch it or pass another --base-ref\n"


def test_the_repository_content_is_valid(repo_root):
    """The real catalogue, when present, passes (the last test, against the live content/)."""
    from click.testing import CliRunner


    content = repo_root / "content"
    if not (content / "products").is_dir() or not any((content / "products").glob("*.md")):
        pytest.skip("no content in this checkout")
    result = CliRunner().invoke(main, ["validate", "--content-dir", str(content)],
                                env={"STORAGE_BACKEND": None, "STORAGE_DIR": None})
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("content OK: ")


def test_all_zero_base_ref_of_a_new_branch_is_skipped(repo):
    assert repo.invoke("validate", "--base-ref", "0" * 40).exit_code == 0


def test_broken_seller_files_are_reported_once(tree):
    (tree.root / "sellers" / "bob.md").write_text("no front matter here")
    result = tree.invoke("validate")
    assert result.stdout == ("content/sellers/bob.md:1: front matter: file must start with YAML "
                             "front matter between '---' lines\n")
