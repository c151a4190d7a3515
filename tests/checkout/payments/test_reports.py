"""Reports from the ledger (issue #16): on generated ledgers of any shape, every report total
agrees with the balances `digitaldock ledger check` and `ledger balances` derive from the
entries, to the minor unit; the daily roll-up equals the entries; any range, period and
grouping adds up to the same totals; hostile report parameters get a clear 422."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checkout.core.errors import ValidationFailed
from checkout.core.settings import load_settings
from checkout.payments import ledger, reports
from checkout.testing.bulk import add_movements, fill_orders
from checkout.wiring import build_edge

FIRST, LAST = dt.date(2026, 1, 1), dt.date(2026, 12, 31)


def fresh_edge(path):
    edge = build_edge(load_settings(environ={}, dotenv=None, DIGITALDOCK_DATA_DIR=str(path),
                                    CATALOG_PATH=str(path / "none.json"), CONTENT_DIR=str(path / "content")))
    edge.migrate()
    return edge


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(orders=st.integers(1, 400), refund_every=st.integers(0, 7), cost_bps=st.integers(0, 400),
       fee_bps=st.integers(0, 10_000), release=st.booleans(), pay_out=st.booleans(), days=st.integers(1, 120),
       period=st.sampled_from(reports.PERIODS), group=st.sampled_from(reports.GROUPS))
def test_reports_agree_with_the_ledger_to_the_minor_unit(tmp_path_factory, orders, refund_every, cost_bps, fee_bps,
                                                         release, pay_out, days, period, group):
    edge = fresh_edge(tmp_path_factory.mktemp("ledger"))
    fill_orders(edge.db.conn, orders, fee_bps=fee_bps, day="2026-03-01", days=days)
    add_movements(edge.db.conn, refund_every=refund_every, cost_bps=cost_bps, release=release, pay_out=pay_out,
                  payout_day="2026-09-01")
    assert ledger.check(edge.db) == []  # the roll-up equals the entries, among every other invariant
    tie = reports.tie_out(edge.db)
    assert tie and all(t["ok"] for t in tie), [t for t in tie if not t["ok"]]
    balances = ledger.balances(edge)
    report = reports.sales(edge.db, reports.Range(FIRST, LAST), period, group)
    for currency, totals in report.totals.items():
        assert totals["fees"] == -balances.get((ledger.FEES, currency), 0)
        assert totals["costs"] == balances.get((ledger.COSTS, currency), 0)
        assert totals["gross"] == totals["fees"] + totals["seller_net"] + totals["refunds"]
        # the rows add up to the totals, whatever the period and grouping
        for figure in ("gross", "refunds", "fees", "seller_net", "units"):
            assert sum(r[figure] for r in report.rows if r["currency"] == currency) == totals[figure] or \
                group != "currency" and figure == "costs"
    direct = {r[0]: r[1] for r in edge.db.execute(
        "SELECT currency, SUM(amount) FROM ledger_entries e JOIN ledger_journals j ON j.id = e.journal_id"
        " WHERE j.kind = 'sale' AND e.account = 'paystack:receivable' GROUP BY currency")}
    assert {c: t["gross"] for c, t in report.totals.items()} == direct
    edge.close()


def test_a_range_keeps_its_days_and_only_them(tmp_path):
    edge = fresh_edge(tmp_path)
    fill_orders(edge.db.conn, 90, day="2026-03-01", days=90)  # one order a day
    part = reports.sales(edge.db, reports.Range(dt.date(2026, 3, 10), dt.date(2026, 3, 19)), "day")
    assert sum(t["orders"] for t in part.totals.values()) == 10
    weeks = reports.sales(edge.db, reports.Range(dt.date(2026, 3, 1), dt.date(2026, 5, 29)), "week")
    assert {r["period"] for r in weeks.rows} <= set(reports.periods(weeks.range, "week"))
    assert all(dt.date.fromisoformat(p).weekday() == 0 for p in reports.periods(weeks.range, "week")[1:])
    assert reports.periods(reports.Range(dt.date(2026, 1, 30), dt.date(2026, 3, 2)), "month") == \
        ["2026-01", "2026-02", "2026-03"]
    seller = reports.sales(edge.db, reports.Range(FIRST, LAST), "month", "product", seller="ada")
    assert {r["product"] for r in seller.rows} and all(int(r["product"].split("-")[1]) % 5 == 0 for r in seller.rows)
    csv = reports.sales_csv(seller)
    assert csv.splitlines()[0] == "Period,Currency,Product,Units sold,Units refunded,Gross sales,Refunds," \
                                  "Platform fees,Seller earnings,Net sales"
    edge.close()


@given(start=st.one_of(st.none(), st.text(max_size=12)), end=st.one_of(st.none(), st.text(max_size=12)),
       period=st.one_of(st.none(), st.text(max_size=8)), group=st.one_of(st.none(), st.text(max_size=10)))
def test_any_report_parameters_give_a_range_or_a_422_naming_the_field(start, end, period, group):
    try:
        r = reports.parse_range(start, end, dt.date(2026, 12, 2))
        assert r.start <= r.end and r.days <= reports.MAX_DAYS
        reports.choice(period, reports.PERIODS, "period", "day")
        reports.choice(group, reports.GROUPS, "group", "currency")
    except ValidationFailed as exc:
        assert set(exc.fields) <= {"from", "to", "period", "group"} and exc.fields


def test_csv_cells_never_start_a_formula():
    text = reports.csv_text(["product", "gross", "currency"], [{"product": "=HYPERLINK(\"x\")", "gross": -150,
                                                               "currency": "USD"}])
    assert "'=HYPERLINK" in text and ",-1.50," in text


@pytest.mark.parametrize("bad", ["2026-02-30", "20260101", "2026-1-1", "x" * 10])
def test_bad_dates_are_named(bad):
    with pytest.raises(ValidationFailed) as info:
        reports.parse_range(bad, None, dt.date(2026, 12, 2))
    assert info.value.fields == {"from": "must be a date such as 2026-11-01"}
