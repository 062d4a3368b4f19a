"""Diagnosis of a failed read: the polars error of a scan turned into one line naming the file, and the line,
that is not UTF-8, opens a quote it never closes, or whose fields do not fit its header (files are re-read only
after a failure)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from adjudicator.errors import first_line
from adjudicator.readers.canonical import PARQUET_SUFFIXES, is_parquet
from adjudicator.rules.text_faults import open_quote_line

#: the separators a delimited layout may use, for reading a failed file's rows again
_SEPARATORS = (",", "|", "\t", ";")


def _text(paths: Sequence[str]) -> list[str]:
    return [path for path in paths if not is_parquet(path)]


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
            first = f.readline()
            f.seek(0)
            # the layout's separator: the candidate the header uses most (CCLF and DE-SynPUF commas, RIF pipes)
            separator = max(_SEPARATORS, key=first.count)
            reader = csv.reader(f, delimiter=separator)
            header = next(reader, None)
            if header is None:
                continue
            for row in reader:
                if row and len(row) != len(header):
                    return path, reader.line_num, f"{len(row)} fields where the header has {len(header)}"
    return None


def polars_message(exc: Exception, paths: list[str]) -> str:
    """One line for a read that polars failed: the file and line at fault when they can be found, else the
    first line of the error naming the file(s)."""
    first = first_line(exc)
    if "utf-8" in first.lower() or "utf8" in first.lower():
        found = find_bad_utf8(paths)
        if found is not None:
            path, line = found
            return f"{path}: line {line} is not valid UTF-8 text; re-export the file as UTF-8"
    opened = next(((p, n) for p in _text(paths) if (n := open_quote_line(p)) is not None), None)
    if opened is not None:
        path, number = opened
        return f"{path}: line {number} opens a quoted field that the end of the file leaves open; close the quote"
    if any(word in first.lower() for word in ("fields", "malformed", "could not parse", "schema")):
        malformed = find_malformed_row(paths)
        if malformed is not None:
            path, line, problem = malformed
            return f"{path}: line {line} has {problem}; fix the file's quoting or delimiters"
    where = paths[0] if len(paths) == 1 else f"one of {len(paths)} input files ({', '.join(paths[:3])} ...)"
    return f"{where}: cannot be read: {first}"
