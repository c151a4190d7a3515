"""The admin console's tax report (issue #18): tax charged, refunded and owed per buyer country
and currency over a range of days, from the ledger's tax accounts, with its CSV; and the paid
orders whose card country differed from the country the buyer chose."""

from __future__ import annotations

import datetime as dt

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from checkout.payments import reports, taxes
from checkout.web.admin_reports import FORBIDDEN, csv_response, today
from checkout.web.auth import requires
from checkout.web.base import edge_of
from checkout.web.pages import render


@requires("admin", forbidden=FORBIDDEN)
async def tax_report(request: Request) -> Response:
    edge = edge_of(request)
    r = reports.parse_range(request.query_params.get("from"), request.query_params.get("to"), today(edge), 90)
    end = (r.end + dt.timedelta(days=1)).isoformat()
    rows = taxes.report(edge, r.start.isoformat(), end)
    if request.query_params.get("format") == "csv":
        return csv_response(taxes.report_csv(rows), f"taxes-{r.start}-{r.end}")
    return render(request, "edge/admin_taxes.html", rows=rows, first=r.start.isoformat(), last=r.end.isoformat(),
                  mismatches=taxes.mismatches(edge), rates=taxes.rates(edge))


ROUTES = [Route("/admin/reports/taxes", tax_report)]
