"""Charts drawn on the server as SVG (pygal), shown without JavaScript.

Each chart is drawn twice, wide (1366 px screens) and narrow (390 px phones), and the page picks
one with `<picture>` and a media query, so its text stays legible at both sizes instead of a
wide drawing shrunk to a phone. The SVG travels inline as a `data:` image: an image runs no
script and takes no style from the page, so the page's strict CSP (no inline styles) holds,
and no second request is needed. Every chart is followed by a table of the same figures for
screen readers (`edge/_charts.html`), and its alt text says so.

Money is drawn from integer minor units and labelled with `format_money`: no float ever
stands for an amount.
"""

from __future__ import annotations

import base64
import sys
from dataclasses import dataclass
from typing import Callable

import pygal
from pygal.style import Style

# pygal appends a finder for its map plug-ins to sys.meta_path with only the legacy
# find_module(): every later failed import (an optional dependency probing) then warns
# "find_spec() not found". The edge draws no maps, so the finder goes.
sys.meta_path[:] = [f for f in sys.meta_path if type(f).__module__ != "pygal" or type(f).__name__ != "PluginImportFixer"]

from digitaldock.money import format_money

STYLE = Style(background="#ffffff", plot_background="#ffffff", foreground="#1c2321", foreground_strong="#1c2321",
              foreground_subtle="#8a938f", colors=("#0f5c4d", "#d9822b", "#1d4ed8", "#a23b72", "#56615d"),
              font_family="system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", label_font_size=12,
              major_label_font_size=12, legend_font_size=13, value_font_size=12, title_font_size=15,
              tooltip_font_size=12)
SIZES = {"wide": (960, 340, 10), "narrow": (420, 320, 4)}  # width, height, x labels shown


@dataclass
class Chart:
    title: str
    wide: str
    narrow: str
    alt: str
    width: int = SIZES["wide"][0]
    height: int = SIZES["wide"][1]


def _uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def _draw(kind: str, size: str, labels: list[str], series: list[tuple[str, list[int]]],
          formatter: Callable[[float], str]) -> str:
    width, height, shown = SIZES[size]
    cls = pygal.Bar if kind == "bar" else pygal.Line
    chart = cls(width=width, height=height, style=STYLE, js=[], explicit_size=False, disable_xml_declaration=True,
                legend_at_bottom=True, legend_at_bottom_columns=min(len(series), 3 if size == "narrow" else 5),
                show_minor_x_labels=False, x_labels_major_count=min(shown, len(labels)) or None,
                show_minor_y_labels=False, y_labels_major_count=6 if size == "narrow" else 8,
                truncate_label=-1, x_label_rotation=0, show_dots=len(labels) <= 45, dots_size=2.5,
                value_formatter=formatter, print_values=False, margin=12, spacing=10, include_x_axis=True,
                show_y_guides=True, show_x_guides=False, no_data_text="No data in this range")
    chart.x_labels = labels
    for name, values in series:
        chart.add(name, values)
    return chart.render(is_unicode=True)


def chart(title: str, labels: list[str], series: list[tuple[str, list[int]]], *, currency: str | None = None,
          unit: str = "", kind: str = "line") -> Chart:
    """A chart of `series` (name, one value per label); `currency` labels values as money
    (minor units), `unit` as a plain number with its unit ("ms", "req/s")."""
    if currency:
        def formatter(v: float) -> str:
            return format_money(int(round(v)), currency)
    else:
        def formatter(v: float) -> str:
            text = f"{v:,.0f}" if abs(v) >= 100 or float(v).is_integer() else f"{v:,.2f}"
            return f"{text} {unit}".strip()
    names = " and ".join(n for n, _ in series)
    alt = f"{title}: {names} by {'period' if labels else 'nothing'}; the same figures are in the table after the chart."
    return Chart(title, _uri(_draw(kind, "wide", labels, series, formatter)),
                 _uri(_draw(kind, "narrow", _short(labels), series, formatter)), alt)


def _short(labels: list[str]) -> list[str]:
    """Axis labels for the narrow chart: a day as "11-05", a month as "2026-11"."""
    return [label[5:] if len(label) == 10 and label[4] == "-" else label for label in labels]
