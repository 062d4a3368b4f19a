"""A stop signal handled while polars' compiled core has called its own Python code back (building data types
while it works out a schema) is put off until the main thread has moved on: raised there, the interruption
crossed the compiled frames, which printed a panic and its stack trace on stderr."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import polars as pl
import pytest

from adjudicator.cli import signals
from adjudicator.cli.signals import MAX_DEFERRALS, Terminated, in_engine_callback, stop_signals
from tests.helpers import ROOT

POLARS = Path(pl.__file__).parent

#: a loop that spends much of its time in polars' schema call, which calls back Python for every data type, and
#: the rest in code of its own, as a run does; the cap on deferrals is lifted (the next test covers it)
LOOP = textwrap.dedent(
    """
    import random, signal, threading
    import polars as pl
    from adjudicator.cli import signals
    from adjudicator.cli.signals import Terminated, stop_signals

    signals.MAX_DEFERRALS = 10**6

    frame = pl.LazyFrame({f"c{i}": [1] for i in range(300)})
    frame = frame.select(pl.col(f"c{i}").cast(pl.Datetime("ms", "UTC")) for i in range(300))
    main = threading.main_thread().ident
    with stop_signals():
        threading.Timer(random.uniform(0.05, 0.3), signal.pthread_kill, args=(main, signal.SIGTERM)).start()
        try:
            while True:
                frame.collect_schema()
                for _ in range(200_000):  # the run's own work between two engine calls
                    pass
        except Terminated:
            print("terminated")
        except BaseException as exc:
            print(type(exc).__name__)
    """
)


def _frame(path: Path, back: Any = None) -> Any:
    return SimpleNamespace(f_code=SimpleNamespace(co_filename=str(path)), f_back=back)


def test_a_signal_during_polars_callbacks_stops_without_a_panic() -> None:
    for _ in range(3):
        done = subprocess.run(
            [sys.executable, "-c", LOOP],
            env={**os.environ, "PYTHONPATH": str(ROOT), "RUST_BACKTRACE": "1"},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.stdout.strip() == "terminated", done.stderr
        assert "panicked" not in done.stderr


def test_callback_frames_are_told_from_the_wrapper_a_long_call_returns_to() -> None:
    ours = _frame(ROOT / "adjudicator" / "run.py")
    wrapper = _frame(POLARS / "lazyframe" / "frame.py", ours)
    callback = _frame(POLARS / "datatypes" / "classes.py", wrapper)
    helper = _frame(POLARS / "_utils" / "various.py", callback)
    assert in_engine_callback(callback)
    assert in_engine_callback(helper)  # called by a callback
    assert not in_engine_callback(wrapper)
    assert not in_engine_callback(ours)
    assert not in_engine_callback(_frame(ROOT / "adjudicator" / "x.py", callback))  # our code on top
    assert not in_engine_callback(None)


def test_a_deferred_signal_is_delivered_again_then_raised_at_the_latest_after_the_cap(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sent: list[int] = []
    monkeypatch.setattr(signals, "_deliver_later", sent.append)
    callback = _frame(POLARS / "datatypes" / "classes.py", _frame(POLARS / "lazyframe" / "frame.py"))
    with stop_signals():
        for _ in range(MAX_DEFERRALS):
            signals._on_signal(signal.SIGTERM, callback)  # type: ignore[arg-type]
        assert sent == [signal.SIGTERM] * MAX_DEFERRALS
        assert signals.received() == signal.SIGTERM
        with pytest.raises(Terminated):
            signals._on_signal(signal.SIGTERM, callback)  # type: ignore[arg-type]
        with pytest.raises(Terminated):  # our own code: at once
            signals._on_signal(signal.SIGTERM, _frame(ROOT / "adjudicator" / "run.py"))  # type: ignore[arg-type]
