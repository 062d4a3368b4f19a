"""A service date outside the years 0001-9999 is a reject (``unparseable_service_date``) whatever the input type:
CSV text, Parquet dates, timestamps and text, X12 and CCLF; the run, its report included, completes."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest

from adjudicator.cli import main
from adjudicator.errors import EXIT_OK
from adjudicator.publish.manifest import MANIFEST, REJECTS, REPORT, RESULTS
from tests.helpers import BASE_LINE, FIXTURES

pytestmark = pytest.mark.e2e

#: days since 1970-01-01 of 0000-03-01 and of 10000-01-01 (Python's dates cannot spell them)
YEAR_0 = -719468
YEAR_10000 = 2932897


def _csv(path: Path, dates: list[str]) -> Path:
    rows = [{**BASE_LINE, "claim_id": f"D{i}", "service_date": d} for i, d in enumerate(dates)]
    pl.DataFrame(rows).write_csv(path)
    return path


def _parquet(path: Path, column: pl.Series) -> Path:
    frame = pl.DataFrame([BASE_LINE] * len(column)).with_columns(
        pl.Series("claim_id", [f"D{i}" for i in range(len(column))]), column.alias("service_date")
    )
    frame.write_parquet(path)
    return path


def _run(tmp_path: Path, *inputs: Path) -> tuple[pl.DataFrame, pl.DataFrame, dict[str, object]]:
    out = tmp_path / "out"
    assert main(["run", *map(str, inputs), "--out", str(out), "--quiet"]) == EXIT_OK
    assert (out / REPORT).is_file()
    manifest = json.loads((out / MANIFEST).read_text())
    return pl.read_parquet(out / RESULTS), pl.read_parquet(out / REJECTS), manifest


def _rejected(rejects: pl.DataFrame) -> set[str]:
    return set(rejects.filter(pl.col("failed_checks").list.contains("unparseable_service_date"))["claim_id"])


def test_csv_dates_of_year_0_are_rejects_and_the_first_and_last_days_are_not(tmp_path: Path) -> None:
    path = _csv(tmp_path / "claims.csv", ["0000-01-01", "0001-01-01", "9999-12-31", "10000-01-01", "2024-05-01"])
    results, rejects, manifest = _run(tmp_path, path)
    assert _rejected(rejects) == {"D0", "D3"}
    assert set(results["claim_id"]) == {"D1", "D2", "D4"}
    assert manifest["counts"]["reconciled"] is True  # type: ignore[index]


@pytest.mark.parametrize(
    "column",
    [
        pl.Series([YEAR_0, YEAR_10000, 19844], dtype=pl.Int32).cast(pl.Date),
        pl.Series([YEAR_0 * 86_400_000_000, YEAR_10000 * 86_400_000_000, 19844 * 86_400_000_000]).cast(
            pl.Datetime("us")
        ),
        pl.Series(["0000-03-01", "10000-01-01", "2024-05-01"]),
    ],
    ids=["date", "datetime", "text"],
)
def test_parquet_dates_outside_the_years_1_to_9999_are_rejects(tmp_path: Path, column: pl.Series) -> None:
    results, rejects, _ = _run(tmp_path, _parquet(tmp_path / "claims.parquet", column))
    assert _rejected(rejects) == {"D0", "D1"}
    assert results["claim_id"].to_list() == ["D2"]
    assert results["service_date"].to_list() == [dt.date(2024, 5, 1)]


def test_an_x12_date_of_year_0_is_a_reject(tmp_path: Path) -> None:
    text = (FIXTURES / "layouts" / "professional.837").read_text().replace("DTP*472*D8*20240502", "DTP*472*D8*00000502")
    path = tmp_path / "claims.837"
    path.write_text(text)
    results, rejects, _ = _run(tmp_path, path)
    assert _rejected(rejects) == {"WH-1002"}
    assert "WH-1002" not in set(results["claim_id"])


def test_a_cclf_date_of_year_0_is_a_reject(tmp_path: Path) -> None:
    lines = (FIXTURES / "layouts" / "cclf5_partb.csv").read_text().splitlines()
    first = lines[1].replace(",2024-05-01,2024-05-01,", ",0000-05-01,0000-05-01,")
    path = tmp_path / "cclf5.csv"
    path.write_text("\n".join([lines[0], first]) + "\n")
    results, rejects, _ = _run(tmp_path, path)
    assert rejects.height == 1 and results.height == 0
    assert "unparseable_service_date" in rejects["failed_checks"][0]
