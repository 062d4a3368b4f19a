"""Reading the canonical layout (contract section 2) from CSV and Parquet into a raw frame, lazily.

Grain: one row per line of each file. CSV columns are read as text (nothing
is inferred, so a bad value becomes a reject instead of a failed read);
Parquet columns keep their types. Each file gets ``source_file``; optional
canonical columns a file lacks are added as null; files are stacked with
their extra columns unioned. File-level problems raise ``InputError`` naming
the file, before anything is executed.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import polars as pl

from adjudicator.contract import CANONICAL, REQUIRED_COLUMNS, SOURCE_FILE
from adjudicator.errors import InputError, first_line

PARQUET_SUFFIXES = (".parquet", ".pq")
_OTHER_DELIMITERS = (";", "\t", "|")


def is_parquet(path: str) -> bool:
    if path.lower().endswith(PARQUET_SUFFIXES):
        return True
    with open(path, "rb") as f:
        return f.read(4) == b"PAR1"


def scan_csv_text(path: str, *, separator: str = ",") -> pl.LazyFrame:
    """A CSV file with every column as text; the header is read now, so a file that has none fails here."""
    frame = pl.scan_csv(
        path,
        separator=separator,
        infer_schema=False,
        encoding="utf8",
        raise_if_empty=False,
        missing_columns="insert",
    )
    try:
        frame.collect_schema()
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise InputError(f"{path}: cannot read the CSV header: {first_line(exc)}") from None
    return frame


def scan_parquet_file(path: str) -> pl.LazyFrame:
    frame = pl.scan_parquet(path)
    try:
        frame.collect_schema()
        # reading the footer's row count proves the file is not truncated
        pl.scan_parquet(path).select(pl.len()).collect()
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise InputError(f"{path}: not a readable Parquet file: {first_line(exc)}") from None
    return frame


def require_columns(path: str, columns: Sequence[str]) -> None:
    """Fail naming the file when required columns are missing (and say so when the delimiter looks wrong)."""
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if not missing:
        return
    if len(columns) == 1:
        for delimiter in _OTHER_DELIMITERS:
            if delimiter in columns[0]:
                shown = "tab" if delimiter == "\t" else repr(delimiter)
                raise InputError(
                    f"{path}: the header has one column; the file looks {shown}-delimited, "
                    "the canonical layout is comma-delimited CSV"
                )
    raise InputError(f"{path}: missing required columns: {', '.join(missing)}")


def scan_canonical(paths: Sequence[str]) -> pl.LazyFrame:
    """The raw frame of canonical files (CSV or Parquet, mixed allowed)."""
    frames: list[pl.LazyFrame] = []
    for path in paths:
        frame = scan_parquet_file(path) if is_parquet(path) else scan_csv_text(path)
        columns = frame.collect_schema().names()
        require_columns(path, columns)
        if SOURCE_FILE in columns:
            raise InputError(f"{path}: has a column named {SOURCE_FILE!r}, which the adjudicator adds itself")
        absent = [c for c in CANONICAL if c not in columns]
        frames.append(
            frame.with_columns(
                *(pl.lit(None, pl.String).alias(c) for c in absent),
                pl.lit(path).alias(SOURCE_FILE),
            )
        )
    if len(frames) == 1:
        return frames[0]
    return pl.concat(frames, how="diagonal_relaxed")


def find_bad_utf8(paths: Sequence[str]) -> tuple[str, int] | None:
    """The first (file, line number) holding bytes that are not UTF-8; used only to explain a failed read."""
    for path in paths:
        if Path(path).suffix.lower() in PARQUET_SUFFIXES:
            continue
        with open(path, "rb") as f:
            for number, line in enumerate(f, start=1):
                try:
                    line.decode("utf-8")
                except UnicodeDecodeError:
                    return path, number
    return None


def find_malformed_row(paths: Sequence[str]) -> tuple[str, int, str] | None:
    """The first (file, line, problem) whose field count differs from its header; only to explain a failed read."""
    import csv

    for path in paths:
        if is_parquet(path):
            continue
        with open(path, newline="", encoding="utf-8", errors="replace") as f:
            reader = csv.reader(f)
            header = next(reader, None)
            if header is None:
                continue
            for row in reader:
                if row and len(row) != len(header):
                    return path, reader.line_num, f"{len(row)} fields where the header has {len(header)}"
    return None
