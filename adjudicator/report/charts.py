"""The report's charts: Vega-Lite specs (plain dicts) and their colours; a child process renders them to SVG with
``vl-convert`` (``adjudicator.report.draw``).

The renderer runs with no base URL allowed and the SVG is inlined in the page:
the file fetches nothing, runs no script and opens offline in any browser.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any, Final

from adjudicator.contract import ABSENT_LABEL, DETERMINATIONS, REJECTED_LABEL
from adjudicator.report.chart_text import safe_spec
from adjudicator.report.draw import chart_slot
from adjudicator.report.labels import label

#: every label a chart colours, in the order charts list them: the determinations, then the diff's two
#: non-result states
LABEL_ORDER: Final = (*DETERMINATIONS, REJECTED_LABEL, ABSENT_LABEL)
#: one colour per label of ``LABEL_ORDER``, the same in every chart
COLORS: Final = dict(zip(LABEL_ORDER, ("#c0392b", "#e69f00", "#9aa5b1", "#6c5ce7", "#d5d8dc"), strict=True))
#: a bar chart shows at most this many categories (the largest by dollars); its table shows them all
CHART_CATEGORIES: Final = 20

#: a dollar axis' labels: $20k, $1.2M, $3.4B (d3's SI prefix for a billion is G, which reads as giga)
DOLLAR_AXIS: Final = {"format": "$.2s", "labelExpr": "datum.value == 0 ? '$0' : replace(datum.label, 'G', 'B')"}


def chart(name: str, caption: str, spec: dict[str, Any]) -> str:
    """A figure for the spec, drawn as SVG when the page is finished (``adjudicator.report.draw``); the spec's
    text made safe for the renderer first (``chart_text.safe_spec``). ``data-chart`` names the figure (the
    browser test finds them by it)."""
    spec = {"config": {"font": "Helvetica, Arial, sans-serif", "view": {"stroke": None}}, **spec}
    return chart_slot(name, caption, safe_spec(spec))


def _color(field: str, domain: Sequence[str], *, labels: bool = False) -> dict[str, Any]:
    """A nominal colour encoding (``COLORS`` for known labels); ``labels``: the legend shows plain-language labels."""
    known = [d for d in domain if d in COLORS]
    others = [d for d in domain if d not in COLORS]
    palette = ["#3182bd", "#31a354", "#756bb1", "#636363", "#e6550d", "#17becf"]
    legend: dict[str, Any] = {"orient": "bottom", "columns": 3}
    if labels:
        # a Vega expression: an object literal looked up by the code, the code itself when it has no label
        names = json.dumps({d: label(d) for d in domain if label(d) != d})
        legend["labelExpr"] = f"({names})[datum.label] || datum.label"
    return {
        "field": field,
        "type": "nominal",
        "title": field.replace("_", " "),
        "scale": {
            "domain": [*known, *others],
            "range": [COLORS[d] for d in known] + [palette[i % len(palette)] for i in range(len(others))],
        },
        "legend": legend,
    }


def _top_categories(values: list[dict[str, Any]], key: str, amount: str) -> list[dict[str, Any]]:
    """The rows of the ``CHART_CATEGORIES`` categories with the largest total ``amount``."""
    totals: dict[Any, float] = {}
    for v in values:
        totals[v[key]] = totals.get(v[key], 0.0) + float(v[amount])
    keep = set(sorted(totals, key=lambda k: (-totals[k], str(k)))[:CHART_CATEGORIES])
    return [v for v in values if v[key] in keep]


def bars(
    values: list[dict[str, Any]],
    *,
    category: str,
    amount: str,
    amount_title: str,
    color: str | None = None,
    dollars: bool | None = None,
    color_labels: bool = False,
) -> dict[str, Any]:
    """Horizontal bars of ``amount`` per ``category`` (stacked by ``color``), largest first.

    ``dollars``: the axis reads $1.2M (``DOLLAR_AXIS``; by default when ``amount_title`` names dollars, "$");
    ``color_labels``: the legend shows the plain-language labels of the colours' codes.
    """
    money = ("$" in amount_title) if dollars is None else dollars
    values = _top_categories(values, category, amount)
    categories = len({v[category] for v in values})
    encoding: dict[str, Any] = {
        "y": {"field": category, "type": "nominal", "sort": "-x", "title": None, "axis": {"labelLimit": 420}},
        "x": {
            "aggregate": "sum",
            "field": amount,
            "type": "quantitative",
            "title": amount_title,
            "axis": {"tickCount": 6, **(DOLLAR_AXIS if money else {"format": "~s"})},
        },
    }
    if color is not None:
        domain = sorted({v[color] for v in values}, key=_determination_order)
        encoding["color"] = _color(color, domain, labels=color_labels)
    return {
        "data": {"values": values},
        "mark": {"type": "bar"},
        "encoding": encoding,
        "width": 560,
        "height": {"step": 18} if categories > 1 else 24,
    }


def _determination_order(label: str) -> tuple[int, str]:
    """Legend order: ``LABEL_ORDER``, then any other label by name."""
    return (LABEL_ORDER.index(label), "") if label in LABEL_ORDER else (len(LABEL_ORDER), label)


def _numbers(rows: Iterable[dict[str, Any]], *amounts: str) -> list[dict[str, Any]]:
    """Rows for a chart's data: amounts as floats (the tables keep the exact decimal strings)."""
    return [{**r, **{a: float(r[a]) for a in amounts}} for r in rows]


__all__ = ["CHART_CATEGORIES", "COLORS", "DOLLAR_AXIS", "LABEL_ORDER", "bars", "chart"]
