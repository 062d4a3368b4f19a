"""Stop signals while a command runs: every signal whose default action ends the process (SIGINT, SIGTERM,
SIGHUP, ...: ``STOP_SIGNALS``) unwinds the run the same way, and an error the engine raises because of the
interruption still reads as the interruption."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator
from types import FrameType
from typing import Final

from adjudicator.errors import EXIT_INTERRUPTED

#: the signals that end a process by default and that a run handles like SIGTERM (SIGINT: like Ctrl-C): a
#: closed terminal (SIGHUP), Ctrl-\\ (SIGQUIT), a CPU-time limit (SIGXCPU), a stray kill -USR1 or alarm. Left
#: alone: SIGKILL and SIGSTOP (they cannot be caught), SIGPIPE and SIGXFSZ (Python ignores them: a failed
#: write raises instead), SIGPROF (profilers use it)
STOP_SIGNALS: Final = tuple(
    getattr(signal, name)
    for name in ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGALRM", "SIGXCPU", "SIGVTALRM")
    if hasattr(signal, name)
)


class Terminated(KeyboardInterrupt):
    """SIGTERM (cron, systemd, Kubernetes), SIGHUP (a closed terminal) and the other ``STOP_SIGNALS`` unwind the
    run exactly as Ctrl-C does: temporary folders are removed on the way out and OUT is left as it was."""

    def __init__(self, signum: int = signal.SIGTERM) -> None:
        self.signum = signum
        super().__init__(signum)


#: how long a stop signal that arrived inside an engine's callback waits before it is delivered again, and how
#: many times at most (then it is raised wherever it lands)
DEFER_S: Final = 0.02
MAX_DEFERRALS: Final = 100
#: the Python code polars' compiled core calls back while it works (it builds its data types, and converts
#: values, in Python): an exception raised there crosses the compiled frames, which abort with a panic message
#: and a stack trace on stderr before the run can say it was stopped. Paths inside the polars package.
CALLED_BACK: Final = ("datatypes/", "_utils/convert.py", "_utils/wrap.py")


class _Signals:
    """Which stop signal arrived, so that an engine error raised by the interruption reads as one; how many
    times it was put off (``_on_signal``)."""

    received: int | None = None
    deferred: int = 0


def in_engine_callback(frame: FrameType | None) -> bool:
    """Whether ``frame`` runs, or was called by, polars code its compiled core may have called back
    (``CALLED_BACK``): the polars frames at the top of the stack are looked at, up to the first frame of other
    code. The Python wrapper a long polars call returns to is not one of them, so a signal that arrived during
    the call is raised there at once."""
    module = sys.modules.get("polars")
    if module is None or not module.__file__:
        return False
    root = os.path.dirname(module.__file__) + os.sep
    called_back = tuple(root + part.replace("/", os.sep) for part in CALLED_BACK)
    while frame is not None and frame.f_code.co_filename.startswith(root):
        if frame.f_code.co_filename.startswith(called_back):
            return True
        frame = frame.f_back
    return False


def _deliver_later(signum: int) -> None:
    """The same signal again in ``DEFER_S``, to the main thread, from a timer thread."""
    main = threading.main_thread().ident
    if main is None:  # pragma: no cover - the main thread has an id once it runs
        return
    timer = threading.Timer(DEFER_S, signal.pthread_kill, args=(main, signum))
    timer.daemon = True
    timer.start()


def _on_signal(signum: int, frame: FrameType | None) -> None:
    _Signals.received = signum
    if in_engine_callback(frame) and _Signals.deferred < MAX_DEFERRALS:
        # raised here, the interruption would cross the engine's compiled frames: it is delivered again once
        # the main thread has moved on
        _Signals.deferred += 1
        _deliver_later(signum)
        return
    _Signals.deferred = 0
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    raise Terminated(signum)


@contextlib.contextmanager
def stop_signals() -> Iterator[None]:
    """Every one of ``STOP_SIGNALS`` raises in the main thread while a command runs (only where handlers can be
    set)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _Signals.received, _Signals.deferred = None, 0
    previous = {sig: signal.signal(sig, _on_signal) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def interrupted(terminated: bool | int) -> int:
    """Report the interruption in one line; the exit status: 128 + the signal's number, as a shell reports it.

    ``terminated``: the signal's number (True: SIGTERM; False: Ctrl-C, SIGINT).
    """
    signum = signal.SIGTERM if terminated is True else (signal.SIGINT if terminated is False else terminated)
    if signum == signal.SIGINT:
        print("adjudicate: interrupted; OUT left as it was", file=sys.stderr)
        return EXIT_INTERRUPTED
    print(
        f"adjudicate: terminated ({signal.Signals(signum).name}); temporary files removed, OUT left as it was",
        file=sys.stderr,
    )
    return int(128 + signum)


def stopped_by(exc: KeyboardInterrupt) -> int:
    """``interrupted`` for a ``KeyboardInterrupt``: the signal a ``Terminated`` carries, else Ctrl-C."""
    return interrupted(exc.signum if isinstance(exc, Terminated) else False)


def received() -> int | None:
    """The stop signal received while the current command ran, if any."""
    return _Signals.received


def interrupted_by_signal() -> int:
    """``interrupted`` for the signal received (SIGINT when none was recorded)."""
    return interrupted(_Signals.received if _Signals.received is not None else False)


__all__ = [
    "STOP_SIGNALS",
    "Terminated",
    "interrupted",
    "interrupted_by_signal",
    "received",
    "stop_signals",
    "stopped_by",
]
