"""The admin console's home: today's and this month's figures per currency, from the ledger's
daily roll-up, and what needs a person, each a link to its page."""

from __future__ import annotations

import datetime as dt

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from checkout.ops.console import attention, period_figures
from checkout.payments import reports
from checkout.web.auth import requires
from checkout.web.base import edge_of
from checkout.web.pages import render


@requires("admin", forbidden="This page is for administrators.")
async def home(request: Request) -> Response:
    edge = edge_of(request)
    today = dt.date.fromisoformat(edge.clock.iso()[:10])
    return render(request, "edge/admin_home.html",
                  today=period_figures(edge, reports.Range(today, today)),
                  month=period_figures(edge, reports.Range(today.replace(day=1), today)),
                  day=today.isoformat(), month_name=today.strftime("%B %Y"), items=attention(edge))


ROUTES = [Route("/admin", home)]
