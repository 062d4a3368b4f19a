"""The diff's report: one self-contained HTML file per diff, from its summary and its changed lines.

Built from ``DIFF_OUT/summary.json`` plus ``changes.parquet`` (the changed
lines only) for the claims that moved most and the moved lines.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any, Final

import polars as pl

from adjudicator.contract import BILLED_AMOUNT, CHANGE_KIND, CHANGED_FIELDS, CLAIM_ID, LINE_NUMBER
from adjudicator.publish.manifest import DIFF_CHANGES
from adjudicator.report.charts import COLORS, _determination_order, _numbers, bars, chart
from adjudicator.report.html import Column, _esc, _money, _note, _page, _section, _write, counts_block, table

#: the diff report lists at most this many moved lines (the largest billed first)
MOVED_LINES_SHOWN: Final = 500
MOVED_CLAIMS_SHOWN: Final = 10


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


def _runs_compared(summary: dict[str, Any]) -> str:
    old, new = summary["old"], summary["new"]
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
    return _section("The runs compared", runs, kinds, fields)


def _headline(totals: dict[str, Any]) -> str:
    return counts_block(
        [
            ("count-compared", "lines compared", totals["lines_compared"], f"{totals['lines_compared']:,}"),
            ("count-changed", "changed", totals["changed"], f"{totals['changed']:,}"),
            ("count-unchanged", "unchanged", totals["unchanged"], f"{totals['unchanged']:,}"),
        ]
    )


def _heat_map(cells: list[dict[str, Any]]) -> dict[str, Any]:
    """The matrix's lines as a heat map, old determination down and new across."""
    return {
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


def _matrix(cells: list[dict[str, Any]]) -> str:
    matrix_parts = [_matrix_grid(cells, "lines", "matrix-lines"), _matrix_grid(cells, "billed_amount", "matrix-billed")]
    if cells:
        matrix_parts.insert(
            0,
            chart(
                "matrix",
                "Lines by old determination (rows) and new (columns); off the diagonal they moved",
                _heat_map(cells),
            ),
        )
    return _section("Old x new determination: lines and billed dollars", *matrix_parts)


def _reason_changes(summary: dict[str, Any]) -> str:
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
    return _section("Top reason changes", *reason_parts)


def _claims_moved(changes: pl.LazyFrame) -> str:
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
    return _section("Claims that moved most", *claim_parts)


def _lines_moved(changes: pl.LazyFrame) -> str:
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
    return _section(
        "Moved lines", _note(shown + "."), table("moved-lines", columns, lines, extra=f' data-total="{total}"')
    )


def render_diff_report(summary: dict[str, Any], changes: pl.LazyFrame | None) -> str:
    """The diff report's HTML from the diff's summary and its changed lines (None: not available)."""
    body = [
        _headline(summary["totals"]),
        _runs_compared(summary),
        _matrix(summary["matrix"]),
        _reason_changes(summary),
    ]
    if changes is None:
        body.append(_note(f"{DIFF_CHANGES} is not beside the summary: the claims and lines that moved are not shown."))
    else:
        body += [_claims_moved(changes), _lines_moved(changes)]
    subtitle = f"{summary['old']['path']} → {summary['new']['path']}"
    return _page("What changed between two runs", subtitle, body)


def write_diff_report(folder: Path, summary: dict[str, Any]) -> Path:
    """Write a diff's report.html into ``folder`` (which holds its changes.parquet); returns its path."""
    changes = Path(folder) / DIFF_CHANGES
    scan = pl.scan_parquet(changes) if changes.is_file() else None
    return _write(folder, render_diff_report(summary, scan))


__all__ = ["MOVED_CLAIMS_SHOWN", "MOVED_LINES_SHOWN", "render_diff_report", "write_diff_report"]
