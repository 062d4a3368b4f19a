"""The history's commit and OUT's publication never disagree silently (contract section 7): a run killed between
them, or whose commit fails, is completed by ``adjudicate history commit OUT``, once; two runs at once on one
history lose no commit and count none twice (real processes)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import deltalake
import polars as pl
import pyarrow as pa
import pytest

from adjudicator.cli import main
from adjudicator.errors import EXIT_BAD_INPUT, EXIT_HISTORY_PENDING, EXIT_OK, HistoryCommitError
from adjudicator.publish.history import KILL_AT_ENV, after_publish
from tests.helpers import BASE_LINE, ROOT

pytestmark = pytest.mark.e2e


def write_night(path: Path, claims: list[str], member: str = "M1") -> Path:
    lines = [{**BASE_LINE, "claim_id": c, "member_id": member} for c in claims]
    pl.DataFrame(lines, schema={c: pl.String for c in BASE_LINE}).write_csv(path)
    return path


def process(night: Path, out: Path, history: Path, kill_at: str | None = None) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop(KILL_AT_ENV, None)
    if kill_at is not None:
        env[KILL_AT_ENV] = kill_at
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "adjudicator",
            "run",
            str(night),
            "--out",
            str(out),
            "--history",
            str(history),
            "--quiet",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def commits_of(history: Path) -> list[str]:
    return [e["adjudicator.run_id"] for e in deltalake.DeltaTable(history).history() if "adjudicator.run_id" in e]


@pytest.mark.slow
@pytest.mark.parametrize("point", ["history-published", "history-committed"])
def test_a_killed_run_is_completed_once(tmp_path: Path, point: str, capsys: pytest.CaptureFixture[str]) -> None:
    """SIGKILL after OUT is published and before the commit, or after the commit and before the manifest records
    it: OUT is published, its manifest says pending, and the completion command commits exactly once."""
    history = tmp_path / "history"
    proc = process(write_night(tmp_path / "n1.csv", ["C1", "C2"]), tmp_path / "out", history, kill_at=point)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == -signal.SIGKILL, err
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["history"]["state"] == "pending"
    committed = commits_of(history) if history.exists() and (history / "_delta_log").exists() else []
    assert committed == ([manifest["run_id"]] if point == "history-committed" else [])
    for _ in range(2):  # idempotent by run id
        assert main(["history", "commit", str(tmp_path / "out")]) == EXIT_OK
        assert commits_of(history) == [manifest["run_id"]]
    recorded = json.loads((tmp_path / "out" / "manifest.json").read_text())["history"]
    assert recorded["state"] == "committed"
    assert recorded["version_written"] == deltalake.DeltaTable(history).version()
    assert sorted(pl.read_delta(str(history))["claim_id"]) == ["C1", "C2"]
    assert "committed at version" in capsys.readouterr().out


@pytest.mark.slow
def test_two_runs_at_once_lose_no_commit(tmp_path: Path) -> None:
    history = tmp_path / "history"
    nights = [write_night(tmp_path / f"n{k}.csv", [f"K{k}-{c}" for c in range(50)], member=f"M{k}") for k in range(2)]
    procs = [process(night, tmp_path / f"out{k}", history) for k, night in enumerate(nights)]
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == EXIT_OK, err
    manifests = [json.loads((tmp_path / f"out{k}" / "manifest.json").read_text()) for k in range(2)]
    assert sorted(commits_of(history)) == sorted(m["run_id"] for m in manifests)
    assert sorted(m["history"]["version_written"] for m in manifests) == [1, 2]
    table = pl.read_delta(str(history))
    assert table.height == 100
    assert table.select("claim_id", "line_number").is_unique().all()


def test_a_delta_table_that_is_not_a_history_is_refused_at_start(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    history = tmp_path / "history"
    deltalake.DeltaTable.create(history, pa.schema([("claim_id", pa.string()), ("line_number", pa.int64())]))
    out = tmp_path / "out"
    code = main(["run", str(write_night(tmp_path / "n1.csv", ["C1"])), "--out", str(out), "--history", str(history)])
    assert code == EXIT_BAD_INPUT
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not an adjudicator history" in err[0]
    assert not out.exists()
    assert deltalake.DeltaTable(history).version() == 0


def test_a_folder_that_is_not_a_history_is_refused_at_start(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A folder of other files is never made a Delta table: exit 2, nothing written there."""
    folder = tmp_path / "reports"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine\n")
    out = tmp_path / "out"
    code = main(["run", str(write_night(tmp_path / "n1.csv", ["C1"])), "--out", str(out), "--history", str(folder)])
    assert code == EXIT_BAD_INPUT
    assert "is not a Delta table" in capsys.readouterr().err
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt"]
    assert not out.exists()


def test_a_failed_commit_says_out_is_published(tmp_path: Path) -> None:
    """The history's commit fails after OUT was published (here: the table was replaced by one it cannot merge
    into): ``HistoryCommitError`` (exit 5) naming the way to complete it; the manifest still says pending."""
    history = tmp_path / "history"
    out = tmp_path / "out"
    assert (
        main(
            [
                "run",
                str(write_night(tmp_path / "n1.csv", ["C1"])),
                "--out",
                str(out),
                "--history",
                str(history),
                "--history-read-only",
                "--quiet",
            ]
        )
        == EXIT_OK
    )
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["history"]["state"] = "pending"
    (out / "manifest.json").write_text(json.dumps(manifest))
    pl.DataFrame({"claim_id": ["C1"]}).write_parquet(out / "history_rows.parquet")
    deltalake.DeltaTable.create(history, pa.schema([("claim_id", pa.string()), ("line_number", pa.int64())]))
    with pytest.raises(HistoryCommitError) as caught:
        after_publish(out, manifest)
    assert caught.value.exit_code == EXIT_HISTORY_PENDING
    assert f"adjudicate history commit {out}" in str(caught.value)
    assert json.loads((out / "manifest.json").read_text())["history"]["state"] == "pending"
    assert commits_of(history) == []
