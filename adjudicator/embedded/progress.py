"""The progress line a run shows on a terminal (``Progress``)."""

from __future__ import annotations

import sys
import time
from typing import IO

from adjudicator.embedded.events import Meter
from adjudicator.options import DEFAULT_SETTINGS


class Progress:
    """A line on stderr (lines done of expected, lines/s), rewritten in place; only on a terminal. ``meter``:
    the run log's meter of the phase (``adjudicator.embedded.events``), fed the lines done as they pass."""

    def __init__(
        self,
        expected: int,
        *,
        enabled: bool,
        after_s: float = DEFAULT_SETTINGS.progress_after_s,
        stream: IO[str] | None = None,
        meter: Meter | None = None,
    ) -> None:
        self.meter = meter
        self.expected = expected
        self.after_s = after_s
        self.stream = stream or sys.stderr
        self.enabled = enabled and self.stream.isatty()
        self.started = time.perf_counter()
        self.shown = False

    def update(self, done: int) -> None:
        if self.meter is not None:
            self.meter.update(done)
        elapsed = time.perf_counter() - self.started
        if not self.enabled or elapsed < self.after_s:
            return
        of = f" of {self.expected:,}" if self.expected else ""
        self.stream.write(f"\radjudicating: {done:,}{of} lines, {done / elapsed:,.0f} lines/s ")
        self.stream.flush()
        self.shown = True

    def finish(self) -> None:
        if self.shown:
            self.stream.write("\n")
            self.stream.flush()


__all__ = ["Progress"]
