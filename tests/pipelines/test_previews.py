"""Previews (#15): a product's public sample is checked by validate (a kind the product page
shows, never the paid file itself) and scanned like every product file."""

from __future__ import annotations

import pytest

from .test_scan import EICAR, SIGNATURE

WAV = b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x10\x00\x00\x00\x01\x00\x01\x00\x40\x1f\x00\x00\x80\x3e\x00\x00" \
      b"\x02\x00\x10\x00data\x00\x00\x00\x00"


def with_preview(tree, slug: str, data: bytes, name: str = "clip.wav") -> dict:
    f = tree.add_file(data)
    text = tree.product_text().replace("license:", f"preview:\n  name: {name}\n  size: {f['size']}\n"
                                                   f"  sha256: {f['sha']}\n  key: {f['key']}\nlicense:")
    tree.product(slug, text)
    return f


def test_a_preview_passes_validate_and_scan(tree, clamd):
    with_preview(tree, "budget-planner", WAV)
    assert tree.invoke("validate").exit_code == 0
    result = tree.invoke("scan", env={"CLAMD_SOCKET": clamd["CLAMD_SOCKET"]})
    assert result.exit_code == 0 and "5 files clean" in result.stdout


def test_a_preview_that_is_the_paid_file_is_refused(tree):
    pdf = tree.pdf
    text = tree.product_text().replace("license:", f"preview:\n  name: sample.pdf\n  size: {pdf['size']}\n"
                                                   f"  sha256: {pdf['sha']}\n  key: {pdf['key']}\nlicense:")
    tree.product("budget-planner", text)
    out = tree.invoke("validate").stdout
    assert "preview.sha256: is one of the product's files: a preview is public" in out


@pytest.mark.parametrize(("name", "message"), [
    ("bundle.zip", "is not a kind the product page can show"),
    ("../clip.wav", "must be a plain file name"),
])
def test_a_preview_of_a_kind_the_page_cannot_show_is_refused(tree, name, message):
    with_preview(tree, "budget-planner", WAV, name=name)
    assert message in tree.invoke("validate").stdout


def test_an_infected_preview_is_quarantined(tree, clamd):
    f = with_preview(tree, "budget-planner", EICAR)
    result = tree.invoke("scan", env={"CLAMD_SOCKET": clamd["CLAMD_SOCKET"]})
    assert result.exit_code == 1
    assert f"preview clip.wav): virus found: {SIGNATURE}" in result.stdout
    assert (tree.storage / "quarantine" / f["key"]).exists()
