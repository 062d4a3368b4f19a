"""Every signal that ends a process is handled like SIGTERM: SIGHUP (a closed terminal) stops a run with exit
128 + its number, one line naming it, temporary folders removed and OUT as it was; a stop signal while the
report's charts are drawn acts within about a second and kills the renderer."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from adjudicator.cli.signals import Terminated, stop_signals
from adjudicator.report.charts import chart
from adjudicator.report.html import _page
from tests.helpers import ROOT
from tests.support.big_inputs import big_csv, wait_for

pytestmark = pytest.mark.e2e


@pytest.mark.slow
def test_sighup_stops_a_run_like_sigterm(tmp_path: Path) -> None:
    out = tmp_path / "out"
    big = big_csv(tmp_path / "big.csv", 600)
    proc = subprocess.Popen(
        [sys.executable, "-m", "adjudicator", "run", str(big), "--out", str(out), "--quiet"],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    if not wait_for(".out.scratch-*/input.parquet", tmp_path, proc):
        proc.kill()
        pytest.skip("the run finished before it could be stopped")
    proc.send_signal(signal.SIGHUP)
    sent = time.monotonic()
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signal.SIGHUP, err
    assert err.decode().count("\n") == 1 and b"SIGHUP" in err, err
    assert time.monotonic() - sent < 15
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.csv"], "temporary folders left behind"


def test_the_signals_that_end_a_process_are_all_handled() -> None:
    from adjudicator.cli.signals import STOP_SIGNALS  # here: the SIGHUP test above runs on any version

    for name in ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGALRM", "SIGXCPU"):
        assert getattr(signal, name) in STOP_SIGNALS, name


@pytest.mark.parametrize("sig", [signal.SIGHUP, signal.SIGTERM, signal.SIGQUIT], ids=lambda s: s.name)
def test_a_stop_signal_while_the_charts_are_drawn_acts_within_a_second(sig: signal.Signals) -> None:
    from adjudicator.report.draw import ChartRenderer, draw_charts

    renderer = ChartRenderer(command=[sys.executable, "-I", "-c", "import time; time.sleep(600)"], limit_s=300)
    renderer.warm_up()
    child = renderer._child
    assert child is not None
    page = _page("t", "s", [chart("c", "c", {"mark": "point", "data": {"values": [{}]}})])
    timer = threading.Timer(0.5, os.kill, (os.getpid(), sig))
    started = time.monotonic()
    try:
        with stop_signals(), pytest.raises(Terminated) as stopped:
            timer.start()
            draw_charts(page, renderer)
    finally:
        timer.cancel()
        renderer.close()
    assert stopped.value.signum == sig
    assert time.monotonic() - started < 2.5
    assert child.poll() is not None, "the renderer outlived the stop"
