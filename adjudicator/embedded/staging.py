"""Staging a run's input: text inputs read once into a Parquet file in the scratch folder, and the run's
expected number of lines."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Final

import polars as pl

from adjudicator.readers.canonical import is_parquet

#: bytes per line assumed for a text file when sizing the prepass's partitions (over-counting lines only
#: makes more, smaller partitions)
_TEXT_BYTES_PER_LINE = 64


def expected_rows(paths: list[str]) -> int:
    """About how many lines the inputs hold: Parquet footers' row counts, text files by size."""
    total = 0
    for path in paths:
        if is_parquet(path):
            total += pl.scan_parquet(path, glob=False).select(pl.len()).collect().item()
        else:
            total += os.path.getsize(path) // _TEXT_BYTES_PER_LINE
    return total


def staged_rows(raw: pl.LazyFrame, paths: list[str]) -> int:
    """The lines of the raw frame: the Parquet footers' counts (``expected_rows``) when every input is Parquet,
    else counted from the (staged) frame."""
    if all(is_parquet(path) for path in paths):
        return expected_rows(paths)
    return int(raw.select(pl.len()).collect().item())


#: files staged per Parquet part when a run reads many: polars takes time that grows with the square of the
#: number of scans stacked in one query, so staging every file at once made a run quadratic in its files
#: (docs/benchmarks.md); groups of this many keep it linear
FILES_PER_PART: Final = 64


def stage_text_inputs(
    raw: pl.LazyFrame, paths: list[str], scratch: Path, *, parts: Sequence[pl.LazyFrame] = ()
) -> pl.LazyFrame:
    """The raw frame, read once into Parquet in ``scratch`` when any input is not Parquet: in groups of
    ``FILES_PER_PART`` files when there are more (``parts``: ``raw`` file by file, the same rows).

    A run reads its input three times (two narrow prepass queries, then the
    batches): parsing CSV each time cost more than the rest of the run. The
    staged file holds the raw frame as read (text stays text, ``source_file``
    included), so results and rejects are the same; a file that cannot be
    parsed fails here, with the same message. Many files are staged group by
    group, one Parquet part each, every part with ``raw``'s columns and types.
    """
    if all(is_parquet(path) for path in paths):
        return raw
    if len(parts) > FILES_PER_PART:
        return _stage_in_groups(raw.collect_schema(), parts, scratch)
    staged = scratch / "input.parquet"
    # no statistics: nothing prunes on them here, and writing them costs time (docs/benchmarks.md)
    raw.sink_parquet(staged, compression="lz4", statistics=False, engine="streaming")
    return pl.scan_parquet(staged, glob=False)


def _stage_in_groups(schema: pl.Schema, parts: Sequence[pl.LazyFrame], scratch: Path) -> pl.LazyFrame:
    """``parts`` staged ``FILES_PER_PART`` at a time, in order, each group given the whole frame's ``schema``
    (a column a group lacks is null; a type is widened as stacking all files widens it)."""
    staged: list[Path] = []
    for start in range(0, len(parts), FILES_PER_PART):
        group = pl.concat(parts[start : start + FILES_PER_PART], how="diagonal_relaxed")
        have = group.collect_schema()
        target = scratch / f"input-{start // FILES_PER_PART:06d}.parquet"
        group.select(
            (pl.col(name).cast(dtype) if name in have else pl.lit(None, dtype)).alias(name)
            for name, dtype in schema.items()
        ).sink_parquet(target, compression="lz4", statistics=False, engine="streaming")
        staged.append(target)
    return pl.scan_parquet(staged, glob=False)


__all__ = ["FILES_PER_PART", "expected_rows", "stage_text_inputs", "staged_rows"]
