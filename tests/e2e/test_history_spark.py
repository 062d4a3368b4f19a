"""The Spark engine with ``--history`` gives the embedded engine's results, history edits and history rows,
night after night (contract section 7). Skipped, with the reason, where Java or pyspark is missing."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from adjudicator.options import RunOptions
from adjudicator.run import adjudicate
from tests.helpers import BASE_LINE
from tests.support.spark_session import local_session

pytestmark = [pytest.mark.spark, pytest.mark.e2e, pytest.mark.slow]

if shutil.which("java") is None:
    pytest.skip("the Spark engine's tests need Java (17) on PATH; none found", allow_module_level=True)
pytest.importorskip("pyspark", reason="the Spark engine's tests need the 'spark' extra: pip install -e '.[spark]'")

from adjudicator.spark import run as spark_engine  # noqa: E402  (after the skips: it needs pyspark)

KEY = ["claim_id", "line_number"]


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    with local_session() as session:
        yield session


def line(claim: str, number: int, code: str = "97545", **changes: str) -> dict[str, str | None]:
    return {**BASE_LINE, "claim_id": claim, "line_number": str(number), "procedure_code": code, **changes}


NIGHTS = [
    [line("C1", 1), line("K1", 1), line("R1", 1, member_id="M5")],
    [line("C2", 1), line("K1", 2, "97546"), line("R1", 1, member_id="M5"), line("Z1", 1, "97546")],
]


def results(out: Path) -> pl.DataFrame:
    path = out / "results.parquet"
    frame = pl.read_parquet(path if path.exists() else out / "results" / "*.parquet")
    # the message names earlier lines by run, and each engine's history has its own runs
    message = pl.col("message").str.replace_all(r"\(run [^)]+\)", "(run R)")
    return frame.select(*KEY, "determination", "edits", "edit_carcs", message).sort(KEY)


def test_spark_with_history_gives_the_embedded_results(tmp_path: Path, spark: Any) -> None:
    outs: dict[str, list[Path]] = {"embedded": [], "spark": []}
    for n, lines in enumerate(NIGHTS):
        night = tmp_path / f"night{n}.csv"
        pl.DataFrame(lines, schema={c: pl.String for c in BASE_LINE}).write_csv(night)
        for engine in outs:
            out = tmp_path / f"{engine}{n}"
            options = RunOptions(inputs=(str(night),), out=out, history=str(tmp_path / f"history_{engine}"))
            manifest = spark_engine.run_options(spark, options) if engine == "spark" else adjudicate(options)
            assert manifest["history"]["state"] == "committed"
            outs[engine].append(out)
    for local, remote in zip(outs["embedded"], outs["spark"], strict=True):
        assert results(local).equals(results(remote))
        a = pl.read_parquet(local / "history_edits.parquet").with_columns(pl.col("earlier_lines").list.len())
        b = pl.read_parquet(remote / "history_edits.parquet").with_columns(pl.col("earlier_lines").list.len())
        assert a.equals(b)
        local_counts = json.loads((local / "manifest.json").read_text())["history"]["effects"]
        assert local_counts == json.loads((remote / "manifest.json").read_text())["history"]["effects"]
    c2 = results(outs["spark"][1]).filter(pl.col("claim_id") == "C2")
    assert c2["edits"].to_list() == [["UNITS_EXCEED_DAILY_LIMIT"]]
    assert c2["message"].str.ends_with("counted earlier lines: claim C1 line 1 (run R), claim K1 line 1 (run R).").all()
    tables = [pl.read_delta(str(tmp_path / f"history_{e}")).drop("run_id", "adjudicated_at").sort(KEY) for e in outs]
    assert tables[0].equals(tables[1])


def test_a_resent_line_rejected_tonight_replaces_its_history_row_on_both_engines(tmp_path: Path, spark: Any) -> None:
    """X1 counted last night; tonight it is re-sent with units that fail their check: it no longer counts, so
    X2 alone (1 unit, the limit 1) is not over the limit on either engine."""
    nights = [
        [line("X1", 1, member_id="M7")],
        [line("X1", 1, member_id="M7", units="abc"), line("X2", 1, member_id="M7")],
    ]
    got: dict[str, pl.DataFrame] = {}
    for engine in ("embedded", "spark"):
        for n, lines in enumerate(nights):
            night = tmp_path / f"{engine}-night{n}.csv"
            pl.DataFrame(lines, schema={c: pl.String for c in BASE_LINE}).write_csv(night)
            out = tmp_path / f"{engine}-out{n}"
            options = RunOptions(inputs=(str(night),), out=out, history=str(tmp_path / f"history-{engine}"))
            spark_engine.run_options(spark, options) if engine == "spark" else adjudicate(options)
        got[engine] = results(out)
    assert got["embedded"].equals(got["spark"])
    assert got["spark"].filter(pl.col("claim_id") == "X2")["edits"].to_list() == [[]]
