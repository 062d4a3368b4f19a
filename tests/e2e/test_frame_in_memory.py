"""``adjudicator.adjudicate_frame`` writes no file anywhere (no temporary folder, spill, staging, report or helper
process), gives what ``adjudicate run`` gives for the same lines in a canonical Parquet file (results, rejects,
counts, summary, gates), and stamps its run id through the run."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import adjudicator
from adjudicator.cli import main
from adjudicator.contract import RUN_ID, SOURCE_FILE
from adjudicator.errors import UsageError
from adjudicator.frame import FRAME_SOURCE, NO_REPORT
from adjudicator.publish.gates import FUTURE_SERVICE_DATES
from benchmarks.generate import Vocabulary, make_chunk
from tests.helpers import ROOT, SAMPLE
from tests.support.file_writes import recording

pytestmark = pytest.mark.e2e

#: generated lines: enough for duplicated keys, add-on and unit-limit edits, bad rows and future dates
LINES = 20_000


@pytest.fixture(scope="module")
def generated() -> pl.DataFrame:
    """Canonical lines from the benchmark's generator, typed as its Parquet files are."""
    frame = pl.from_arrow(make_chunk(23, 0, LINES, Vocabulary.from_rules()).typed)
    assert isinstance(frame, pl.DataFrame)
    return frame


@pytest.fixture(scope="module")
def file_run(
    generated: pl.DataFrame, tmp_path_factory: pytest.TempPathFactory
) -> tuple[pl.DataFrame, pl.DataFrame, dict[str, Any], str]:
    """``adjudicate run`` of the generated lines written to one canonical Parquet file."""
    folder = tmp_path_factory.mktemp("frame-file-run")
    source = folder / "claims.parquet"
    generated.write_parquet(source)
    out = folder / "out"
    assert main(["run", str(source), "--out", str(out), "--quiet", "--run-id", "file-run-1"]) == 0
    return (
        pl.read_parquet(out / "results.parquet"),
        pl.read_parquet(out / "rejects.parquet"),
        json.loads((out / "manifest.json").read_text()),
        str(source),
    )


def _without_source(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.drop(SOURCE_FILE, RUN_ID)


def test_a_frame_gives_the_file_run_s_results_rejects_counts_summary_and_gates(
    generated: pl.DataFrame,
    file_run: tuple[pl.DataFrame, pl.DataFrame, dict[str, Any], str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    results, rejects, manifest, source = file_run
    capsys.readouterr()
    done = adjudicator.adjudicate_frame(generated, run_id="frame-run-1")
    # the warning line a run prints, on stderr as a run prints it
    future = manifest["gates"]["future_service_lines"]
    assert f"adjudicate: warning: {future:,} results have a date of service after" in capsys.readouterr().err
    # what makes the comparison worth having: duplicates, both edits and future dates are in the data
    assert manifest["counts"]["rejects_by_check"].get("duplicate_key", 0) > 0
    edits = results["edits"]
    fired = set((edits.explode() if edits.dtype == pl.List else edits).drop_nulls())
    assert {"ADDON_WITHOUT_PRIMARY", "UNITS_EXCEED_DAILY_LIMIT"} <= fired, fired
    assert manifest["gates"]["future_service_lines"] > 0
    # the same rows in the same order, the same types
    assert_frame_equal(_without_source(done.results), _without_source(results))
    assert_frame_equal(_without_source(done.rejects), _without_source(rejects))
    assert done.counts == manifest["counts"]
    # the manifest's other sections: the file's path is the frame's name there
    same = json.loads(json.dumps(manifest["summary"]).replace(json.dumps(source)[1:-1], FRAME_SOURCE))
    assert done.manifest["summary"] == same
    assert done.manifest["gates"] == manifest["gates"]
    assert FUTURE_SERVICE_DATES in {w["code"] for w in done.manifest["gates"]["warnings"]}
    assert done.manifest["rules"] == manifest["rules"]
    assert done.manifest["layout"] == manifest["layout"] == "canonical"


def test_the_manifest_describes_an_input_held_in_memory_and_no_report(generated: pl.DataFrame) -> None:
    done = adjudicator.adjudicate_frame(generated.head(500))
    (entry,) = done.manifest["inputs"]
    assert entry["path"] == FRAME_SOURCE and entry["in_memory"] is True
    assert entry["bytes"] is None and entry["sha256"] is None
    assert entry["read"] == 500 and entry["reconciled"]
    assert done.manifest["options"]["out"] is None
    assert done.manifest["options"]["inputs"] == [FRAME_SOURCE]
    assert done.manifest["report"] == NO_REPORT
    assert done.manifest["timings"]["startup_s"] is None
    assert {"start_s", "prepass_s", "execute_s"} <= done.manifest["timings"].keys()
    assert done.manifest["gates"]["failed"] == []


def test_the_run_id_given_is_stamped_by_the_engine_on_every_line_and_the_manifest() -> None:
    frame = pl.read_csv(SAMPLE, infer_schema=False)
    done = adjudicator.adjudicate_frame(frame, run_id="nightly.2026-06_3")
    assert done.rejects.height > 0
    assert set(done.results[RUN_ID]) == set(done.rejects[RUN_ID]) == {"nightly.2026-06_3"}
    assert done.manifest["run_id"] == "nightly.2026-06_3"
    fresh = adjudicator.adjudicate_frame(frame)
    assert re.fullmatch(r"[0-9a-f]{32}", fresh.manifest["run_id"])
    assert set(fresh.results[RUN_ID]) == set(fresh.rejects[RUN_ID]) == {fresh.manifest["run_id"]}


@pytest.mark.parametrize("run_id", ["", "../out", "a b", "-x", "x" * 129, "run/1", 7], ids=repr)
def test_an_unsafe_run_id_is_a_usage_error_naming_the_argument(run_id: object) -> None:
    with pytest.raises(UsageError, match="'run_id'"):
        adjudicator.adjudicate_frame(pl.read_csv(SAMPLE, infer_schema=False), run_id=run_id)  # type: ignore[arg-type]


@pytest.fixture()
def watched_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Path]]:
    """Empty folders as the system's temporary folder (``tempfile.tempdir`` and TMPDIR), the working folder and
    polars' temporary folder (POLARS_TEMP_DIR); the first two read-only (0o500) while the test runs."""
    folders = {name: tmp_path / name for name in ("tmp", "cwd", "polars-tmp")}
    for folder in folders.values():
        folder.mkdir()
    monkeypatch.setenv("TMPDIR", str(folders["tmp"]))
    monkeypatch.setattr(tempfile, "tempdir", str(folders["tmp"]))
    monkeypatch.setenv("POLARS_TEMP_DIR", str(folders["polars-tmp"]))
    monkeypatch.chdir(folders["cwd"])
    folders["tmp"].chmod(0o500)
    folders["cwd"].chmod(0o500)
    try:
        yield folders
    finally:
        folders["tmp"].chmod(0o700)
        folders["cwd"].chmod(0o700)


def _read_only_binds(folder: Path) -> bool:
    """Whether a 0o500 folder stops this process writing in it (not for root with CAP_DAC_OVERRIDE)."""
    folder.mkdir()
    folder.chmod(0o500)
    try:
        (folder / "probe").touch()
    except PermissionError:
        return True
    finally:
        folder.chmod(0o700)
    return False


def test_a_frame_run_works_with_the_temporary_and_working_folders_read_only(
    generated: pl.DataFrame, tmp_path: Path, watched_folders: dict[str, Path]
) -> None:
    if not _read_only_binds(tmp_path / "probe"):
        pytest.skip("a read-only folder does not stop this user writing (root): the audited test checks instead")
    done = adjudicator.adjudicate_frame(generated)
    assert done.counts["reconciled"] and done.counts["read"] == LINES


def test_a_frame_run_opens_no_file_for_writing_makes_no_folder_and_starts_no_process(
    generated: pl.DataFrame, tmp_path: Path, watched_folders: dict[str, Path]
) -> None:
    """Also as root: Python's audit events of the call, and the folders native code would write to."""
    # the modules the run imports are imported (and their bytecode cached) before watching
    adjudicator.adjudicate_frame(generated.head(100))
    outside = sorted(os.listdir(tmp_path))
    with recording() as events:
        done = adjudicator.adjudicate_frame(generated.lazy(), run_id="watched-1")
    assert events == []
    assert done.counts["read"] == LINES and done.manifest["run_id"] == "watched-1"
    for name, folder in watched_folders.items():
        assert os.listdir(folder) == [], name
    assert sorted(os.listdir(tmp_path)) == outside


def test_the_watcher_sees_what_the_file_run_writes(tmp_path: Path) -> None:
    """The audit hook is not blind: a file run of the same kind of lines is seen writing."""
    with recording() as events:
        assert main(["run", str(SAMPLE), "--out", str(tmp_path / "out"), "--quiet"]) == 0
    seen = {event for event, _ in events}
    assert {"open", "os.mkdir"} <= seen or {"open", "tempfile.mkdtemp"} <= seen, seen


def test_headers_and_padded_text_are_read_as_from_a_parquet_file(tmp_path: Path) -> None:
    """Header names made canonical, text trimmed, bad values rejected: as a Parquet file of the frame is read."""
    frame = (
        pl.read_csv(SAMPLE, infer_schema=False)
        .with_columns(pl.format(" {} ", pl.col("procedure_code")).alias("procedure_code"))
        .rename({"claim_id": " Claim_ID", "plan_id": "PLAN ID"})
    )
    source = tmp_path / "frame.parquet"
    frame.write_parquet(source)
    out = tmp_path / "out"
    assert main(["run", str(source), "--out", str(out), "--quiet"]) == 0
    done = adjudicator.adjudicate_frame(frame)
    assert_frame_equal(_without_source(done.results), _without_source(pl.read_parquet(out / "results.parquet")))
    assert_frame_equal(_without_source(done.rejects), _without_source(pl.read_parquet(out / "rejects.parquet")))
    assert "claim_id" in done.results.columns and done.rejects.height > 0


def test_a_notebook_s_first_call_prints_only_the_run_s_own_warnings() -> None:
    """pandera's import loads pyspark's pandas support where pyspark is installed, which warned about the pandas
    version on a notebook's first call; only the data-quality warning lines a run prints are left."""
    code = (
        "import polars as pl, adjudicator\n"
        f"frame = pl.read_csv({str(SAMPLE)!r}, infer_schema=False)\n"
        "print(adjudicator.adjudicate_frame(frame).counts['read'])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "262"
    assert all(line.startswith("adjudicate: warning: ") for line in done.stderr.splitlines()), done.stderr
