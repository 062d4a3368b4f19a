"""Inputs that are streams, or that go away while read: a named pipe or a process substitution as ``--claims``
is refused at once (exit 2: a regular file is needed), never waited on; an input removed or replaced while the
run reads it is exit 2 naming it, not an internal error."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from adjudicator.cli import main
from tests.helpers import ROOT, SAMPLE

pytestmark = pytest.mark.e2e


def _adjudicate(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "adjudicator", "run", *args, "--quiet"],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_a_named_pipe_with_no_writer_as_claims_is_refused_at_once(tmp_path: Path) -> None:
    pipe = tmp_path / "ids"
    os.mkfifo(pipe)
    done = _adjudicate(str(SAMPLE), "--claims", str(pipe), "--out", str(tmp_path / "o"))
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and str(pipe) in done.stderr and "regular file" in done.stderr
    assert not (tmp_path / "o").exists()


def test_a_process_substitution_as_claims_is_refused_without_reading_it(tmp_path: Path) -> None:
    script = (
        f"{shlex.quote(sys.executable)} -m adjudicator run {shlex.quote(str(SAMPLE))} --quiet "
        f"--out {shlex.quote(str(tmp_path / 'o'))} --claims <(echo CLM000001)"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2, done.stderr
    assert "process substitution" in done.stderr and "regular file" in done.stderr


@pytest.mark.parametrize("change", ["removed", "replaced"])
def test_an_input_removed_or_replaced_while_read_is_exit_2_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], change: str
) -> None:
    from adjudicator import run

    claims = tmp_path / "claims.csv"
    shutil.copy(SAMPLE, claims)
    stage = run.stage_text_inputs

    def changed_first(*args: object, **kwargs: object) -> object:
        if change == "removed":
            claims.unlink()
        else:
            other = tmp_path / "other.csv"
            shutil.copy(SAMPLE, other)
            other.replace(claims)
        return stage(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(run, "stage_text_inputs", changed_first)
    code = main(["run", str(claims), "--out", str(tmp_path / "o"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.count("\n") == 1 and str(claims) in err and f"it was {change}" in err, err
    assert not (tmp_path / "o").exists()
