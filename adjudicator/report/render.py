"""The HTML report: one self-contained file per run (from its manifest) and per diff (from its summary).

A run's report is built from ``OUT/manifest.json`` alone (its ``counts`` and the
``summary`` that the driver adds up batch by batch, ``adjudicator.engine.summary``), never from
the Parquet outputs, so it costs the same at 100M lines as at 100. A diff's
report is built from ``DIFF_OUT/summary.json`` plus ``changes.parquet`` (the
changed lines only) for the claims that moved most and the moved lines.

Charts are Vega-Lite specs (plain dicts) rendered to SVG in-process by
``vl-convert`` with no base URL allowed, inlined in the page: the file fetches
nothing, runs no script and opens offline in any browser. Every number shown is
also in a table whose rows carry the raw values as ``data-*`` attributes, so the
page can be checked by parsing it (``tests/test_report.py``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import html
import json
import os
import re
import threading
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

import polars as pl

from adjudicator.contract import (
    BILLED_AMOUNT,
    CANONICAL_COLUMNS,
    CHANGE_KIND,
    CHANGED_FIELDS,
    CLAIM_ID,
    LINE_NUMBER,
    SOURCE_FILE,
)
from adjudicator.errors import InputError
from adjudicator.publish.manifest import DIFF_CHANGES, DIFF_SUMMARY, MANIFEST, REPORT

#: one colour per determination (and the diff's two non-result states), the same in every chart
COLORS: Final = {
    "NOT_MEDICALLY_NECESSARY": "#c0392b",
    "BENEFIT_PLAN_REVIEW": "#e69f00",
    "NO_ACTION": "#9aa5b1",
    "(rejected)": "#6c5ce7",
    "(absent)": "#d5d8dc",
}
#: a bar chart shows at most this many categories (the largest by dollars); its table shows them all
CHART_CATEGORIES: Final = 20
#: the diff report lists at most this many moved lines (the largest billed first)
MOVED_LINES_SHOWN: Final = 500
MOVED_CLAIMS_SHOWN: Final = 10
#: the monthly trend draws one bar per month up to this many months, else one per year
MONTHLY_BARS: Final = 48

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#1f2933;
margin:0 auto;max-width:1100px;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:32px 0 8px;border-bottom:1px solid #d9dee3;
padding-bottom:4px}h3{font-size:14px;margin:16px 0 6px}
.sub{color:#52606d;margin:0 0 16px}
dl.counts{display:flex;flex-wrap:wrap;gap:10px;margin:12px 0}
dl.counts div{background:#f5f7fa;border:1px solid #e4e7eb;border-radius:6px;padding:8px 14px;min-width:120px}
dl.counts dt{color:#52606d;font-size:12px}dl.counts dd{margin:0;font-size:19px;font-weight:600}
table{border-collapse:collapse;margin:8px 0 12px;font-size:13px}
th,td{border-bottom:1px solid #e4e7eb;padding:3px 10px;text-align:left;vertical-align:top}
th{background:#f5f7fa;font-weight:600}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
td.code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px;word-break:break-all}
tr.bad td{background:#fdecea}.ok{color:#1e7e34}.notok{color:#c0392b;font-weight:600}
figure.chart{margin:8px 0 12px}figure.chart svg{max-width:100%;height:auto}
td.change{white-space:nowrap}figcaption{color:#52606d;font-size:12px}.note{color:#52606d;font-style:italic}
details summary{cursor:pointer;color:#3e4c59}
"""


# ------------------------------------------------------------------------------------------
# Writing
# ------------------------------------------------------------------------------------------


def _write(folder: Path, text: str) -> Path:
    """Write ``folder``/report.html through a temporary name, so a reader never sees half a file."""
    path = Path(folder) / REPORT
    tmp = path.with_name(f".{REPORT}.tmp-{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path


def write_run_report(folder: Path, manifest: dict[str, Any]) -> Path:
    """Write a run's report.html into ``folder`` from its manifest (and nothing else); returns its path."""
    # what the page shows is exactly what manifest.json holds, whether given in memory or read back
    return _write(folder, render_run_report(json.loads(json.dumps(manifest, default=str))))


def write_diff_report(folder: Path, summary: dict[str, Any]) -> Path:
    """Write a diff's report.html into ``folder`` (which holds its changes.parquet); returns its path."""
    changes = Path(folder) / DIFF_CHANGES
    scan = pl.scan_parquet(changes) if changes.is_file() else None
    return _write(folder, render_diff_report(summary, scan))


def rewrite_report(folder: Path) -> Path:
    """(Re)write report.html of an existing run folder (manifest.json) or diff folder (summary.json)."""
    folder = Path(folder)
    for name, write in ((MANIFEST, write_run_report), (DIFF_SUMMARY, write_diff_report)):
        path = folder / name
        if path.is_file():
            try:
                document = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise InputError(f"{path}: cannot be read as JSON: {exc}") from None
            if not isinstance(document, dict):
                raise InputError(f"{path}: is not an adjudicator {name}")
            return write(folder, document)
    if not folder.is_dir():
        raise InputError(f"{folder}: folder not found")
    raise InputError(f"{folder}: has neither {MANIFEST} (a run) nor {DIFF_SUMMARY} (a diff)")


# ------------------------------------------------------------------------------------------
# HTML pieces
# ------------------------------------------------------------------------------------------

#: (key in the row, header, kind: "text", "code", "int", "money", "bool", "change": "old → new" on two lines)
Column = tuple[str, str, str]


def _esc(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _money(value: Any) -> str:
    return f"${Decimal(value or 0):,.2f}"


def _cell(value: Any, kind: str) -> str:
    if kind == "int":
        return f'<td class="n">{int(value or 0):,}</td>'
    if kind == "money":
        return f'<td class="n">{_money(value)}</td>'
    if kind == "change" and value and " → " in str(value):
        old, new = str(value).split(" → ", 1)
        return f'<td class="change">{_esc(old)}<br>→ {_esc(new)}</td>'
    if kind == "bool":
        return '<td class="ok">yes</td>' if value else '<td class="notok">NO</td>'
    shown = "—" if value is None or value == "" else _esc(value)
    return f'<td class="{kind}">{shown}</td>'


def _attr(value: Any) -> str:
    """A raw value for a data-* attribute: JSON for lists and booleans, "" for null."""
    if isinstance(value, bool | list):
        return _esc(json.dumps(value))
    return _esc(value)


def table(
    table_id: str | None,
    columns: Sequence[Column],
    rows: Iterable[dict[str, Any]],
    *,
    row_class: Callable[[dict[str, Any]], str] | None = None,
    extra: str = "",
) -> str:
    """A table whose every row carries each shown value raw as ``data-<key>`` (null: the attribute is absent)."""
    head = "".join(f'<th class="{"n" if k in ("int", "money") else ""}">{_esc(h)}</th>' for _, h, k in columns)
    thead = f"<thead><tr>{head}</tr></thead>" if any(h for _, h, _ in columns) else ""
    body = []
    for row in rows:
        attrs = "".join(f' data-{key}="{_attr(row[key])}"' for key, _, _ in columns if row.get(key) is not None)
        klass = f' class="{row_class(row)}"' if row_class and row_class(row) else ""
        body.append(f"<tr{klass}{attrs}>" + "".join(_cell(row.get(k), kind) for k, _, kind in columns) + "</tr>")
    ident = f' id="{table_id}"' if table_id else ""
    return f'<table{ident} class="data"{extra}>{thead}<tbody>{"".join(body)}</tbody></table>'


def counts_block(items: Sequence[tuple[str, str, Any, str]]) -> str:
    """Headline figures: (id, label, raw value, shown text), each with its raw value in ``data-value``."""
    cells = "".join(
        f'<div><dt>{_esc(label)}</dt><dd id="{ident}" data-value="{_attr(raw)}">{_esc(shown)}</dd></div>'
        for ident, label, raw, shown in items
    )
    return f'<dl class="counts">{cells}</dl>'


def _page(title: str, subtitle: str, body: Sequence[str]) -> str:
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        # nothing may load from anywhere: the page is one file, charts inline
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
        'img-src data:">'
        f"<title>{_esc(title)}</title><style>{CSS}</style></head><body>"
        f'<h1>{_esc(title)}</h1><p class="sub">{_esc(subtitle)}</p>' + "\n".join(body) + "</body></html>\n"
    )


def _section(title: str, *parts: str) -> str:
    return f"<section><h2>{_esc(title)}</h2>{''.join(parts)}</section>"


def _note(text: str) -> str:
    return f'<p class="note">{_esc(text)}</p>'


# ------------------------------------------------------------------------------------------
# Charts: Vega-Lite specs, rendered offline to inline SVG
# ------------------------------------------------------------------------------------------

_SVG_ID = re.compile(r'\bid="([^"]+)"')
_SVG_REF = re.compile(r'(\bid="|url\(#|href="#)([^")]+)')


def warm_up() -> threading.Thread:
    """Start the chart renderer (its JavaScript engine) on a thread, so a run's report does not wait for it.

    A run calls this once its input is read: the engine's first render costs
    most of a report (0.9 s against 0.4 s after it) and overlaps the end of the
    run (closing the outputs, the summary). Started with the run instead, it
    delayed the first batch by 0.4 s and added 65 MB to a 20M-line run's peak.
    """

    def render() -> None:
        with contextlib.suppress(Exception):  # a failure shows, with its message, when the report is drawn
            import vl_convert

            vl_convert.vegalite_to_svg({"mark": "point", "data": {"values": [{}]}}, allowed_base_urls=[])

    thread = threading.Thread(target=render, name="report-warm-up", daemon=True)
    thread.start()
    return thread


def chart(name: str, caption: str, spec: dict[str, Any]) -> str:
    """A figure holding the spec rendered as SVG; ``data-chart`` names it (the browser test finds them by it)."""
    import vl_convert

    spec = {"config": {"font": "Helvetica, Arial, sans-serif", "view": {"stroke": None}}, **spec}
    svg = vl_convert.vegalite_to_svg(spec, allowed_base_urls=[])
    # several SVGs share one document, so ids (clip paths, gradients) must not collide between charts; and
    # the renderer numbers them per process, so they are renamed in order to keep the page reproducible
    renamed = {ident: f"{name}-{i}" for i, ident in enumerate(dict.fromkeys(_SVG_ID.findall(svg)))}
    svg = _SVG_REF.sub(lambda m: m.group(1) + renamed.get(m.group(2), m.group(2)), svg)
    return f'<figure class="chart" data-chart="{_esc(name)}">{svg}<figcaption>{_esc(caption)}</figcaption></figure>'


def _color(field: str, domain: Sequence[str]) -> dict[str, Any]:
    known = [d for d in domain if d in COLORS]
    others = [d for d in domain if d not in COLORS]
    palette = ["#3182bd", "#31a354", "#756bb1", "#636363", "#e6550d", "#17becf"]
    return {
        "field": field,
        "type": "nominal",
        "title": field.replace("_", " "),
        "scale": {
            "domain": [*known, *others],
            "range": [COLORS[d] for d in known] + [palette[i % len(palette)] for i in range(len(others))],
        },
        "legend": {"orient": "bottom", "columns": 3},
    }


def _top_categories(values: list[dict[str, Any]], key: str, amount: str) -> list[dict[str, Any]]:
    """The rows of the ``CHART_CATEGORIES`` categories with the largest total ``amount``."""
    totals: dict[Any, float] = {}
    for v in values:
        totals[v[key]] = totals.get(v[key], 0.0) + float(v[amount])
    keep = set(sorted(totals, key=lambda k: (-totals[k], str(k)))[:CHART_CATEGORIES])
    return [v for v in values if v[key] in keep]


def bars(
    values: list[dict[str, Any]], *, category: str, amount: str, amount_title: str, color: str | None = None
) -> dict[str, Any]:
    """Horizontal bars of ``amount`` per ``category`` (stacked by ``color``), largest first."""
    values = _top_categories(values, category, amount)
    categories = len({v[category] for v in values})
    encoding: dict[str, Any] = {
        "y": {"field": category, "type": "nominal", "sort": "-x", "title": None, "axis": {"labelLimit": 320}},
        "x": {
            "aggregate": "sum",
            "field": amount,
            "type": "quantitative",
            "title": amount_title,
            "axis": {"tickCount": 6, "format": "~s"},
        },
    }
    if color is not None:
        encoding["color"] = _color(color, sorted({v[color] for v in values}, key=_determination_order))
    return {
        "data": {"values": values},
        "mark": {"type": "bar"},
        "encoding": encoding,
        "width": 560,
        "height": {"step": 18} if categories > 1 else 24,
    }


def _determination_order(label: str) -> tuple[int, str]:
    order = list(COLORS)
    return (order.index(label), "") if label in order else (len(order), label)


def _numbers(rows: Iterable[dict[str, Any]], *amounts: str) -> list[dict[str, Any]]:
    """Rows for a chart's data: amounts as floats (the tables keep the exact decimal strings)."""
    return [{**r, **{a: float(r[a]) for a in amounts}} for r in rows]


# ------------------------------------------------------------------------------------------
# The run report
# ------------------------------------------------------------------------------------------

DETERMINATION_COLUMNS: Final[list[Column]] = [
    ("determination", "determination", "text"),
    ("lines", "lines", "int"),
    ("billed_amount", "billed", "money"),
]


def _header(manifest: dict[str, Any]) -> list[str]:
    counts = manifest["counts"]
    options = manifest.get("options") or {}
    figures = counts_block(
        [
            ("count-read", "lines read", counts["read"], f"{counts['read']:,}"),
            ("count-results", "results", counts["results"], f"{counts['results']:,}"),
            ("count-rejects", "rejects", counts["rejects"], f"{counts['rejects']:,}"),
            ("count-skipped", "skipped (outside the slice)", counts["skipped"], f"{counts['skipped']:,}"),
            ("count-reconciled", "reconciled", counts["reconciled"], "yes" if counts["reconciled"] else "NO"),
            ("count-flagged-lines", "flagged lines", counts["flagged_lines"], f"{counts['flagged_lines']:,}"),
            (
                "count-flagged-billed",
                "flagged billed",
                counts["flagged_billed_amount"],
                _money(counts["flagged_billed_amount"]),
            ),
        ]
    )
    run_rows = [
        ("run id", manifest.get("run_id")),
        ("started", manifest.get("started_at")),
        ("finished", manifest.get("finished_at")),
        ("layout", manifest.get("layout")),
        ("rules as of (--rules-as-of)", manifest.get("rules_as_of") or "latest published"),
        ("slice", json.dumps(options.get("slice")) if options.get("slice") else None),
        ("command line", " ".join(options.get("command_line") or []) or None),
        ("versions", ", ".join(f"{k} {v}" for k, v in (manifest.get("versions") or {}).items())),
    ]
    about = table(
        "run", [("field", "", "text"), ("value", "", "code")], [{"field": k, "value": v} for k, v in run_rows]
    )
    inputs = table(
        "inputs",
        [
            ("path", "input", "code"),
            ("bytes", "bytes", "int"),
            ("sha256", "sha256", "code"),
            ("read", "read", "int"),
            ("results", "results", "int"),
            ("rejects", "rejects", "int"),
            ("skipped", "skipped", "int"),
            ("reconciled", "read = results + rejects + skipped", "bool"),
        ],
        manifest.get("inputs") or [],
        row_class=lambda r: "" if r["reconciled"] else "bad",
    )
    rules = table(
        "rules",
        [("name", "rule table", "text"), ("path", "path", "code"), ("sha256", "sha256", "code")],
        [{"name": name, **entry} for name, entry in (manifest.get("rules") or {}).items()],
    )
    return [
        figures,
        _section("The run", about),
        _section("Inputs and reconciliation", inputs),
        _section("Rules and plans", rules),
    ]


def _reasons(counts: dict[str, Any]) -> str:
    rows = [{**r, "label": f"{r['reason'] or 'no policy targets the code'}"} for r in counts["by_reason"]]
    parts = [
        table(
            "by-reason",
            [
                ("determination", "determination", "text"),
                ("reason", "reason", "text"),
                ("lines", "lines", "int"),
                ("billed_amount", "billed", "money"),
            ],
            counts["by_reason"],
        ),
    ]
    if rows:
        parts.insert(
            0,
            chart(
                "by-reason",
                "Billed dollars by reason, coloured by determination",
                bars(
                    _numbers(rows, "billed_amount"),
                    category="label",
                    amount="billed_amount",
                    amount_title="billed ($)",
                    color="determination",
                ),
            ),
        )
    return _section("Determinations and reasons", *parts)


def _monthly(summary: dict[str, Any]) -> str:
    rows = summary["by_month"]
    if not rows:
        return _section("Monthly trend by date of service", _note("No results."))
    first, last = (dt.date.fromisoformat(f"{m}-01") for m in (rows[0]["month"], rows[-1]["month"]))
    months = (last.year - first.year) * 12 + last.month - first.month + 1
    # bars a few pixels wide say nothing: over more than MONTHLY_BARS months the chart sums by year
    unit, period = ("utcyearmonth", "month") if months <= MONTHLY_BARS else ("utcyear", "year")
    spec = {
        "data": {"values": _numbers(rows, "billed_amount")},
        "mark": {"type": "bar"},
        "encoding": {
            "x": {"field": "month", "type": "temporal", "timeUnit": unit, "title": f"{period} of service"},
            "y": {"aggregate": "sum", "field": "billed_amount", "type": "quantitative", "title": "billed ($)"},
            "color": _color("determination", sorted({r["determination"] for r in rows}, key=_determination_order)),
        },
        "width": 900,
        "height": 220,
    }
    return _section(
        "Monthly trend by date of service",
        chart(
            "monthly-trend",
            f"Billed dollars per {period} of service, stacked by determination"
            + ("" if period == "month" else f" (the months span {months // 12} years; the table has each month)"),
            spec,
        ),
        "<details><summary>the numbers</summary>",
        table("by-month", [("month", "month", "text"), *DETERMINATION_COLUMNS], rows),
        "</details>",
    )


def _breakdown(summary: dict[str, Any], key: str, title: str, caption: str, columns: list[Column]) -> str:
    rows = summary[key]
    if not rows:
        return _section(title, _note("No results."))
    label = columns[0][0]
    if key == "by_policy":
        rows = [
            {**r, "label": f"{r['policy_id'] or '(no policy in effect)'} {r['policy_version'] or ''}".strip()}
            for r in rows
        ]
        label = "label"
    figure = chart(
        key.replace("_", "-"),
        caption,
        bars(
            _numbers(rows, "billed_amount"),
            category=label,
            amount="billed_amount",
            amount_title="billed ($)",
            color="determination",
        ),
    )
    return _section(title, figure, table(key.replace("_", "-"), [*columns, *DETERMINATION_COLUMNS], rows))


def _edits(summary: dict[str, Any]) -> str:
    rows = summary["edits"]
    columns: list[Column] = [("edit", "edit", "text"), ("lines", "lines", "int"), ("billed_amount", "billed", "money")]
    if not rows:
        return _section("Edits", _note("No line carries an edit."), table("edits", columns, rows))
    figure = chart(
        "edits",
        "Lines carrying each edit (a line can carry both)",
        bars(_numbers(rows, "billed_amount"), category="edit", amount="lines", amount_title="lines"),
    )
    return _section("Edits", figure, table("edits", columns, rows))


def _rejects(counts: dict[str, Any], summary: dict[str, Any] | None) -> str:
    by_check = [{"check": k, "lines": v} for k, v in counts["rejects_by_check"].items()]
    columns: list[Column] = [("check", "check failed", "text"), ("lines", "lines", "int")]
    if not by_check:
        return _section("Rejects by check", _note("No line was rejected."), table("rejects-by-check", columns, []))
    parts = [
        chart(
            "rejects-by-check",
            "Rejected lines by check failed (a line can fail several)",
            bars(by_check, category="check", amount="lines", amount_title="lines"),
        ),
        table("rejects-by-check", columns, by_check),
    ]
    if summary is not None:
        example_columns: list[Column] = [(c, c, "code") for c in (*CANONICAL_COLUMNS, SOURCE_FILE)]
        for check, examples in summary["reject_examples"].items():
            parts.append(f"<h3>{_esc(check)}: the first {len(examples)} as read</h3>")
            parts.append(table(None, example_columns, examples, extra=f' data-check="{_esc(check)}"'))
    return _section("Rejects by check", *parts)


def _top_claims(summary: dict[str, Any]) -> str:
    rows = summary["top_claims"]
    columns: list[Column] = [
        ("claim_id", "claim", "text"),
        ("flagged_lines", "flagged lines", "int"),
        ("flagged_billed_amount", "flagged billed", "money"),
    ]
    if not rows:
        return _section(
            "Top claims by flagged dollars", _note("No line was flagged."), table("top-claims", columns, rows)
        )
    figure = chart(
        "top-claims",
        "Claims with the most billed on flagged lines (not NO_ACTION)",
        bars(
            _numbers(rows, "flagged_billed_amount"),
            category="claim_id",
            amount="flagged_billed_amount",
            amount_title="flagged billed ($)",
        ),
    )
    return _section("Top claims by flagged dollars", figure, table("top-claims", columns, rows))


def render_run_report(manifest: dict[str, Any]) -> str:
    """The run report's HTML from a manifest (pure: the same manifest gives the same bytes)."""
    counts = manifest["counts"]
    summary = manifest.get("summary")
    body = [*_header(manifest), _reasons(counts)]
    if summary is None:
        body.append(
            _note(
                "This manifest was written before runs kept a summary for the report: the monthly trend, "
                "payers, policy versions, edits, reject examples and top claims need the run to be done "
                "again with this version."
            )
        )
    else:
        body += [
            _monthly(summary),
            _breakdown(
                summary,
                "by_payer",
                "By payer",
                "Billed dollars by payer, coloured by determination",
                [("payer_id", "payer", "text")],
            ),
            _breakdown(
                summary,
                "by_policy",
                "By policy version in effect",
                "Billed dollars by policy and version in effect on the date of service",
                [("policy_id", "policy", "text"), ("policy_version", "version", "text")],
            ),
            _edits(summary),
        ]
    body.append(_rejects(counts, summary))
    if summary is not None:
        body.append(_top_claims(summary))
    subtitle = (
        f"{manifest.get('finished_at') or ''}  ·  layout {manifest.get('layout')}  ·  "
        f"{len(manifest.get('inputs') or [])} input file(s)"
    )
    return _page(f"Adjudication run {manifest.get('run_id')}", subtitle, body)


# ------------------------------------------------------------------------------------------
# The diff report
# ------------------------------------------------------------------------------------------


def _moved_claims(changes: pl.LazyFrame) -> list[dict[str, Any]]:
    """The claims with the most billed on changed lines (ties: more lines, then claim id)."""
    frame = (
        changes.group_by(CLAIM_ID)
        .agg(pl.len().alias("moved_lines"), pl.col(BILLED_AMOUNT).sum().alias("moved_billed_amount"))
        .sort(["moved_billed_amount", "moved_lines", CLAIM_ID], descending=[True, True, False], nulls_last=True)
        .head(MOVED_CLAIMS_SHOWN)
        .collect()
    )
    return [
        {**r, "moved_billed_amount": f"{Decimal(r['moved_billed_amount'] or 0):.2f}"}
        for r in frame.iter_rows(named=True)
    ]


#: what the moved-lines table shows of each side (shown column -> the compared fields it joins)
_MOVED_SHOWN: Final = {
    "determination": ("determination",),
    "reason": ("reason",),
    "policy": ("policy_id", "policy_version"),
    "policy_end_date": ("policy_end_date",),
}


def _moved_lines(changes: pl.LazyFrame) -> tuple[list[dict[str, Any]], int]:
    """Up to ``MOVED_LINES_SHOWN`` changed lines, the largest billed first, and how many there are."""
    present = changes.collect_schema().names()
    fields = [f for joined in _MOVED_SHOWN.values() for f in joined if f"old_{f}" in present]
    frame = (
        changes.select(
            CLAIM_ID,
            LINE_NUMBER,
            CHANGE_KIND,
            BILLED_AMOUNT,
            pl.col(CHANGED_FIELDS).list.join(", ").alias(CHANGED_FIELDS),
            *(pl.col(f"{side}_{f}").cast(pl.String) for f in fields for side in ("old", "new")),
            pl.len().alias("_total"),
        )
        .sort([BILLED_AMOUNT, CLAIM_ID, LINE_NUMBER], descending=[True, False, False], nulls_last=True)
        .head(MOVED_LINES_SHOWN)
        .collect()
    )
    total = int(frame["_total"][0]) if frame.height else 0
    rows = []
    for r in frame.drop("_total").iter_rows(named=True):
        row = {k: v for k, v in r.items() if not k.startswith(("old_", "new_"))}
        row[BILLED_AMOUNT] = None if r[BILLED_AMOUNT] is None else f"{r[BILLED_AMOUNT]:.2f}"
        for shown, joined in _MOVED_SHOWN.items():
            old, new = (
                " ".join(r[f"{side}_{f}"] or "" for f in joined if f in fields).strip() or "—"
                for side in ("old", "new")
            )
            row[shown] = old if old == new else f"{old} → {new}"
        rows.append(row)
    return rows, total


def _matrix_grid(cells: list[dict[str, Any]], what: str, table_id: str) -> str:
    """The old (rows) x new (columns) matrix of ``what``; each cell carries its labels and raw value."""
    olds = sorted({c["old_determination"] for c in cells}, key=_determination_order)
    news = sorted({c["new_determination"] for c in cells}, key=_determination_order)
    value = {(c["old_determination"], c["new_determination"]): c[what] for c in cells}
    show = (lambda v: f"{int(v):,}") if what == "lines" else _money
    head = "<th>old \\ new</th>" + "".join(f'<th class="n">{_esc(n)}</th>' for n in news)
    body = []
    for o in olds:
        tds = []
        for n in news:
            if (o, n) in value:
                attrs = f' data-old="{_esc(o)}" data-new="{_esc(n)}" data-{what}="{_esc(value[(o, n)])}"'
                tds.append(f'<td class="n"{attrs}>{show(value[(o, n)])}</td>')
            else:
                tds.append('<td class="n">·</td>')
        body.append(f"<tr><th>{_esc(o)}</th>{''.join(tds)}</tr>")
    return (
        f'<table id="{table_id}" class="data matrix"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def render_diff_report(summary: dict[str, Any], changes: pl.LazyFrame | None) -> str:
    """The diff report's HTML from the diff's summary and its changed lines (None: not available)."""
    totals, old, new = summary["totals"], summary["old"], summary["new"]
    figures = counts_block(
        [
            ("count-compared", "lines compared", totals["lines_compared"], f"{totals['lines_compared']:,}"),
            ("count-changed", "changed", totals["changed"], f"{totals['changed']:,}"),
            ("count-unchanged", "unchanged", totals["unchanged"], f"{totals['unchanged']:,}"),
        ]
    )
    runs = table(
        "runs",
        [("side", "", "text"), ("path", "output folder", "code"), ("run_id", "run id", "code")],
        [{"side": "old", **old}, {"side": "new", **new}],
    )
    kinds = table(
        "change-kinds",
        [("change_kind", "change", "text"), ("lines", "lines", "int")],
        [{"change_kind": k, "lines": v} for k, v in summary["by_change_kind"].items()],
    )
    fields = table(
        "changed-fields",
        [("field", "field changed", "text"), ("lines", "lines", "int")],
        [{"field": k, "lines": v} for k, v in summary["changed_fields"].items() if v],
    )
    body = [figures, _section("The runs compared", runs, kinds, fields)]

    cells = summary["matrix"]
    matrix_parts = [_matrix_grid(cells, "lines", "matrix-lines"), _matrix_grid(cells, "billed_amount", "matrix-billed")]
    if cells:
        heat = {
            "data": {"values": _numbers(cells, "billed_amount")},
            "encoding": {
                "x": {
                    "field": "new_determination",
                    "type": "nominal",
                    "title": "new",
                    "sort": list(COLORS),
                    "axis": {"labelAngle": 0, "labelLimit": 200},
                },
                "y": {"field": "old_determination", "type": "nominal", "title": "old", "sort": list(COLORS)},
            },
            "layer": [
                {
                    "mark": "rect",
                    "encoding": {
                        "color": {"field": "lines", "type": "quantitative", "scale": {"type": "log", "scheme": "blues"}}
                    },
                },
                {"mark": {"type": "text", "fontSize": 12}, "encoding": {"text": {"field": "lines", "format": ","}}},
            ],
            "width": {"step": 150},
            "height": {"step": 34},
        }
        matrix_parts.insert(
            0, chart("matrix", "Lines by old determination (rows) and new (columns); off the diagonal they moved", heat)
        )
    body.append(_section("Old x new determination: lines and billed dollars", *matrix_parts))

    reasons = [
        {**r, "label": f"{r['old_reason'] or '—'} → {r['new_reason'] or '—'}"} for r in summary["top_reason_changes"]
    ]
    reason_parts = [
        table(
            "reason-changes",
            [
                ("old_reason", "old reason", "text"),
                ("new_reason", "new reason", "text"),
                ("lines", "lines", "int"),
                ("billed_amount", "billed", "money"),
            ],
            reasons,
        )
    ]
    if reasons:
        reason_parts.insert(
            0,
            chart(
                "reason-changes",
                "Changed lines by old reason → new reason",
                bars(reasons, category="label", amount="lines", amount_title="lines"),
            ),
        )
    body.append(_section("Top reason changes", *reason_parts))

    if changes is None:
        body.append(_note(f"{DIFF_CHANGES} is not beside the summary: the claims and lines that moved are not shown."))
    else:
        claims = _moved_claims(changes)
        claim_parts = [
            table(
                "moved-claims",
                [
                    ("claim_id", "claim", "text"),
                    ("moved_lines", "changed lines", "int"),
                    ("moved_billed_amount", "billed on them", "money"),
                ],
                claims,
            )
        ]
        if claims:
            claim_parts.insert(
                0,
                chart(
                    "moved-claims",
                    "Claims with the most billed on changed lines",
                    bars(
                        _numbers(claims, "moved_billed_amount"),
                        category="claim_id",
                        amount="moved_billed_amount",
                        amount_title="billed on changed lines ($)",
                    ),
                ),
            )
        body.append(_section("Claims that moved most", *claim_parts))
        lines, total = _moved_lines(changes)
        shown = (
            f"All {total:,} changed lines"
            if total <= len(lines)
            else f"The {len(lines):,} changed lines with the most billed, of {total:,} (all are in {DIFF_CHANGES})"
        )
        columns: list[Column] = [
            (CLAIM_ID, "claim", "text"),
            (LINE_NUMBER, "line", "int"),
            (CHANGE_KIND, "change", "text"),
            (BILLED_AMOUNT, "billed", "money"),
            *((f, f"{f.replace('_', ' ')} old → new", "change") for f in _MOVED_SHOWN),
            (CHANGED_FIELDS, "fields changed", "text"),
        ]
        body.append(
            _section(
                "Moved lines", _note(shown + "."), table("moved-lines", columns, lines, extra=f' data-total="{total}"')
            )
        )
    subtitle = f"{old['path']} → {new['path']}"
    return _page("What changed between two runs", subtitle, body)


__all__ = [
    "render_diff_report",
    "render_run_report",
    "rewrite_report",
    "write_diff_report",
    "write_run_report",
]
