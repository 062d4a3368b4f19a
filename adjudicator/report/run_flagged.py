"""The run report's flagged-only views: the trend by date of service, payers and policies, on flagged lines alone.

A flagged line is one whose determination is not NO_ACTION. At scale NO_ACTION
holds most of the dollars (96% at 20M lines), so a chart of every line shows
solid NO_ACTION with a sliver of what needs work: these charts filter the
manifest's summary rows to flagged determinations first. Each section's table
has the chart's numbers with every key's flagged share, and the summary's rows
of every determination, NO_ACTION included, under "all determinations".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any, Final

from adjudicator.contract import NO_ACTION
from adjudicator.report.charts import DOLLAR_AXIS, _color, _determination_order, _numbers, bars, chart
from adjudicator.report.html import Column, _note, _section, table

#: the trend draws one bar per month up to this many months of service, else one per year
MONTHLY_BARS: Final = 48

DETERMINATION_COLUMNS: Final[list[Column]] = [
    ("determination", "determination", "label"),
    ("lines", "lines", "int"),
    ("billed_amount", "billed", "money"),
]
#: a flagged view's table: per key, its flagged lines and dollars against all of its lines and dollars
FLAGGED_COLUMNS: Final[list[Column]] = [
    ("flagged_lines", "flagged lines", "int"),
    ("flagged_billed_amount", "flagged billed", "money"),
    ("lines", "all lines", "int"),
    ("billed_amount", "all billed", "money"),
    ("flagged_share", "flagged share of billed", "percent"),
]

#: (section id, table-of-contents title) of each flagged view, in page order
TREND, PAYERS, POLICIES = "trend", "payers", "policies"


def flagged(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The summary rows of flagged lines (determination not NO_ACTION)."""
    return [r for r in rows if r["determination"] != NO_ACTION]


def share(part: Decimal, whole: Decimal) -> str | None:
    """``part / whole`` as a decimal string of six places; None when ``whole`` is zero."""
    return str((part / whole).quantize(Decimal("0.000001"))) if whole else None


def _all_rows(table_id: str, columns: list[Column], rows: list[dict[str, Any]]) -> str:
    return (
        "<details><summary>all determinations, NO_ACTION included (the summary's rows)</summary>"
        + table(table_id, [*columns, *DETERMINATION_COLUMNS], rows)
        + "</details>"
    )


def _pivot(rows: list[dict[str, Any]], keys: Sequence[str]) -> list[dict[str, Any]]:
    """Per key: flagged lines and dollars, all lines and dollars, the flagged share; most flagged dollars first."""
    out: dict[tuple[Any, ...], dict[str, Any]] = {}
    for r in rows:
        key = tuple(r[k] for k in keys)
        row = out.setdefault(
            key,
            {
                **dict(zip(keys, key, strict=True)),
                "flagged_lines": 0,
                "flagged_billed_amount": Decimal("0.00"),
                "lines": 0,
                "billed_amount": Decimal("0.00"),
            },
        )
        amount = Decimal(r["billed_amount"])
        row["lines"] += r["lines"]
        row["billed_amount"] += amount
        if r["determination"] != NO_ACTION:
            row["flagged_lines"] += r["lines"]
            row["flagged_billed_amount"] += amount
    ranked = sorted(out.values(), key=lambda r: (-r["flagged_billed_amount"], -r["lines"], str(tuple(r.values()))))
    return [
        {
            **r,
            "flagged_billed_amount": str(r["flagged_billed_amount"]),
            "billed_amount": str(r["billed_amount"]),
            "flagged_share": share(r["flagged_billed_amount"], r["billed_amount"]),
        }
        for r in ranked
    ]


def trend_periods(months: Sequence[str]) -> tuple[str, list[str]]:
    """The trend's grain ("month" or "year") for months of service ``YYYY-MM``, and every period from the first
    to the last, none missing and none past the data (the chart's x axis)."""
    if not months:
        return "month", []
    first, last = (dt.date.fromisoformat(f"{m}-01") for m in (min(months), max(months)))
    span = (last.year - first.year) * 12 + last.month - first.month + 1
    # bars a few pixels wide say nothing: over more than MONTHLY_BARS months the chart sums by year
    if span > MONTHLY_BARS:
        return "year", [str(y) for y in range(first.year, last.year + 1)]
    index = [first.year * 12 + first.month - 1 + i for i in range(span)]
    return "month", [f"{m // 12}-{m % 12 + 1:02d}" for m in index]


def trend_spec(by_month: Sequence[dict[str, Any]]) -> tuple[str, list[dict[str, Any]], dict[str, Any]]:
    """The flagged trend: its grain, its rows (period, determination, lines, billed: flagged lines only, summed to
    the grain) and its Vega-Lite spec, whose x axis runs over the run's periods of service and no further."""
    grain, periods = trend_periods([r["month"] for r in by_month])
    sums: dict[tuple[str, str], list[Any]] = {}
    for r in flagged(by_month):
        period = r["month"][:4] if grain == "year" else r["month"]
        entry = sums.setdefault((period, r["determination"]), [0, Decimal("0.00")])
        entry[0] += r["lines"]
        entry[1] += Decimal(r["billed_amount"])
    rows = [
        {"period": p, "determination": d, "lines": n, "billed_amount": str(b)}
        for (p, d), (n, b) in sorted(sums.items(), key=lambda kv: (kv[0][0], _determination_order(kv[0][1])))
    ]
    many = len(periods) > 24
    spec = {
        "data": {"values": _numbers(rows, "billed_amount")},
        "mark": {"type": "bar"},
        "encoding": {
            "x": {
                "field": "period",
                "type": "ordinal",
                "title": f"{grain} of service",
                "scale": {"domain": periods},
                "axis": {"labelAngle": -90 if many else 0, "labelOverlap": "greedy"},
            },
            "y": {
                "aggregate": "sum",
                "field": "billed_amount",
                "type": "quantitative",
                "title": "flagged billed",
                "axis": DOLLAR_AXIS,
            },
            "color": _color(
                "determination", sorted({r["determination"] for r in rows}, key=_determination_order), labels=True
            ),
        },
        "width": 900,
        "height": 220,
    }
    return grain, rows, spec


def trend_section(summary: dict[str, Any]) -> tuple[str, str]:
    """(table-of-contents title, the section): flagged dollars by month (or year) of service."""
    all_rows = summary["by_month"]
    grain, rows, spec = trend_spec(all_rows)
    title = f"Flagged dollars by {grain} of service"
    full = _all_rows("by-month", [("month", "month", "text")], all_rows)
    if not all_rows:
        return f"Trend by {grain}", _section(title, _note("No results."), full, ident=TREND)
    if not rows:
        return f"Trend by {grain}", _section(title, _note("No line was flagged."), full, ident=TREND)
    _, periods = trend_periods([r["month"] for r in all_rows])
    caption = f"Billed dollars on flagged lines per {grain} of service, stacked by determination"
    if grain == "year":
        caption += f' (the months span {len(periods)} years; each month is under "all determinations")'
    figure = chart("flagged-trend", caption, spec)
    columns: list[Column] = [("period", grain, "text"), *DETERMINATION_COLUMNS]
    numbers = "<details><summary>the numbers</summary>" + table("flagged-trend", columns, rows) + "</details>"
    return f"Trend by {grain}", _section(title, figure, numbers, full, ident=TREND)


def breakdown_section(
    summary: dict[str, Any],
    *,
    key: str,
    ident: str,
    title: str,
    columns: list[Column],
    category: Callable[[dict[str, Any]], str],
) -> str:
    """A flagged view of ``summary[key]``: bars of flagged dollars per ``category`` (stacked by determination),
    the per-key table of flagged against all, and every row under "all determinations"."""
    all_rows = summary[key]
    name = "flagged-" + key.replace("_", "-")
    full = _all_rows(key.replace("_", "-"), columns, all_rows)
    if not all_rows:
        return _section(title, _note("No results."), full, ident=ident)
    rows = flagged(all_rows)
    parts = []
    if rows:
        values = [{**r, "category": category(r)} for r in _numbers(rows, "billed_amount")]
        spec = bars(
            values,
            category="category",
            amount="billed_amount",
            amount_title="flagged billed ($)",
            color="determination",
            color_labels=True,
        )
        parts.append(chart(name, f"{title}: billed dollars on flagged lines, stacked by determination", spec))
    else:
        parts.append(_note("No line was flagged."))
    pivot = _pivot(all_rows, [c[0] for c in columns])
    parts.append(table(name, [*columns, *FLAGGED_COLUMNS], pivot))
    return _section(title, *parts, full, ident=ident)


def payers_section(summary: dict[str, Any]) -> str:
    return breakdown_section(
        summary,
        key="by_payer",
        ident=PAYERS,
        title="Flagged dollars by payer",
        columns=[("payer_id", "payer", "text")],
        category=lambda r: str(r["payer_id"]),
    )


def policies_section(summary: dict[str, Any]) -> str:
    return breakdown_section(
        summary,
        key="by_policy",
        ident=POLICIES,
        title="Flagged dollars by policy version in effect",
        columns=[("policy_id", "policy", "text"), ("policy_version", "version", "text")],
        category=lambda r: f"{r['policy_id'] or '(no policy in effect)'} {r['policy_version'] or ''}".strip(),
    )


__all__ = [
    "DETERMINATION_COLUMNS",
    "FLAGGED_COLUMNS",
    "MONTHLY_BARS",
    "breakdown_section",
    "flagged",
    "payers_section",
    "policies_section",
    "share",
    "trend_periods",
    "trend_section",
    "trend_spec",
]
