"""Stop signals while a command runs: SIGINT and SIGTERM unwind the run the same way, and an error the engine
raises because of the interruption still reads as the interruption."""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Iterator
from types import FrameType

from adjudicator.errors import EXIT_INTERRUPTED, EXIT_TERMINATED


class Terminated(KeyboardInterrupt):
    """SIGTERM (cron, systemd, Kubernetes) unwinds the run exactly as Ctrl-C does: temporary folders are
    removed on the way out and OUT is left as it was."""


class _Signals:
    """Which stop signal arrived, so that an engine error raised by the interruption reads as one."""

    received: int | None = None


def _on_signal(signum: int, frame: FrameType | None) -> None:
    _Signals.received = signum
    if signum == signal.SIGTERM:
        raise Terminated
    raise KeyboardInterrupt


@contextlib.contextmanager
def stop_signals() -> Iterator[None]:
    """SIGINT and SIGTERM raise in the main thread while a command runs (only where handlers can be set)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _Signals.received = None
    previous = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def interrupted(terminated: bool) -> int:
    if terminated:
        print("adjudicate: terminated (SIGTERM); temporary files removed, OUT left as it was", file=sys.stderr)
        return EXIT_TERMINATED
    print("adjudicate: interrupted; OUT left as it was", file=sys.stderr)
    return EXIT_INTERRUPTED


def received() -> int | None:
    """The stop signal received while the current command ran, if any."""
    return _Signals.received


def interrupted_by_signal() -> int:
    """``interrupted`` for the signal received (SIGTERM or SIGINT)."""
    return interrupted(_Signals.received == signal.SIGTERM)


__all__ = ["Terminated", "interrupted", "interrupted_by_signal", "received", "stop_signals"]
