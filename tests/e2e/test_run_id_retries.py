"""An orchestrator's retry with its own ``--run-id`` (README, "Logs, progress and data-quality gates"): a run killed
with ``kill -9`` leaves its temporary folders beside OUT, named after its run id; the retry, with the same id,
clears them and runs, and stale folders of other ids are removed after publishing, whatever the id's spelling. A
live run holding a folder of that name is not touched: the second run stops with one line."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

import pytest

from adjudicator.cli import main
from adjudicator.errors import EXIT_BAD_INPUT, EXIT_OK
from tests.helpers import SAMPLE

pytestmark = pytest.mark.e2e


def _leftovers(parent: Path, run_id: str) -> list[Path]:
    """The three temporary folders a run killed at the wrong moment leaves beside ``parent / 'out'``, with files."""
    made = []
    for kind in ("scratch", "tmp", "old"):
        folder = parent / f".out.{kind}-{run_id}"
        folder.mkdir()
        (folder / "results.parquet").write_bytes(b"half-written")
        made.append(folder)
    return made


def test_a_retry_with_the_same_run_id_clears_what_the_killed_run_left(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert main(["run", str(SAMPLE), "--out", str(out), "--quiet"]) == EXIT_OK
    left = _leftovers(tmp_path, "nightly-2026-12-04")
    code = main(["run", str(SAMPLE), "--out", str(out), "--overwrite", "--quiet", "--run-id", "nightly-2026-12-04"])
    assert code == EXIT_OK
    assert not any(folder.exists() for folder in left)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_stale_folders_of_any_run_id_are_removed_after_publishing(tmp_path: Path) -> None:
    left = _leftovers(tmp_path, "airflow.try_1") + _leftovers(tmp_path, "0f" * 16)
    mine = tmp_path / ".other.tmp-airflow.try_1"  # another OUT's: never this run's to remove
    mine.mkdir()
    assert main(["run", str(SAMPLE), "--out", str(tmp_path / "out"), "--quiet"]) == EXIT_OK
    assert not any(folder.exists() for folder in left)
    assert mine.is_dir()


def test_a_live_run_with_the_same_run_id_is_left_alone(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    held = tmp_path / ".out.scratch-nightly"
    held.mkdir()
    (held / "input.parquet").write_bytes(b"being written")
    fd = os.open(held, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # as a live run holds its folders (publish.locks)
        code = main(["run", str(SAMPLE), "--out", str(tmp_path / "out"), "--quiet", "--run-id", "nightly"])
    finally:
        os.close(fd)
    assert code == EXIT_BAD_INPUT
    err = capsys.readouterr().err.strip()
    assert "another run with the same run id is working here" in err
    assert str(held) in err and len(err.splitlines()) == 1
    assert (held / "input.parquet").read_bytes() == b"being written"
    assert not (tmp_path / "out").exists()
