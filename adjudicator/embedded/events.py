"""A run's log on stderr, for a person or a scheduler (``RunLog``): phases, progress, warnings, the summary.

Two formats. ``text`` (the default) stays quiet but for warnings and
progress: on a terminal one line rewritten in place, elsewhere (cron,
Airflow) a plain line every ``every_s`` seconds while a phase runs. ``json``
writes one JSON object a line (``format_event``): the run id, the event
(``phase_start``, ``phase_end``, ``progress``, ``warning``, ``summary``), the
phase and its counts.

Progress costs the hot path one attribute write per batch (``Meter.update``):
a timer thread reads the meters and writes the lines, never the loop that
reads the lines. Work that counts nothing itself (polars staging a file,
Spark's tasks) costs it nothing at all: the timer thread polls a measure
taken from outside (``Meter.poll``: the bytes the process read, Spark's
status tracker). A layer below this one (the readers) is handed a plain
callable instead of a meter (``RunLog.counting``). It lives here, beside the
driver, because every layer that runs a long phase (the embedded engine, the
run skeleton, the diff, Spark) sits at or above this package.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import IO, Any, Final

from adjudicator.errors import UsageError
from adjudicator.options import DEFAULT_SETTINGS

#: the formats of ``--log-format``
LOG_FORMATS: Final = ("text", "json")
#: what ``--run-id`` accepts: it names files and folders (``.OUT.tmp-<id>``) and travels in logs unquoted
RUN_ID_PATTERN: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
#: how often a terminal's progress line is rewritten (seconds)
TERMINAL_EVERY_S: Final = 0.5


def check_run_id(text: str, *, what: str = "--run-id") -> str:
    """``text`` as a run id, or a usage error (exit 2) naming the option or argument (``what``) and what it
    accepts."""
    if not isinstance(text, str) or RUN_ID_PATTERN.fullmatch(text) is None:
        raise UsageError(
            f"{what} {text!r}: a run id is 1 to 128 letters, digits, '.', '_' or '-', starting with a letter or a digit"
        )
    return text


def new_run_id() -> str:
    """A fresh run id (32 hex digits)."""
    return uuid.uuid4().hex


@dataclass
class Meter:
    """One phase's progress: ``done`` of ``total`` units (None: unknown), since ``started``.

    Written by the phase (``update``/``advance``, between batches), read by the log's timer thread: a plain
    attribute, so the phase never waits for the log. Or ``poll``ed by the timer thread (``refresh``) where the
    work runs elsewhere (Spark's tasks): then the pace, and the ETA, are counted from when the total last
    changed (a new stage), not from the phase's start.
    """

    phase: str
    total: int | None = None
    unit: str = "lines"
    started: float = field(default_factory=time.monotonic)
    done: int = 0
    #: (done, total) of work this process does not count itself; None: the phase feeds ``done``
    poll: Callable[[], tuple[int, int | None]] | None = None
    #: when the pace is counted from (``started``, or when a polled total last changed)
    paced_from: float | None = None

    def refresh(self, now: float) -> None:
        """``done`` and ``total`` from ``poll``, when there is one (called by the timer thread)."""
        if self.poll is None:
            return
        done, total = self.poll()
        if total != self.total:
            self.paced_from = now
        self.done, self.total = done, total

    def settle(self) -> None:
        """The last ``refresh`` as the phase ends, kept only when the poll still knows the total (a Spark
        stage's tasks are gone once it ends; the staging's bytes are all counted)."""
        if self.poll is None:
            return
        done, total = self.poll()
        if total is not None:
            self.done, self.total = done, total

    def start_over(self, total: int, unit: str) -> None:
        """Other work from here (the diff's partitioned path after the aligned one gave up): ``total`` units of
        ``unit``, none done, the pace counted from now."""
        self.total, self.unit, self.done, self.paced_from = total, unit, 0, time.monotonic()

    def update(self, done: int) -> None:
        """``done`` units so far."""
        self.done = done

    def advance(self, units: int = 1) -> None:
        """``units`` more done."""
        self.done += units

    def fraction(self) -> float | None:
        """The share done (0 to 1), or None when the total is unknown."""
        if not self.total:
            return None
        return min(self.done / self.total, 1.0)

    def eta_s(self, now: float) -> float | None:
        """Seconds left at the pace so far, or None before the first unit (or without a total)."""
        share = self.fraction()
        if share is None or share <= 0:
            return None
        elapsed = now - (self.paced_from if self.paced_from is not None else self.started)
        return max(elapsed * (1 - share) / share, 0.0)

    def fields(self, now: float) -> dict[str, Any]:
        """The progress as an event's fields: done, total, unit, percent, elapsed_s, eta_s (None: unknown)."""
        share = self.fraction()
        eta = self.eta_s(now)
        counted = self.total is not None or self.done > 0
        return {
            "done": self.done if counted else None,
            "total": self.total,
            "unit": self.unit if counted else None,
            "percent": round(share * 100, 1) if share is not None else None,
            "elapsed_s": round(now - self.started, 1),
            "eta_s": round(eta, 1) if eta is not None else None,
        }


def format_progress(meter: Meter, now: float) -> str:
    """A progress line as text: ``adjudicating: 45% (9,000 of 20,000 lines), 12s elapsed, ETA 15s``."""
    got = meter.fields(now)
    if got["total"]:
        amount = f"{got['percent']:.0f}% ({got['done']:,} of {got['total']:,} {got['unit']})"
    else:
        amount = f"{got['done']:,} {got['unit']}" if got["done"] else "working"
    eta = f"ETA {_seconds(got['eta_s'])}" if got["eta_s"] is not None else "ETA unknown"
    return f"{meter.phase}: {amount}, {_seconds(got['elapsed_s'])} elapsed, {eta}"


def _seconds(value: float) -> str:
    whole = round(value)
    return f"{whole // 60}m{whole % 60:02d}s" if whole >= 60 else f"{whole}s"


def format_event(event: str, run_id: str, fields: dict[str, Any], *, at: dt.datetime | None = None) -> str:
    """One JSON line: ``ts`` (UTC, ISO 8601), ``run_id``, ``event``, then ``fields`` (a None field left out)."""
    stamp = (at or dt.datetime.now(dt.UTC)).isoformat(timespec="milliseconds")
    record = {"ts": stamp, "run_id": run_id, "event": event}
    record.update({k: v for k, v in fields.items() if v is not None})
    return json.dumps(record, default=str, separators=(",", ":"))


class RunLog:
    """What a run tells its watcher on stderr (see the module): ``phase`` around each long phase, ``warning``,
    ``summary``; ``close`` when done.

    ``progress``: progress lines at all (``--quiet`` turns the text ones off; JSON ones stay). ``tty``: whether
    ``stream`` is a terminal (default: asked). ``every_s``: the period of progress lines off a terminal.
    ``after_s``: a terminal shows progress once a phase has taken this long.
    """

    def __init__(
        self,
        *,
        log_format: str = "text",
        run_id: str | None = None,
        stream: IO[str] | None = None,
        progress: bool = True,
        tty: bool | None = None,
        every_s: float = DEFAULT_SETTINGS.progress_every_s,
        after_s: float = DEFAULT_SETTINGS.progress_after_s,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if log_format not in LOG_FORMATS:
            raise ValueError(f"'log_format' must be one of {LOG_FORMATS}, got {log_format!r}")
        self.format = log_format
        self.run_id = run_id or new_run_id()
        self.stream = stream if stream is not None else sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.progress = progress
        self.every_s = every_s
        self.after_s = after_s
        self.clock = clock
        self.meters: list[Meter] = []
        self.warnings: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._timer: threading.Thread | None = None
        self._rewritten = False
        #: the length of the terminal's progress line last written
        self._width = 0

    @property
    def json(self) -> bool:
        return self.format == "json"

    def emit(self, event: str, **fields: Any) -> None:
        """One event: a JSON line in ``json``; in ``text``, only warnings (``warning``) print."""
        if not self.json:
            return
        self._write(format_event(event, self.run_id, fields) + "\n")

    def _write(self, text: str) -> None:
        with self._lock:
            if self._rewritten:  # a terminal's progress line is ended before anything else is written
                self.stream.write("\n")
                self._rewritten, self._width = False, 0
            self.stream.write(text)
            self.stream.flush()

    @contextlib.contextmanager
    def phase(self, name: str, *, total: int | None = None, unit: str = "lines") -> Iterator[Meter]:
        """A long phase: ``phase_start`` and ``phase_end`` events around it (``ok`` false when it raised), and
        progress lines while it runs; the caller feeds the ``Meter``."""
        meter = Meter(name, total, unit, self.clock())
        self.emit("phase_start", phase=name, total=total, unit=unit if total is not None else None)
        self.meters.append(meter)
        self._start_timer()
        ok = False
        try:
            yield meter
            ok = True
        finally:
            self.meters.remove(meter)
            self._end_line()
            now = self.clock()
            if ok:
                with contextlib.suppress(Exception):  # the log never stops a run
                    meter.settle()
            counted = bool(meter.done) or meter.total is not None
            self.emit(
                "phase_end",
                phase=name,
                ok=ok,
                done=meter.done if counted else None,
                total=meter.total,
                unit=meter.unit if counted else None,
                elapsed_s=round(now - meter.started, 3),
            )

    def counting(self, name: str, *, unit: str) -> Callable[[int], AbstractContextManager[Callable[[int], None]]]:
        """``phase`` for a layer below this one, which knows nothing of meters (the readers): given the total,
        the phase, yielding the plain callable its work calls with each more units done (``Meter.advance``)."""

        @contextlib.contextmanager
        def counted(total: int) -> Iterator[Callable[[int], None]]:
            with self.phase(name, total=total, unit=unit) as meter:
                yield meter.advance

        return counted

    def warning(self, code: str, message: str, **fields: Any) -> None:
        """A warning: ``adjudicate: warning: <message>`` in text (always, even with ``--quiet``), a
        ``warning`` event in JSON; kept in ``warnings``."""
        self.warnings.append({"code": code, "message": message, **fields})
        if self.json:
            self.emit("warning", code=code, message=message, **fields)
        else:
            self._write(f"adjudicate: warning: {message}\n")

    def summary(self, fields: dict[str, Any]) -> None:
        """The final ``summary`` event (JSON only: the text summary goes to stdout)."""
        self.emit("summary", **fields)

    def close(self) -> None:
        """Stop the timer thread and end a terminal's progress line."""
        self._stop.set()
        if self._timer is not None:
            self._timer.join(timeout=2)
        self._end_line()

    def __enter__(self) -> RunLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _start_timer(self) -> None:
        if self._timer is not None or not self.progress or self._stop.is_set():
            return
        self._timer = threading.Thread(target=self._tick, name="adjudicator-progress", daemon=True)
        self._timer.start()

    def _tick(self) -> None:
        period = TERMINAL_EVERY_S if (self.tty and not self.json) else self.every_s
        while not self._stop.wait(period):
            with contextlib.suppress(Exception):  # the log never stops a run
                self.show_progress()

    def show_progress(self) -> None:
        """A progress line for the innermost phase running (called by the timer thread)."""
        if not self.meters:
            return
        meter, now = self.meters[-1], self.clock()
        meter.refresh(now)
        if self.json:
            self.emit("progress", phase=meter.phase, **meter.fields(now))
        elif self.tty:
            if now - meter.started < self.after_s:
                return
            with self._lock:
                line = format_progress(meter, now)
                # padded to the line it replaces, so that no tail of a longer one is left on the screen
                self.stream.write(f"\r{line.ljust(self._width)} ")
                self._width = len(line)
                self.stream.flush()
                self._rewritten = True
        else:
            self._write(f"adjudicate: {format_progress(meter, now)}\n")

    def _end_line(self) -> None:
        with self._lock:
            if self._rewritten:
                self.stream.write("\n")
                self.stream.flush()
                self._rewritten, self._width = False, 0


__all__ = [
    "LOG_FORMATS",
    "RUN_ID_PATTERN",
    "Meter",
    "RunLog",
    "check_run_id",
    "format_event",
    "format_progress",
    "new_run_id",
]
