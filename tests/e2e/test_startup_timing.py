"""``timings.startup_s`` counts from this process's own start: a shell that runs other commands first and then
hands its process to ``adjudicate`` (``bash -c "pip install ... && adjudicate ..."`` execs the last command) does
not add its own time to it."""

from __future__ import annotations

import datetime as dt
import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT, SAMPLE

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

#: what the shell does before it hands its process over (seconds): more than the run takes after its first batch
SHELL_WORK = 5


@pytest.mark.skipif(shutil.which("bash") is None or shutil.which("date") is None, reason="needs bash and date")
def test_a_shell_s_time_before_exec_is_not_start_up(tmp_path: Path) -> None:
    out, handed_over = tmp_path / "out", tmp_path / "exec-time"
    command = shlex.join([sys.executable, "-m", "adjudicator", "run", str(SAMPLE), "--out", str(out), "--quiet"])
    subprocess.run(
        ["bash", "-c", f"sleep {SHELL_WORK} && date +%s.%N > {shlex.quote(str(handed_over))} && exec {command}"],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=True,
    )
    manifest = json.loads((out / "manifest.json").read_text())
    startup = manifest["timings"]["startup_s"]
    # the interpreter started after the shell wrote the time; the run's first batch came before it finished
    lived = dt.datetime.fromisoformat(manifest["finished_at"]).timestamp() - float(handed_over.read_text())
    assert 0 < startup <= lived
