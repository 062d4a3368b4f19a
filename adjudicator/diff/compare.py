"""Comparing two runs line by line (``adjudicate diff``): what moved, streamed into DIFF_OUT with a summary.

Grain of ``changes.parquet``: one row per (claim_id, line_number) whose
outcome differs between the two runs, in no particular order. A line is
matched across runs by its key; rejects take part through their key (text
in ``rejects.parquet``, parsed as the validator parses it). Rejects whose key
does not parse cannot be matched and are only counted (``unkeyed_rejects``).

change_kind, first match wins:

- ``only_in_old`` / ``only_in_new``: the key is in one run only (result or reject);
- ``rejected_in_old`` / ``rejected_in_new``: a reject in that run, a result in the other;
- ``changed``: a result in both, and at least one of ``COMPARED_FIELDS`` differs
  (nulls compare equal to nulls); ``changed_fields`` names them.

A key rejected in both runs, or a result in both with no field differing, is
unchanged and is not written.

Memory does not grow with the runs, on either of two paths with the same
outputs. The partitioned path spills each run's keys and compared columns to
partition files by a hash of the key (``line_hash``) and compares the
partitions one at a time on the exact key (a fully outer join), so a hash
collision only puts two keys in one partition. The aligned path, taken only
when verified (``_compare_aligned``), zips two runs whose results hold the
same unique keys in the same order (two runs of the same inputs), reading each
file once. Changed lines are sunk to ``changes.parquet``; only small counts
are collected (docs/benchmarks.md, "diff").
"""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

import polars as pl
import pyarrow.parquet as pq

from adjudicator.contract import (
    BILLED_AMOUNT,
    CHANGE_KIND,
    CHANGED_FIELDS,
    CLAIM_ID,
    DETERMINATION,
    EDIT_CARCS,
    EDITS,
    LINE_NUMBER,
    PAYER_ID,
    REASON,
    SERVICE_DATE,
)
from adjudicator.embedded.spill import partition, partitions_for, sink_partitioned
from adjudicator.embedded.tuning import tune_reader
from adjudicator.engine.checks import RAW_PREFIX, parse
from adjudicator.errors import InputError, OutputError, first_line
from adjudicator.options import DEFAULT_SETTINGS, EngineSettings, Slice
from adjudicator.publish.folders import publish, scratch, staging
from adjudicator.publish.guards import check_out_dir
from adjudicator.publish.manifest import DIFF_CHANGES, DIFF_SUMMARY, MANIFEST, REJECTS, RESULTS
from adjudicator.readers.claims_list import slice_predicate

CHANGES: Final = DIFF_CHANGES
SUMMARY: Final = DIFF_SUMMARY

KEYS: Final = (CLAIM_ID, LINE_NUMBER)

#: result columns compared between the runs, in output order
COMPARED_FIELDS: Final = (
    DETERMINATION,
    REASON,
    "policy_id",
    "policy_version",
    "policy_effective_date",
    "policy_end_date",
    "group_code",
    "carc",
    "rarc",
    EDITS,
    EDIT_CARCS,
)

ONLY_IN_OLD: Final = "only_in_old"
ONLY_IN_NEW: Final = "only_in_new"
REJECTED_IN_OLD: Final = "rejected_in_old"
REJECTED_IN_NEW: Final = "rejected_in_new"
CHANGED: Final = "changed"
CHANGE_KINDS: Final = (CHANGED, ONLY_IN_OLD, ONLY_IN_NEW, REJECTED_IN_OLD, REJECTED_IN_NEW)

#: what a side is for a key, and the matrix labels of the two non-result states
_RESULT = "result"
_REJECTED = "rejected"
ABSENT_LABEL: Final = "(absent)"
REJECTED_LABEL: Final = "(rejected)"
#: matrix order: the contract's determinations first, then anything else, then the two states
_LABEL_ORDER = ("NOT_MEDICALLY_NECESSARY", "BENEFIT_PLAN_REVIEW", "NO_ACTION")

TOP_REASONS: Final = 10


#: on a side: "result" or "rejected"; in compare's output and changes.parquet old_status/new_status
_STATUS = "status"
#: a reject's position in rejects.parquet: the first copy of a key rejected more than once gives its amount
_ROW = "_row"
#: a function of the exact key, spread evenly: which partition a line goes to
KeyHash = Callable[[], pl.Expr]
#: entry i lists the compared fields whose bit is set in i
_FIELD_LISTS: Final = pl.Series(
    [[f for i, f in enumerate(COMPARED_FIELDS) if m >> i & 1] for m in range(1 << len(COMPARED_FIELDS))],
    dtype=pl.List(pl.String),
)


def _old(column: str) -> str:
    return f"old_{column}"


def _new(column: str) -> str:
    return f"new_{column}"


def _schema(path: Path, required: Sequence[str]) -> pl.Schema:
    """The Parquet file's schema, or an InputError naming the file (missing, unreadable, lacking columns)."""
    if not path.is_file():
        raise InputError(f"{path}: not found; is {path.parent} the output folder of a run?")
    try:
        schema = pl.scan_parquet(path, glob=False).collect_schema()
    except (OSError, pl.exceptions.PolarsError) as exc:
        first = first_line(exc)
        raise InputError(f"{path}: cannot read as Parquet: {first}") from None
    missing = [c for c in required if c not in schema]
    if missing:
        raise InputError(f"{path}: missing columns {missing}; is it a run's {path.name}?")
    return schema


def _run_id(folder: Path) -> str | None:
    """The run id from the manifest, when there is a readable one (informational only)."""
    try:
        value = json.loads((folder / MANIFEST).read_text(encoding="utf-8")).get("run_id")
    except (OSError, ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


def _check_run(folder: Path) -> tuple[pl.Schema, pl.Schema]:
    if not folder.is_dir():
        raise InputError(f"{folder}: run folder not found")
    results = _schema(folder / RESULTS, [*KEYS, BILLED_AMOUNT, *COMPARED_FIELDS])
    rejects = _schema(folder / REJECTS, [*KEYS, BILLED_AMOUNT])
    return results, rejects


def reject_keys(rejects: pl.LazyFrame) -> pl.LazyFrame:
    """Rejects' text key and amount parsed as the validator parses them (null where they do not parse).

    Grain: one row per reject. Columns: claim_id, line_number (Int64), billed_amount (Decimal).
    """
    parsed = [LINE_NUMBER, BILLED_AMOUNT]
    return rejects.select(CLAIM_ID, *(pl.col(c).cast(pl.String).alias(RAW_PREFIX + c) for c in parsed)).select(
        CLAIM_ID, *(parse(c, pl.String()).alias(c) for c in parsed)
    )


def _has_key() -> pl.Expr:
    """A reject's key is usable when both parts parsed; a blank claim_id is missing, as the validator says."""
    return (pl.col(CLAIM_ID).str.strip_chars() != "").fill_null(False) & pl.col(LINE_NUMBER).is_not_null()


def side(results: pl.LazyFrame, rejects: pl.LazyFrame) -> pl.LazyFrame:
    """One run as one row per key: its results, then the keys it only rejected.

    Grain: one row per (claim_id, line_number).
    Columns: the keys, ``status`` ("result" or "rejected"), billed_amount and
    ``COMPARED_FIELDS`` (null on a rejected key). A key rejected more than once
    (a duplicated key) counts once, with the amount of its first copy; a
    rejected key that is also a result (which a run never writes) is taken as
    the result.
    """
    return _side(_result_rows(results), _keyed_rejects(rejects))


def _result_rows(results: pl.LazyFrame) -> pl.LazyFrame:
    """The columns of a run's results the diff reads. Grain: one row per result."""
    return results.select(*KEYS, BILLED_AMOUNT, *COMPARED_FIELDS)


def _keyed_rejects(rejects: pl.LazyFrame) -> pl.LazyFrame:
    """The rejects with a usable key, parsed, and their position in the file (``_row``). Grain: one row per reject."""
    return reject_keys(rejects).with_row_index(_ROW).filter(_has_key())


def _side(results: pl.LazyFrame, keyed_rejects: pl.LazyFrame) -> pl.LazyFrame:
    """``side`` from ``_result_rows`` and ``_keyed_rejects`` (of a whole run, or of one spill partition of it)."""
    return pl.concat([_kept(results), _rejected_only(results, keyed_rejects)], how="diagonal")


def _kept(results: pl.LazyFrame) -> pl.LazyFrame:
    """A side's rows of the run's results (``_result_rows``). Grain: one row per result."""
    return results.with_columns(pl.lit(_RESULT).alias(_STATUS)).select(*KEYS, _STATUS, BILLED_AMOUNT, *COMPARED_FIELDS)


def _rejected_only(results: pl.LazyFrame, keyed_rejects: pl.LazyFrame) -> pl.LazyFrame:
    """A side's rows of the keys the run rejected and has no result for. Grain: one row per such key."""
    rejected = keyed_rejects.group_by(KEYS).agg(pl.col(BILLED_AMOUNT).sort_by(_ROW).first())
    # the few rejected keys that are also results, found by streaming the results against the rejected keys
    # (a join whose table holds the rejects, not the results)
    also_results = results.select(KEYS).join(rejected.select(KEYS), on=list(KEYS), how="semi")
    return rejected.join(also_results, on=list(KEYS), how="anti").with_columns(pl.lit(_REJECTED).alias(_STATUS))


def compare(old: pl.LazyFrame, new: pl.LazyFrame) -> pl.LazyFrame:
    """Every key of either side with the two sides' values and what changed (pure; see ``side``).

    Grain: one row per (claim_id, line_number) of either run. Adds
    ``change_kind`` (null: unchanged), ``changed_fields`` (list, empty unless
    ``changed``), billed_amount (the new run's, else the old run's),
    ``old_status``/``new_status`` ("result", "rejected"; null: absent) and
    ``old_``/``new_`` columns for each compared field.
    """
    return _classified(_joined(old, new), changed_only=False)


def _sides_columns(frame: pl.LazyFrame, prefix: Callable[[str], str]) -> pl.LazyFrame:
    return frame.rename({c: prefix(c) for c in (_STATUS, BILLED_AMOUNT, *COMPARED_FIELDS)})


def _joined(old: pl.LazyFrame, new: pl.LazyFrame) -> pl.LazyFrame:
    """Two sides fully outer-joined on the exact key, their columns prefixed ``old_`` and ``new_``."""
    return _sides_columns(old, _old).join(_sides_columns(new, _new), on=list(KEYS), how="full", coalesce=True)


#: the bit mask of the compared fields that differ (see ``_FIELD_LISTS``)
_MASK = "_changed_mask"


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
    kind = (
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
    classified = joined.with_columns(mask.alias(_MASK)).with_columns(kind.alias(CHANGE_KIND))
    if changed_only:
        classified = classified.filter(pl.col(CHANGE_KIND).is_not_null())
    return classified.select(
        *KEYS,
        CHANGE_KIND,
        pl.lit(_FIELD_LISTS).gather(pl.col(_MASK)).alias(CHANGED_FIELDS),
        pl.coalesce(pl.col(_new(BILLED_AMOUNT)), pl.col(_old(BILLED_AMOUNT))).alias(BILLED_AMOUNT),
        old_status,
        new_status,
        *(pl.col(prefix(f)) for f in COMPARED_FIELDS for prefix in (_old, _new)),
    )


def _label(prefix: str, column: str) -> pl.Expr:
    """A side's value of ``column`` for the summary: "(absent)" / "(rejected)" when it has no result.

    ``prefix`` is "old_" or "new_" on ``compare``'s output, "" on a ``side``.
    """
    status = pl.col(prefix + _STATUS)
    return (
        pl.when(status.is_null())
        .then(pl.lit(ABSENT_LABEL))
        .when(status == _REJECTED)
        .then(pl.lit(REJECTED_LABEL))
        .otherwise(pl.col(prefix + column))
    )


def changed_lines(compared: pl.LazyFrame) -> pl.LazyFrame:
    """What ``changes.parquet`` holds: ``compare``'s rows that have a change kind."""
    return compared.filter(pl.col(CHANGE_KIND).is_not_null())


def _changes(old: pl.LazyFrame, new: pl.LazyFrame) -> pl.LazyFrame:
    """``changed_lines(compare(old, new))``, with the unchanged rows dropped early."""
    return _classified(_joined(old, new), changed_only=True)


def side_counts(side_frame: pl.LazyFrame) -> pl.LazyFrame:
    """Lines and billed amount per label (determination, or "(rejected)") of one run's ``side``.

    Grain: one row per label. With the changes, this is all the matrix needs:
    an unchanged line has the same label in both runs, and is counted by its new run's amount.
    """
    return side_frame.group_by(_label("", DETERMINATION).alias("label")).agg(
        pl.len().alias("lines"), pl.col(BILLED_AMOUNT).sum().alias("billed_amount")
    )


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
    if label in _LABEL_ORDER:
        return _LABEL_ORDER.index(label), ""
    if label == REJECTED_LABEL:
        return len(_LABEL_ORDER) + 2, ""
    if label == ABSENT_LABEL:
        return len(_LABEL_ORDER) + 3, ""
    return len(_LABEL_ORDER) + 1, label or ""


def _summary(
    new_counts: pl.DataFrame,
    changes: pl.LazyFrame,
    unkeyed: dict[str, int],
    old_out: Path,
    new_out: Path,
) -> dict[str, Any]:
    """The summary dict from the new run's counts per label and the written changes (changed lines only)."""
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
    cells, reasons, kinds, fields = pl.collect_all([cells_q, reasons_q, kinds_q, fields_q], engine="streaming")
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


def line_hash() -> pl.Expr:
    """A 64-bit hash of the exact key (claim_id as text, line_number as Int64): a line's spill partition.

    Results and rejects hash the same key alike, so a key's rows of both files,
    in both runs, land in one partition.
    """
    return pl.struct(pl.col(CLAIM_ID).cast(pl.String), pl.col(LINE_NUMBER).cast(pl.Int64)).hash(seed=0)


def _rows(path: Path) -> int:
    """Rows of a Parquet file, from its footer."""
    return int(pq.ParquetFile(path).metadata.num_rows)


def slice_of(folder: Path) -> pl.Expr | None:
    """The slice predicate of the run in ``folder`` (over typed canonical columns), from its manifest;
    None when the run was not sliced (or has no readable manifest)."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        recorded = manifest["options"]
        spec = Slice.from_json(recorded.get("slice"), cwd=recorded.get("cwd"))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return slice_predicate(spec)


#: the columns a slice looks at
_SLICED = (CLAIM_ID, PAYER_ID, SERVICE_DATE)


def within_slice(
    results: pl.LazyFrame, rejects: pl.LazyFrame, keep: pl.Expr | None
) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """A run's results and rejects restricted to the lines inside the slice ``keep`` (as the run itself
    decides: a value that does not parse, such as a reject's bad date, stays inside)."""
    if keep is None:
        return results, rejects
    inside = keep.fill_null(True)
    moved = {c: f"_text_of_{c}" for c in _SLICED}
    parsed = (
        rejects.rename(moved)
        .with_columns(pl.col(moved[c]).cast(pl.String).alias(RAW_PREFIX + c) for c in _SLICED)
        .with_columns(parse(c, pl.String()).alias(c) for c in _SLICED)
        .filter(inside)
        .drop(*_SLICED, *(RAW_PREFIX + c for c in _SLICED))
        .rename({v: k for k, v in moved.items()})
    )
    return results.filter(inside), parsed.select(rejects.collect_schema().names())


class _Run:
    """One run's rows as the diff reads them: whole, or spilled to partition files by key hash.

    ``keep``: the other run's slice (``slice_of``); only the lines inside it are compared.
    """

    def __init__(self, folder: Path, keep: pl.Expr | None = None, settings: EngineSettings = DEFAULT_SETTINGS) -> None:
        self.settings = settings
        results, rejects = within_slice(
            pl.scan_parquet(folder / RESULTS, glob=False), pl.scan_parquet(folder / REJECTS, glob=False), keep
        )
        self.all_rejects = rejects
        self.results = _result_rows(results)
        self.rejects = _keyed_rejects(rejects)
        self.spill: Path | None = None

    def spill_to(self, spill: Path, hash_: pl.Expr, partitions: int) -> None:
        # one sink after the other: a scan feeding both at once holds more (docs/benchmarks.md)
        for frame, name in ((self.results, "results"), (self.rejects, "rejects")):
            sink_partitioned(frame, hash_, partitions, spill / name, files_open=self.settings.spill_files_open)
        self.spill = spill

    def side(self, index: int) -> pl.LazyFrame:
        """``side`` of the whole run, or of its partition ``index`` once spilled."""
        if self.spill is None:
            return _side(self.results, self.rejects)
        return _side(
            partition(self.spill / "results", index, self.results.collect_schema()),
            partition(self.spill / "rejects", index, self.rejects.collect_schema()),
        )


def _compare_runs(old: _Run, new: _Run, partitions: int, changes: Path, spill: Path) -> pl.DataFrame:
    """Compare the runs partition by partition, writing the changed lines to ``changes``.

    Returns the new run's lines and billed amount per label (``side_counts``),
    summed over the partitions. A partition's changed lines are sunk to their
    own file in ``spill`` and the files are joined into one at the end.
    """
    parts = []
    counts = []
    for index in range(partitions):
        new_side = new.side(index)
        part = spill / f"changes-{index}.parquet" if partitions > 1 else changes
        sink = _changes(old.side(index), new_side).sink_parquet(part, lazy=True)
        _, label_counts = pl.collect_all([sink, side_counts(new_side)], engine="streaming")
        parts.append(part)
        counts.append(label_counts)
    if partitions > 1:
        pl.scan_parquet(parts, hive_partitioning=False, glob=False).sink_parquet(changes, engine="streaming")
    return pl.concat(counts).group_by("label").agg(pl.col("lines").cast(pl.Int64).sum(), pl.col(BILLED_AMOUNT).sum())


#: the new run's key columns while two runs' results are zipped
_NEW_KEYS: Final = tuple(f"_new_{k}" for k in KEYS)


def _zipped(old_results: pl.LazyFrame, new_results: pl.LazyFrame) -> pl.LazyFrame:
    """Two runs' results side by side, row i beside row i, as ``_joined`` lays them out.

    Only equal to ``_joined`` when the runs' keys are unique and equal row by
    row (``_misaligned`` counts the rows where they are not): ``_compare_aligned`` checks.
    """
    new = _sides_columns(_kept(new_results), _new).rename(dict(zip(KEYS, _NEW_KEYS, strict=True)))
    return pl.concat([_sides_columns(_kept(old_results), _old), new], how="horizontal")


def _misaligned() -> pl.Expr:
    return pl.any_horizontal(pl.col(k).ne_missing(pl.col(n)) for k, n in zip(KEYS, _NEW_KEYS, strict=True))


def _unique_keys(results: pl.LazyFrame, rows: int, hash_: pl.Expr, spill: Path, settings: EngineSettings) -> bool:
    """Whether no two results share a key hash (so no two share a key), in memory that does not grow with them.

    The hashes are spilled to partition files by hash and each file is checked
    on its own. A shared hash (a duplicate, or a collision) answers False.
    """
    hashes = results.select(hash_.alias("_hash"))
    partitions = max(1, -(-rows // settings.diff_hashes_per_partition))
    if partitions > 1:
        sink_partitioned(hashes, pl.col("_hash"), partitions, spill, files_open=settings.spill_files_open)
        parts = [partition(spill, i, hashes.collect_schema()) for i in range(partitions)]
    else:
        parts = [hashes]
    return all(part.select(pl.col("_hash").n_unique() == pl.len()).collect(engine="streaming").item() for part in parts)


def _compare_aligned(
    old_out: Path, new_out: Path, hash_: pl.Expr, changes: Path, spill: Path, settings: EngineSettings
) -> pl.DataFrame | None:
    """The fast path: zip the runs' results line by line, when that is verified to equal the join on keys.

    Verified, never assumed from the manifests: the results files hold as many
    rows, row i of one has the key of row i of the other (every row checked, the
    keys alone, before anything is written), and no two old results share a key
    (``_unique_keys``), so the zip pairs exactly the rows the join on keys
    pairs. The keys a run only rejected (at most ``diff_aligned_max_rejects``
    rejects) are compared as the partitioned path compares them.
    Returns the new run's counts per label, as ``_compare_runs`` does, or None
    (nothing written) when the runs are not aligned.
    """
    old, new = _Run(old_out, settings=settings), _Run(new_out, settings=settings)
    zip_rows = settings.diff_zip_rows
    rows = _rows(old_out / RESULTS)
    if (
        rows != _rows(new_out / RESULTS)
        or max(_rows(f / REJECTS) for f in (old_out, new_out)) > settings.diff_aligned_max_rejects
    ):
        return None
    # zipped a slice at a time: two scans run at their own pace, and while one waits on a cold file the
    # other's rows wait in memory (10M lines zipped whole: 0.6 to 1.7 GB from one run to the next)
    slices = range(0, rows, zip_rows)

    def zipped(offset: int) -> pl.LazyFrame:
        return _zipped(old.results.slice(offset, zip_rows), new.results.slice(offset, zip_rows))

    # the keys alone first (a fraction of a second): most runs that are not aligned stop here
    if any(zipped(offset).select(_misaligned().any()).collect(engine="streaming").item() for offset in slices):
        return None
    if not _unique_keys(old.results, rows, hash_, spill / "hashes", settings):
        return None
    parts = [spill / f"changes-{i}.parquet" for i in range(len(slices))]
    for offset, part in zip(slices, parts, strict=True):
        _classified(zipped(offset), changed_only=True).sink_parquet(part, engine="streaming")
    # each run's side less its results (the zip compared those), typed as a whole side is; small (the rejects
    # are at most diff_aligned_max_rejects rows), so collected once rather than joined with the results again
    rejected = [
        pl.concat([_kept(run.results).clear(), _rejected_only(run.results, run.rejects)], how="diagonal")
        .collect(engine="streaming")
        .lazy()
        for run in (old, new)
    ]
    rejects_part = spill / "changes-rejects.parquet"
    _changes(*rejected).sink_parquet(rejects_part, engine="streaming")
    every = pl.scan_parquet([*parts, rejects_part], hive_partitioning=False, glob=False)
    every.sink_parquet(changes, engine="streaming")
    counts = [side_counts(_kept(new.results)).collect(engine="streaming"), side_counts(rejected[1]).collect()]
    return pl.concat(counts).group_by("label").agg(pl.col("lines").cast(pl.Int64).sum(), pl.col(BILLED_AMOUNT).sum())


def diff_runs(
    old_out: Path,
    new_out: Path,
    out: Path,
    *,
    overwrite: bool = False,
    partitions: int | None = None,
    key_hash: KeyHash = line_hash,
    aligned: bool = True,
    settings: EngineSettings = DEFAULT_SETTINGS,
) -> dict[str, Any]:
    """Compare the runs in ``old_out`` and ``new_out``; publish ``out``/changes.parquet, summary.json, report.html.

    Returns the summary (see ``format_diff_summary``). ``out`` is written in a
    temporary folder beside it and renamed into place, so it is either the
    complete new diff or left as it was. ``partitions``: how many spill
    partitions (default: from the runs' row counts, ``partitions_for``; 1
    compares the runs without spilling them); ``key_hash`` picks a line's
    partition; ``aligned``: try the fast path first (``_compare_aligned``).
    None of them changes the outcome: partitions are compared on exact keys.
    """
    tune_reader()
    old_out, new_out, out = Path(old_out), Path(new_out), Path(out)
    old_schemas = _check_run(old_out)
    new_schemas = _check_run(new_out)
    for field in COMPARED_FIELDS:
        old_type, new_type = old_schemas[0][field], new_schemas[0][field]
        if old_type != new_type and pl.Null() not in (old_type, new_type):
            raise InputError(
                f"{new_out / RESULTS}: column {field} is {new_type}, but {old_type} in {old_out / RESULTS}"
            )
    if out.resolve() in (old_out.resolve(), new_out.resolve()):
        raise OutputError(f"{out}: is one of the runs being compared; choose another --out")
    check_out_dir(out, overwrite=overwrite, protected=(old_out, new_out))
    if partitions is None:
        rows = max(_rows(f / RESULTS) + _rows(f / REJECTS) for f in (old_out, new_out))
        partitions = partitions_for(rows, settings.diff_rows_per_partition)
    if partitions < 1:
        raise ValueError(f"'partitions' must be at least 1, got {partitions!r}")

    # a line one run skipped (outside its slice) was not adjudicated there: each side keeps only the lines
    # the other run's slice holds, so a full run against a slice compares the lines both adjudicated
    keep_old, keep_new = slice_of(new_out), slice_of(old_out)
    runs = {"old": _Run(old_out, keep_old, settings), "new": _Run(new_out, keep_new, settings)}
    # the aligned path zips whole files: a sliced comparison takes the partitioned one
    aligned = aligned and keep_old is None and keep_new is None
    unkeyed_q = [
        reject_keys(run.all_rejects).filter(~_has_key()).select(pl.len().alias(name)) for name, run in runs.items()
    ]
    diff_id = uuid.uuid4().hex
    with staging(out, diff_id) as tmp, scratch(out, diff_id) as spill:
        new_counts = _compare_aligned(old_out, new_out, key_hash(), tmp / CHANGES, spill, settings) if aligned else None
        if new_counts is None:
            if partitions > 1:
                for name, run in runs.items():
                    run.spill_to(spill / name, key_hash(), partitions)
            new_counts = _compare_runs(runs["old"], runs["new"], partitions, tmp / CHANGES, spill)
        shutil.rmtree(spill, ignore_errors=True)
        unkeyed = {f.columns[0]: int(f.item()) for f in pl.collect_all(unkeyed_q, engine="streaming")}
        summary = _summary(new_counts, pl.scan_parquet(tmp / CHANGES, glob=False), unkeyed, old_out, new_out)
        with (tmp / SUMMARY).open("w", encoding="utf-8") as f:
            json.dump(summary, f, indent=2)
            f.write("\n")
        from adjudicator.report.render import write_diff_report  # here: the report imports this module's names

        write_diff_report(tmp, summary)
        publish(tmp, out, diff_id, overwrite=overwrite)
    return summary


def _table(title: str, rows: list[str], cols: list[str], cell: dict[tuple[str, str], str]) -> list[str]:
    """A text matrix: ``rows`` down, ``cols`` across, "." where a cell is empty."""
    first = max([len(title), *(len(r) for r in rows)]) + 2
    widths = [max([len(c), *(len(cell.get((r, c), "")) for r in rows)]) + 2 for c in cols]

    def line(label: str, values: list[str]) -> str:
        return f"{label:<{first}}" + "".join(f"{v:>{w}}" for v, w in zip(values, widths, strict=True))

    return [line(title, cols), *(line(r, [cell.get((r, c), ".") for c in cols]) for r in rows)]


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
    cells = summary["matrix"]
    if cells:
        rows = sorted({c["old_determination"] for c in cells}, key=_label_key)
        cols = sorted({c["new_determination"] for c in cells}, key=_label_key)
        for what, fmt in (("lines", lambda v: f"{v:,}"), ("billed_amount", lambda v: f"{Decimal(v):,}")):
            cell = {(c["old_determination"], c["new_determination"]): fmt(c[what]) for c in cells}
            lines += ["", f"{what}: old determination (rows) x new determination (columns)"]
            lines += _table("old \\ new", rows, cols, cell)
    if summary["top_reason_changes"]:
        lines += ["", f"{'top reasons for change: old reason -> new reason':<72}{'lines':>10}{'billed':>16}"]
        for r in summary["top_reason_changes"]:
            pair = f"{r['old_reason'] or '-'} -> {r['new_reason'] or '-'}"
            lines.append(f"{pair:<72}{r['lines']:>10,}{Decimal(r['billed_amount']):>16,}")
    unkeyed = summary["unkeyed_rejects"]
    if any(unkeyed.values()):
        lines += ["", f"rejects without a usable key (not compared): old {unkeyed['old']:,}, new {unkeyed['new']:,}"]
    return "\n".join(lines)


__all__ = [
    "CHANGES",
    "CHANGE_KINDS",
    "COMPARED_FIELDS",
    "SUMMARY",
    "changed_lines",
    "compare",
    "diff_runs",
    "format_diff_summary",
    "line_hash",
    "reject_keys",
    "side",
    "side_counts",
]
