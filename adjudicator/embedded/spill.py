"""Spilling a frame to partition files by a hash, so a step holds one partition in memory, not the frame.

The one spill of the package: the prepass's key check and edits, the report's per-claim sums and the diff all
use it. A partition is chosen by a UInt64 hash modulo the number of partitions; the hash only chooses a file,
so every caller still works on exact keys within a partition.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import polars as pl

#: the partition column of a spill's files (``<folder>/_partition=<i>/``)
PART = "_partition"
#: a row's hash, kept while a spill is partitioned in two passes
_HASH = "_spill_hash"
#: most partitions a spill makes, whatever the rows
MAX_PARTITIONS = 1024
#: rows the partitioned sink holds for all its open files together, before writing a row group
_BUFFER_ROWS = 1_000_000


def partitions_for(rows: int, per_partition: int) -> int:
    """How many spill partitions ``rows`` rows take, ``per_partition`` each: 1 to ``MAX_PARTITIONS``."""
    return max(1, min(MAX_PARTITIONS, -(-rows // per_partition)))


def spill_hash(expr: pl.Expr) -> pl.Expr:
    """The hash that picks a spill partition (any hash works: grouping within a partition is on exact keys)."""
    return expr.hash(seed=0)


def sink_partitioned(frame: pl.LazyFrame, hash_: pl.Expr, partitions: int, folder: Path, *, files_open: int) -> None:
    """Sink ``frame`` to ``folder``/_partition=<i>/ by ``hash_`` modulo ``partitions`` (no folder for an empty one).

    One partitioned sink holds an open file for each partition, and its memory
    grows with their number (docs/benchmarks.md, "diff"), so a sink never
    writes more than ``files_open`` of them: beyond that the rows go first to
    groups of ``files_open`` partitions, with their hash, and each group is
    then split into its partitions.
    """
    if partitions <= files_open:
        _sink_by_part(frame.with_columns((hash_ % partitions).alias(PART)), partitions, folder)
        return
    groups = folder.with_name(f"{folder.name}-groups")
    hashed = frame.with_columns(hash_.alias(_HASH))
    count = -(-partitions // files_open)
    _sink_by_part(hashed.with_columns((pl.col(_HASH) % partitions // files_open).alias(PART)), count, groups)
    for group in range(count):
        rows = partition(groups, group, hashed.collect_schema())
        _sink_by_part(rows.with_columns((pl.col(_HASH) % partitions).alias(PART)).drop(_HASH), files_open, folder)
        shutil.rmtree(groups / f"{PART}={group}", ignore_errors=True)
    shutil.rmtree(groups, ignore_errors=True)


def _sink_by_part(frame: pl.LazyFrame, files: int, folder: Path) -> None:
    """Sink ``frame`` to one folder per value of its ``PART`` column (up to ``files`` of them).

    Each open file holds up to a row group before writing it; the row groups
    shrink as the files grow in number, so together they stay near
    ``_BUFFER_ROWS`` rows.
    """
    row_group = max(4_096, min(65_536, _BUFFER_ROWS // files))
    frame.sink_parquet(
        pl.PartitionBy(folder, key=PART, include_key=False),
        compression="lz4",
        row_group_size=row_group,
        mkdir=True,
        engine="streaming",
    )


def partition(folder: Path, index: int, schema: pl.Schema) -> pl.LazyFrame:
    """Partition ``index`` of a spill in ``folder``: its files, or no rows when none fell in it."""
    files = sorted((folder / f"{PART}={index}").glob("*.parquet"))
    if not files:
        return pl.LazyFrame(schema=schema)
    return pl.scan_parquet(files, hive_partitioning=False, glob=False)


def spilled(
    frame: pl.LazyFrame, by: pl.Expr, partitions: int, folder: Path | None, *, files_open: int
) -> Iterator[pl.LazyFrame]:
    """``frame`` in ``partitions`` parts by ``by`` (a UInt64 hash) modulo ``partitions``, each a lazy frame.

    With one partition the frame is collected (streaming) as it is, and no
    file is written (``folder`` may be None: an in-memory prepass); otherwise
    it is sunk to partition files in ``folder`` (removed by the caller) and
    each part is a scan of its files, so memory is one part, not the frame.
    """
    if partitions <= 1:
        yield frame.collect(engine="streaming").lazy()
        return
    if folder is None:
        raise ValueError(f"{partitions} partitions are spilled to files: they need a folder")
    schema = frame.collect_schema()
    sink_partitioned(frame, by, partitions, folder, files_open=files_open)
    for index in range(partitions):
        yield partition(folder, index, schema)


def spill_parts(
    frame: pl.LazyFrame, by: pl.Expr, partitions: int, folder: Path | None, *, files_open: int
) -> Iterator[pl.DataFrame]:
    """``spilled``, each part collected in its turn."""
    for part in spilled(frame, by, partitions, folder, files_open=files_open):
        yield part.collect()


__all__ = [
    "MAX_PARTITIONS",
    "PART",
    "partition",
    "partitions_for",
    "sink_partitioned",
    "spill_hash",
    "spill_parts",
    "spilled",
]
