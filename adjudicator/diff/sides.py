"""A run's side of the diff: its results and rejects as one row per key, its slice, and its spill by key hash.

Grain of a side: one row per (claim_id, line_number) of one run (``side``).
A line is matched across runs by its key; rejects take part through their key
(text in ``rejects.parquet``, parsed as the validator parses it). Rejects whose
key does not parse cannot be matched and are only counted (``unkeyed_rejects``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Final

import polars as pl
import pyarrow.parquet as pq

from adjudicator.contract import (
    ABSENT_LABEL,
    BILLED_AMOUNT,
    CANONICAL,
    CLAIM_ID,
    DECISION_COLUMNS,
    DETERMINATION,
    LINE_NUMBER,
    MEMBER_ID,
    MESSAGE,
    PAYER_ID,
    REJECTED_LABEL,
    SERVICE_DATE,
)
from adjudicator.embedded.spill import partition, sink_partitioned
from adjudicator.engine.checks import RAW_PREFIX, parse
from adjudicator.errors import InputError, first_line
from adjudicator.options import DEFAULT_SETTINGS, EngineSettings, Slice
from adjudicator.publish.manifest import CLAIMS_LIST, MANIFEST, REJECTS, RESULTS
from adjudicator.readers.claims_list import read_claim_ids
from adjudicator.rules.tables import sha256

KEYS: Final = (CLAIM_ID, LINE_NUMBER)

#: the decision columns the diff does not compare (docs/diff.md lists the compared ones)
_NOT_COMPARED: Final = (
    "policy_stance",
    "policy_source",
    "plan_version_effective_date",
    "plan_line_of_business",
    MESSAGE,
)
#: result columns compared between the runs, in output order
COMPARED_FIELDS: Final = tuple(c for c in DECISION_COLUMNS if c not in _NOT_COMPARED)

#: where and whose a line is: carried beside each key to changes.parquet (the new run's, else the old run's)
CONTEXT_FIELDS: Final = (SERVICE_DATE, MEMBER_ID, PAYER_ID)

#: what a side is for a key
_RESULT = "result"
_REJECTED = "rejected"
#: on a side: "result" or "rejected"; in compare's output and changes.parquet old_status/new_status
_STATUS = "status"
#: a reject's position in rejects.parquet: the first copy of a key rejected more than once gives its amount
_ROW = "_row"
#: a function of the exact key, spread evenly: which partition a line goes to
KeyHash = Callable[[], pl.Expr]


def _schema(path: Path, required: Sequence[str]) -> pl.Schema:
    """The Parquet file's schema, or an InputError naming the file (missing, unreadable, lacking columns)."""
    if not path.is_file():
        raise InputError(f"not found; is {path.parent} the output folder of a run?", path=path)
    try:
        schema = pl.scan_parquet(path, glob=False).collect_schema()
    except (OSError, pl.exceptions.PolarsError) as exc:
        first = first_line(exc)
        raise InputError(f"cannot read as Parquet: {first}", path=path) from None
    missing = [c for c in required if c not in schema]
    if missing:
        raise InputError(f"missing columns {missing}; is it a run's {path.name}?", path=path)
    return schema


def _check_run(folder: Path) -> tuple[pl.Schema, pl.Schema]:
    """The run's results and rejects schemas, or an InputError naming what is missing."""
    if not folder.is_dir():
        raise InputError("run folder not found", path=folder)
    results = _schema(folder / RESULTS, [*KEYS, BILLED_AMOUNT, *CONTEXT_FIELDS, *COMPARED_FIELDS])
    rejects = _schema(folder / REJECTS, [*KEYS, BILLED_AMOUNT, *CONTEXT_FIELDS])
    return results, rejects


def reject_keys(rejects: pl.LazyFrame) -> pl.LazyFrame:
    """Rejects' text key, amount and context parsed as the validator parses them (null where they do not parse).

    Grain: one row per reject. Columns: claim_id (trimmed, as the run's results hold it: `` C1 `` rejected in
    one run is the same line as ``C1`` adjudicated in the other), line_number (Int64), billed_amount (Decimal),
    and ``CONTEXT_FIELDS`` (service_date a Date, member_id and payer_id trimmed).
    """
    parsed = [CLAIM_ID, LINE_NUMBER, BILLED_AMOUNT, *CONTEXT_FIELDS]
    return rejects.select(*(pl.col(c).cast(pl.String).alias(RAW_PREFIX + c) for c in parsed)).select(
        *(parse(c, pl.String()).alias(c) for c in parsed)
    )


def _has_key() -> pl.Expr:
    """A reject's key is usable when both parts parsed; a blank claim_id is missing (null), as the validator
    says."""
    return pl.col(CLAIM_ID).is_not_null() & pl.col(LINE_NUMBER).is_not_null()


def side(results: pl.LazyFrame, rejects: pl.LazyFrame) -> pl.LazyFrame:
    """One run as one row per key: its results, then the keys it only rejected.

    Grain: one row per (claim_id, line_number).
    Columns: the keys, ``status`` ("result" or "rejected"), billed_amount,
    ``CONTEXT_FIELDS`` and ``COMPARED_FIELDS`` (null on a rejected key). A key
    rejected more than once (a duplicated key) counts once, with the amount and
    context of its first copy; a
    rejected key that is also a result (which a run never writes) is taken as
    the result. A context column either frame lacks is null.
    """
    return _side(_result_rows(_with_context(results, typed=True)), _keyed_rejects(_with_context(rejects, typed=False)))


def _with_context(frame: pl.LazyFrame, *, typed: bool) -> pl.LazyFrame:
    """``frame`` with the ``CONTEXT_FIELDS`` it lacks added as nulls (canonical types when ``typed``, else text)."""
    present = frame.collect_schema().names()
    return frame.with_columns(
        pl.lit(None, CANONICAL[c][0] if typed else pl.String()).alias(c) for c in CONTEXT_FIELDS if c not in present
    )


def _result_rows(results: pl.LazyFrame) -> pl.LazyFrame:
    """The columns of a run's results the diff reads. Grain: one row per result."""
    return results.select(*KEYS, BILLED_AMOUNT, *CONTEXT_FIELDS, *COMPARED_FIELDS)


def _keyed_rejects(rejects: pl.LazyFrame) -> pl.LazyFrame:
    """The rejects with a usable key, parsed, and their position in the file (``_row``). Grain: one row per reject."""
    return reject_keys(rejects).with_row_index(_ROW).filter(_has_key())


def _side(results: pl.LazyFrame, keyed_rejects: pl.LazyFrame) -> pl.LazyFrame:
    """``side`` from ``_result_rows`` and ``_keyed_rejects`` (of a whole run, or of one spill partition of it)."""
    return pl.concat([_kept(results), _rejected_only(results, keyed_rejects)], how="diagonal")


def _kept(results: pl.LazyFrame) -> pl.LazyFrame:
    """A side's rows of the run's results (``_result_rows``). Grain: one row per result."""
    return results.with_columns(pl.lit(_RESULT).alias(_STATUS)).select(
        *KEYS, _STATUS, BILLED_AMOUNT, *CONTEXT_FIELDS, *COMPARED_FIELDS
    )


def _rejected_only(results: pl.LazyFrame, keyed_rejects: pl.LazyFrame) -> pl.LazyFrame:
    """A side's rows of the keys the run rejected and has no result for. Grain: one row per such key."""
    rejected = keyed_rejects.group_by(KEYS).agg(pl.col(BILLED_AMOUNT, *CONTEXT_FIELDS).sort_by(_ROW).first())
    # the few rejected keys that are also results, found by streaming the results against the rejected keys
    # (a join whose table holds the rejects, not the results)
    also_results = results.select(KEYS).join(rejected.select(KEYS), on=list(KEYS), how="semi")
    return rejected.join(also_results, on=list(KEYS), how="anti").with_columns(pl.lit(_REJECTED).alias(_STATUS))


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


def side_counts(side_frame: pl.LazyFrame) -> pl.LazyFrame:
    """Lines and billed amount per label (determination, or "(rejected)") of one run's ``side``.

    Grain: one row per label. With the changes, this is all the matrix needs:
    an unchanged line has the same label in both runs, and is counted by its new run's amount.
    """
    return side_frame.group_by(_label("", DETERMINATION).alias("label")).agg(
        pl.len().alias("lines"), pl.col(BILLED_AMOUNT).sum().alias("billed_amount")
    )


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
    None when the run was not sliced (or has no readable manifest).

    A claims list is taken as the run read it (``recorded_claim_ids``), never as the list file is now.
    """
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        recorded = manifest["options"]
        spec = Slice.from_json(recorded.get("slice"), cwd=recorded.get("cwd"))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    if spec.claims_file is None:
        return spec.predicate()
    return spec.predicate(recorded_claim_ids(folder, spec.claims_file, manifest.get("claims_file_sha256")))


def recorded_claim_ids(folder: Path, listed: Path, digest: object) -> pl.Series:
    """The ids of the claims list ``listed`` as the run in ``folder`` read it: the copy the run keeps
    (``CLAIMS_LIST``). A run from before runs kept one is read from the list file only while its bytes are
    those the run read (``digest``, its sha256); an edited or deleted list would invent changes, so it is
    refused (``InputError`` naming the list)."""
    kept = folder / CLAIMS_LIST
    if kept.is_file():
        try:
            return pl.read_parquet(kept, columns=[CLAIM_ID])[CLAIM_ID].cast(pl.String)
        except (OSError, pl.exceptions.PolarsError) as exc:
            raise InputError(f"the run's claims list cannot be read as Parquet: {first_line(exc)}", path=kept) from None
    if listed.is_file() and sha256(listed) == digest:
        return read_claim_ids(listed)
    what = "changed since the run (sha256 differs)" if listed.is_file() else "gone"
    raise InputError(
        f"the claims list of the sliced run {folder} is {what}, and the run folder keeps no copy of its ids "
        f"({CLAIMS_LIST}: a run made before runs kept one); the run's slice cannot be known, so the runs are not "
        "compared",
        path=listed,
    )


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


__all__ = [
    "COMPARED_FIELDS",
    "CONTEXT_FIELDS",
    "KEYS",
    "KeyHash",
    "line_hash",
    "recorded_claim_ids",
    "reject_keys",
    "side",
    "side_counts",
    "slice_of",
    "within_slice",
]
