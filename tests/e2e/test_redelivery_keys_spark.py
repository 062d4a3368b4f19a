"""The Spark engine matches CCLF re-deliveries as the embedded one does: on the typed, trimmed key."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from adjudicator.cli import main
from adjudicator.contract import RUN_ID
from tests.helpers import FIXTURES
from tests.support.spark_session import local_session

pytestmark = [pytest.mark.spark, pytest.mark.e2e]

if shutil.which("java") is None:
    pytest.skip("the Spark engine's tests need Java (17) on PATH; none found", allow_module_level=True)
pytest.importorskip("pyspark", reason="the Spark engine's tests need the 'spark' extra: pip install -e '.[spark]'")

CCLF = FIXTURES / "layouts" / "cclf5_partb.csv"


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    """One local[2] session for the module, with few shuffle partitions (the inputs are small)."""
    with local_session() as session:
        yield session


def test_padded_redeliveries_are_superseded_alike_on_both_engines(spark: Any, tmp_path: Path) -> None:
    lines = CCLF.read_text().splitlines()
    later = lines[2].split(",")  # line 1 of claim 101, delivered again on 2024-07-01
    later[0], later[1] = "  0000000000000101  ", "1.0"
    lines[2] = ",".join(later)
    data = tmp_path / "cclf5.csv"
    data.write_text("\n".join(lines) + "\n")
    outs = {engine: tmp_path / engine for engine in ("embedded", "spark")}
    for engine, out in outs.items():
        assert main(["run", str(data), "--layout", "cclf5", "--out", str(out), "--quiet", "--engine", engine]) == 0
    local, on_spark = (json.loads((out / "manifest.json").read_text()) for out in outs.values())
    assert on_spark["counts"] == local["counts"]
    assert local["counts"]["rejects_by_check"].get("superseded_delivery") == 1
    assert "duplicate_key" not in local["counts"]["rejects_by_check"]
    spark_rejects = pl.read_parquet(outs["spark"] / "rejects" / "*.parquet").drop(RUN_ID, "_source_row", strict=False)
    local_rejects = pl.read_parquet(outs["embedded"] / "rejects.parquet").drop(RUN_ID)
    assert sorted(spark_rejects["claim_id"].to_list()) == sorted(local_rejects["claim_id"].to_list())
