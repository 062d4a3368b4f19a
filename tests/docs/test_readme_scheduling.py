"""The README's cron line and Airflow ``BashOperator`` command ("Installing it where the jobs run") do what it says,
run as cron and Airflow run them: the schedule fields dropped and ``\\%`` unescaped (cron), the template filled in
(Airflow), in a bare environment (no activated environment, a minimal PATH), on the sample written as Parquet."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sysconfig
from pathlib import Path

import polars as pl
import pytest

from tests.helpers import ROOT, SAMPLE

pytestmark = pytest.mark.e2e

README = (ROOT / "README.md").read_text()
#: where the README's examples install the package
INSTALLED = "/opt/adjudicator/bin/adjudicate"
#: Airflow's template values for a run of 2026-06-01
TEMPLATE = {"{{ ds }}": "2026-06-01", "{{ ds_nodash }}": "20260601"}


def _console_script() -> Path:
    script = Path(sysconfig.get_path("scripts")) / "adjudicate"
    if not script.is_file():
        pytest.skip(f"no 'adjudicate' console script in {script.parent} (install the package: pip install -e .)")
    return script


def _cron_command() -> str:
    """The README's crontab line, as cron hands it to ``sh``: the five schedule fields dropped, ``\\%`` as ``%``."""
    lines = [line for line in README.splitlines() if INSTALLED in line and re.match(r"^(\S+\s+){5}/", line)]
    assert len(lines) == 1, "the README has one crontab line"
    return lines[0].split(None, 5)[5].replace("\\%", "%")


def _airflow_command() -> str:
    """The README's ``bash_command``, its template filled in as Airflow does."""
    block = README.split("```python\nfrom airflow.operators.bash import BashOperator\n", 1)[1].split("```", 1)[0]
    call = ast.parse(block).body[0].value  # type: ignore[attr-defined]
    (command,) = (k.value for k in call.keywords if k.arg == "bash_command")
    text: str = ast.literal_eval(command)
    for key, value in TEMPLATE.items():
        text = text.replace(key, value)
    assert "{{" not in text, text
    return text


def _on_this_machine(command: str, root: Path, script: Path) -> str:
    """``command`` with the README's installed script and folders moved here."""
    return command.replace(INSTALLED, str(script)).replace("/data/", f"{root}/data/").replace("/var/log/", f"{root}/")


def _bare_environment(root: Path) -> dict[str, str]:
    """What cron gives a job: a minimal PATH, a HOME, nothing activated."""
    return {"PATH": "/usr/bin:/bin", "HOME": str(root), "LANG": "C.UTF-8"}


def _sample_as_parquet(folder: Path) -> None:
    folder.mkdir(parents=True)
    pl.read_csv(SAMPLE, infer_schema=False).write_parquet(folder / "claims.parquet")


def test_the_cron_line_runs_the_nightly_files_into_a_dated_folder(tmp_path: Path) -> None:
    script = _console_script()
    _sample_as_parquet(tmp_path / "data" / "claims" / "nightly")
    command = _on_this_machine(_cron_command(), tmp_path, script)
    done = subprocess.run(["/bin/sh", "-c", command], env=_bare_environment(tmp_path), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    (out,) = (tmp_path / "data" / "adjudicated").iterdir()
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", out.name)  # date +%F
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["counts"]["read"] == manifest["counts"]["results"] + manifest["counts"]["rejects"] > 0
    # --quiet: the log holds only the warnings (the sample has dates of service after today)
    log = (tmp_path / "adjudicator.log").read_text().splitlines()
    assert all(line.startswith("adjudicate: warning: ") for line in log), log


def test_the_airflow_command_logs_json_and_ends_stdout_with_the_summary(tmp_path: Path) -> None:
    script = _console_script()
    _sample_as_parquet(tmp_path / "data" / "claims" / "2026-06-01")
    command = _on_this_machine(_airflow_command(), tmp_path, script)
    done = subprocess.run(["bash", "-c", command], env=_bare_environment(tmp_path), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout.splitlines()[-1])  # what the BashOperator pushes to XCom
    assert summary["run_id"] == "claims-20260601"
    assert summary["status"] == "ok" and summary["reconciled"] is True
    events = [json.loads(line) for line in done.stderr.splitlines()]
    assert {e["run_id"] for e in events} == {"claims-20260601"}
    assert events[-1]["event"] == "summary"
    manifest = json.loads((tmp_path / "data" / "adjudicated" / "2026-06-01" / "manifest.json").read_text())
    assert manifest["run_id"] == "claims-20260601"
    assert manifest["gates"]["failed"] == []


def test_the_airflow_command_fails_the_task_on_a_breached_gate(tmp_path: Path) -> None:
    script = _console_script()
    folder = tmp_path / "data" / "claims" / "2026-06-01"
    folder.mkdir(parents=True)
    # every line's date of service unreadable: all rejected, over the README's 5% gate
    pl.read_csv(SAMPLE, infer_schema=False).with_columns(
        pl.col("service_date").str.replace(r"^(\d{4})-(\d{2})-(\d{2})$", "$2/$3/$1")
    ).write_parquet(folder / "claims.parquet")
    command = _on_this_machine(_airflow_command(), tmp_path, script)
    done = subprocess.run(["bash", "-c", command], env=_bare_environment(tmp_path), capture_output=True, text=True)
    assert done.returncode == 4, done.stderr
    assert json.loads(done.stdout.splitlines()[-1])["status"] == "gate_failed"
    assert os.path.isfile(tmp_path / "data" / "adjudicated" / "2026-06-01" / "manifest.json")  # kept to inspect
