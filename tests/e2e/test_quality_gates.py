"""Data-quality gates on whole runs (README, "Logs, progress and data-quality gates"): a run that adjudicates no
line, rejects every line, or holds dates after the run date warns and exits 0; ``--max-reject-rate`` and
``--min-results`` exit 4 with OUT published and the failed gate in the manifest."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from adjudicator.cli import main
from adjudicator.errors import EXIT_GATE, EXIT_OK
from adjudicator.publish.gates import ALL_REJECTED, MAX_REJECT_RATE, MIN_RESULTS, NO_RESULTS
from tests.helpers import SAMPLE

pytestmark = pytest.mark.e2e


def _manifest(out: Path) -> dict[str, Any]:
    return json.loads((out / "manifest.json").read_text())


def _us_dates(tmp_path: Path) -> Path:
    """The sample with every date of service written MM/DD/YYYY: every line is rejected."""
    path = tmp_path / "us_dates.csv"
    frame = pl.read_csv(SAMPLE, infer_schema=False)
    us = pl.col("service_date").str.to_date("%Y-%m-%d", strict=False).dt.strftime("%m/%d/%Y")
    frame.with_columns(us.fill_null("13/45/2024").alias("service_date")).write_csv(path)
    return path


@pytest.mark.parametrize(
    ("gate", "value", "code"), [("--max-reject-rate", "0.01", MAX_REJECT_RATE), ("--min-results", "1000", MIN_RESULTS)]
)
def test_a_failed_gate_exits_4_with_out_published_and_the_gate_in_the_manifest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], gate: str, value: str, code: str
) -> None:
    out = tmp_path / "out"
    assert main(["run", str(SAMPLE), "--out", str(out), gate, value, "--summary-json"]) == EXIT_GATE
    captured = capsys.readouterr()
    for name in ("results.parquet", "rejects.parquet", "manifest.json", "report.html"):
        assert (out / name).is_file(), name
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.")]
    gates = _manifest(out)["gates"]
    assert [f["code"] for f in gates["failed"]] == [code]
    assert gates["max_reject_rate" if code == MAX_REJECT_RATE else "min_results"] == json.loads(value)
    failed = [line for line in captured.err.splitlines() if line.startswith("adjudicate: error: ")]
    assert failed == [f"adjudicate: error: {gates['failed'][0]['message']} (OUT published for inspection)"]
    summary = json.loads(captured.out.splitlines()[-1])
    assert (summary["status"], summary["exit_code"], summary["gates_failed"]) == ("gate_failed", EXIT_GATE, [code])


def test_gates_that_hold_exit_0(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert main(["run", str(SAMPLE), "--out", str(out), "--max-reject-rate", "0.5", "--min-results", "1"]) == EXIT_OK
    gates = _manifest(out)["gates"]
    assert (gates["failed"], gates["max_reject_rate"], gates["min_results"]) == ([], 0.5, 1)


#: (option, a value it refuses)
OUT_OF_RANGE = [
    ("--max-reject-rate", "1.5"),
    ("--max-reject-rate", "x"),
    ("--min-results", "-1"),
    ("--min-results", "2.5"),
]


@pytest.mark.parametrize(("option", "value"), OUT_OF_RANGE)
def test_a_gate_out_of_range_is_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], option: str, value: str
) -> None:
    assert main(["run", str(SAMPLE), "--out", str(tmp_path / "out"), option, value]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"adjudicate: error: {option}")
    assert not (tmp_path / "out").exists()


def test_only_payer_not_in_the_data_warns_and_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert main(["run", str(SAMPLE), "--out", str(out), "--only-payer", "NOPE", "--quiet"]) == EXIT_OK
    err = capsys.readouterr().err
    assert err.splitlines() == ["adjudicate: warning: no line adjudicated: no line of the input is of --only-payer "
                                "NOPE inside the slice"]  # fmt: skip
    assert [w["code"] for w in _manifest(out)["gates"]["warnings"]] == [NO_RESULTS]


def test_every_line_rejected_warns_as_an_event_and_a_minimum_makes_it_exit_4(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _us_dates(tmp_path)
    assert main(["run", str(path), "--out", str(tmp_path / "a"), "--quiet", "--log-format", "json"]) == EXIT_OK
    events = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert [e["code"] for e in events if e["event"] == "warning"] == [ALL_REJECTED]
    manifest = _manifest(tmp_path / "a")
    assert manifest["counts"]["results"] == 0 and manifest["counts"]["rejects"] == 262
    assert main(["run", str(path), "--out", str(tmp_path / "b"), "--quiet", "--min-results", "1"]) == EXIT_GATE
    assert [f["code"] for f in _manifest(tmp_path / "b")["gates"]["failed"]] == [MIN_RESULTS]


def test_dates_of_service_after_the_run_date_warn(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "future.csv"
    frame = pl.read_csv(SAMPLE, infer_schema=False).head(3)
    frame.with_columns(pl.Series("service_date", ["2999-01-01", "2000-01-03", "2999-12-31"])).write_csv(path)
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out), "--quiet"]) == EXIT_OK
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("adjudicate: warning: 2 results have a date of service after the run date ")
    assert _manifest(out)["gates"]["future_service_lines"] == 2


def test_a_replay_applies_the_gates_of_its_own_command_line(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert main(["run", str(SAMPLE), "--out", str(out), "--quiet"]) == EXIT_OK
    replay = ["run", "--replay", str(out / "manifest.json"), "--out", str(tmp_path / "again"), "--quiet"]
    assert main([*replay, "--min-results", "100000"]) == EXIT_GATE
    assert (tmp_path / "again" / "manifest.json").is_file()


@pytest.mark.spark
def test_the_spark_engine_applies_the_same_gates_and_logs_its_phases(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if shutil.which("java") is None:
        pytest.skip("the Spark engine needs Java (17) on PATH")
    pytest.importorskip("pyspark")
    out = tmp_path / "out"
    args = ["run", str(SAMPLE), "--out", str(out), "--engine", "spark", "--spark-master", "local[1]", "--quiet"]
    often = ["--engine-settings", json.dumps({"progress_every_s": 0.02})]
    assert main([*args, "--max-reject-rate", "0.01", "--log-format", "json", *often]) == EXIT_GATE
    events = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    # Spark's phases count the tasks of the stages running (its status tracker)
    tasks = [e for e in events if e["event"] == "progress" and e.get("unit") == "tasks"]
    assert tasks and all(0 <= e["done"] <= e["total"] for e in tasks if e.get("total"))
    assert [(e["event"], e["phase"]) for e in events if e["event"].startswith("phase_")] == [
        (kind, phase)
        for phase in ("prepass", "adjudicating", "writing the report")
        for kind in ("phase_start", "phase_end")
    ]
    assert [f["code"] for f in _manifest(out)["gates"]["failed"]] == [MAX_REJECT_RATE]
    assert (out / "results").is_dir()
