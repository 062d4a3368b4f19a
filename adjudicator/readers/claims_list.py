"""The ``--claims`` list of a reprocessing slice: claim ids read as people and tools write them, and which ids
matched no line."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import polars as pl

from adjudicator.contract import CLAIM_ID
from adjudicator.errors import InputError

#: header lines a claims list may start with (compared without case, spaces, underscores or quotes)
_HEADERS = frozenset({"claimid", "claim", "claims", "id"})
#: how many unmatched ids the manifest lists (all are counted)
UNMATCHED_SHOWN = 1000


def _clean(line: str) -> str:
    """One id as written: spaces and a pair of surrounding quotes removed (``"C1"``, ``'C1'``, `` C1 ``)."""
    text = line.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        text = text[1:-1].strip()
    return text


def check_regular(path: Path) -> None:
    """Refuse a claims list that is not a regular file (a named pipe, a process substitution such as
    ``--claims <(cut -d, -f1 ids.csv)``, a device) before anything opens it: opening a pipe with no writer
    would wait forever, and a run reads its claims list more than once (the slice, the unmatched ids, the
    checksum) and records it for ``--replay``."""
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        raise InputError(f"cannot read the claims list: {exc.strerror or exc}", path=path) from None
    if not stat.S_ISREG(mode):
        kind = "a named pipe or process substitution" if stat.S_ISFIFO(mode) else "not a file but a device or socket"
        raise InputError(
            f"the claims list is {kind}, not a regular file: it is read more than once, checksummed and recorded "
            "for --replay, so write the ids to a file first",
            path=path,
        )


def claim_ids(path: Path) -> list[str]:
    """The distinct claim ids of a claims list, sorted: one per line; a byte-order mark, CRLF line ends,
    surrounding quotes and blank lines are tolerated, and a first line that is a header (``claim_id``) is
    skipped. Raises ``InputError`` naming the file when it cannot be read or holds no id."""
    check_regular(path)
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the claims list: {exc}", path=path) from None
    lines = [_clean(line) for line in text.splitlines()]
    lines = [line for line in lines if line]
    if lines and lines[0].replace("_", "").replace(" ", "").lower() in _HEADERS:
        lines = lines[1:]
    if not lines:
        raise InputError("the claims list is empty", path=path)
    return sorted(set(lines))


def read_claim_ids(path: Path) -> pl.Series:
    """``claim_ids`` as a String series, for the slice's filter."""
    return pl.Series(claim_ids(path), dtype=pl.String)


def unmatched_report(raw: pl.LazyFrame, path: Path) -> dict[str, Any]:
    """The listed ids no line of the batch carries (trimmed, as the validator trims): the manifest's
    ``claims_list`` entry. Reads only the claim_id column of the inputs."""
    listed = read_claim_ids(path)
    found = (
        raw.select(pl.col(CLAIM_ID).cast(pl.String).str.strip_chars().alias(CLAIM_ID))
        .filter(pl.col(CLAIM_ID).is_in(listed))
        .unique()
        .collect(engine="streaming")
    )
    return claims_list_entry(path, listed, set(found[CLAIM_ID].to_list()))


def claims_list_entry(path: Path, listed: pl.Series, matched: set[str]) -> dict[str, Any]:
    """The manifest's ``claims_list`` entry of the ids ``listed`` in ``path``, ``matched`` those a line carries
    (every engine finds them its own way, and records them alike)."""
    unmatched = sorted(set(listed.to_list()) - matched)
    return {
        "path": str(path),
        "ids": listed.len(),
        "matched": listed.len() - len(unmatched),
        "unmatched": len(unmatched),
        "unmatched_ids": unmatched[:UNMATCHED_SHOWN],
    }
