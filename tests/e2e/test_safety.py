"""Never destroy what isn't ours (issue 13): --overwrite, OUT that appears mid-run, SIGTERM, stale temporary
folders, a full disk."""

from __future__ import annotations

import errno
import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from adjudicator import run
from adjudicator.cli import main
from adjudicator.errors import EXIT_BAD_INPUT, EXIT_INTERNAL, EXIT_OK, EXIT_TERMINATED
from adjudicator.publish import disk, folders
from adjudicator.rules.tables import DEFAULT_RULES_DIR
from tests.helpers import ROOT, SAMPLE, snapshot
from tests.support.big_inputs import big_csv, wait_for

pytestmark = pytest.mark.e2e

HEX = "0123456789abcdef" * 2


def _leftovers(out: Path) -> list[str]:
    return sorted(p.name for p in out.resolve().parent.iterdir() if p.name.startswith(f".{out.name}."))


def _run(*args: str | Path) -> int:
    return main(["run", *map(str, args), "--quiet"])


@pytest.fixture()
def feeds(tmp_path: Path) -> Path:
    """A folder of inputs: the sample claims, a plans file, a claims list and an unrelated feed."""
    folder = tmp_path / "feeds"
    folder.mkdir()
    shutil.copy(SAMPLE, folder / "claims.csv")
    shutil.copy(DEFAULT_RULES_DIR / "plans.csv", folder / "plans.csv")
    (folder / "ids.txt").write_text("C1\n")
    (folder / "other-feed.dat").write_text("not ours\n")
    return folder


# (case, OUT given the feeds folder f and the tmp folder t, extra arguments)
PROTECTED = [
    ("the folder holding the input", lambda f, t: f, []),
    ("a parent of the input", lambda f, t: t, []),
    ("the input file itself", lambda f, t: f / "claims.csv", []),
    ("the rules folder", lambda f, t: t / "rules", ["--rules", "{t}/rules"]),
    ("the plans file's folder", lambda f, t: t / "plans", ["--plans", "{t}/plans/plans.csv"]),
    ("the claims list's folder", lambda f, t: t / "lists", ["--claims", "{t}/lists/ids.txt"]),
]


@pytest.mark.parametrize(("case", "make_out", "extra"), PROTECTED, ids=[c[0] for c in PROTECTED])
def test_overwrite_refuses_an_out_that_is_or_holds_what_the_run_reads(
    tmp_path: Path, feeds: Path, capsys: pytest.CaptureFixture[str], case: str, make_out, extra: list[str]
) -> None:
    shutil.copytree(DEFAULT_RULES_DIR, tmp_path / "rules")
    (tmp_path / "plans").mkdir()
    shutil.copy(DEFAULT_RULES_DIR / "plans.csv", tmp_path / "plans" / "plans.csv")
    (tmp_path / "lists").mkdir()
    (tmp_path / "lists" / "ids.txt").write_text("C1\n")
    out = make_out(feeds, tmp_path)
    before = snapshot(tmp_path)
    args = [a.format(t=tmp_path) for a in extra]
    assert _run(feeds / "claims.csv", "--out", out, "--overwrite", *args) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "choose another --out" in err, err
    assert snapshot(tmp_path) == before


def test_overwrite_refuses_an_out_reached_through_a_symlink(tmp_path: Path, feeds: Path) -> None:
    link = tmp_path / "link"
    link.symlink_to(feeds)
    before = snapshot(feeds)
    assert _run(link / "claims.csv", "--out", feeds, "--overwrite") == EXIT_BAD_INPUT
    assert snapshot(feeds) == before


def test_overwrite_refuses_a_folder_that_is_not_an_adjudicator_output(
    tmp_path: Path, feeds: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    unrelated = tmp_path / "unrelated"
    unrelated.mkdir()
    (unrelated / "payer-feed.csv").write_text("x\n")
    (unrelated / "manifest.json").write_text('{"name": "some other tool"}\n')
    before = snapshot(unrelated)
    assert _run(feeds / "claims.csv", "--out", unrelated, "--overwrite") == EXIT_BAD_INPUT
    assert "not an adjudicator output" in capsys.readouterr().err
    assert snapshot(unrelated) == before and not _leftovers(unrelated)


def test_overwrite_replaces_a_previous_run_a_previous_diff_and_an_empty_folder(tmp_path: Path) -> None:
    run_a, run_b = tmp_path / "a", tmp_path / "b"
    assert _run(SAMPLE, "--out", run_a) == EXIT_OK
    assert _run(SAMPLE, "--out", run_b) == EXIT_OK
    diff_out = tmp_path / "d"
    assert main(["diff", str(run_a), str(run_b), "--out", str(diff_out), "--quiet"]) == EXIT_OK
    assert main(["diff", str(run_a), str(run_b), "--out", str(diff_out), "--overwrite", "--quiet"]) == EXIT_OK
    # a diff output may be replaced by a run, and a run by another run
    assert _run(SAMPLE, "--out", diff_out, "--overwrite") == EXIT_OK
    assert (diff_out / "manifest.json").is_file()
    empty = tmp_path / "empty"
    empty.mkdir()
    assert _run(SAMPLE, "--out", empty, "--overwrite") == EXIT_OK
    assert (empty / "manifest.json").is_file()


def test_diff_out_must_not_hold_the_runs_it_compares(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    runs = tmp_path / "runs"
    old, new = runs / "old", runs / "new"
    assert _run(SAMPLE, "--out", old) == EXIT_OK
    assert _run(SAMPLE, "--out", new) == EXIT_OK
    before = snapshot(runs)
    assert main(["diff", str(old), str(new), "--out", str(runs), "--overwrite", "--quiet"]) == EXIT_BAD_INPUT
    assert "choose another --out" in capsys.readouterr().err
    assert snapshot(runs) == before
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "keep.txt").write_text("mine")
    assert main(["diff", str(old), str(new), "--out", str(foreign), "--overwrite", "--quiet"]) == EXIT_BAD_INPUT
    assert "not an adjudicator output" in capsys.readouterr().err
    assert snapshot(foreign) == {"keep.txt": b"mine"}


def _appear_during_run(monkeypatch: pytest.MonkeyPatch, make) -> None:
    """Make OUT appear after the start-up check: once the outputs and the manifest are staged, before publish."""
    real = run.write_manifest

    def writing(*args, **kwargs):
        real(*args, **kwargs)
        make()

    monkeypatch.setattr(run, "write_manifest", writing)


def test_publish_refuses_an_out_that_appeared_during_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"

    def someone_elses() -> None:
        out.mkdir()
        (out / "other-job.txt").write_text("theirs")

    _appear_during_run(monkeypatch, someone_elses)
    assert _run(SAMPLE, "--out", out) == EXIT_BAD_INPUT
    assert "appeared while this run was working" in capsys.readouterr().err
    assert snapshot(out) == {"other-job.txt": b"theirs"} and not _leftovers(out)


def test_publish_with_overwrite_still_refuses_a_foreign_out_that_appeared(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    _appear_during_run(monkeypatch, lambda: (out.mkdir(), (out / "x.txt").write_text("theirs")))
    assert _run(SAMPLE, "--out", out, "--overwrite") == EXIT_BAD_INPUT
    assert "not an adjudicator output" in capsys.readouterr().err
    assert snapshot(out) == {"x.txt": b"theirs"} and not _leftovers(out)


def test_publish_with_overwrite_replaces_a_run_that_appeared(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    other = tmp_path / "other"
    assert _run(SAMPLE, "--out", other) == EXIT_OK
    out = tmp_path / "out"
    _appear_during_run(monkeypatch, lambda: shutil.copytree(other, out))
    assert _run(SAMPLE, "--out", out, "--overwrite") == EXIT_OK
    ids = {json.loads((f / "manifest.json").read_text())["run_id"] for f in (other, out)}
    assert len(ids) == 2 and not _leftovers(out)


def test_publish_refuses_while_another_run_replaces_the_same_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert _run(SAMPLE, "--out", out) == EXIT_OK
    before = snapshot(out)
    monkeypatch.setattr(folders, "PUBLISH_WAIT_S", 0.2)
    fd = os.open(out, os.O_RDONLY)  # what a run publishing over OUT holds
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        assert _run(SAMPLE, "--out", out, "--overwrite") == EXIT_BAD_INPUT
    finally:
        os.close(fd)
    assert "another run is publishing" in capsys.readouterr().err
    assert snapshot(out) == before and not _leftovers(out)


def _stale(parent: Path, name: str) -> Path:
    folder = parent / name
    folder.mkdir()
    (folder / "input.parquet").write_bytes(b"staged claims")
    return folder


def test_publishing_removes_stale_temporary_folders_of_killed_runs_only(tmp_path: Path) -> None:
    out = tmp_path / "out"
    stale = [_stale(tmp_path, f".out.{kind}-{HEX}") for kind in ("scratch", "tmp", "old")]
    kept = [
        _stale(tmp_path, ".out.scratch-not a run id"),  # not this tool's naming: no run id has a space
        _stale(tmp_path, f".other.tmp-{HEX}"),  # another OUT's
        _stale(tmp_path, f"out.tmp-{HEX}"),  # not hidden
    ]
    live = _stale(tmp_path, f".out.scratch-{HEX[::-1]}")  # a run still working holds its lock
    fd = os.open(live, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        assert _run(SAMPLE, "--out", out) == EXIT_OK
    finally:
        os.close(fd)
    assert not any(p.exists() for p in stale)
    assert all(p.exists() for p in [*kept, live])


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_a_stopped_run_leaves_no_staged_claims_behind(tmp_path: Path, sig: signal.Signals) -> None:
    """SIGTERM is handled like Ctrl-C (exit 143, temporary folders removed, OUT as it was); what SIGKILL
    leaves is removed when OUT is next published."""
    out = tmp_path / "out"
    assert _run(SAMPLE, "--out", out) == EXIT_OK
    before = snapshot(out)
    big = big_csv(tmp_path / "big.csv", 600)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "adjudicator", "run", str(big), "--out", str(out), "--overwrite", "--quiet"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    if not wait_for(".out.scratch-*/input.parquet", tmp_path, proc):
        proc.kill()
        pytest.skip("the run finished before it could be stopped")
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    assert snapshot(out) == before
    if sig == signal.SIGTERM:
        assert proc.returncode == EXIT_TERMINATED, err
        assert err.decode().count("\n") == 1 and b"SIGTERM" in err
        assert not _leftovers(out)
    else:
        assert _leftovers(out)
        assert _run(SAMPLE, "--out", out, "--overwrite") == EXIT_OK
        assert not _leftovers(out)


DISK_FULL = [
    (
        "a writer's error text",
        "write_manifest",
        pl.exceptions.ComputeError("failed to write parquet: No space left on device (os error 28)"),
    ),
    ("manifest", "write_manifest", OSError(errno.ENOSPC, "No space left on device")),
    ("quota", "write_manifest", OSError(errno.EDQUOT, "Disk quota exceeded")),
]


@pytest.mark.parametrize(("case", "where", "error"), DISK_FULL, ids=[d[0] for d in DISK_FULL])
def test_full_disk_is_exit_3_naming_outs_filesystem_and_keeps_out(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    case: str,
    where: str,
    error: BaseException,
) -> None:
    out = tmp_path / "out"
    assert _run(SAMPLE, "--out", out) == EXIT_OK
    before = snapshot(out)

    def full(*args: object, **kwargs: object) -> None:
        raise error

    monkeypatch.setattr(run, where, full)
    capsys.readouterr()
    assert _run(SAMPLE, "--out", out, "--overwrite") == EXIT_INTERNAL
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no space left on the filesystem" in err, err
    assert str(disk.mount_point(out)) in err and "cannot be read" not in err
    assert snapshot(out) == before and not _leftovers(out)


def test_full_disk_during_a_diff_is_exit_3(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(SAMPLE, "--out", tmp_path / "a") == EXIT_OK

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pl.LazyFrame, "sink_parquet", full)
    code = main(["diff", str(tmp_path / "a"), str(tmp_path / "a"), "--out", str(tmp_path / "d"), "--quiet"])
    assert code == EXIT_INTERNAL and "no space left" in capsys.readouterr().err
    assert not (tmp_path / "d").exists() and not _leftovers(tmp_path / "d")
