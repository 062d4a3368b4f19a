"""The diff's fast path: two aligned runs (the same unique keys in the same order) zipped row by row.

Taken only when verified (``_compare_aligned``): two runs of the same inputs
hold their results in the same order, and zipping them reads each file once
instead of spilling both to partitions by key hash. The outputs equal the
partitioned path's (``adjudicator.diff.compare``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

import polars as pl

from adjudicator.diff.compare import SideCounts, _changes, _classified, _counts_per_label, _new, _old, _sides_columns
from adjudicator.diff.sides import CONTEXT_FIELDS, KEYS, _kept, _rejected_only, _rows, _Run, side_counts
from adjudicator.embedded.events import Meter
from adjudicator.embedded.spill import partition, sink_partitioned
from adjudicator.options import EngineSettings
from adjudicator.publish.manifest import REJECTS, RESULTS

#: the new run's key columns while two runs' results are zipped
_NEW_KEYS: Final = tuple(f"_new_{k}" for k in KEYS)


def _zipped(old_results: pl.LazyFrame, new_results: pl.LazyFrame) -> pl.LazyFrame:
    """Two runs' results side by side, row i beside row i, as ``_joined`` lays them out.

    Only equal to ``_joined`` when the runs' keys are unique and equal row by
    row (``_misaligned`` counts the rows where they are not): ``_compare_aligned`` checks.
    The old run's ``CONTEXT_FIELDS`` are not read: every zipped row has a new
    side, whose context ``changes.parquet`` takes.
    """
    new = _sides_columns(_kept(new_results), _new).rename(dict(zip(KEYS, _NEW_KEYS, strict=True)))
    old = _kept(old_results).drop(*CONTEXT_FIELDS).with_columns(pl.lit(None).alias(c) for c in CONTEXT_FIELDS)
    return pl.concat([_sides_columns(old, _old), new], how="horizontal")


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


def aligned_steps(rows: int, settings: EngineSettings) -> int:
    """The slices ``_compare_aligned`` counts for runs of ``rows`` results: each slice's keys checked, then each
    slice compared."""
    return 2 * len(range(0, rows, settings.diff_zip_rows))


def _compare_aligned(
    old_out: Path,
    new_out: Path,
    hash_: pl.Expr,
    changes: Path,
    spill: Path,
    settings: EngineSettings,
    *,
    meter: Meter | None = None,
) -> SideCounts | None:
    """The fast path: zip the runs' results line by line, when that is verified to equal the join on keys.

    Verified, never assumed from the manifests: the results files hold as many
    rows, row i of one has the key of row i of the other (every row checked, the
    keys alone, before anything is written), and no two old results share a key
    (``_unique_keys``), so the zip pairs exactly the rows the join on keys
    pairs. The keys a run only rejected (at most ``diff_aligned_max_rejects``
    rejects) are compared as the partitioned path compares them.
    Returns each run's counts per label, as ``_compare_runs`` does, or None
    (nothing written) when the runs are not aligned. ``meter``: the run log's meter of the comparison, in
    slices (the keys checked, then the slices compared).
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
    # other's rows wait in memory (docs/benchmarks.md)
    slices = range(0, rows, zip_rows)

    def zipped(offset: int) -> pl.LazyFrame:
        return _zipped(old.results.slice(offset, zip_rows), new.results.slice(offset, zip_rows))

    if meter is not None:
        meter.total, meter.unit = 2 * len(slices), "slices"

    def misaligned(offset: int) -> bool:
        found = bool(zipped(offset).select(_misaligned().any()).collect(engine="streaming").item())
        if meter is not None:
            meter.advance()
        return found

    # the keys alone first (docs/benchmarks.md): most runs that are not aligned stop here
    if any(misaligned(offset) for offset in slices):
        return None
    if not _unique_keys(old.results, rows, hash_, spill / "hashes", settings):
        return None
    parts = [spill / f"changes-{i}.parquet" for i in range(len(slices))]
    for offset, part in zip(slices, parts, strict=True):
        _classified(zipped(offset), changed_only=True).sink_parquet(part, engine="streaming")
        if meter is not None:
            meter.advance()
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
    kept = pl.collect_all([side_counts(_kept(run.results)) for run in (old, new)], engine="streaming")
    old_counts, new_counts = (
        _counts_per_label([k, side_counts(r).collect()]) for k, r in zip(kept, rejected, strict=True)
    )
    return old_counts, new_counts
