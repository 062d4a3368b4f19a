"""The run's report: one self-contained HTML file per run, built from its manifest alone.

The page is built from ``OUT/manifest.json`` alone (its ``counts`` and the
``summary`` that the driver adds up batch by batch, ``adjudicator.engine.summary``),
never from the Parquet outputs, so it costs the same at 100M lines as at 100.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any, Final

from adjudicator.contract import CANONICAL_COLUMNS, SOURCE_FILE
from adjudicator.report.charts import _color, _determination_order, _numbers, bars, chart
from adjudicator.report.html import Column, _esc, _money, _note, _page, _section, _write, counts_block, table

#: the monthly trend draws one bar per month up to this many months, else one per year
MONTHLY_BARS: Final = 48

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


def write_run_report(folder: Path, manifest: dict[str, Any]) -> Path:
    """Write a run's report.html into ``folder`` from its manifest (and nothing else); returns its path."""
    # what the page shows is exactly what manifest.json holds, whether given in memory or read back
    return _write(folder, render_run_report(json.loads(json.dumps(manifest, default=str))))


__all__ = ["DETERMINATION_COLUMNS", "MONTHLY_BARS", "render_run_report", "write_run_report"]
