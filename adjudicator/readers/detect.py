"""Which layout a file is in, from its first bytes, when no ``--layout`` is given."""

from __future__ import annotations

import re

from adjudicator.readers.catalog import LAYOUT_SPECS
from adjudicator.readers.paths import read_head
from adjudicator.readers.specs import CANONICAL_LAYOUT, X12_837P


def _header_names(head: bytes) -> set[str]:
    first = head.decode("utf-8", errors="replace").lstrip("\ufeff").splitlines()[0] if head else ""
    return {name.strip().strip('"').strip() for name in re.split(r"[,|;\t]", first)}


def detect_layout(path: str) -> str:
    """The layout of ``path`` from its first bytes (an ISA segment, Parquet magic, or a header's column names).

    A text table whose header matches no other layout is taken as canonical, so
    that a missing column is reported as such; ``--layout`` always wins.
    """
    head = read_head(path)
    if head.lstrip(b"\xef\xbb\xbf \t\r\n")[:3] == b"ISA":
        return X12_837P
    if head[:4] == b"PAR1":
        return CANONICAL_LAYOUT
    names = _header_names(head)
    matches = [
        name
        for name, spec in LAYOUT_SPECS.items()
        if name != CANONICAL_LAYOUT and spec.signature and set(spec.signature) <= names
    ]
    if len(matches) == 1:
        return matches[0]
    return CANONICAL_LAYOUT
