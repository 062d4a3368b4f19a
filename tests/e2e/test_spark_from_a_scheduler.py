"""The Spark engine run as cron or Airflow run it: the environment's console script called by its path, nothing
activated, and a ``python3`` first on PATH that cannot import the package (the system's, on a node where only the
environment has it). Spark's Python workers must use the interpreter that runs ``adjudicate``, not that one.
Skipped, with the reason, where Java or pyspark is missing; CI installs both."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sysconfig
from pathlib import Path

import pytest

from tests.helpers import SAMPLE
from tests.support.blocked_python import python_without_the_package

pytestmark = [pytest.mark.spark, pytest.mark.e2e, pytest.mark.slow]

JAVA = shutil.which("java")
if JAVA is None:
    pytest.skip("the Spark engine's tests need Java (17) on PATH; none found", allow_module_level=True)
pytest.importorskip("pyspark", reason="the Spark engine's tests need the 'spark' extra: pip install -e '.[spark]'")


def test_the_console_script_by_its_path_runs_spark_workers_on_its_own_interpreter(tmp_path: Path) -> None:
    script = Path(sysconfig.get_path("scripts")) / "adjudicate"
    if not script.is_file():
        pytest.skip(f"no 'adjudicate' console script in {script.parent} (install the package: pip install -e .)")
    bin_dir = python_without_the_package(tmp_path, names=("python3", "python")).parent
    blocked = subprocess.run([str(bin_dir / "python3"), "-c", "import adjudicator"], capture_output=True, text=True)
    assert blocked.returncode != 0, "the PATH's python3 must not import the package"
    env = {
        "PATH": os.pathsep.join([str(bin_dir), str(Path(JAVA).parent), "/usr/bin", "/bin"]),  # type: ignore[arg-type]
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        **{k: os.environ[k] for k in ("JAVA_HOME",) if k in os.environ},
    }
    out = tmp_path / "out"
    done = subprocess.run(
        [str(script), "run", str(SAMPLE), "--out", str(out), "--engine", "spark", "--spark-master", "local[2]"]
        + ["--summary-json", "--quiet"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout.splitlines()[-1])
    assert summary["status"] == "ok" and summary["reconciled"] is True and summary["results"] > 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["engine"]["name"] == "spark" and manifest["engine"]["master"] == "local[2]"
