"""Faults of CSV text that polars reports obscurely or not at all, found by line: line ends it cannot split on
(a bare carriage return, ``\\r\\r\\n``), and a quote left open at the end of the file. Shared by the rule tables
and the claim readers (which sit above the rules)."""

from __future__ import annotations

from pathlib import Path

from adjudicator.errors import RulesError, first_line

_FIX = "the CSV reader does not take it as a line end; re-save the file with \\n or \\r\\n line ends"


def line_end_problem(head: bytes) -> str | None:
    """What is wrong with the line end of line 1 of a text file whose first bytes are ``head``; None when it
    is ``\\n`` or ``\\r\\n`` (or there is none in ``head``).

    Only the header's line end is judged: a carriage return inside a quoted field further down is data.
    """
    lf = head.find(b"\n")
    cr = head.find(b"\r")
    if cr == -1 or (lf != -1 and cr > lf):
        return None
    if head[cr : cr + 3] == b"\r\r\n":
        return f"ends in \\r\\r\\n (a file converted to CRLF twice?): {_FIX}"
    if head[cr : cr + 2] != b"\r\n" and (cr + 1 < len(head) or lf == -1):
        return f"ends in a bare carriage return (\\r, old Mac line ends): {_FIX}"
    return None


def text_line_end_problem(path: str | Path, size: int = 65536) -> str | None:
    """``line_end_problem`` of the file at ``path`` (None when it cannot be opened: its reader says why)."""
    try:
        with open(path, "rb") as f:
            return line_end_problem(f.read(size))
    except OSError:
        return None


def open_quote_line(path: str | Path, *, separator: str = ",", quote: str = '"') -> int | None:
    """The line (from 1) where a quoted field opens that the end of the file leaves open, else None.

    A quote opens a quoted field only at the start of a field; inside one, a
    doubled quote is a quote and a single one closes it. A quote inside an
    unquoted field (``12" ruler``) is text, as the CSV reader takes it.
    """
    opened: int | None = None
    try:
        with open(path, encoding="utf-8", errors="replace", newline="") as f:
            for number, line in enumerate(f, start=1):
                if quote not in line and opened is None:
                    continue
                at_start = opened is None
                i = 0
                while i < len(line):
                    char = line[i]
                    if opened is not None:
                        if char == quote:
                            if line[i + 1 : i + 2] == quote:
                                i += 1
                            else:
                                opened = None
                    elif char == quote and at_start:
                        opened = number
                    at_start = opened is None and char in (separator, "\n", "\r")
                    i += 1
    except OSError:
        return None
    return opened


def check_csv_text(path: str | Path, table: str) -> None:
    """Refuse a table whose line ends the CSV reader cannot split on, naming line 1 (before polars reads it
    as one long line, or fails on its quoting)."""
    problem = text_line_end_problem(path)
    if problem is not None:
        raise RulesError(problem, path=path, table=table, line=1)


def unreadable_csv(path: str | Path, table: str, exc: Exception) -> RulesError:
    """One line for a table polars could not read: a quote the end of the file leaves open names its line."""
    opened = open_quote_line(path)
    if opened is not None:
        return RulesError(
            "a quoted field opens here and the file ends before it closes", path=path, table=table, line=opened
        )
    return RulesError(f"cannot be read as CSV: {first_line(exc)}", path=path, table=table)


__all__ = ["check_csv_text", "line_end_problem", "unreadable_csv", "open_quote_line", "text_line_end_problem"]
