"""A run that stops before publishing tells its scheduler so in the formats it asked for: an ``error`` event in the
JSON log (with the signal's name for a stop signal) and, with ``--summary-json``, a last stdout line with its status
and exit code; for an error, a stop signal and a bug alike. A stop signal never makes the engine print a panic."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import adjudicator.run
from adjudicator.cli import main
from adjudicator.errors import EXIT_INTERNAL
from tests.helpers import ROOT, SAMPLE
from tests.support.big_inputs import big_csv

pytestmark = pytest.mark.e2e


def _events(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def _wait_for_event(err: Path, phase: str, proc: subprocess.Popen[bytes], limit: float = 120) -> bool:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and proc.poll() is None:
        if any(e.get("event") == "phase_start" and e.get("phase") == phase for e in _events(err.read_text())):
            return True
        time.sleep(0.02)
    return False


@pytest.mark.slow
@pytest.mark.parametrize("phase", ["prepass", "adjudicating"])
def test_sigterm_ends_the_json_log_with_an_error_event_and_stdout_with_the_summary_line(
    tmp_path: Path, phase: str
) -> None:
    big = big_csv(tmp_path / "big.csv", 1500)
    out, err = tmp_path / "out", tmp_path / "stderr.txt"
    command = [sys.executable, "-m", "adjudicator", "run", str(big), "--out", str(out)]
    flags = ["--log-format", "json", "--summary-json", "--quiet", "--run-id", "nightly-7"]
    with err.open("w") as stderr:
        proc = subprocess.Popen(
            [*command, *flags],
            env={**os.environ, "PYTHONPATH": str(ROOT), "RUST_BACKTRACE": "1"},
            stdout=subprocess.PIPE,
            stderr=stderr,
        )
        if not _wait_for_event(err, phase, proc):
            proc.kill()
            pytest.skip(f"the run finished before its {phase} could be stopped")
        proc.send_signal(signal.SIGTERM)
        stdout, _ = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signal.SIGTERM
    text = err.read_text()
    assert "panicked" not in text and "Traceback" not in text, text
    events = _events(text)
    assert all(e["run_id"] == "nightly-7" for e in events)
    (stopped,) = (e for e in events if e["event"] == "error")
    assert stopped["signal"] == "SIGTERM" and stopped["exit_code"] == 143
    assert stopped["message"] == "terminated (SIGTERM)"
    last = json.loads(stdout.decode().splitlines()[-1])
    assert last == {"run_id": "nightly-7", "status": "terminated", "exit_code": 143, "error": "terminated (SIGTERM)"}
    assert not out.exists()


def test_a_bug_is_an_error_event_and_a_summary_line_with_exit_3(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the manifest could not be built\nsecond line")

    monkeypatch.setattr(adjudicator.run, "publish_run", broken)
    argv = ["run", str(SAMPLE), "--out", str(tmp_path / "out"), "--log-format", "json", "--summary-json"]
    assert main([*argv, "--run-id", "r1"]) == EXIT_INTERNAL
    captured = capsys.readouterr()
    events = _events(captured.err)
    (error,) = (e for e in events if e["event"] == "error")
    assert error["exit_code"] == EXIT_INTERNAL
    assert error["message"] == "internal error: RuntimeError: the manifest could not be built"
    assert "signal" not in error
    last = json.loads(captured.out.splitlines()[-1])
    assert last["status"] == "error" and last["exit_code"] == EXIT_INTERNAL and last["run_id"] == "r1"
    # and the one line for a person is still there
    assert "adjudicate: internal error: RuntimeError: the manifest could not be built" in captured.err
