"""The run's report: one self-contained HTML file per run, built from its manifest alone.

The page is built from ``OUT/manifest.json`` alone (its ``counts`` and the
``summary`` that the driver adds up batch by batch, ``adjudicator.engine.summary``),
never from the Parquet outputs, so it costs the same at 100M lines as at 100.

It reads in the order an analyst acts: a table of contents; the headline cards
(lines read, total billed, flagged lines and dollars, the flagged share of the
dollars, rejects, reconciled); determinations and reasons; the flagged-only
views (``run_flagged``: trend, payers, policies); edits; the top claims;
rejects with examples; and last, collapsed, the audit trail (``run_audit``).
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

from adjudicator.contract import CANONICAL_COLUMNS, DETERMINATIONS, NO_ACTION, SOURCE_FILE
from adjudicator.errors import first_line
from adjudicator.report.charts import _determination_order, _numbers, bars, chart
from adjudicator.report.draw import ChartRenderer, Drawn, draw_charts
from adjudicator.report.html import Card, Column, _esc, _money, _note, _page, _section, _write, cards, contents, table
from adjudicator.report.labels import labelled
from adjudicator.report.run_audit import AUDIT, audit_section
from adjudicator.report.run_flagged import (
    DETERMINATION_COLUMNS,
    MONTHLY_BARS,
    PAYERS,
    POLICIES,
    TREND,
    flagged,
    payers_section,
    policies_section,
    share,
    trend_section,
)

#: the sections' element ids (the table of contents' anchors), in page order
HEADLINE, DETERMINATIONS_ID, EDITS, CLAIMS, REJECTS = "headline", "determinations", "line-edits", "claims", "rejects"

#: the columns of the top claims' table: always the first three; the others when the manifest's rows have them
TOP_CLAIM_COLUMNS: Final[list[Column]] = [
    ("claim_id", "claim", "text"),
    ("flagged_lines", "flagged lines", "int"),
    ("flagged_billed_amount", "flagged billed", "money"),
]
TOP_CLAIM_CONTEXT: Final[list[Column]] = [
    ("payer_id", "payer", "text"),
    ("member_id", "member", "text"),
    ("first_service_date", "first date of service", "text"),
    ("last_service_date", "last date of service", "text"),
    ("service_date", "date of service", "text"),
    ("determinations", "determinations", "codes"),
    ("determination", "determination", "label"),
    ("reasons", "reasons", "codes"),
    ("reason", "reason", "label"),
]


def _compact(amount: Decimal) -> str:
    """Dollars for a headline card: exact below a million, else $1.23M / $4.56B / $7.89T."""
    for scale, unit in ((Decimal(10) ** 12, "T"), (Decimal(10) ** 9, "B"), (Decimal(10) ** 6, "M")):
        if abs(amount) >= scale:
            return f"${amount / scale:,.2f}{unit}"
    return _money(amount)


def total_billed(counts: dict[str, Any]) -> Decimal:
    """The billed dollars of every results line (the sum over ``counts.by_reason``; rejects are not results)."""
    return sum((Decimal(r["billed_amount"]) for r in counts["by_reason"]), Decimal("0.00"))


def _headline(counts: dict[str, Any]) -> str:
    billed, flagged_billed = total_billed(counts), Decimal(counts["flagged_billed_amount"])
    results = counts["results"]
    flagged_share = share(flagged_billed, billed)

    def exact(amount: Decimal) -> list[tuple[str | None, Any, str]]:
        return [] if _compact(amount) == _money(amount) else [(None, None, _money(amount))]

    items: list[Card] = [
        (
            "count-read",
            "lines read",
            counts["read"],
            f"{counts['read']:,}",
            [
                ("count-results", results, f"{results:,} results"),
                ("count-skipped", counts["skipped"], f"{counts['skipped']:,} skipped"),
            ],
        ),
        ("count-billed", "total billed", str(billed), _compact(billed), [*exact(billed), (None, None, "on results")]),
        (
            "count-flagged-lines",
            "flagged lines",
            counts["flagged_lines"],
            f"{counts['flagged_lines']:,}",
            [(None, None, f"{counts['flagged_lines'] / results:.1%} of results" if results else "no results")],
        ),
        (
            "count-flagged-billed",
            "flagged dollars",
            counts["flagged_billed_amount"],
            _compact(flagged_billed),
            [*exact(flagged_billed), (None, None, "not NO_ACTION")],
        ),
        (
            "count-flagged-share",
            "share flagged (of billed)",
            flagged_share,
            "—" if flagged_share is None else f"{Decimal(flagged_share) * 100:.1f}%",
            [(None, None, "flagged ÷ total billed")],
        ),
        (
            "count-rejects",
            "rejects",
            counts["rejects"],
            f"{counts['rejects']:,}",
            [(None, None, f"{len(counts['rejects_by_check'])} check(s) failed")],
        ),
        (
            "count-reconciled",
            "reconciled",
            counts["reconciled"],
            "yes" if counts["reconciled"] else "NO",
            [(None, None, "read = results + rejects + skipped")],
        ),
    ]
    alarm = (
        ""
        if counts["reconciled"]
        else f'<p class="alert">The counts do not reconcile: lines read differ from results + rejects + skipped '
        f'for the run or a file (see <a href="#{AUDIT}">the audit trail</a>).</p>'
    )
    bad = [] if counts["reconciled"] else ["count-reconciled"]
    return f'<section id="{HEADLINE}">{cards(items, bad=bad)}{alarm}</section>'


def determination_rows(counts: dict[str, Any]) -> list[dict[str, Any]]:
    """Per determination (the contract's order, then any other): lines and billed, and their shares."""
    billed: dict[str, Decimal] = {}
    for r in counts["by_reason"]:
        billed[r["determination"]] = billed.get(r["determination"], Decimal("0.00")) + Decimal(r["billed_amount"])
    lines = counts["by_determination"]
    total_lines, total = sum(lines.values()), sum(billed.values(), Decimal("0.00"))
    order = sorted({*lines, *billed}, key=_determination_order)
    return [
        {
            "determination": d,
            "lines": lines.get(d, 0),
            "line_share": share(Decimal(lines.get(d, 0)), Decimal(total_lines)),
            "billed_amount": str(billed.get(d, Decimal("0.00"))),
            "billed_share": share(billed.get(d, Decimal("0.00")), total),
        }
        for d in order
    ]


def _determinations(counts: dict[str, Any]) -> str:
    by_determination = table(
        "by-determination",
        [
            ("determination", "determination", "label"),
            ("lines", "lines", "int"),
            ("line_share", "share of lines", "percent"),
            ("billed_amount", "billed", "money"),
            ("billed_share", "share of billed", "percent"),
        ],
        determination_rows(counts),
    )
    reasons = table(
        "by-reason",
        [
            ("determination", "determination", "label"),
            ("reason", "reason", "label"),
            ("lines", "lines", "int"),
            ("billed_amount", "billed", "money"),
        ],
        counts["by_reason"],
    )
    rows = [{**r, "label": labelled(r["reason"])} for r in flagged(counts["by_reason"])]
    parts = [by_determination]
    if rows:
        unflagged = [r for r in counts["by_reason"] if r["determination"] == NO_ACTION]
        left_out = sum(r["lines"] for r in unflagged)
        caption = "Billed dollars on flagged lines by reason, coloured by determination" + (
            f" (NO_ACTION's {left_out:,} lines, "
            f"{_money(sum((Decimal(r['billed_amount']) for r in unflagged), Decimal(0)))}, are in the table)"
            if unflagged
            else ""
        )
        spec = bars(
            _numbers(rows, "billed_amount"),
            category="label",
            amount="billed_amount",
            amount_title="flagged billed ($)",
            color="determination",
            color_labels=True,
        )
        parts.append(chart("by-reason", caption, spec))
    parts.append(reasons)
    return _section("Determinations and reasons", *parts, ident=DETERMINATIONS_ID)


def history_note(history: dict[str, Any] | None) -> str:
    """What the history (``--history``) changed, by edit, as one sentence; empty without a history."""
    if not history:
        return ""
    read = history.get("version_read")
    seen = f"version {read}" if read is not None else "empty (created by this run)"
    effects = history.get("effects") or {}
    words = {"made_flagged": "made flagged", "counted": "flagged, earlier lines counted", "cleared": "cleared"}
    parts = [
        f"{labelled(edit)}: {', '.join(f'{n:,} {words.get(e, e)}' for e, n in sorted(by.items()))}"
        for edit, by in sorted(effects.items())
    ]
    changed = "; ".join(parts) if parts else "no line of this run changed"
    return _note(f"History {history.get('path')} ({seen}): {changed}. The lines are listed in history_edits.parquet.")


def _edits(summary: dict[str, Any], history: dict[str, Any] | None = None) -> str:
    rows = [{**r, "label": labelled(r["edit"])} for r in summary["edits"]]
    columns: list[Column] = [("edit", "edit", "label"), ("lines", "lines", "int"), ("billed_amount", "billed", "money")]
    note = history_note(history)
    if not rows:
        return _section("Edits", _note("No line carries an edit."), note, table("edits", columns, rows), ident=EDITS)
    figure = chart(
        "edits",
        "Lines carrying each edit (a line can carry both)",
        bars(_numbers(rows, "billed_amount"), category="label", amount="lines", amount_title="lines"),
    )
    return _section("Edits", figure, note, table("edits", columns, rows), ident=EDITS)


def _rejects(counts: dict[str, Any], summary: dict[str, Any] | None) -> str:
    by_check = [{"check": k, "label": labelled(k), "lines": v} for k, v in counts["rejects_by_check"].items()]
    columns: list[Column] = [("check", "check failed", "label"), ("lines", "lines", "int")]
    title = "Rejects by check, with examples"
    if not by_check:
        return _section(title, _note("No line was rejected."), table("rejects-by-check", columns, []), ident=REJECTS)
    parts = [
        chart(
            "rejects-by-check",
            "Rejected lines by check failed (a line can fail several)",
            bars(by_check, category="label", amount="lines", amount_title="lines"),
        ),
        table("rejects-by-check", columns, by_check),
    ]
    if summary is not None:
        example_columns: list[Column] = [(c, c, "code") for c in (*CANONICAL_COLUMNS, SOURCE_FILE)]
        for check, examples in summary["reject_examples"].items():
            parts.append(f"<h3>{_esc(labelled(check))}: the first {len(examples)} as read</h3>")
            parts.append(table(None, example_columns, examples, extra=f' data-check="{_esc(check)}"'))
    return _section(title, *parts, ident=REJECTS)


def top_claim_columns(rows: list[dict[str, Any]]) -> list[Column]:
    """Today's three columns, then each context column some row has (payer, member, dates of service,
    determinations, reasons), then any other key the rows carry: old and new manifests both render."""
    keys = {k for r in rows for k, v in r.items() if v is not None}
    known = {c[0] for c in (*TOP_CLAIM_COLUMNS, *TOP_CLAIM_CONTEXT)}
    others = sorted(keys - known)
    return [
        *TOP_CLAIM_COLUMNS,
        *(c for c in TOP_CLAIM_CONTEXT if c[0] in keys),
        *((k, k.replace("_", " "), "codes") for k in others),
    ]


def _top_claims(summary: dict[str, Any]) -> str:
    rows = summary["top_claims"]
    columns = top_claim_columns(rows)
    title = "Top claims by flagged dollars"
    if not rows:
        return _section(title, _note("No line was flagged."), table("top-claims", columns, rows), ident=CLAIMS)
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
    return _section(title, figure, table("top-claims", columns, rows), ident=CLAIMS)


def render_run_report(manifest: dict[str, Any]) -> str:
    """The run report's HTML from a manifest (the same manifest gives the same bytes), its charts drawn."""
    return draw_charts(run_report_page(manifest)).html


def draw_run_report(manifest: dict[str, Any], renderer: ChartRenderer | None = None) -> Drawn:
    """The run report of a manifest as ``manifest.json`` holds it, its charts drawn by ``renderer`` (or a new
    one); without them, and saying so, when they cannot be drawn (``Drawn.problem``)."""
    # what the page shows is exactly what manifest.json holds, whether given in memory or read back
    return draw_charts(run_report_page(json.loads(json.dumps(manifest, default=str))), renderer)


def publishable_run_report(manifest: dict[str, Any], renderer: ChartRenderer) -> Drawn:
    """``draw_run_report`` for a run about to be published: a fault of the report's own never costs the run its
    outputs, so a page that cannot be built is replaced by one that says so (``Drawn.problem``)."""
    try:
        return draw_run_report(manifest, renderer)
    except Exception as exc:
        renderer.close()
        problem = f"the report could not be built ({type(exc).__name__}: {first_line(exc)})"
        return Drawn(_page(f"Adjudication run {manifest.get('run_id')}", problem, []), problem)


def run_report_page(manifest: dict[str, Any]) -> str:
    """The run report's HTML from a manifest, a placeholder for each chart (pure)."""
    counts = manifest["counts"]
    summary = manifest.get("summary")
    toc: list[tuple[str, str]] = [(HEADLINE, "Headline"), (DETERMINATIONS_ID, "Determinations and reasons")]
    body = [_headline(counts), _determinations(counts)]
    if summary is None:
        body.append(
            _note(
                "This manifest was written before runs kept a summary for the report: the trend, "
                "payers, policy versions, edits, reject examples and top claims need the run to be done "
                "again with this version."
            )
        )
    else:
        trend_title, trend = trend_section(summary)
        body += [trend, payers_section(summary), policies_section(summary), _edits(summary, manifest.get("history"))]
        body.append(_top_claims(summary))
        toc += [(TREND, trend_title), (PAYERS, "Payers"), (POLICIES, "Policies"), (EDITS, "Edits")]
        toc.append((CLAIMS, "Top claims"))
    body += [_rejects(counts, summary), audit_section(manifest)]
    toc += [(REJECTS, "Rejects"), (AUDIT, "Audit trail")]
    subtitle = (
        f"{manifest.get('finished_at') or ''}  ·  layout {manifest.get('layout')}  ·  "
        f"{len(manifest.get('inputs') or [])} input file(s)  ·  flagged: not {NO_ACTION} "
        f"({', '.join(d for d in DETERMINATIONS if d != NO_ACTION)})"
    )
    return _page(f"Adjudication run {manifest.get('run_id')}", subtitle, [contents(toc), *body])


def write_run_report(folder: Path, manifest: dict[str, Any]) -> Path:
    """Write a run's report.html into ``folder`` from its manifest (and nothing else); returns its path."""
    return _write(folder, draw_run_report(manifest).html)


__all__ = [
    "DETERMINATION_COLUMNS",
    "MONTHLY_BARS",
    "TOP_CLAIM_COLUMNS",
    "TOP_CLAIM_CONTEXT",
    "determination_rows",
    "draw_run_report",
    "publishable_run_report",
    "render_run_report",
    "run_report_page",
    "top_claim_columns",
    "total_billed",
    "write_run_report",
]
