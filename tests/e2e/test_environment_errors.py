"""What the run's environment refuses is exit 2 in one line naming the problem, never exit 3 or a traceback: a
permission denied on the rules folder or on the report's folder, too many open files (naming the limit), no
memory. A stdout closed once OUT is published drops the summary: exit 0, OUT kept."""

from __future__ import annotations

import os
import resource
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from adjudicator.cli import main
from adjudicator.errors import EXIT_BAD_INPUT, EXIT_OK
from adjudicator.publish.manifest import MANIFEST, REPORT, RESULTS
from adjudicator.rules.tables import DEFAULT_RULES_DIR
from tests.helpers import ROOT, SAMPLE

pytestmark = pytest.mark.e2e


def _command(*args: str | Path) -> list[str]:
    return [sys.executable, "-m", "adjudicator", *map(str, args)]


def _unprivileged(command: list[str]) -> list[str]:
    """``command`` run where file permissions apply: as it is for a user, in a user namespace for root."""
    if os.geteuid() != 0:
        return command
    if shutil.which("unshare") is None or subprocess.run(["unshare", "-U", "true"], check=False).returncode != 0:
        pytest.skip("running as root without user namespaces: permissions cannot be denied")
    return ["unshare", "-U", *command]


def _run(command: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    kwargs = {"stdout": subprocess.PIPE, **kwargs}
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(command, env=env, stderr=subprocess.PIPE, text=True, timeout=300, check=False, **kwargs)  # type: ignore[call-overload, no-any-return]


@pytest.fixture()
def locked(tmp_path: Path) -> Iterator[Path]:
    """A folder no one may read or write (opened again when the test ends)."""
    folder = tmp_path / "locked"
    folder.mkdir()
    yield folder
    folder.chmod(stat.S_IRWXU)


def _one_line(err: str) -> str:
    # the data-quality warnings (the sample's 2027 lines are after the run date) are not the line under test
    said = "".join(line for line in err.splitlines(keepends=True) if not line.startswith("adjudicate: warning:"))
    assert said.count("\n") == 1 and "Traceback" not in said, err
    return said


def test_a_rules_folder_that_cannot_be_read_is_exit_2_naming_it(tmp_path: Path, locked: Path) -> None:
    tmp_path.chmod(0o755)
    rules = locked / "rules"
    shutil.copytree(DEFAULT_RULES_DIR, rules)
    rules.chmod(0)
    locked.chmod(0o755)
    proc = _run(_unprivileged(_command("run", SAMPLE, "--rules", rules, "--out", tmp_path / "out", "--quiet")))
    rules.chmod(stat.S_IRWXU)
    assert proc.returncode == EXIT_BAD_INPUT, proc.stderr
    assert "permission denied" in _one_line(proc.stderr) and str(rules) in proc.stderr
    assert not (tmp_path / "out").exists()


def test_a_report_folder_that_cannot_be_written_is_exit_2_naming_it(tmp_path: Path, locked: Path) -> None:
    tmp_path.chmod(0o755)
    out = locked / "out"
    assert main(["run", str(SAMPLE), "--out", str(out), "--quiet"]) == EXIT_OK
    (out / REPORT).unlink()
    for folder in (out, locked):
        folder.chmod(0o555)
    proc = _run(_unprivileged(_command("report", out)))
    out.chmod(stat.S_IRWXU)
    assert proc.returncode == EXIT_BAD_INPUT, proc.stderr
    assert "permission denied" in _one_line(proc.stderr) and str(out / REPORT) in proc.stderr


@pytest.mark.parametrize("files", [6, 10])
def test_too_many_open_files_is_exit_2_naming_the_limit(tmp_path: Path, files: int) -> None:
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (files, files))

    proc = _run(_command("run", SAMPLE, "--out", tmp_path / "out", "--quiet"), preexec_fn=limit)
    assert proc.returncode == EXIT_BAD_INPUT, proc.stderr
    err = _one_line(proc.stderr)
    assert "too many open files (EMFILE)" in err and f"(ulimit -n) is {files}" in err
    assert not (tmp_path / "out").exists()


def test_no_memory_is_exit_2_naming_the_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def no_memory(*args: object, **kwargs: object) -> None:
        raise MemoryError

    monkeypatch.setattr("adjudicator.run.build_manifest", no_memory)
    assert main(["run", str(SAMPLE), "--out", str(tmp_path / "out"), "--quiet"]) == EXIT_BAD_INPUT
    err = _one_line(capsys.readouterr().err)
    assert "out of memory" in err and "ulimit -v" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_closed_stdout_after_out_is_published_drops_the_summary(tmp_path: Path) -> None:
    read, write = os.pipe()
    os.close(read)  # the reader is gone before the summary is printed: a broken pipe
    try:
        proc = _run(_command("run", SAMPLE, "--out", tmp_path / "out"), stdout=write)
    finally:
        os.close(write)
    assert proc.returncode == EXIT_OK, proc.stderr
    err = _one_line(proc.stderr)
    assert "summary was not printed" in err and "left as it was" not in err
    for name in (RESULTS, MANIFEST, REPORT):
        assert (tmp_path / "out" / name).is_file()
