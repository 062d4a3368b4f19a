"""What a scheduler reads of a run (README, "Logs, progress and data-quality gates"): JSON log lines on stderr with
the run id, one event per phase start and end, progress lines off a terminal, ``--run-id``, and the last stdout line
of ``--summary-json``; for ``run`` and ``diff``."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from adjudicator.cli import main
from adjudicator.errors import EXIT_BAD_INPUT, EXIT_OK
from tests.helpers import SAMPLE

pytestmark = pytest.mark.e2e

#: a progress line a few times a second, so that the sample's short run shows some
OFTEN = ["--engine-settings", json.dumps({"progress_every_s": 0.02})]
#: the phases of an embedded run of a CSV file, in order
RUN_PHASES = ["staging", "prepass", "adjudicating", "writing the report"]


def _json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines()]


def _phases(events: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(e["event"], e["phase"]) for e in events if e["event"] in ("phase_start", "phase_end")]


def test_json_logs_hold_the_run_id_each_phase_start_and_end_progress_and_the_summary_last(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    code = main(["run", str(SAMPLE), "--out", str(out), "--log-format", "json", "--run-id", "nightly-1", *OFTEN])
    assert code == EXIT_OK
    captured = capsys.readouterr()
    events = _json_lines(captured.err)  # every stderr line is one JSON object
    assert {e["run_id"] for e in events} == {"nightly-1"}
    assert events[0]["event"] == "run_start" and events[-1]["event"] == "summary"
    assert _phases(events) == [(kind, phase) for phase in RUN_PHASES for kind in ("phase_start", "phase_end")]
    assert all(e["ok"] for e in events if e["event"] == "phase_end")
    ended = {e["phase"]: e for e in events if e["event"] == "phase_end"}
    assert (ended["adjudicating"]["done"], ended["adjudicating"]["total"]) == (262, 262)
    assert ended["prepass"]["unit"] == "steps" and ended["prepass"]["done"] == ended["prepass"]["total"]
    progress = [e for e in events if e["event"] == "progress"]
    assert progress and all("elapsed_s" in e for e in progress)
    assert any(0 <= e.get("percent", -1) <= 100 for e in progress)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["run_id"] == "nightly-1"
    assert pl.read_parquet(out / "results.parquet")["run_id"].unique().to_list() == ["nightly-1"]
    warnings = [e["code"] for e in events if e["event"] == "warning"]
    assert warnings == [w["code"] for w in manifest["gates"]["warnings"]] == events[-1]["warnings"]
    assert events[-1]["read"] == manifest["counts"]["read"] and events[-1]["exit_code"] == EXIT_OK
    assert "done in" in captured.out  # the text summary stays on stdout


def test_off_a_terminal_text_progress_is_a_plain_line_with_the_percentage_and_an_eta(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", str(SAMPLE), "--out", str(tmp_path / "out"), *OFTEN]) == EXIT_OK
    err = capsys.readouterr().err  # capsys' stderr is not a terminal
    assert "\r" not in err
    progress = [line for line in err.splitlines() if not line.startswith("adjudicate: warning:")]
    pattern = re.compile(r"adjudicate: (staging|prepass|adjudicating|writing the report): .*, \S+ elapsed, ETA \S+")
    assert progress and all(pattern.fullmatch(line) for line in progress), progress
    assert any(re.search(r": \d+% \(\d+ of \d+ (lines|steps)\)", line) for line in progress), progress


def test_quiet_text_runs_show_no_progress(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(SAMPLE), "--out", str(tmp_path / "out"), "--quiet", *OFTEN]) == EXIT_OK
    assert all(line.startswith("adjudicate: warning:") for line in capsys.readouterr().err.splitlines())


@pytest.mark.parametrize("quiet", [False, True])
def test_summary_json_is_the_last_stdout_line(tmp_path: Path, capsys: pytest.CaptureFixture[str], quiet: bool) -> None:
    out = tmp_path / "out"
    extra = ["--quiet"] if quiet else []
    assert main(["run", str(SAMPLE), "--out", str(out), "--summary-json", "--run-id", "r.2", *extra]) == EXIT_OK
    lines = capsys.readouterr().out.splitlines()
    summary = json.loads(lines[-1])
    assert len(lines) == 1 if quiet else len(lines) > 1
    manifest = json.loads((out / "manifest.json").read_text())
    assert summary["run_id"] == "r.2" and summary["status"] == "ok" and summary["exit_code"] == EXIT_OK
    counts = manifest["counts"]
    assert {k: summary[k] for k in ("read", "results", "rejects", "skipped")} == {
        k: counts[k] for k in ("read", "results", "rejects", "skipped")
    }
    assert summary["out"] == str(out) and summary["gates_failed"] == []


@pytest.mark.parametrize("run_id", ["a/b", "../up", "with space", "-dash", "x" * 129])
def test_an_unsafe_run_id_is_exit_2_before_anything_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], run_id: str
) -> None:
    out = tmp_path / "out"
    assert main(["run", str(SAMPLE), "--out", str(out), f"--run-id={run_id}"]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("adjudicate: error: --run-id"), err
    assert not out.exists()


def test_an_error_is_a_json_event_and_the_summary_line_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "missing.csv"
    args = ["run", str(missing), "--out", str(tmp_path / "out"), "--log-format", "json", "--summary-json"]
    assert main([*args, "--run-id", "r3"]) == EXIT_BAD_INPUT
    captured = capsys.readouterr()
    *events, plain = captured.err.splitlines()
    assert plain.startswith("adjudicate: error: ") and str(missing) in plain
    error = _json_lines("\n".join(events))[-1]
    assert (error["event"], error["exit_code"], error["run_id"]) == ("error", EXIT_BAD_INPUT, "r3")
    summary = json.loads(captured.out.splitlines()[-1])
    assert (summary["status"], summary["exit_code"], summary["run_id"]) == ("error", EXIT_BAD_INPUT, "r3")


def test_diff_json_logs_its_phases_with_progress(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("old", "new"):
        assert main(["run", str(SAMPLE), "--out", str(tmp_path / name), "--quiet"]) == EXIT_OK
    capsys.readouterr()
    args = ["diff", str(tmp_path / "old"), str(tmp_path / "new"), "--out", str(tmp_path / "d"), "--quiet"]
    assert main([*args, "--log-format", "json"]) == EXIT_OK
    events = _json_lines(capsys.readouterr().err)
    phases = ["checking the runs", "comparing", "writing the report"]
    assert _phases(events) == [(kind, phase) for phase in phases for kind in ("phase_start", "phase_end")]
    comparing = next(e for e in events if e["event"] == "phase_end" and e["phase"] == "comparing")
    assert comparing["done"] == comparing["total"] > 0
    assert events[-1]["event"] == "summary" and events[-1]["totals"]["changed"] == 0
    assert len({e["run_id"] for e in events}) == 1


def test_a_diff_that_fails_logs_an_error_event(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["diff", str(tmp_path / "none"), str(tmp_path / "nor"), "--out", str(tmp_path / "d"), "--log-format", "json"]
    assert main(args) == EXIT_BAD_INPUT
    *events, plain = capsys.readouterr().err.splitlines()
    assert plain.startswith("adjudicate: error: ")
    assert [json.loads(e)["event"] for e in events] == ["phase_start", "phase_end", "error"]
