"""An 837P file's text, read whole before pyx12 walks it (``x12_text``), and the walk's progress through it
(``WalkProgress``), for the run's "reading" phase: pyx12 walks a file segment by segment in Python, the
slowest read of any layout."""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from typing import Final

from adjudicator.errors import InputError

#: segments walked between two reports of the bytes read (``WalkProgress``)
REPORT_EVERY: Final = 1024


def x12_text(path: str) -> tuple[str, int]:
    """The file's text from its ISA on, and the file's size in bytes."""
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            size = os.fstat(handle.fileno()).st_size
            text = handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot be read as X12 text: {exc}", path=path) from None
    stripped = text.lstrip("\ufeff \t\r\n")
    if not stripped.startswith("ISA"):
        raise InputError(f"not an X12 file: segment 1 {stripped[:20]!r} is not an ISA segment", path=path)
    return stripped, size


class WalkProgress:
    """How far the walk is through a file, told to a ``progress`` callback as bytes more read: the text that
    pyx12 has taken from the file's (in-memory) stream, every ``REPORT_EVERY`` segments; the rest of the
    file's size once it is read whole, so the reports of a file add up to its size."""

    def __init__(self, stream: io.StringIO, size: int, progress: Callable[[int], None] | None) -> None:
        self.stream, self.size, self.progress = stream, size, progress
        self.told = 0

    def now(self, number: int) -> None:
        """At segment ``number``: told, every ``REPORT_EVERY`` segments."""
        if self.progress is not None and number % REPORT_EVERY == 0:
            # characters, not bytes: the same for the ASCII an 837P is written in, and the end puts it right
            taken = min(self.stream.tell(), self.size)
            if taken > self.told:
                self.progress(taken - self.told)
                self.told = taken

    def end(self) -> None:
        """The file read: the rest of its size told."""
        if self.progress is not None and self.size > self.told:
            self.progress(self.size - self.told)
            self.told = self.size


__all__ = ["REPORT_EVERY", "WalkProgress", "x12_text"]
