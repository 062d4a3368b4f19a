"""The inputs' checksums, computed on a thread while the run reads them; the same pass proves a CSV input
closes every quote it opens."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor

from adjudicator.errors import InputError
from adjudicator.rules.tables import sha256
from adjudicator.rules.text_faults import open_quote_line


def checksums_in_background(
    paths: list[str], *, quoted: Mapping[str, str] | None = None
) -> tuple[ThreadPoolExecutor, dict[str, Future[str]]]:
    """Hash the inputs on a thread while polars reads them (hashlib releases the GIL on big blocks).

    ``quoted``: the CSV inputs read with ``"`` quoting, each with its separator. Their quotes are counted in the
    same pass: a quote the end of the file leaves open makes the CSV reader take the rest of the file as one
    field, silently, so the file's checksum (``Future.result``) raises ``InputError`` naming the line instead.
    """
    quoted = quoted or {}
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sha256")
    return pool, {
        p: pool.submit(_sha256_quotes_closed, p, quoted[p]) if p in quoted else pool.submit(sha256, p) for p in paths
    }


def _sha256_quotes_closed(path: str, separator: str) -> str:
    """``sha256`` of a CSV file, raising ``InputError`` when a quoted field is open at its end."""
    digest = hashlib.sha256()
    quotes = 0
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(4 << 20), b""):
            digest.update(block)
            quotes += block.count(b'"')
    # closed quotes come in pairs (a doubled quote too): only an odd count can leave one open, and only then
    # is the file read again, field by field (a quote inside an unquoted field, 12" say, is text)
    if quotes % 2:
        line = open_quote_line(path, separator=separator)
        if line is not None:
            raise InputError(
                "opens a quoted field that the end of the file leaves open (the CSV reader took the rest of the "
                "file as one field); close the quote",
                path=path,
                line=line,
            )
    return digest.hexdigest()


__all__ = ["checksums_in_background"]
