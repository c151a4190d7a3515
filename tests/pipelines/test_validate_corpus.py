"""The broken-product corpus: every file in broken/ gives exactly the messages listed here.

All files are validated in one run, alongside a valid product, so this also proves that one
run reports every problem in every file and nothing for the good one.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

BROKEN = Path(__file__).parent / "broken"

EXPECTED = {
    'Bad_File_Name.md': [
        "1: slug: file name 'Bad_File_Name' must be a slug of 3–80 characters (lowercase letters, digits and single hyphens)",
    ],
    'cover-missing-image.md': ['9: cover: images/nope.png does not exist in content/'],
    'cover-not-an-image.md': [
        '9: cover: images/fake.png is not a usable image: the file cannot be decoded as PNG, JPEG, GIF or WebP',
    ],
    'cover-not-under-images.md': [
        "9: cover: 'cover.png' must be a path under images/, such as images/my-cover.png",
    ],
    'cover-too-big.md': ['9: cover: images/huge.png is 10485761 bytes, over the 10 MB image limit'],
    'currency-lowercase.md': [
        "7: currency: 'usd' is not an accepted currency (NGN, GHS, ZAR, KES, USD); did you mean 'USD'?",
    ],
    'currency-missing.md': ['1: currency: is required'],
    'description-too-short.md': ['22: description: body must be 20 to 20000 characters, got 10'],
    'dup/budget-planner.md': [
        "1: slug: 'budget-planner' is already used by content/products/budget-planner.md",
    ],
    'featured-not-boolean.md': ['21: featured: must be true or false, got text'],
    'field-typo.md': ["21: feature: unknown field; did you mean 'featured'?"],
    'file-name-is-path.md': [
        "13: files[0].name: '../planner.pdf' must be a plain file name, not a path",
    ],
    'file-not-in-storage.md': [
        '16: files[0].key: sha256/00/0000000000000000000000000000000000000000000000000000000000000000 is not in storage (content/storage)',
    ],
    'file-sha-mismatch.md': [
        '15: files[0].sha256: does not match the stored file, whose sha256 is 5a838678058f6de375e8635b5f2fea47a4e5f07cb1a882a44b10f39abc6f34ff',
    ],
    'file-sha-not-hex.md': ['15: files[0].sha256: must be 64 lowercase hexadecimal characters'],
    'file-size-mismatch.md': [
        '14: files[0].size: declared 999 bytes but the stored file is 45 bytes',
    ],
    'file-too-big.md': ['14: files[0].size: 600000000 bytes is over the 500 MB limit'],
    'file-unknown-field.md': ["17: files[0].keys: unknown field; did you mean 'key'?"],
    'files-empty.md': ['12: files: must be a list of at least one file (name, size, sha256, key)'],
    'front-matter-is-a-list.md': [
        '2: front matter: front matter must be a mapping of field: value',
    ],
    'gallery-eleven-images.md': ['10: gallery: at most 10 images, got 11'],
    'gallery-leaves-images.md': [
        "11: gallery[0]: 'images/../secret.png' must not leave the images/ folder",
    ],
    'gallery-not-a-list.md': ['10: gallery: must be a list of image paths, got text'],
    'license-missing.md': ['1: license: is required'],
    'many-mistakes.md': [
        "7: currency: 'EUR' is not an accepted currency (NGN, GHS, ZAR, KES, USD)",
        '8: summary: must be 10 to 280 characters, got 5',
        '14: files[0].size: declared 1000 bytes but the stored file is 45 bytes',
        "19: published: 'yesterday' is not a date in the form YYYY-MM-DD",
    ],
    'missing-title.md': ['1: title: is required'],
    'no-front-matter.md': [
        "1: front matter: file must start with YAML front matter between '---' lines",
    ],
    'not-utf8.md': ['2: file: is not UTF-8 text (byte 0xE9 on line 2); save it as UTF-8'],
    'price-comma.md': ['6: price: \'12,50\' is not a decimal amount such as "12.50"'],
    'price-three-decimals.md': ["6: price: USD has 2 decimal places, '12.505' has 3"],
    'price-too-high.md': ['6: price: USD prices must be between $2.00 and $10,000.00'],
    'price-too-low.md': ['6: price: USD prices must be between $2.00 and $10,000.00'],
    'published-not-a-date.md': ["19: published: '2025-02-30' is not a date in the form YYYY-MM-DD"],
    'pwyw-above-price.md': ['8: pwyw_minimum: 20.00 must not exceed the suggested price 12.50'],
    'seller-not-slug.md': [
        "3: seller: 'Ada Obi' is not a slug (lowercase letters, digits and single hyphens)",
    ],
    'several-mistakes.md': [
        '1: license: is required',
        "4: category: unknown category 'fontz'; did you mean 'fonts'?",
        '6: price: \'12.5.0\' is not a decimal amount such as "12.50"',
    ],
    'short-title.md': ['2: title: must be 3 to 120 characters, got 2'],
    'status-unknown.md': ["20: status: 'live' is not one of draft, published, withdrawn"],
    'summary-too-short.md': ['8: summary: must be 10 to 280 characters, got 9'],
    'tag-twice.md': ["5: tags[1]: 'budget' is listed twice"],
    'tag-uppercase.md': [
        "5: tags[0]: 'Budget' is not a tag (lowercase letters, digits, hyphens, ≤ 30)",
    ],
    'tags-too-many.md': ['5: tags: at most 10 tags, got 11'],
    'title-number.md': ['2: title: must be text, got a number'],
    'unknown-category.md': ["4: category: unknown category 'template'; did you mean 'templates'?"],
    'unknown-seller.md': ["3: seller: unknown seller 'adaa'; did you mean 'ada'?"],
    'version-not-a-version.md': ["18: version: 'v1' is not a version such as 1.0 or 2.1.3"],
    'yaml-syntax-error.md': ["9: front matter: invalid YAML: did not find expected ',' or ']'"],
}


@pytest.fixture(scope="module")
def corpus_output(tmp_path_factory: pytest.TempPathFactory, make_tree) -> tuple[int, list[str]]:
    tree = make_tree(tmp_path_factory.mktemp("corpus"))
    tree.image("fake.png", b"this is text, not a picture\n")
    tree.image("huge.png", b"\0" * (10 * 1024 * 1024 + 1))
    shutil.copytree(BROKEN, tree.root / "products", dirs_exist_ok=True)
    result = tree.invoke("validate")
    return result.exit_code, result.stdout.splitlines()


def test_corpus_is_big_enough():
    files = sorted(p.relative_to(BROKEN).as_posix() for p in BROKEN.rglob("*.md"))
    assert len(files) >= 30
    assert files == sorted(EXPECTED), "every corpus file needs its expected messages"
    assert sum(len(v) > 1 for v in EXPECTED.values()) >= 2, "some files have several mistakes"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_broken_file_gives_exact_messages(corpus_output, name):
    code, lines = corpus_output
    assert code == 1
    path = f"content/products/{name}"
    assert [line for line in lines if line.startswith(path + ":")] == [f"{path}:{m}" for m in EXPECTED[name]]


def test_only_broken_files_are_reported(corpus_output):
    _, lines = corpus_output
    reported = {line.split(":", 1)[0] for line in lines}
    assert reported == {f"content/products/{name}" for name in EXPECTED}
    assert len(lines) == sum(map(len, EXPECTED.values()))
