"""The embedded engine's input, staged: text inputs read once into Parquet in the run's scratch folder, and
about how many lines the inputs hold (the prepass sizes its partitions by it)."""

from __future__ import annotations

import os
from pathlib import Path

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
    """The lines of the raw frame when it is all Parquet (footers), else ``expected_rows``."""
    if all(is_parquet(path) for path in paths):
        return expected_rows(paths)
    return int(raw.select(pl.len()).collect().item())


def stage_text_inputs(raw: pl.LazyFrame, paths: list[str], scratch: Path) -> pl.LazyFrame:
    """The raw frame, read once into a Parquet file in ``scratch`` when any input is not Parquet.

    A run reads its input three times (two narrow prepass queries, then the
    batches): parsing CSV each time cost more than the rest of the run. The
    staged file holds the raw frame as read (text stays text, ``source_file``
    included), so results and rejects are the same; a file that cannot be
    parsed fails here, with the same message.
    """
    if all(is_parquet(path) for path in paths):
        return raw
    staged = scratch / "input.parquet"
    # no statistics: nothing prunes on them here, and writing them costs CPU (docs/benchmarks.md)
    raw.sink_parquet(staged, compression="lz4", statistics=False, engine="streaming")
    return pl.scan_parquet(staged, glob=False)


__all__ = ["expected_rows", "stage_text_inputs", "staged_rows"]
