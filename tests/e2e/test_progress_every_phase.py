"""Progress in every long phase, with its percentage (README, "Logs, progress and data-quality gates"): a run's
staging (bytes read), prepass, adjudicating and writing the report, a diff's checking the runs, comparing and
writing the report, and an 837P's reading; every ``progress`` event carries ``percent``, never going back
within its phase."""

from __future__ import annotations

import contextlib
import io
import json
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from adjudicator.cli import main
from adjudicator.diff.runs import diff_runs
from adjudicator.embedded.events import RunLog
from adjudicator.embedded.staging import bytes_read
from adjudicator.errors import EXIT_OK
from benchmarks.generate import generate
from tests.helpers import ROOT

pytestmark = pytest.mark.e2e

#: a progress event every 20 ms: the phases of a few seconds' run show many
OFTEN = ["--engine-settings", json.dumps({"progress_every_s": 0.02})]
#: lines of the generated CSV: about 33 MB, which takes a few periods to stage
LINES = 400_000
PROFESSIONAL = ROOT / "tests" / "fixtures" / "layouts" / "professional.837"


@pytest.fixture(scope="module")
def claims_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("data") / "claims"
    return generate(lines=LINES, seed=11, formats=("csv",), out=out, quiet=True)["csv"]


def _run(claims: Path, out: Path, *extra: str) -> str:
    """``adjudicate run`` of ``claims`` into ``out`` with a progress line every period; its stderr."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        assert main(["run", str(claims), "--out", str(out), *extra, *OFTEN]) == EXIT_OK
    return err.getvalue()


@pytest.fixture(scope="module")
def json_run(claims_csv: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A run of the CSV with JSON logs: OUT, and its stderr."""
    out = tmp_path_factory.mktemp("json") / "out"
    return out, _run(claims_csv, out, "--log-format", "json")


@pytest.fixture(scope="module")
def text_run(claims_csv: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A run of the CSV with text logs (off a terminal): OUT, and its stderr."""
    out = tmp_path_factory.mktemp("text") / "out"
    return out, _run(claims_csv, out)


def _events(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines()]


def _progress_by_phase(events: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Each phase's progress events, checked: every one has its percentage, which never goes back."""
    phases: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for event in events:
        if event["event"] == "progress":
            phases[event["phase"]].append(event)
    for phase, progress in phases.items():
        percents = [e.get("percent") for e in progress]
        assert all(p is not None and 0 <= p <= 100 for p in percents), (phase, progress)
        assert percents == sorted(percents), (phase, percents)
        assert all(e["total"] > 0 for e in progress), (phase, progress)
    return phases


def test_every_phase_of_a_run_shows_its_percentage_staging_in_bytes(
    claims_csv: Path, json_run: tuple[Path, str]
) -> None:
    events = _events(json_run[1])
    phases = _progress_by_phase(events)
    assert set(phases) <= {"staging", "prepass", "adjudicating", "writing the report"}
    assert phases["staging"], "staging a file of this size takes more than one period"
    ended = {e["phase"]: e for e in events if e["event"] == "phase_end"}
    staging = ended["staging"]
    if bytes_read() is not None:  # Linux: the bytes polars read, of the file's size
        assert staging["unit"] == "bytes" and staging["total"] == claims_csv.stat().st_size
        assert all(e["unit"] == "bytes" for e in phases["staging"])
    assert staging["done"] == staging["total"]
    report = ended["writing the report"]
    assert (report["unit"], report["done"]) == ("steps", report["total"])


def test_off_a_terminal_the_staging_line_has_its_percentage_and_an_eta(text_run: tuple[Path, str]) -> None:
    lines = [line for line in text_run[1].splitlines() if line.startswith("adjudicate: staging:")]
    pattern = re.compile(r"adjudicate: staging: \d+% \([\d,]+ of [\d,]+ (bytes|parts)\), \S+ elapsed, ETA \S+")
    assert lines and all(pattern.fullmatch(line) for line in lines), lines


def test_every_phase_of_a_diff_shows_its_percentage(
    tmp_path: Path, json_run: tuple[Path, str], text_run: tuple[Path, str]
) -> None:
    stream = io.StringIO()
    log = RunLog(log_format="json", stream=stream, every_s=0.02)
    with log:
        diff_runs(json_run[0], text_run[0], tmp_path / "d", log=log)
    events = _events(stream.getvalue())
    phases = _progress_by_phase(events)
    assert phases and set(phases) <= {"checking the runs", "comparing", "writing the report"}
    ended = {e["phase"]: e for e in events if e["event"] == "phase_end"}
    for phase in ("checking the runs", "comparing", "writing the report"):
        assert ended[phase]["done"] == ended[phase]["total"] > 0, ended[phase]
    assert (ended["checking the runs"]["unit"], ended["writing the report"]["unit"]) == ("steps", "steps")


@pytest.mark.parametrize("aligned", [True, False])
def test_a_diff_is_compared_in_steps_known_from_its_start(
    tmp_path: Path, json_run: tuple[Path, str], text_run: tuple[Path, str], aligned: bool
) -> None:
    stream = io.StringIO()
    log = RunLog(log_format="json", stream=stream, progress=False)
    diff_runs(json_run[0], text_run[0], tmp_path / "d", log=log, aligned=aligned, partitions=3)
    events = _events(stream.getvalue())
    start = next(e for e in events if e["event"] == "phase_start" and e["phase"] == "comparing")
    end = next(e for e in events if e["event"] == "phase_end" and e["phase"] == "comparing")
    # the aligned path: its slices; the partitioned one: each run spilled, then each partition compared
    expected = ("slices", end["total"]) if aligned else ("steps", 2 + 3)
    assert (start["unit"], start["total"]) == expected == (end["unit"], end["done"])


def test_an_837p_is_read_in_a_phase_of_its_own_in_bytes(tmp_path: Path) -> None:
    events = _events(_run(PROFESSIONAL, tmp_path / "out", "--log-format", "json"))
    _progress_by_phase(events)
    started = [e["phase"] for e in events if e["event"] == "phase_start"]
    assert started == ["reading", "staging", "prepass", "adjudicating", "writing the report"]
    reading = next(e for e in events if e["event"] == "phase_end" and e["phase"] == "reading")
    size = PROFESSIONAL.stat().st_size
    assert (reading["ok"], reading["unit"], reading["done"], reading["total"]) == (True, "bytes", size, size)
