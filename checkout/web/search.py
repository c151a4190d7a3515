"""Search at the edge: the results page that the search form reaches without JavaScript, and
`GET /api/products/search`, both answering from the storefront's static index with the rules
the browser uses (`checkout.core.search`, `digitaldock.search`)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from checkout.core.errors import ValidationFailed
from checkout.core.search import PER_PAGE, SearchQuery, parse_query, run, site_search
from checkout.web.base import edge_of
from checkout.web.pages import render
from digitaldock.search import SORTS, rating_label


def _values(request: Request) -> dict[str, list[Any]]:
    params = request.query_params
    return {k: params.getlist(k) for k in params.keys()}


def _absolute(edge: Any, card: dict[str, Any]) -> dict[str, Any]:
    """A card's links point at the storefront (the index holds root-relative URLs)."""
    site = edge.settings.SITE_URL.rstrip("/")
    return {"url": site + card["u"], "title": card["t"], "seller": card["s"], "category": card["c"],
            "price": card["p"], "rating": card["r"],
            "cover": {"src": site + card["i"][0], "width": card["i"][1], "height": card["i"][2]}}


def _link(query: SearchQuery, **changes: Any) -> str:
    """The results page's URL for this search with some parameters changed."""
    params: list[tuple[str, str]] = []
    q, sort, page = changes.get("q", query.q), changes.get("sort", query.sort), changes.get("page", 1)
    if q:
        params.append(("q", q))
    for name, values in (query.filters or {}).items():
        params += [(name, v) for v in values]
    if sort:
        params.append(("sort", sort))
    if page > 1:
        params.append(("page", str(page)))
    return "/search" + ("?" + urlencode(params) if params else "")


async def search_page(request: Request) -> Response:
    edge = edge_of(request)
    index = site_search(edge).index()
    if index is None:  # nothing built yet (a new install): the page says so; not a server failure
        return render(request, "edge/search.html", query=SearchQuery(), unavailable=True,
                      sorts=SORTS, facets=[], cards=[], result=None, error=None, fields={})
    try:
        query = parse_query(index, _values(request))
    except ValidationFailed as exc:
        return render(request, "edge/search.html", status=exc.status, query=SearchQuery(), unavailable=False,
                      sorts=SORTS, facets=_facets(index, None, SearchQuery()), cards=[], result=None,
                      error=exc.message, fields=exc.fields)
    result, cards = run(index, query)
    pages = max(1, -(-result.total // PER_PAGE))
    return render(request, "edge/search.html", query=query, unavailable=False, sorts=SORTS,
                  facets=_facets(index, result, query), cards=[_absolute(edge, c) for c in cards],
                  result=result, pages=pages, error=None, fields={},
                  prev_url=_link(query, page=query.page - 1) if query.page > 1 else None,
                  next_url=_link(query, page=query.page + 1) if query.page < pages else None,
                  suggestions=[(s, _link(SearchQuery(s, {}, query.sort), q=s)) for s in result.suggestions])


def _facets(index: Any, result: Any, query: SearchQuery) -> list[tuple[str, str, list[tuple[str, str, int, bool]]]]:
    """(name, legend, [(value, label, count, checked)]) for each filter, counts following the query;
    values with no match are left out unless chosen."""
    entry = index.entry
    chosen = query.filters or {}
    options = {
        "category": [(c, c) for c in entry["facets"]["category"]],
        "price": [(v, label) for v, label in entry["facets"]["price"] if v in entry["price_shown"]],
        "rating": [(v, label) for v, label in entry["facets"]["rating"]],
    }
    out = []
    for name, legend in (("category", "Category"), ("price", "Price"), ("rating", "Rating")):
        rows = []
        for value, label in options[name]:
            count = result.facets[name].get(value, 0) if result else 0
            checked = value in chosen.get(name, [])
            if count or checked:
                rows.append((value, label, count, checked))
        out.append((name, legend, rows))
    return out


async def search_api(request: Request) -> Response:
    edge = edge_of(request)
    index = site_search(edge).index()
    query = parse_query(index, _values(request))
    if index is None:  # nothing built yet: nothing to find
        return JSONResponse({"available": False, "query": query.q, "words": [], "sort": query.sort,
                             "filters": query.filters, "total": 0, "page": query.page, "per_page": PER_PAGE,
                             "results": [], "facets": {}, "suggestions": []})
    result, cards = run(index, query)
    labels = {"price": dict(map(tuple, index.entry["facets"]["price"])),
              "rating": {str(r): rating_label(r) for r in (4, 3, 2, 1)}}
    return JSONResponse({
        "available": True, "query": query.q, "words": result.words, "sort": query.sort, "filters": query.filters,
        "total": result.total, "page": query.page, "per_page": PER_PAGE,
        "results": [_absolute(edge, c) for c in cards],
        "facets": {name: [{"value": v, "label": labels.get(name, {}).get(v, v), "count": n}
                          for v, n in counts.items()] for name, counts in result.facets.items()},
        "suggestions": result.suggestions,
    })


ROUTES = [
    Route("/search", search_page),
    Route("/api/products/search", search_api),
]
