"""The stats file the edge exports and the build reads: round trip, derived averages, and
anything else refused with the place named (never a traceback, never invented stars)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from digitaldock.stats import (
    ProductStats,
    ReviewExcerpt,
    Stats,
    StatsError,
    dump_stats,
    load_stats,
    parse_stats,
    write_stats,
)


def test_average_is_derived_from_the_histogram_half_up():
    s = ProductStats(count=3, sum=14, histogram=(0, 0, 0, 1, 2))
    assert s.average == "4.7" and s.stars_x10 == 47  # 4.666…
    assert ProductStats(count=2, sum=9, histogram=(0, 0, 0, 1, 1)).average == "4.5"
    assert ProductStats().stars_x10 == 0
    assert s.histogram_rows[0] == (5, 2, 67)


def test_round_trip_and_unchanged_file_is_not_rewritten(tmp_path: Path):
    stats = Stats({"a": ProductStats(count=1, sum=5, histogram=(0, 0, 0, 0, 1), sold_30d=2,
                                     recent=(ReviewExcerpt(1, 5, "T", "B", "Ada", "2026-11-01", "thanks"),))})
    path = tmp_path / "stats.json"
    assert write_stats(stats, path) is True
    assert write_stats(stats, path) is False
    assert load_stats(path) == stats
    assert load_stats(tmp_path / "missing.json") == Stats() and load_stats(None) == Stats()
    assert Stats().rating("a") is None and Stats().sold("a") == 0


@pytest.mark.parametrize("doc, where", [
    ("[]", "version"),
    ('{"version": 2, "products": {}}', "version"),
    ('{"version": 1}', "products"),
    ('{"version": 1, "products": {"a": 3}}', "products.a"),
    ('{"version": 1, "products": {"a": {"histogram": [1]}}}', "products.a.histogram"),
    ('{"version": 1, "products": {"a": {"count": 2, "sum": 9, "histogram": [0,0,0,1,0]}}}', "disagree"),
    ('{"version": 1, "products": {"a": {"count": -1}}}', "products.a.count"),
    ('{"version": 1, "products": {"a": {"recent": [{"id": 1, "rating": 6}]}}}', "products.a.recent[0].rating"),
    ("not json", "not JSON"),
])
def test_a_wrong_file_is_refused_naming_the_place(doc: str, where: str, tmp_path: Path):
    with pytest.raises(StatsError, match=None) as err:
        parse_stats(doc)
    assert where in str(err.value)
    (tmp_path / "s.json").write_text(doc)
    with pytest.raises(StatsError) as err:
        load_stats(tmp_path / "s.json")
    assert str(tmp_path / "s.json") in str(err.value)


_json = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
                     lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
                     max_leaves=20)


SETTINGS = settings(deadline=None, suppress_health_check=list(HealthCheck))  # a loaded machine is slow, not wrong


@SETTINGS
@given(st.dictionaries(st.text(), _json, max_size=4))
def test_any_json_product_entry_parses_or_is_refused_cleanly(entry):
    doc = json.dumps({"version": 1, "products": {"p": entry}})
    try:
        stats = parse_stats(doc)
    except StatsError as exc:
        assert str(exc).startswith("products.p")
    else:
        assert parse_stats(dump_stats(stats)) == stats


@SETTINGS
@given(st.binary(max_size=200))
def test_any_bytes_parse_or_are_refused_cleanly(data: bytes):
    try:
        parse_stats(data)
    except StatsError:
        pass
