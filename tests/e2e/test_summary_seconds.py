"""The seconds a run's summary gives (``done in``, ``--summary-json``'s ``seconds``, the ``summary`` event) are
the run's, from its start to its summary: the report's phase and the publish included, not only the phases the
manifest's ``timings`` measure."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from adjudicator.cli import main
from adjudicator.report.terminal import run_seconds
from tests.helpers import SAMPLE

pytestmark = pytest.mark.e2e


def test_the_summary_s_seconds_cover_every_phase_the_log_timed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["run", str(SAMPLE), "--out", str(tmp_path / "out"), "--log-format", "json", "--summary-json", "--quiet"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    events = [json.loads(line) for line in captured.err.splitlines()]
    phases = {e["phase"]: e["elapsed_s"] for e in events if e["event"] == "phase_end"}
    assert "writing the report" in phases
    seconds = json.loads(captured.out.splitlines()[-1])["seconds"]
    assert seconds >= sum(phases.values())
    (summary,) = (e for e in events if e["event"] == "summary")
    assert summary["seconds"] == seconds


def test_run_seconds_counts_from_the_run_s_start_to_its_summary() -> None:
    start = dt.datetime(2026, 12, 5, 2, 0, 0, tzinfo=dt.UTC)
    manifest = {"started_at": start.isoformat(), "timings": {"startup_s": 9.0, "prepass_s": 1.0, "execute_s": 2.0}}
    assert run_seconds(manifest, finished=start + dt.timedelta(seconds=7.5)) == 7.5
    assert run_seconds(manifest) == 3.0  # no end given: the phases the manifest timed
