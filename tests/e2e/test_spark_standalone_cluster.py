"""The Spark engine on a real standalone cluster: a master and a worker started with pyspark's ``spark-class``,
executors in their own working folders, inputs given as relative paths from another folder (issue 25).

The run must give the embedded engine's results, rejects and counts line for
line. Both daemons are stopped by their process ids, whatever the test did.
Skipped, with the reason, where Java or pyspark is missing; CI installs both.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from adjudicator.cli import main
from adjudicator.contract import RUN_ID, SOURCE_FILE
from tests.helpers import ROOT, SAMPLE

pytestmark = [pytest.mark.spark, pytest.mark.e2e]

if shutil.which("java") is None:
    pytest.skip("the Spark engine's tests need Java (17) on PATH; none found", allow_module_level=True)
pyspark = pytest.importorskip("pyspark", reason="the Spark engine's tests need the 'spark' extra")

#: how long a daemon may take to come up on a busy machine
_START_S = 120.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for(log: Path, text: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + _START_S
    while time.monotonic() < deadline:
        if text in log.read_text(errors="replace"):
            return
        if process.poll() is not None:
            break
        time.sleep(0.5)
    pytest.fail(f"a Spark daemon did not start ({text!r} not in its log):\n{log.read_text(errors='replace')[-3000:]}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop one daemon by its process id (``spark-class`` execs the JVM, so the id is the JVM's)."""
    if process.poll() is None:
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=30)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A standalone master and one worker (2 cores, 1 GiB) on the loopback; yields the master's URL."""
    folder = tmp_path_factory.mktemp("cluster")
    spark_class = Path(pyspark.__file__).parent / "bin" / "spark-class"
    env = {
        **os.environ,
        "SPARK_LOCAL_IP": "127.0.0.1",
        "SPARK_LOG_DIR": str(folder / "logs"),
        "SPARK_WORKER_DIR": str(folder / "work"),
        # the executors' Python workers import this checkout's package, with the interpreter running the tests
        "PYTHONPATH": os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]),
        "PYSPARK_PYTHON": sys.executable,
    }
    port = _free_port()
    url = f"spark://127.0.0.1:{port}"
    started: list[subprocess.Popen[bytes]] = []
    try:
        for name, args, ready in (
            (
                "master",
                ["org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port", str(port)],
                "I have been elected leader",
            ),
            (
                "worker",
                ["org.apache.spark.deploy.worker.Worker", url, "--cores", "2", "--memory", "1g"],
                "Successfully registered with master",
            ),
        ):
            log = folder / f"{name}.log"
            with log.open("wb") as sink:
                ui = ["--webui-port", str(_free_port())]
                started.append(
                    subprocess.Popen(
                        [str(spark_class), *args, *ui], stdout=sink, stderr=subprocess.STDOUT, env=env, cwd=folder
                    )
                )
            _wait_for(log, ready, started[-1])
        yield url
    finally:
        for process in reversed(started):
            _stop(process)


def test_relative_inputs_on_a_standalone_cluster_match_the_local_engine(
    cluster: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(SAMPLE, data / "claims.csv")
    # a typed Parquet copy in several ranges: more than one task per file
    pl.read_csv(SAMPLE, infer_schema=False).write_parquet(data / "claims.parquet", row_group_size=50)
    monkeypatch.chdir(data)
    monkeypatch.setenv("PYSPARK_PYTHON", sys.executable)
    inputs = ["claims.csv", "claims.parquet"]
    settings = ["--engine-settings", json.dumps({"spark_rows_per_item": 100})]
    assert main(["run", *inputs, "--out", "local", "--quiet"]) == 0
    spark = ["--engine", "spark", "--spark-master", cluster, *settings]
    assert main(["run", *inputs, "--out", "spark", "--quiet", *spark]) == 0
    local = json.loads((data / "local" / "manifest.json").read_text())
    on_spark = json.loads((data / "spark" / "manifest.json").read_text())
    assert on_spark["engine"]["master"] == cluster
    order = pl.DataFrame({SOURCE_FILE: inputs, "_file": list(range(len(inputs)))})
    for single, folder in (("results.parquet", "results"), ("rejects.parquet", "rejects")):
        expected = pl.read_parquet(data / "local" / single).drop(RUN_ID)
        got = (
            pl.read_parquet(data / "spark" / folder / "*.parquet")
            .drop(RUN_ID)
            .join(order, on=SOURCE_FILE, how="left")
            .sort("_file", "source_row")
            .drop("_file", "source_row")
        )
        assert got.equals(expected), folder
    assert on_spark["counts"] == local["counts"]
    assert on_spark["inputs"] == local["inputs"]
    assert on_spark["summary"] == local["summary"]
