"""The diff's report: one self-contained HTML file per diff, from its summary and its changed lines.

Built from ``DIFF_OUT/summary.json`` plus ``changes.parquet`` (the changed
lines only, ``adjudicator.report.diff_lines``) for the claims that moved most
and the moved lines. It leads with what moved: the headline splits verdict
changes from policy-metadata-only ones and explains the lines compared, then
the rule tables that differ, the determination matrix with the moved cells
highlighted, net dollars by determination, the reasons that changed, and the
lines; the runs compared come last.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any, Final

import polars as pl

from adjudicator.publish.manifest import DIFF_CHANGES
from adjudicator.report.charts import COLORS, _determination_order, _numbers, bars, chart
from adjudicator.report.diff_lines import claims_moved, lines_moved
from adjudicator.report.draw import draw_charts
from adjudicator.report.html import _esc, _money, _note, _page, _section, _write, counts_block, table

#: a matrix cell off the diagonal (a line whose determination moved) and one on it (unchanged): the moved
#: cells are what a reader looks for, so they are the ones drawn strong
MOVED_CELL: Final = "moved"
SAME_CELL: Final = "same"
_CELL_STYLE: Final = {MOVED_CELL: "background:#fde2c8;font-weight:600", SAME_CELL: "color:#9aa5b1"}


def _matrix_grid(cells: list[dict[str, Any]], what: str, table_id: str) -> str:
    """The old (rows) x new (columns) matrix of ``what``; each cell carries its labels and raw value, and its
    class says whether it moved (off the diagonal, highlighted) or not (the diagonal, de-emphasised)."""
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
                kind = SAME_CELL if o == n else MOVED_CELL
                attrs = f' data-old="{_esc(o)}" data-new="{_esc(n)}" data-{what}="{_esc(value[(o, n)])}"'
                tds.append(f'<td class="n {kind}" style="{_CELL_STYLE[kind]}"{attrs}>{show(value[(o, n)])}</td>')
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
    classes = table(
        "change-classes",
        [("class", "changed lines", "text"), ("lines", "lines", "int"), ("billed_amount", "billed", "money")],
        [{"class": k, **v} for k, v in (summary.get("by_change_class") or {}).items()],
    )
    return _section("The runs compared", runs, kinds, classes, fields)


def _count(figure: dict[str, Any] | None) -> tuple[int, str]:
    """A change class's (lines, billed) from the summary; zeros when the summary predates it."""
    figure = figure or {}
    return int(figure.get("lines", 0)), str(figure.get("billed_amount", "0.00"))


def _headline(summary: dict[str, Any]) -> str:
    """The headline figures (lines compared, changed; verdict changed and metadata only, each with its billed
    dollars; unchanged), then one sentence that explains the lines compared."""
    totals = summary["totals"]
    classes = summary.get("by_change_class") or {}
    items = [
        ("count-compared", "lines compared", totals["lines_compared"], f"{totals['lines_compared']:,}"),
        ("count-changed", "changed", totals["changed"], f"{totals['changed']:,}"),
    ]
    if classes:
        for ident, label, key in (
            ("count-verdict-changed", "verdict changed", "verdict_changed"),
            ("count-metadata-only", "only policy metadata changed", "metadata_only"),
        ):
            lines, billed = _count(classes.get(key))
            items.append((ident, label, lines, f"{lines:,} · {_money(billed)}"))
    items.append(("count-unchanged", "unchanged", totals["unchanged"], f"{totals['unchanged']:,}"))
    parts = [counts_block(items)]
    reconciliation = summary.get("reconciliation")
    if reconciliation:
        sentence = _esc(lines_compared_sentence(reconciliation))
        parts.append(f'<p class="sub" id="lines-compared-explained">{sentence}</p>')
    return "".join(parts)


def _n(count: int, one: str, many: str) -> str:
    return f"{count:,} {one if count == 1 else many}"


def _less(side: dict[str, int], other: str) -> list[str]:
    """What a run read and did not compare as its own key, in words with the numbers (none: empty)."""
    terms = [
        (side["skipped"], "line outside its own slice (skipped)", "lines outside its own slice (skipped)"),
        (
            side["outside_other_slice"],
            f"line outside the {other} run's slice",
            f"lines outside the {other} run's slice",
        ),
        (side["unkeyed_rejects"], "reject without a usable key", "rejects without a usable key"),
        (
            side["duplicate_copies"],
            "extra copy of a duplicated key (each key counted once)",
            "extra copies of duplicated keys (each key counted once)",
        ),
    ]
    return [_n(count, one, many) for count, one, many in terms if count]


def _read(who: str, side: dict[str, int], other: str) -> str:
    less = _less(side, other)
    return f"{who} read {side['read']:,}" + (f", less {', '.join(less)}, leaving {side['keys']:,}" if less else "")


def lines_compared_sentence(reconciliation: dict[str, Any]) -> str:
    """One sentence that takes each run's lines read to the lines compared (the summary's ``reconciliation``)."""
    old, new = reconciliation["old"], reconciliation["new"]
    if old == new and not old["outside_other_slice"]:
        phrases = [_read("each run", old, "other")]
    else:
        phrases = [_read("the old run", old, "new"), _read("the new run", new, "old")]
    where = [f"{reconciliation['in_both']:,} in both runs"]
    where += [
        f"{reconciliation[k]:,} in the {name} run only"
        for k, name in (("only_in_old", "old"), ("only_in_new", "new"))
        if reconciliation[k]
    ]
    compared = reconciliation["lines_compared"]
    return f"{_n(compared, 'line', 'lines')} compared: {'; '.join(phrases)}; {', '.join(where)}."


_TABLE_CHANGES: Final = {
    "changed": "changed",
    "only_in_old": "in the old run only",
    "only_in_new": "in the new run only",
}


def _rule_tables(summary: dict[str, Any]) -> str:
    """The rule tables that differ between the runs, by checksum, table by table."""
    tables = summary.get("rule_tables")
    if not tables:
        return ""
    differ = tables["differ"]
    if not tables["compared"]:
        text = "The rule tables cannot be compared: a run's manifest does not list them."
    elif not differ:
        text = f"The two runs used the same {tables['tables']:,} rule tables (equal checksums)."
    else:
        named = ", ".join(f"{d['table']} ({_TABLE_CHANGES.get(d['change'], d['change'])})" for d in differ)
        text = f"{len(differ):,} of {tables['tables']:,} rule tables differ by checksum: {named}."
    parts = [f'<p id="rule-tables-differ">{_esc(text)}</p>']
    if differ:
        rows = [{**d, "change": _TABLE_CHANGES.get(d["change"], d["change"])} for d in differ]
        parts.append(
            table(
                "rule-tables",
                [
                    ("table", "table", "text"),
                    ("change", "", "text"),
                    ("old_sha256", "old sha256", "code"),
                    ("new_sha256", "new sha256", "code"),
                ],
                rows,
            )
        )
    return _section("Rule tables that differ", *parts)


def _heat_map(cells: list[dict[str, Any]]) -> dict[str, Any]:
    """The matrix's lines as a heat map, old determination down and new across: only the cells that moved
    (off the diagonal) are coloured, by their lines; the unchanged diagonal is grey."""
    moved = "datum.old_determination != datum.new_determination"
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
                "transform": [{"filter": f"!({moved})"}],
                "mark": {"type": "rect", "color": "#f5f7fa", "stroke": "#e4e7eb"},
            },
            {
                "transform": [{"filter": moved}],
                "mark": {"type": "rect", "stroke": "#c0392b"},
                "encoding": {
                    "color": {
                        "field": "lines",
                        "type": "quantitative",
                        "title": "lines moved",
                        "scale": {"type": "log", "range": ["#fde2c8", "#e6550d"]},
                    }
                },
            },
            {
                "mark": {"type": "text", "fontSize": 12},
                "encoding": {
                    "text": {"field": "lines", "format": ","},
                    "color": {"condition": {"test": moved, "value": "#1f2933"}, "value": "#9aa5b1"},
                    "fontWeight": {"condition": {"test": moved, "value": "bold"}, "value": "normal"},
                },
            },
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
                "Lines by old determination (rows) and new (columns): the coloured cells moved; "
                "the grey diagonal did not",
                _heat_map(cells),
            ),
        )
    return _section("Old x new determination: lines and billed dollars", *matrix_parts)


def _signed(value: Decimal, money: bool) -> str:
    shown = f"${abs(value):,.2f}" if money else f"{abs(value):,}"
    return ("+" if value > 0 else "−" if value < 0 else "") + shown


def _net(rows: list[dict[str, Any]]) -> str:
    """Net dollars (and lines) by determination: the new run's minus the old run's, each cell's raw value in
    its row's ``data-*``."""
    if not rows:
        return ""
    keys = ("old_lines", "new_lines", "net_lines", "old_billed_amount", "new_billed_amount", "net_billed_amount")
    head = "<th>determination</th>" + "".join(
        f'<th class="n">{_esc(k.replace("_amount", "").replace("_", " "))}</th>' for k in keys
    )
    body = []
    for r in rows:
        attrs = f' data-determination="{_esc(r["determination"])}"' + "".join(f' data-{k}="{_esc(r[k])}"' for k in keys)
        tds = []
        for k in keys:
            money = k.endswith("_amount")
            value = Decimal(r[k])
            if k.startswith("net_"):
                klass = "n moved" if value else "n same"
                tds.append(f'<td class="{klass}">{_esc(_signed(value, money))}</td>')
            else:
                tds.append(f'<td class="n">{_esc(_money(value) if money else f"{int(value):,}")}</td>')
        body.append(f"<tr{attrs}><th>{_esc(r['determination'])}</th>{''.join(tds)}</tr>")
    grid = (
        f'<table id="net-by-determination" class="data"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )
    note = _note("Each run's lines and billed dollars by determination among the lines compared; net = new − old.")
    return _section("Net dollars by determination", note, grid)


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
                "Lines whose verdict changed, by old reason → new reason",
                bars(reasons, category="label", amount="lines", amount_title="lines"),
            ),
        )
    if "by_change_class" in summary:
        reason_parts.insert(0, _note("Lines whose verdict changed only; policy-metadata-only changes are below."))
    return _section("Top reason changes", *reason_parts)


def _metadata_only(summary: dict[str, Any]) -> str:
    """The lines where only the policy metadata changed (same determination, same reason), grouped."""
    if "metadata_only_changes" not in summary:
        return ""
    rows = [{**r, "fields": ", ".join(r["fields"])} for r in summary["metadata_only_changes"]]
    lines, billed = _count(summary["by_change_class"].get("metadata_only"))
    note = _note(
        f"{lines:,} lines ({_money(billed)}) kept their verdict; only the policy that judged them "
        "(its id, version or dates) changed."
        if lines
        else "No line changed only in its policy metadata."
    )
    columns = [
        ("determination", "determination", "text"),
        ("reason", "reason", "text"),
        ("fields", "fields changed", "text"),
        ("lines", "lines", "int"),
        ("billed_amount", "billed", "money"),
    ]
    return _section("Only the policy metadata changed", note, table("metadata-only-changes", columns, rows))


def render_diff_report(summary: dict[str, Any], changes: pl.LazyFrame | None) -> str:
    """The diff report's HTML from the diff's summary and its changed lines (None: not available), its charts
    drawn (``adjudicator.report.draw``: without them, and saying so, when they cannot be)."""
    return draw_charts(_diff_page(summary, changes)).html


def _diff_page(summary: dict[str, Any], changes: pl.LazyFrame | None) -> str:
    body = [
        _headline(summary),
        _rule_tables(summary),
        _matrix(summary["matrix"]),
        _net(summary.get("net_by_determination") or []),
        _reason_changes(summary),
        _metadata_only(summary),
    ]
    if changes is None:
        body.append(_note(f"{DIFF_CHANGES} is not beside the summary: the claims and lines that moved are not shown."))
    else:
        body += [claims_moved(changes), lines_moved(changes)]
    body.append(_runs_compared(summary))
    subtitle = f"{summary['old']['path']} → {summary['new']['path']}"
    return _page("What changed between two runs", subtitle, [b for b in body if b])


def write_diff_report(folder: Path, summary: dict[str, Any]) -> Path:
    """Write a diff's report.html into ``folder`` (which holds its changes.parquet); returns its path."""
    changes = Path(folder) / DIFF_CHANGES
    scan = pl.scan_parquet(changes) if changes.is_file() else None
    return _write(folder, render_diff_report(summary, scan))


__all__ = ["MOVED_CELL", "SAME_CELL", "lines_compared_sentence", "render_diff_report", "write_diff_report"]
