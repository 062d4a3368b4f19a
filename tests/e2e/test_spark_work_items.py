"""A run's work items on Spark: exactly one per partition, so each task reads one range of lines and the
ranges spread over the cores (issue 25: a repartition of the items put two in one task about half the time)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest

pytestmark = [pytest.mark.spark, pytest.mark.e2e]

if shutil.which("java") is None:
    pytest.skip("the Spark engine's tests need Java (17) on PATH; none found", allow_module_level=True)
pytest.importorskip("pyspark", reason="the Spark engine's tests need the 'spark' extra: pip install -e '.[spark]'")

from adjudicator.spark.reading import work_items  # noqa: E402  (after the skips: it needs pyspark)
from tests.support.spark_session import local_session  # noqa: E402


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    with local_session() as session:
        yield session


def test_each_work_item_is_a_partition_of_its_own(spark: Any, tmp_path: Path) -> None:
    lines = tmp_path / "lines.parquet"
    pl.DataFrame({"claim_id": [f"C{i}" for i in range(1_000)]}).write_parquet(lines)
    csv = tmp_path / "more.csv"
    csv.write_text("claim_id\nC1\n")
    work, count = work_items(spark, [str(lines), str(csv)], "canonical", 150)
    assert count == 8  # 7 ranges of the Parquet file, the CSV whole
    assert work.rdd.glom().map(len).collect() == [1] * count
    got = sorted(tuple(r) for r in work.collect())
    assert got[-1] == (1, str(csv), str(csv), 0, -1)
    assert [r[3:] for r in got[:7]] == [(first, min(150, 1_000 - first)) for first in range(0, 1_000, 150)]
