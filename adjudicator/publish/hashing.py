"""The inputs' checksums, computed on a thread while the run reads them; the same pass proves a CSV input
closes every quote it opens, and counts the bytes it read (``BytesRead``: the staging's progress is measured
from the process's bytes read, less these)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor

from adjudicator.errors import InputError
from adjudicator.rules.text_faults import open_quote_line

#: bytes per read of the checksum pass
_BLOCK = 4 << 20


class BytesRead:
    """The bytes the checksum thread has read so far (``count``; calling it returns it): written by that
    thread alone, read by the run log's timer thread."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> int:
        return self.count


def checksums_in_background(
    paths: list[str], *, quoted: Mapping[str, str] | None = None, counted: BytesRead | None = None
) -> tuple[ThreadPoolExecutor, dict[str, Future[str]]]:
    """Hash the inputs on a thread while polars reads them (hashlib releases the GIL on big blocks).

    ``quoted``: the CSV inputs read with ``"`` quoting, each with its separator. Their quotes are counted in the
    same pass: a quote the end of the file leaves open makes the CSV reader take the rest of the file as one
    field, silently, so the file's checksum (``Future.result``) raises ``InputError`` naming the line instead.
    ``counted``: given the bytes read, block by block.
    """
    quoted = quoted or {}
    counted = counted if counted is not None else BytesRead()
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sha256")
    return pool, {p: pool.submit(_sha256, p, quoted.get(p), counted) for p in paths}


def _sha256(path: str, separator: str | None, counted: BytesRead) -> str:
    """The sha256 of a file, read in blocks (as ``rules.tables.sha256``); with a ``separator`` (a CSV read with
    quoting), raising ``InputError`` when a quoted field is open at its end."""
    digest = hashlib.sha256()
    quotes = 0
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(_BLOCK), b""):
            counted.count += len(block)
            digest.update(block)
            if separator is not None:
                quotes += block.count(b'"')
    # closed quotes come in pairs (a doubled quote too): only an odd count can leave one open, and only then
    # is the file read again, field by field (a quote inside an unquoted field, 12" say, is text)
    if separator is not None and quotes % 2:
        line = open_quote_line(path, separator=separator)
        if line is not None:
            raise InputError(
                "opens a quoted field that the end of the file leaves open (the CSV reader took the rest of the "
                "file as one field); close the quote",
                path=path,
                line=line,
            )
    return digest.hexdigest()


__all__ = ["BytesRead", "checksums_in_background"]
