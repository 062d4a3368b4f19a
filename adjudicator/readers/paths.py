"""Input arguments to files: globs expanded, and each file checked (exists, regular, readable, non-empty,
given once, not UTF-16) before anything reads it."""

from __future__ import annotations

import errno
import glob
import os
import stat
from collections.abc import Sequence

from adjudicator.errors import InputError
from adjudicator.rules.text_faults import line_end_problem


def expand_globs(inputs: Sequence[str], *, strict: bool = True) -> list[str]:
    """Input arguments with globs expanded, each pattern's matches sorted; an argument that exists is taken as is.

    ``strict``: a pattern matching nothing raises ``InputError`` naming it (the
    reader); otherwise it expands to nothing (what a run must protect, found
    before the reader reports a missing file in its own words).
    """
    paths: list[str] = []
    for item in inputs:
        # a path that exists is taken as is, so a name with '[' survives being expanded twice
        if glob.has_magic(item) and not os.path.exists(item):
            matched = sorted(glob.glob(item))
            if not matched and strict:
                raise InputError("no file matches this pattern", path=item)
            paths.extend(matched)
        else:
            paths.append(item)
    return paths


def resolve_paths(inputs: Sequence[str]) -> list[str]:
    """Input arguments to files: globs expanded and sorted; each file must exist, be readable and non-empty.

    Raises ``InputError`` naming the argument: a pattern matching nothing, a
    missing file, a folder, a named pipe or device, an unreadable or 0-byte
    file, UTF-16 text, a file given twice (under any spelling: another relative
    path, an absolute path, a symlink). Names are literal once expanded: a
    file named ``claims [1].csv`` is that file, and a ``*`` in a name that
    exists matches nothing else.
    """
    paths = expand_globs(inputs)
    if not paths:
        raise InputError("no input file given")
    seen: dict[tuple[int, int], str] = {}
    for path in paths:
        if not os.path.exists(path):
            if os.path.islink(path):
                raise InputError(_broken_link(path), path=path)
            # no path field: an empty argument must still read ": file not found"
            raise InputError(f"{path}: file not found")
        if os.path.isdir(path):
            raise InputError(f"is a folder, not a file (use a glob such as {path}/*.csv)", path=path)
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):
            kind = "a named pipe (FIFO) or process substitution" if stat.S_ISFIFO(st.st_mode) else "a device or socket"
            raise InputError(
                f"is {kind}, not a regular file; the adjudicator reads its inputs more than once "
                "and checksums them, so copy the data to a file first",
                path=path,
            )
        identity = (st.st_dev, st.st_ino)
        if identity in seen:
            first = seen[identity]
            also = "" if first == path else f" (also as {first})"
            raise InputError(f"given more than once{also}", path=path)
        seen[identity] = path
        if not os.access(path, os.R_OK):
            raise InputError("file is not readable", path=path)
        if st.st_size == 0:
            raise InputError("file is empty (0 bytes, not even a header line)", path=path)
        _check_text_head(path)
    return paths


def _broken_link(path: str) -> str:
    """Why a symbolic link that leads to no file leads nowhere: a loop, or a missing target."""
    try:
        os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "is a symbolic link loop (its links lead back to themselves), not a file"
    return f"is a symbolic link to {os.readlink(path)!r}, which does not exist"


#: byte-order marks of UTF-16 and UTF-32 text
_WIDE_BOMS = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")


def _check_text_head(path: str) -> None:
    """Stop with an encoding message for UTF-16 (or UTF-32) text, which would otherwise read as garbage, and
    with a line-end message for a text table whose header ends in a bare ``\\r`` or ``\\r\\r\\n``."""
    head = read_head(path, 4096)
    _check_not_utf16(path, head)
    if head[:4] != b"PAR1" and head.lstrip(b"\xef\xbb\xbf \t\r\n")[:3] != b"ISA":
        problem = line_end_problem(head)
        if problem is not None:
            raise InputError(problem, path=path, line=1)


def _check_not_utf16(path: str, head: bytes) -> None:
    """Stop with an encoding message for UTF-16 (or UTF-32) text, which would otherwise read as garbage."""
    # without a mark, UTF-16 text of ASCII characters has a zero in every other byte
    halves = (head[0::2], head[1::2])
    wide = head.startswith(_WIDE_BOMS) or (
        len(head) >= 8 and head[:4] != b"PAR1" and any(h.count(0) * 10 >= len(h) * 9 for h in halves)
    )
    if wide:
        raise InputError("is UTF-16 (or UTF-32) text; re-export the file as UTF-8", path=path)


def read_head(path: str, size: int = 65536) -> bytes:
    """The first ``size`` bytes of ``path``; ``InputError`` naming the file when it cannot be opened."""
    try:
        with open(path, "rb") as f:
            return f.read(size)
    except OSError as exc:
        raise InputError(f"cannot be read: {exc.strerror or exc}", path=path) from None
