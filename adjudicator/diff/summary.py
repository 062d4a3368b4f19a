"""The diff's summary (``summary.json``): totals, kinds, fields, the determination matrix, verdict changes
apart from policy-metadata-only ones, net dollars by determination, and its terminal text.

The summary is built from each run's lines per label (``side_counts``) and
the changed lines only: an unchanged line has the same label in both runs, so
the matrix's diagonal is the new run's count less the lines that moved.
"""

from __future__ import annotations

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
    POLICY_COLUMNS,
    REASON,
    REJECTED_LABEL,
)
from adjudicator.diff.compare import CHANGE_KINDS, CHANGED, SideCounts
from adjudicator.diff.explain import read_manifest, reconciliation, rule_tables, skipped
from adjudicator.diff.sides import COMPARED_FIELDS, _label
from adjudicator.report.terminal import format_amount

TOP_REASONS: Final = 10

#: the compared fields that say which policy (and which version of it) judged a line, not what it decided
POLICY_METADATA_FIELDS: Final = tuple(f for f in COMPARED_FIELDS if f in POLICY_COLUMNS)
#: the compared fields that are the line's verdict
VERDICT_FIELDS: Final = tuple(f for f in COMPARED_FIELDS if f not in POLICY_METADATA_FIELDS)
#: a listed line's class: its verdict changed (or it is in one run only, or rejected in one), or only the
#: policy metadata changed (a result in both runs, every verdict field equal)
VERDICT_CHANGED: Final = "verdict_changed"
METADATA_ONLY: Final = "metadata_only"
CHANGE_CLASSES: Final = (VERDICT_CHANGED, METADATA_ONLY)


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


def _metadata_only() -> pl.Expr:
    """True on a changed line where only ``POLICY_METADATA_FIELDS`` changed (no verdict field)."""
    verdict = pl.col(CHANGED_FIELDS).list.eval(pl.element().is_in(VERDICT_FIELDS)).list.any()
    return (pl.col(CHANGE_KIND) == CHANGED) & ~verdict.fill_null(False)


def _lines_and_billed() -> list[pl.Expr]:
    return [pl.len().alias("lines"), pl.col(BILLED_AMOUNT).sum().alias("billed_amount")]


def _queries(changes: pl.LazyFrame) -> list[pl.LazyFrame]:
    """The summary's counts over the changed lines: matrix cells, top reason changes (verdict changes only),
    kinds, fields, change classes, and the metadata-only changes."""
    cells_q = changes.group_by(
        _label("old_", DETERMINATION).alias("old_determination"),
        _label("new_", DETERMINATION).alias("new_determination"),
    ).agg(*_lines_and_billed())
    metadata_only = _metadata_only()
    reasons_q = (
        changes.filter(~metadata_only)
        .group_by(
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
    classes_q = changes.group_by(
        pl.when(metadata_only).then(pl.lit(METADATA_ONLY)).otherwise(pl.lit(VERDICT_CHANGED)).alias("class")
    ).agg(*_lines_and_billed())
    # a metadata-only line has one determination and one reason (both runs agree on them)
    metadata_q = (
        changes.filter(metadata_only)
        .group_by(
            pl.col("new_determination").alias("determination"),
            pl.col("new_reason").alias("reason"),
            pl.col(CHANGED_FIELDS).list.join(",").alias("fields"),
        )
        .agg(*_lines_and_billed())
        .sort(["lines", "determination", "reason", "fields"], descending=[True, False, False, False], nulls_last=True)
        .head(TOP_REASONS)
    )
    return [cells_q, reasons_q, kinds_q, fields_q, classes_q, metadata_q]


def _net_by_determination(counts: SideCounts) -> list[dict[str, Any]]:
    """Each label's lines and billed in the old run and the new (the lines each compared), and new minus old."""
    per_side = [
        {r["label"]: (int(r["lines"]), r["billed_amount"] or 0) for r in c.iter_rows(named=True)} for c in counts
    ]
    old, new = per_side
    rows = []
    for label in sorted(old.keys() | new.keys(), key=_label_key):
        (old_lines, old_billed), (new_lines, new_billed) = old.get(label, (0, 0)), new.get(label, (0, 0))
        rows.append(
            {
                "determination": label,
                "old_lines": old_lines,
                "new_lines": new_lines,
                "net_lines": new_lines - old_lines,
                "old_billed_amount": _amount(old_billed),
                "new_billed_amount": _amount(new_billed),
                "net_billed_amount": _amount(Decimal(new_billed) - Decimal(old_billed)),
            }
        )
    return rows


def _run_id(manifest: dict[str, Any]) -> str | None:
    """The run id a manifest records, when it has one (informational only)."""
    value = manifest.get("run_id")
    return value if isinstance(value, str) else None


def _summary(
    counts: SideCounts,
    changes: pl.LazyFrame,
    reading: dict[str, dict[str, int]],
    old_out: Path,
    new_out: Path,
) -> dict[str, Any]:
    """The summary dict from each run's counts per label, the written changes (changed lines only) and what
    each run read (``reconciliation``'s ``reading``, less the manifest's skipped lines, added here)."""
    cells, reasons, kinds, fields, classes, metadata = pl.collect_all(_queries(changes), engine="streaming")
    by_kind = dict.fromkeys(CHANGE_KINDS, 0) | dict(zip(kinds[CHANGE_KIND], kinds["lines"], strict=True))
    by_field = dict.fromkeys(COMPARED_FIELDS, 0) | dict(zip(fields["field"], fields["lines"], strict=True))
    by_class = {c: {"lines": 0, "billed_amount": _amount(0)} for c in CHANGE_CLASSES}
    for r in classes.iter_rows(named=True):
        by_class[r["class"]] = {"lines": r["lines"], "billed_amount": _amount(r["billed_amount"])}
    matrix = _matrix(counts[1], cells)
    lines = sum(c["lines"] for c in matrix)
    changed = sum(by_kind.values())
    manifests = {"old": read_manifest(old_out), "new": read_manifest(new_out)}
    reading = {name: {**r, "skipped": skipped(manifests[name])} for name, r in reading.items()}
    return {
        "old": {"path": str(old_out), "run_id": _run_id(manifests["old"])},
        "new": {"path": str(new_out), "run_id": _run_id(manifests["new"])},
        "totals": {"lines_compared": lines, "changed": changed, "unchanged": lines - changed},
        "by_change_kind": by_kind,
        "changed_fields": by_field,
        "matrix": matrix,
        "top_reason_changes": [
            {**r, "billed_amount": _amount(r["billed_amount"])} for r in reasons.iter_rows(named=True)
        ],
        "unkeyed_rejects": {name: r["unkeyed_rejects"] for name, r in reading.items()},
        "by_change_class": by_class,
        "metadata_only_changes": [
            {**r, "fields": r["fields"].split(","), "billed_amount": _amount(r["billed_amount"])}
            for r in metadata.iter_rows(named=True)
        ],
        "net_by_determination": _net_by_determination(counts),
        "rule_tables": rule_tables(manifests["old"], manifests["new"]),
        "reconciliation": reconciliation(reading, counts, by_kind),
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


__all__ = [
    "CHANGE_CLASSES",
    "METADATA_ONLY",
    "POLICY_METADATA_FIELDS",
    "TOP_REASONS",
    "VERDICT_CHANGED",
    "VERDICT_FIELDS",
    "format_diff_summary",
]
