"""The diff's summary (``summary.json``): totals, kinds, fields, the determination matrix, and its terminal text.

The summary is built from the new run's lines per label (``side_counts``) and
the changed lines only: an unchanged line has the same label in both runs, so
the matrix's diagonal is the new run's count less the lines that moved.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

import polars as pl

from adjudicator.contract import (
    ABSENT_LABEL,
    BILLED_AMOUNT,
    CHANGE_KIND,
    CHANGED_FIELDS,
    DETERMINATION,
    DETERMINATIONS,
    REASON,
    REJECTED_LABEL,
)
from adjudicator.diff.compare import CHANGE_KINDS
from adjudicator.diff.sides import COMPARED_FIELDS, _label
from adjudicator.publish.manifest import MANIFEST
from adjudicator.report.terminal import format_amount

TOP_REASONS: Final = 10


def _run_id(folder: Path) -> str | None:
    """The run id from the manifest, when there is a readable one (informational only)."""
    try:
        value = json.loads((folder / MANIFEST).read_text(encoding="utf-8")).get("run_id")
    except (OSError, ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


def _matrix(new_counts: pl.DataFrame, changed_cells: pl.DataFrame) -> list[dict[str, Any]]:
    """Every line by (old label, new label): the changed lines' cells plus, on the diagonal, the unchanged ones.

    Unchanged lines of label L = the new run's lines of L minus the changed lines whose new label is L.
    """
    cells: dict[tuple[str, str], list[Any]] = {}
    for row in changed_cells.iter_rows(named=True):
        cells[(row["old_determination"], row["new_determination"])] = [row["lines"], row["billed_amount"] or 0]
    for row in new_counts.iter_rows(named=True):
        label = row["label"]
        moved = changed_cells.filter(pl.col("new_determination") == label)
        lines = row["lines"] - int(moved["lines"].sum())
        billed = (row["billed_amount"] or 0) - sum(b for b in moved["billed_amount"] if b is not None)
        if lines:
            cell = cells.setdefault((label, label), [0, 0])
            cell[0] += lines
            cell[1] += billed
    ordered = sorted(cells.items(), key=lambda kv: (_label_key(kv[0][0]), _label_key(kv[0][1])))
    return [
        {"old_determination": o, "new_determination": n, "lines": lines, "billed_amount": _amount(billed)}
        for (o, n), (lines, billed) in ordered
    ]


def _amount(value: Decimal | int | None) -> str:
    return str(Decimal(value or 0).quantize(Decimal("0.01")))


def _label_key(label: str | None) -> tuple[int, str]:
    """Matrix order: the contract's determinations first, then anything else, then the two non-result states."""
    if label in DETERMINATIONS:
        return DETERMINATIONS.index(label), ""
    if label == REJECTED_LABEL:
        return len(DETERMINATIONS) + 2, ""
    if label == ABSENT_LABEL:
        return len(DETERMINATIONS) + 3, ""
    return len(DETERMINATIONS) + 1, label or ""


def _queries(changes: pl.LazyFrame) -> list[pl.LazyFrame]:
    """The summary's counts over the changed lines: matrix cells, top reason changes, kinds, fields."""
    cells_q = changes.group_by(
        _label("old_", DETERMINATION).alias("old_determination"),
        _label("new_", DETERMINATION).alias("new_determination"),
    ).agg(pl.len().alias("lines"), pl.col(BILLED_AMOUNT).sum().alias("billed_amount"))
    reasons_q = (
        changes.group_by(
            _label("old_", REASON).alias("old_reason"),
            _label("new_", REASON).alias("new_reason"),
        )
        .agg(pl.len().alias("lines"), pl.col(BILLED_AMOUNT).sum().alias("billed_amount"))
        .sort(["lines", "old_reason", "new_reason"], descending=[True, False, False], nulls_last=True)
        .head(TOP_REASONS)
    )
    kinds_q = changes.group_by(CHANGE_KIND).agg(pl.len().alias("lines"))
    fields_q = (
        changes.select(pl.col(CHANGED_FIELDS).explode(empty_as_null=False).alias("field"))
        .drop_nulls()
        .group_by("field")
        .agg(pl.len().alias("lines"))
    )
    return [cells_q, reasons_q, kinds_q, fields_q]


def _summary(
    new_counts: pl.DataFrame,
    changes: pl.LazyFrame,
    unkeyed: dict[str, int],
    old_out: Path,
    new_out: Path,
) -> dict[str, Any]:
    """The summary dict from the new run's counts per label and the written changes (changed lines only)."""
    cells, reasons, kinds, fields = pl.collect_all(_queries(changes), engine="streaming")
    by_kind = dict.fromkeys(CHANGE_KINDS, 0) | dict(zip(kinds[CHANGE_KIND], kinds["lines"], strict=True))
    by_field = dict.fromkeys(COMPARED_FIELDS, 0) | dict(zip(fields["field"], fields["lines"], strict=True))
    matrix = _matrix(new_counts, cells)
    lines = sum(c["lines"] for c in matrix)
    changed = sum(by_kind.values())
    return {
        "old": {"path": str(old_out), "run_id": _run_id(old_out)},
        "new": {"path": str(new_out), "run_id": _run_id(new_out)},
        "totals": {"lines_compared": lines, "changed": changed, "unchanged": lines - changed},
        "by_change_kind": by_kind,
        "changed_fields": by_field,
        "matrix": matrix,
        "top_reason_changes": [
            {**r, "billed_amount": _amount(r["billed_amount"])} for r in reasons.iter_rows(named=True)
        ],
        "unkeyed_rejects": unkeyed,
    }


def _table(title: str, rows: list[str], cols: list[str], cell: dict[tuple[str, str], str]) -> list[str]:
    """A text matrix: ``rows`` down, ``cols`` across, "." where a cell is empty."""
    first = max([len(title), *(len(r) for r in rows)]) + 2
    widths = [max([len(c), *(len(cell.get((r, c), "")) for r in rows)]) + 2 for c in cols]

    def line(label: str, values: list[str]) -> str:
        return f"{label:<{first}}" + "".join(f"{v:>{w}}" for v, w in zip(values, widths, strict=True))

    return [line(title, cols), *(line(r, [cell.get((r, c), ".") for c in cols]) for r in rows)]


def _matrix_text(cells: list[dict[str, Any]]) -> list[str]:
    """The determination matrix as two text tables: lines, then billed amount."""
    rows = sorted({c["old_determination"] for c in cells}, key=_label_key)
    cols = sorted({c["new_determination"] for c in cells}, key=_label_key)
    lines: list[str] = []
    for what, fmt in (("lines", lambda v: f"{v:,}"), ("billed_amount", format_amount)):
        cell = {(c["old_determination"], c["new_determination"]): fmt(c[what]) for c in cells}
        lines += ["", f"{what}: old determination (rows) x new determination (columns)"]
        lines += _table("old \\ new", rows, cols, cell)
    return lines


def format_diff_summary(summary: dict[str, Any]) -> str:
    """The summary for the terminal: totals, the determination matrix (lines, then billed), top reason changes."""
    totals, kinds = summary["totals"], summary["by_change_kind"]
    old, new = summary["old"], summary["new"]
    lines = [
        f"diff {old['path']} (run {old['run_id'] or '?'}) -> {new['path']} (run {new['run_id'] or '?'})",
        f"lines compared {totals['lines_compared']:>12,}   changed {totals['changed']:>10,}   "
        f"unchanged {totals['unchanged']:>12,}",
        "   ".join(f"{k} {kinds[k]:,}" for k in CHANGE_KINDS),
    ]
    fields = {f: n for f, n in summary["changed_fields"].items() if n}
    if fields:
        lines.append("fields changed: " + ", ".join(f"{f} {n:,}" for f, n in fields.items()))
    if summary["matrix"]:
        lines += _matrix_text(summary["matrix"])
    if summary["top_reason_changes"]:
        lines += ["", f"{'top reasons for change: old reason -> new reason':<72}{'lines':>10}{'billed':>16}"]
        for r in summary["top_reason_changes"]:
            pair = f"{r['old_reason'] or '-'} -> {r['new_reason'] or '-'}"
            lines.append(f"{pair:<72}{r['lines']:>10,}{format_amount(r['billed_amount']):>16}")
    unkeyed = summary["unkeyed_rejects"]
    if any(unkeyed.values()):
        lines += ["", f"rejects without a usable key (not compared): old {unkeyed['old']:,}, new {unkeyed['new']:,}"]
    return "\n".join(lines)


__all__ = ["TOP_REASONS", "format_diff_summary"]
