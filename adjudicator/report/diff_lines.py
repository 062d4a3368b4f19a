"""The diff report's sections drawn from ``changes.parquet`` (the changed lines only): the claims that moved
most and the moved lines, each with where and whose it is (service date, member, payer) and both reasons.

Only the top of each is collected (``MOVED_CLAIMS_SHOWN`` claims, ``MOVED_LINES_SHOWN`` lines): the
report's cost does not grow with the diff.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Final

import polars as pl

from adjudicator.contract import (
    BILLED_AMOUNT,
    CHANGE_KIND,
    CHANGED_FIELDS,
    CLAIM_ID,
    LINE_NUMBER,
    MEMBER_ID,
    PAYER_ID,
    SERVICE_DATE,
)
from adjudicator.publish.manifest import DIFF_CHANGES
from adjudicator.report.charts import _numbers, bars, chart
from adjudicator.report.html import Column, _note, _section, table

#: the diff report lists at most this many moved lines (the largest billed first)
MOVED_LINES_SHOWN: Final = 500
MOVED_CLAIMS_SHOWN: Final = 10

#: where and whose a line is, as changes.parquet carries it (a diff written before it did has none)
_CONTEXT: Final = (SERVICE_DATE, MEMBER_ID, PAYER_ID)

#: what the moved-lines table shows of each side (shown column -> the compared fields it joins)
_MOVED_SHOWN: Final = {
    "determination": ("determination",),
    "reason": ("reason",),
    "policy": ("policy_id", "policy_version"),
    "policy_end_date": ("policy_end_date",),
}
#: shown columns that always show both sides, even when they are equal ("X → X": the reason the line had
#: and the reason it has)
_BOTH_SIDES: Final = ("reason",)


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


def _moved_lines(changes: pl.LazyFrame) -> tuple[list[dict[str, Any]], int]:
    """Up to ``MOVED_LINES_SHOWN`` changed lines, the largest billed first, and how many there are."""
    present = changes.collect_schema().names()
    fields = [f for joined in _MOVED_SHOWN.values() for f in joined if f"old_{f}" in present]
    frame = (
        changes.select(
            CLAIM_ID,
            LINE_NUMBER,
            *(pl.col(c).cast(pl.String) for c in _CONTEXT if c in present),
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
            row[shown] = old if old == new and shown not in _BOTH_SIDES else f"{old} → {new}"
        rows.append(row)
    return rows, total


def claims_moved(changes: pl.LazyFrame) -> str:
    """The section of the claims with the most billed on changed lines: a chart and its table."""
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


def lines_moved(changes: pl.LazyFrame) -> str:
    """The section of the moved lines: the largest billed first, with service date, member, payer and both
    reasons."""
    lines, total = _moved_lines(changes)
    shown = (
        f"All {total:,} changed lines"
        if total <= len(lines)
        else f"The {len(lines):,} changed lines with the most billed, of {total:,} (all are in {DIFF_CHANGES})"
    )
    columns: list[Column] = [
        (CLAIM_ID, "claim", "text"),
        (LINE_NUMBER, "line", "int"),
        (SERVICE_DATE, "service date", "change"),  # "change" cells do not wrap
        (MEMBER_ID, "member", "text"),
        (PAYER_ID, "payer", "text"),
        (CHANGE_KIND, "change", "text"),
        (BILLED_AMOUNT, "billed", "money"),
        *((f, f"{f.replace('_', ' ')} old → new", "change") for f in _MOVED_SHOWN),
        (CHANGED_FIELDS, "fields changed", "text"),
    ]
    moved = table("moved-lines", columns, lines, extra=f' data-total="{total}"')
    # wider than the page: it scrolls sideways on its own rather than widening the page
    return _section("Moved lines", _note(shown + "."), f'<div style="overflow-x:auto">{moved}</div>')


__all__ = ["MOVED_CLAIMS_SHOWN", "MOVED_LINES_SHOWN", "claims_moved", "lines_moved"]
