"""Staging a run's input: text inputs read once into a Parquet file in the scratch folder, the run's expected
number of lines, and the staging's progress (``StagingGauge``)."""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Final

import polars as pl

from adjudicator.readers.canonical import is_parquet

#: bytes per line assumed for a text file when sizing the prepass's partitions (over-counting lines only
#: makes more, smaller partitions)
_TEXT_BYTES_PER_LINE = 64


def expected_rows(paths: list[str], *, gauge: StagingGauge | None = None) -> int:
    """About how many lines the inputs hold: Parquet footers' row counts, text files by size. ``gauge``: told
    of each file done."""
    total = 0
    for path in paths:
        if is_parquet(path):
            total += pl.scan_parquet(path, glob=False).select(pl.len()).collect().item()
        else:
            total += os.path.getsize(path) // _TEXT_BYTES_PER_LINE
        if gauge is not None:
            gauge.advance()
    return total


def staged_rows(raw: pl.LazyFrame, paths: list[str], *, gauge: StagingGauge | None = None) -> int:
    """The lines of the raw frame: the Parquet footers' counts (``expected_rows``) when every input is Parquet,
    else counted from the (staged) frame. ``gauge``: told of each footer read."""
    if all(is_parquet(path) for path in paths):
        return expected_rows(paths, gauge=gauge)
    return int(raw.select(pl.len()).collect().item())


#: files staged per Parquet part when a run reads many: polars takes time that grows with the square of the
#: number of scans stacked in one query, so staging every file at once made a run quadratic in its files
#: (docs/benchmarks.md); groups of this many keep it linear
FILES_PER_PART: Final = 64


def stage_text_inputs(
    raw: pl.LazyFrame,
    paths: list[str],
    scratch: Path,
    *,
    parts: Sequence[pl.LazyFrame] = (),
    gauge: StagingGauge | None = None,
) -> pl.LazyFrame:
    """The raw frame, read once into Parquet in ``scratch`` when any input is not Parquet: in groups of
    ``FILES_PER_PART`` files when there are more (``parts``: ``raw`` file by file, the same rows). ``gauge``:
    told of each Parquet part written.

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
        return _stage_in_groups(raw.collect_schema(), parts, scratch, gauge)
    staged = scratch / "input.parquet"
    # no statistics: nothing prunes on them here, and writing them costs time (docs/benchmarks.md)
    raw.sink_parquet(staged, compression="lz4", statistics=False, engine="streaming")
    if gauge is not None:
        gauge.advance()
    return pl.scan_parquet(staged, glob=False)


def _stage_in_groups(
    schema: pl.Schema, parts: Sequence[pl.LazyFrame], scratch: Path, gauge: StagingGauge | None
) -> pl.LazyFrame:
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
        if gauge is not None:
            gauge.advance()
    return pl.scan_parquet(staged, glob=False)


#: where Linux keeps a process's I/O counts; ``rchar``: the bytes its read() calls returned, from the page cache
#: or the disk alike
PROC_IO: Final = Path("/proc/self/io")


def bytes_read(proc_io: Path = PROC_IO) -> int | None:
    """The bytes this process has read so far (``rchar`` of ``proc_io``), or None where the system keeps no
    such count (not Linux)."""
    try:
        with open(proc_io, "rb") as f:
            for line in f:
                if line.startswith(b"rchar:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


class StagingGauge:
    """The staging's progress as the run log's timer thread polls it (``Meter.poll``): ``(done, total)`` in
    ``unit``.

    Polars stages a text input in one call that reports nothing, so its progress is measured from outside,
    at no cost to it: the bytes the process has read since staging began (``read``: ``bytes_read``), less
    those the checksum thread read meanwhile (``others``: the same files, read beside the staging), of the
    text files' size (``text_bytes``). ``done`` never goes back (the two counts are read one after the other,
    and a block the other reader has just read may be in one and not yet in the other) and never passes the
    total. Where that cannot be measured (no ``/proc/self/io``, or inputs already in memory: an 837P is read
    whole before staging), the Parquet parts written (``parts``); inputs all Parquet are not staged, and
    the phase reads their footers (``footers``), counted file by file. The staging tells it of each part
    written or footer read (``advance``); only the count that the unit measures is shown.
    """

    def __init__(
        self,
        *,
        text_bytes: int,
        parts: int,
        footers: int = 0,
        others: Callable[[], int] = lambda: 0,
        read: Callable[[], int | None] = bytes_read,
    ) -> None:
        self._read, self._others = read, others
        self._start = read() if text_bytes > 0 else None
        self._others_start = others()
        self.text_bytes = text_bytes
        self.unit, self.total = (
            ("bytes", text_bytes) if self._start is not None else ("parts", parts) if parts else ("files", footers)
        )
        self.counted = 0
        self._done = 0

    def advance(self) -> None:
        """One more Parquet part written, or footer read (called by the staging, between its calls to polars)."""
        self.counted += 1

    def __call__(self) -> tuple[int, int | None]:
        """``(done, total)`` now (called by the timer thread)."""
        if self._start is None:
            return min(self.counted, self.total), self.total or None
        now = self._read()
        if now is not None:
            measured = (now - self._start) - (self._others() - self._others_start)
            self._done = min(max(self._done, measured), self.total)
        return self._done, self.total


def staging_gauge(
    paths: list[str], text_files: Sequence[str], files: int, *, others: Callable[[], int] = lambda: 0
) -> StagingGauge:
    """The ``StagingGauge`` of staging ``paths`` (``files`` of them read file by file): ``text_files`` are the
    text inputs polars reads from disk as it stages (an 837P, read before, is not one), ``others`` the bytes
    another reader of the process reads meanwhile (the checksum thread)."""
    if all(is_parquet(path) for path in paths):
        return StagingGauge(text_bytes=0, parts=0, footers=len(paths), others=others)
    parts = math.ceil(files / FILES_PER_PART) if files > FILES_PER_PART else 1
    return StagingGauge(text_bytes=sum(os.path.getsize(p) for p in text_files), parts=parts, others=others)


__all__ = [
    "FILES_PER_PART",
    "PROC_IO",
    "StagingGauge",
    "bytes_read",
    "expected_rows",
    "stage_text_inputs",
    "staged_rows",
    "staging_gauge",
]
