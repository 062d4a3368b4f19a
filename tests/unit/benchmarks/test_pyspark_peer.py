"""The native PySpark peer of the Spark engine (issue 25): how the suite runs it, and that its decision table
decides what the DuckDB peer decides (a fair yardstick only if so)."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from benchmarks.run import PYSPARK, PYSPARK_DECISION, SPARK, contenders
from tests.helpers import ROOT


def test_the_peers_run_on_the_spark_contenders_master_with_its_driver_memory() -> None:
    found = {
        c.name: c
        for c in contenders(
            [SPARK, PYSPARK, PYSPARK_DECISION], pandas_max_lines=0, adjudicator_cmd=None, spark_master="local[1]"
        )
    }
    full = found[PYSPARK].command(Path("in.parquet"), Path("out"))
    alone = found[PYSPARK_DECISION].command(Path("in.parquet"), Path("out"))
    assert full[-2:] == ["--master", "local[1]"] and "benchmarks.peers.pyspark_native" in full
    assert alone[-3:] == ["--master", "local[1]", "--decision-only"]
    assert any(a.startswith("PYSPARK_SUBMIT_ARGS=--driver-memory ") for a in full)
    assert found[PYSPARK].outputs == ("lines/output=results", "lines/output=rejects")
    assert found[PYSPARK_DECISION].outputs == ("results",)


_COLUMNS = ("claim_id", "line_number", "determination", "reason", "policy_id", "message")


@pytest.mark.spark
@pytest.mark.slow
@pytest.mark.skipif(
    shutil.which("java") is None or any(importlib.util.find_spec(m) is None for m in ("pyspark", "duckdb", "numpy")),
    reason="needs Java, pyspark, duckdb and numpy (the spark and bench extras)",
)
def test_the_pyspark_decision_table_agrees_with_the_duckdb_peer(tmp_path: Path) -> None:
    def run(*argv: str) -> None:
        subprocess.run([sys.executable, "-m", *argv], cwd=ROOT, check=True, capture_output=True)

    run("benchmarks.generate", "--lines", "3000", "--seed", "7", "--format", "parquet", "--out", str(tmp_path / "g"))
    claims = tmp_path / "g.parquet"
    run("benchmarks.peers.duckdb_sql", str(claims), str(tmp_path / "duckdb"))
    run(
        "benchmarks.peers.pyspark_native",
        str(claims),
        str(tmp_path / "spark"),
        "--master",
        "local[1]",
        "--decision-only",
    )
    expected = pl.read_parquet(tmp_path / "duckdb" / "results.parquet").select(_COLUMNS)
    got = pl.read_parquet(tmp_path / "spark" / "results" / "*.parquet").select(_COLUMNS)
    assert got.height == expected.height == 3000
    assert got.sort(pl.all(), nulls_last=True).equals(expected.sort(pl.all(), nulls_last=True))
