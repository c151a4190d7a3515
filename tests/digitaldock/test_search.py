"""The shared search rules: words, shards, matching, ranking, facets, suggestions."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import digitaldock.search as search
from digitaldock.search import Doc, Index, build_index, distance, fold, price_band, words


def doc(title: str, text: str = "A plain description of the product.", **kw) -> Doc:
    values = dict(url=f"/products/{abs(hash(title))}/", title=title, seller="Ada Works", category="Audio",
                  tags=("music",), text=text, price="$12.00", price_minor=1200, currency="USD", price_sort=1200,
                  rating=None, rating_sort=0, rating_count=0, cover=("/images/c.png", 10, 10))
    values.update(kw)
    return Doc(**values)


def index_of(docs: list[Doc], categories=("Audio", "Fonts"), reads: list[str] | None = None) -> Index:
    files = build_index(docs, list(categories))

    def read(name: str) -> bytes:
        if reads is not None:
            reads.append(name)
        return files[name]
    return Index(read)


def titles(index: Index, q: str, **kw) -> list[str]:
    return [c["t"] for c in index.cards(index.search(q, **kw).ids)]


def test_words_fold_case_accents_and_separators():
    assert fold("Café Crème NAÏVE") == "cafe creme naive"
    assert words("Afro Lo-Fi Beats!") == ["afro", "lo", "fi", "beats"]
    assert words("ﬁne Ｔype, naïve_art") == ["fine", "type", "naive", "art"]


def test_lofi_lo_fi_and_lo_fi_with_a_space_are_one_word():
    index = index_of([doc("Afro Lo-Fi Beats"), doc("Lofi Study Tapes"), doc("Lo Fi Piano"),
                      doc("Night Drive", "Slow lo-fi loops for late work.")])
    expected = {"Afro Lo-Fi Beats", "Lofi Study Tapes", "Lo Fi Piano", "Night Drive"}
    for q in ("lofi", "lo-fi", "Lo Fi", "LO‐FI".replace("‐", "-")):
        assert set(titles(index, q)) == expected, q


def test_exact_then_prefix_title_matches_rank_first():
    docs = [doc(f"Pack {n}", "Includes the invoice template you need.") for n in range(30)]
    docs += [doc("Invoice Template Pro"), doc("Invoice Template")]
    index = index_of(docs)
    found = titles(index, "invoice template")
    assert found[:2] == ["Invoice Template", "Invoice Template Pro"]
    assert len(found) == 32


def test_prefix_and_typos_within_limits():
    index = index_of([doc("Studio Monitor Presets"), doc("Cat Sketches"), doc("Lagos Grotesk Typeface")])
    assert titles(index, "stud") == ["Studio Monitor Presets"]  # a prefix of three letters or more
    assert titles(index, "st") == []  # shorter: whole words only
    assert titles(index, "studoi") == ["Studio Monitor Presets"]  # two letters swapped
    assert titles(index, "grotsk") == ["Lagos Grotesk Typeface"]  # one letter missing
    assert titles(index, "typefcae grotesque") == []  # one typo in six letters, not two
    assert titles(index, "car") == []  # short words tolerate no typo
    assert titles(index, "typefacs") == ["Lagos Grotesk Typeface"]


def test_description_seller_category_and_tags_are_searched():
    index = index_of([doc("Kente Grid", "Made in a Lagos studio.", tags=("web", "landing page")),
                      doc("Other Thing", seller="Kofi Prints", category="Fonts")])
    assert titles(index, "studio") == ["Kente Grid"]
    assert titles(index, "landingpage") == ["Kente Grid"]
    assert titles(index, "kofi prints") == ["Other Thing"]
    assert titles(index, "fonts") == ["Other Thing"]


def test_suggestions_when_nothing_matches():
    index = index_of([doc("Studio Monitor Presets"), doc("Piano Loops")])
    result = index.search("stodia peanno")  # each word two edits away: too many for matching
    assert result.total == 0
    assert result.suggestions[0] == "studio"
    assert "piano" in result.suggestions
    assert index.search("qqqq").suggestions == []


def test_facet_counts_follow_the_query_and_prices_never_mix_currencies():
    index = index_of([doc("Naira Beats", price_minor=1_000_000, currency="NGN", price_sort=667),
                      doc("Dollar Beats", price_minor=800, price_sort=800, category="Fonts"),
                      doc("Rated Beats", rating="4.5", rating_sort=45, rating_count=3),
                      doc("Quiet Type", category="Fonts")])
    result = index.search("beats")
    assert result.facets["category"] == {"Audio": 2, "Fonts": 1}
    assert result.facets["price"] == {"USD:0": 1, "USD:1": 1, "NGN:1": 1}
    assert result.facets["rating"] == {"4": 1, "3": 1, "2": 1, "1": 1}
    assert titles(index, "beats", filters={"price": ["NGN:1"]}) == ["Naira Beats"]
    assert titles(index, "beats", filters={"rating": ["4"], "price": ["USD:1"]}) == ["Rated Beats"]
    assert titles(index, "beats", filters={"price": ["EUR:9"]}) == ["Naira Beats", "Dollar Beats", "Rated Beats"]
    assert price_band(499_999, "NGN") == "NGN:0" and price_band(500_000, "NGN") == "NGN:1"
    assert search.band_label("NGN", 1) == "₦5,000 to ₦15,000" and search.band_label("USD", 3) == "$50 and over"
    assert titles(index, "", sort="price-low") == ["Naira Beats", "Dollar Beats", "Rated Beats", "Quiet Type"]
    assert titles(index, "", sort="rating")[0] == "Rated Beats"
    assert titles(index, "beats", sort="newest") == ["Naira Beats", "Dollar Beats", "Rated Beats"]


def test_a_query_reads_only_the_shards_it_needs(monkeypatch):
    monkeypatch.setattr(search, "SHARD_BYTES", 2_000)
    docs = [doc(f"Item {n} {w}", f"about {w} and {w}s") for n in range(400)
            for w in ("alpha", "bravo", "delta", "kilo", "oscar", "zulu")[n % 6:n % 6 + 1]]
    reads: list[str] = []
    index = index_of(docs, reads=reads)
    assert len(index.entry["shards"]) > 10
    reads.clear()
    result = index.search("oscar")
    assert result.total == 66
    index.cards(result.ids[:24])  # one page of results
    shard_reads = [r for r in reads if r.startswith("t/")]
    assert 1 <= len(shard_reads) <= 6
    assert len([r for r in reads if r.startswith("d/")]) == 5  # the cards on screen, not all 13 chunks


def test_builds_are_byte_identical_and_files_named_by_content():
    docs = [doc(f"Title {n}", f"text {n}") for n in range(100)]
    a, b = build_index(docs, ["Audio"]), build_index(list(docs), ["Audio"])
    assert a == b
    for name, data in a.items():
        if name != "index.json":
            assert name.split(".")[-2] == __import__("hashlib").sha256(data).hexdigest()[:10]
    entry = json.loads(a["index.json"])
    assert entry["count"] == 100 and len(entry["docs"]) == 4


def test_an_index_of_another_version_is_refused():
    files = build_index([doc("One")], ["Audio"])
    entry = json.loads(files["index.json"])
    entry["version"] = 1
    files["index.json"] = json.dumps(entry).encode()
    with pytest.raises(ValueError, match="version"):
        Index(files.__getitem__)


def test_distance_counts_swaps_as_one_edit():
    assert distance("studio", "studoi", 2) == 1
    assert distance("studio", "stdio", 2) == 1
    assert distance("abc", "xyz", 1) == 2
    assert distance("a", "abcd", 1) == 2


title_text = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(title_text, min_size=1, max_size=12), st.data())
def test_any_title_is_found_first_by_itself(names, data):
    docs = [doc(n, "x") for n in names]
    index = index_of(docs)
    target = data.draw(st.sampled_from(names))
    want = words(target)
    result = index.search(target)
    if not want:
        assert result.total == len(docs)  # no words: every product
        return
    assert result.ids
    first = index.cards(result.ids[:1])[0]
    if len(want) <= search.MAX_TERMS and len(target) <= search.MAX_QUERY:
        assert "".join(words(first["t"])) == "".join(want)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=300), st.dictionaries(st.sampled_from(["category", "price", "rating", "other"]),
                                              st.lists(st.text(max_size=20), max_size=4)),
       st.sampled_from(["", "newest", "price-low", "price-high", "rating", "bogus"]))
def test_any_query_answers_without_failing(q, filters, sort):
    index = index_of([doc("Afro Lo-Fi Beats"), doc("Studio Kit", category="Fonts")])
    result = index.search(q, filters, sort)
    assert 0 <= result.total <= 2 and len(set(result.ids)) == result.total
    assert set(result.facets) == {"category", "price", "rating"}
