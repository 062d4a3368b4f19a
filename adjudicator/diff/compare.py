"""Comparing two runs' sides key by key: what changed for each key, and the partitioned comparison of two runs.

Grain of ``changes.parquet``: one row per (claim_id, line_number) whose
outcome differs between the two runs, in no particular order (a side:
``adjudicator.diff.sides``).

change_kind, first match wins:

- ``only_in_old`` / ``only_in_new``: the key is in one run only (result or reject);
- ``rejected_in_old`` / ``rejected_in_new``: a reject in that run, a result in the other;
- ``changed``: a result in both, and at least one of ``COMPARED_FIELDS`` differs
  (nulls compare equal to nulls); ``changed_fields`` names them.

A key rejected in both runs, or a result in both with no field differing, is
unchanged and is not written.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Final

import polars as pl

from adjudicator.contract import BILLED_AMOUNT, CHANGE_KIND, CHANGED_FIELDS
from adjudicator.diff.sides import _REJECTED, _RESULT, _STATUS, COMPARED_FIELDS, CONTEXT_FIELDS, KEYS, _Run, side_counts
from adjudicator.embedded.events import Meter

ONLY_IN_OLD: Final = "only_in_old"
ONLY_IN_NEW: Final = "only_in_new"
REJECTED_IN_OLD: Final = "rejected_in_old"
REJECTED_IN_NEW: Final = "rejected_in_new"
CHANGED: Final = "changed"
CHANGE_KINDS: Final = (CHANGED, ONLY_IN_OLD, ONLY_IN_NEW, REJECTED_IN_OLD, REJECTED_IN_NEW)

#: entry i lists the compared fields whose bit is set in i
_FIELD_LISTS: Final = pl.Series(
    [[f for i, f in enumerate(COMPARED_FIELDS) if m >> i & 1] for m in range(1 << len(COMPARED_FIELDS))],
    dtype=pl.List(pl.String),
)


def _old(column: str) -> str:
    return f"old_{column}"


def _new(column: str) -> str:
    return f"new_{column}"


def compare(old: pl.LazyFrame, new: pl.LazyFrame) -> pl.LazyFrame:
    """Every key of either side with the two sides' values and what changed (pure; see ``side``).

    Grain: one row per (claim_id, line_number) of either run. Adds
    ``change_kind`` (null: unchanged), ``changed_fields`` (list, empty unless
    ``changed``), billed_amount (the new run's, else the old run's),
    ``CONTEXT_FIELDS`` (service_date, member_id, payer_id: the new run's side's
    when it has the key, else the old run's), ``old_status``/``new_status`` ("result", "rejected"; null: absent) and
    ``old_``/``new_`` columns for each compared field.
    """
    return _classified(_joined(old, new), changed_only=False)


def _sides_columns(frame: pl.LazyFrame, prefix: Callable[[str], str]) -> pl.LazyFrame:
    return frame.rename({c: prefix(c) for c in (_STATUS, BILLED_AMOUNT, *CONTEXT_FIELDS, *COMPARED_FIELDS)})


def _joined(old: pl.LazyFrame, new: pl.LazyFrame) -> pl.LazyFrame:
    """Two sides fully outer-joined on the exact key, their columns prefixed ``old_`` and ``new_``."""
    return _sides_columns(old, _old).join(_sides_columns(new, _new), on=list(KEYS), how="full", coalesce=True)


#: the bit mask of the compared fields that differ (see ``_FIELD_LISTS``)
_MASK = "_changed_mask"


def _change_kind(old_status: pl.Expr, new_status: pl.Expr) -> pl.Expr:
    """A row's change kind (first match wins), from the two sides' status and ``_MASK``; null: unchanged."""
    return (
        pl.when(old_status.is_null())
        .then(pl.lit(ONLY_IN_NEW))
        .when(new_status.is_null())
        .then(pl.lit(ONLY_IN_OLD))
        .when((old_status == _REJECTED) & (new_status == _RESULT))
        .then(pl.lit(REJECTED_IN_OLD))
        .when((old_status == _RESULT) & (new_status == _REJECTED))
        .then(pl.lit(REJECTED_IN_NEW))
        .when(pl.col(_MASK) != 0)
        .then(pl.lit(CHANGED))
        .otherwise(pl.lit(None, pl.String))
    )


def _classified(joined: pl.LazyFrame, *, changed_only: bool) -> pl.LazyFrame:
    """``compare``'s columns from the two sides put side by side (``_joined``, or two aligned runs zipped).

    ``changed_only``: keep only the rows with a change kind, dropping the others
    before their ``changed_fields`` list is built (most rows of a diff).
    """
    old_status, new_status = pl.col(_old(_STATUS)), pl.col(_new(_STATUS))
    both_results = (old_status == _RESULT) & (new_status == _RESULT)
    differs = [both_results & pl.col(_old(f)).ne_missing(pl.col(_new(f))) for f in COMPARED_FIELDS]
    # one bit per field; the list is gathered from all 2**n possible lists, which is far cheaper
    # than building a list per row
    mask = pl.sum_horizontal([d.fill_null(False).cast(pl.Int64) * (1 << i) for i, d in enumerate(differs)])
    kind = _change_kind(old_status, new_status)
    classified = joined.with_columns(mask.alias(_MASK)).with_columns(kind.alias(CHANGE_KIND))
    if changed_only:
        classified = classified.filter(pl.col(CHANGE_KIND).is_not_null())
    return classified.select(
        *KEYS,
        CHANGE_KIND,
        pl.lit(_FIELD_LISTS).gather(pl.col(_MASK)).alias(CHANGED_FIELDS),
        pl.coalesce(pl.col(_new(BILLED_AMOUNT)), pl.col(_old(BILLED_AMOUNT))).alias(BILLED_AMOUNT),
        # the side's context as a whole (a reject's blank member stays blank rather than taking the old run's)
        *(
            pl.when(new_status.is_null()).then(pl.col(_old(c))).otherwise(pl.col(_new(c))).alias(c)
            for c in CONTEXT_FIELDS
        ),
        old_status,
        new_status,
        *(pl.col(prefix(f)) for f in COMPARED_FIELDS for prefix in (_old, _new)),
    )


def changed_lines(compared: pl.LazyFrame) -> pl.LazyFrame:
    """What ``changes.parquet`` holds: ``compare``'s rows that have a change kind."""
    return compared.filter(pl.col(CHANGE_KIND).is_not_null())


def _changes(old: pl.LazyFrame, new: pl.LazyFrame) -> pl.LazyFrame:
    """``changed_lines(compare(old, new))``, with the unchanged rows dropped early."""
    return _classified(_joined(old, new), changed_only=True)


def _counts_per_label(counts: list[pl.DataFrame]) -> pl.DataFrame:
    """Parts' ``side_counts`` summed per label."""
    return pl.concat(counts).group_by("label").agg(pl.col("lines").cast(pl.Int64).sum(), pl.col(BILLED_AMOUNT).sum())


#: each run's lines and billed amount per label (``side_counts``): (old, new)
SideCounts = tuple[pl.DataFrame, pl.DataFrame]


def _compare_runs(
    old: _Run, new: _Run, partitions: int, changes: Path, spill: Path, *, meter: Meter | None = None
) -> SideCounts:
    """Compare the runs partition by partition, writing the changed lines to ``changes``.

    Returns each run's lines and billed amount per label (``side_counts``),
    summed over the partitions. A partition's changed lines are sunk to their
    own file in ``spill`` and the files are joined into one at the end. ``meter``: the run log's meter of
    the comparison, advanced by each partition (in partitions, unless the caller sized it).
    """
    if meter is not None and meter.total is None:  # else the caller counts in steps of its own
        meter.total, meter.unit = partitions, "partitions"
    parts = []
    old_counts, new_counts = [], []
    for index in range(partitions):
        old_side, new_side = old.side(index), new.side(index)
        part = spill / f"changes-{index}.parquet" if partitions > 1 else changes
        sink = _changes(old_side, new_side).sink_parquet(part, lazy=True)
        _, new_part = pl.collect_all([sink, side_counts(new_side)], engine="streaming")
        # after the join, not beside it: the join's table is what a partition holds at its peak
        old_part = side_counts(old_side).collect(engine="streaming")
        parts.append(part)
        old_counts.append(old_part)
        new_counts.append(new_part)
        if meter is not None:
            meter.advance()
    if partitions > 1:
        pl.scan_parquet(parts, hive_partitioning=False, glob=False).sink_parquet(changes, engine="streaming")
    return _counts_per_label(old_counts), _counts_per_label(new_counts)


__all__ = [
    "CHANGED",
    "CHANGE_KINDS",
    "ONLY_IN_NEW",
    "ONLY_IN_OLD",
    "REJECTED_IN_NEW",
    "REJECTED_IN_OLD",
    "changed_lines",
    "compare",
]
